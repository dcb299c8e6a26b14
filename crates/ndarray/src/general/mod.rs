//! The general from-scratch path: any multilayer perceptron in `f32` — any depth and widths,
//! relu, sigmoid or tanh hidden layers, any of the four heads — with hand-derived gradients.
//! The formulas are `twinnet-reference`'s (examples as rows):
//! ```text
//! forward:   Zₗ = Aₗ₋₁·Wₗᵀ + bₗ,   Aₗ = act(Zₗ) (l < L),   A_L = out(Z_L)
//! backward:  δ_L = ∂ℓ/∂Z_L (per head),   ∂L/∂Wₗ = (1/m) δₗᵀ·Aₗ₋₁,   ∂L/∂bₗ = (1/m) Σᵢ δₗ[i]
//!            δₗ₋₁ = (δₗ·Wₗ) ∘ act′(Zₗ₋₁)
//! update:    Wₗ := Wₗ − α ∂L/∂Wₗ,   bₗ := bₗ − α ∂L/∂bₗ
//! ```
//! Every sum runs in one pinned order, so the bits do not depend on the CPU: a dot product
//! keeps [`LANES`] partial sums (lane `k` takes terms `k, k + LANES, …`), added pairwise at the
//! end, then the tail; a sum over the batch adds example after example. Rust never fuses
//! `a·b + c` into one rounding, whatever the CPU offers.
//!
//! The backend trains every network outside the report's family with this path (the report's
//! network keeps [`crate::fused`]); it is tested against the float64 reference for every depth,
//! activation and head.

use crate::optim::State;
use twinnet_core::{Activation, Head, Layer, Optimizer, Params};

mod products;

pub use products::{accumulate, affine, axpy, back_propagate, dot, LANES};

/// `σ(z) = 1 / (1 + e^(−z))`, without overflow for either sign.
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The activation of one value: `max(0, z)`, `σ(z)` or `tanh z`.
pub fn activate(act: Activation, z: f32) -> f32 {
    match act {
        Activation::Relu => z.max(0.0),
        Activation::Sigmoid => sigmoid(z),
        Activation::Tanh => z.tanh(),
    }
}

/// The activation's derivative at `z`, where `a = act(z)`: `1 if z > 0 else 0`, `a(1 − a)`,
/// `1 − a²`.
pub fn derivative(act: Activation, z: f32, a: f32) -> f32 {
    match act {
        Activation::Relu => {
            if z > 0.0 {
                1.0
            } else {
                0.0
            }
        }
        Activation::Sigmoid => a * (1.0 - a),
        Activation::Tanh => 1.0 - a * a,
    }
}

/// One example's head: from its last pre-activation `z`, its outputs into `a`, its loss (in
/// `f64`, so that an extreme but finite logit keeps a finite loss), and `δ = ∂ℓ/∂z` into `d`.
/// ```text
/// softmax:               a = softmax(z)   ℓ = ln Σ e^z − z_y              δ = a − e_y
/// double-softmax:        a = softmax(z)   ℓ = ln Σ e^a − a_y              g = softmax(a) − e_y,  δ = a ∘ (g − ⟨a, g⟩)
/// sigmoid-quadratic:     a = σ(z)         ℓ = ½ Σ (a − e_y)²              δ = (a − e_y) ∘ a ∘ (1 − a)
/// sigmoid-cross-entropy: a = σ(z)         ℓ = Σ softplus(z) − z_y         δ = a − e_y
/// ```
/// (`softplus(z) = max(z, 0) + ln(1 + e^(−|z|))`; the softmaxes subtract the max first.)
pub fn head(head: Head, z: &[f32], y: usize, a: &mut [f32], d: &mut [f32]) -> f64 {
    let softmax = |v: &[f32], out: &mut [f32]| -> (f32, f32) {
        let max = v.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
        let mut sum = 0f32;
        for (o, &x) in out.iter_mut().zip(v) {
            *o = (x - max).exp();
            sum += *o;
        }
        out.iter_mut().for_each(|o| *o /= sum);
        (max, sum)
    };
    let loss = match head {
        Head::Softmax => {
            let (max, sum) = softmax(z, a);
            sum.ln() as f64 + max as f64 - z[y] as f64
        }
        Head::DoubleSoftmax => {
            softmax(z, a);
            // g is built in `d` (no allocation per example), then turned into δ in place.
            let (max, sum) = softmax(a, d);
            d[y] -= 1.0;
            let dot: f32 = a.iter().zip(d.iter()).map(|(p, g)| p * g).sum();
            for k in 0..a.len() {
                d[k] = a[k] * (d[k] - dot);
            }
            return sum.ln() as f64 + max as f64 - a[y] as f64;
        }
        Head::SigmoidQuadratic | Head::SigmoidCrossEntropy => {
            for (o, &x) in a.iter_mut().zip(z) {
                *o = sigmoid(x);
            }
            if head == Head::SigmoidQuadratic {
                let mut l = 0f64;
                for k in 0..a.len() {
                    let e = a[k] - if k == y { 1.0 } else { 0.0 };
                    l += 0.5 * (e as f64) * (e as f64);
                    d[k] = e * a[k] * (1.0 - a[k]);
                }
                return l;
            }
            let softplus = |x: f32| x.max(0.0) as f64 + ((-x.abs()).exp() as f64).ln_1p();
            z.iter().map(|&x| softplus(x)).sum::<f64>() - z[y] as f64
        }
    };
    // softmax and sigmoid-cross-entropy: δ = a − e_y.
    d.copy_from_slice(a);
    d[y] -= 1.0;
    loss
}

/// Where a batch of `m` examples is cut for `threads` threads: in half for two, else after
/// the last.
fn cut(m: usize, threads: usize) -> usize {
    if threads > 1 {
        m / 2
    } else {
        m
    }
}

/// Runs `a` and `b`, on two threads if `threads` > 1 (the caller has split the work so that
/// the two touch disjoint values: the bits do not depend on which ran where).
fn both(threads: usize, a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    if threads > 1 {
        std::thread::scope(|s| {
            s.spawn(a);
            b();
        });
    } else {
        a();
        b();
    }
}

/// The network in `f32`, with what a step needs kept between steps.
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Layer>,
    activation: Activation,
    head: Head,
    optimizer: Optimizer,
    /// Each layer's weight and bias optimizer state (unused by plain SGD).
    state: Vec<[State; 2]>,
}

/// A forward pass: every layer's pre-activations and activations (row-major `[m, nₗ]`, the
/// last activations being the head's outputs), each example's `δ_L`, and the outcome.
struct Pass {
    z: Vec<Vec<f32>>,
    a: Vec<Vec<f32>>,
    delta: Vec<f32>,
    outcome: Outcome,
}

/// What one step or evaluation reports: the batch's mean loss and its correct predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The mean loss over the batch.
    pub loss: f64,
    /// How many arg-max predictions equal the label.
    pub correct: usize,
}

impl Mlp {
    /// The network of `p`'s layers, with `activation` in every hidden layer and `head`,
    /// trained by plain SGD.
    pub fn new(p: &Params, activation: Activation, head: Head) -> Self {
        let state = vec![Default::default(); p.layers.len()];
        Self { layers: p.layers.clone(), activation, head, optimizer: Optimizer::SGD, state }
    }

    /// The same network trained by `optimizer` (its state starts empty).
    pub fn with_optimizer(mut self, optimizer: Optimizer) -> Self {
        self.optimizer = optimizer;
        self
    }

    /// The parameters as they are now.
    pub fn params(&self) -> Params {
        Params { layers: self.layers.clone() }
    }

    /// The forward pass of `rows` (each `n₀` features) with labels `y`, on `threads` threads
    /// (each layer's examples cut in two; every example's values are the same either way).
    fn forward(&self, rows: &[&[f32]], y: &[u8], threads: usize) -> Pass {
        let m = rows.len();
        let cut = cut(m, threads);
        let last = self.layers.len() - 1;
        let mut zs: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        let mut acts: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let (n_in, n_out) = (layer.inputs, layer.outputs);
            let (mut z, mut a) = (vec![0f32; m * n_out], vec![0f32; m * n_out]);
            let inputs: Vec<&[f32]> =
                if l == 0 { rows.to_vec() } else { acts[l - 1].chunks_exact(n_in).collect() };
            let (z0, z1) = z.split_at_mut(cut * n_out);
            let (a0, a1) = a.split_at_mut(cut * n_out);
            let part = |rows: &[&[f32]], z: &mut [f32], a: &mut [f32]| {
                affine(&layer.weight, &layer.bias, rows, z);
                if l < last {
                    for (a, &z) in a.iter_mut().zip(z.iter()) {
                        *a = activate(self.activation, z);
                    }
                }
            };
            both(threads, || part(&inputs[..cut], z0, a0), || part(&inputs[cut..], z1, a1));
            zs.push(z);
            acts.push(a);
        }
        let n = self.layers[last].outputs;
        let mut delta = vec![0f32; m * n];
        let (mut loss, mut correct) = (0f64, 0);
        for i in 0..m {
            let r = i * n..(i + 1) * n;
            let out = &mut acts[last][r.clone()];
            loss += head(self.head, &zs[last][r.clone()], y[i] as usize, out, &mut delta[r]);
            let best = out.iter().enumerate().fold(0, |b, (k, &v)| if v > out[b] { k } else { b });
            correct += usize::from(best == y[i] as usize);
        }
        Pass { z: zs, a: acts, delta, outcome: Outcome { loss: loss / m as f64, correct } }
    }

    /// One step of gradient descent on the examples `rows` with labels `y` at learning rate
    /// `lr`, on up to `threads` threads (two for a batch of [`crate::fused::MIN_ROWS_PER_PART`]
    /// rows or more, as [`crate::threads_used`] says; the same bits on any count); returns the
    /// loss and correct predictions of the forward pass before it.
    pub fn step(&mut self, rows: &[&[f32]], y: &[u8], lr: f32, threads: usize) -> Outcome {
        let m = rows.len();
        let threads = crate::threads_used(m, threads);
        let cut = cut(m, threads);
        let Pass { z: zs, a: acts, mut delta, outcome } = self.forward(rows, y, threads);
        let inv_m = 1.0 / m as f32;
        for l in (0..self.layers.len()).rev() {
            let (n_in, n_out) = (self.layers[l].inputs, self.layers[l].outputs);
            // ∂L/∂Wₗ = (1/m) δₗᵀ·Aₗ₋₁ and ∂L/∂bₗ, summed example after example; two threads
            // take half the outputs each.
            let inputs: Vec<&[f32]> =
                if l == 0 { rows.to_vec() } else { acts[l - 1].chunks_exact(n_in).collect() };
            let mut gw = vec![0f32; n_out * n_in];
            let half = if threads > 1 { n_out / 2 } else { n_out };
            let (g0, g1) = gw.split_at_mut(half * n_in);
            both(
                threads,
                || accumulate(&delta, &inputs, 0..half, g0),
                || accumulate(&delta, &inputs, half..n_out, g1),
            );
            let mut gb = vec![0f32; n_out];
            for di in delta.chunks_exact(n_out) {
                for (g, d) in gb.iter_mut().zip(di) {
                    *g += d;
                }
            }
            // δₗ₋₁ = (δₗ·Wₗ) ∘ act′(Zₗ₋₁), with Wₗ before its update; two threads take half
            // the examples each.
            if l > 0 {
                let mut back = vec![0f32; m * n_in];
                let (w, act) = (&self.layers[l].weight, self.activation);
                let part = |d: &[f32], back: &mut [f32], z: &[f32], a: &[f32]| {
                    back_propagate(d, w, n_out, back);
                    for ((b, &z), &a) in back.iter_mut().zip(z).zip(a) {
                        *b *= derivative(act, z, a);
                    }
                };
                let (b0, b1) = back.split_at_mut(cut * n_in);
                let (d0, d1) = delta.split_at(cut * n_out);
                let (z0, z1) = zs[l - 1].split_at(cut * n_in);
                let (a0, a1) = acts[l - 1].split_at(cut * n_in);
                both(threads, || part(d0, b0, z0, a0), || part(d1, b1, z1, a1));
                delta = back;
            }
            let layer = &mut self.layers[l];
            if self.optimizer.is_plain_sgd() {
                axpy(-lr * inv_m, &gw, &mut layer.weight);
                axpy(-lr * inv_m, &gb, &mut layer.bias);
            } else {
                // The mean loss's gradients, then the optimizer's rule.
                gw.iter_mut().chain(gb.iter_mut()).for_each(|g| *g *= inv_m);
                let o = &self.optimizer;
                let [sw, sb] = &mut self.state[l];
                sw.update(o, o.decay_of(true), &mut layer.weight, &mut gw, lr);
                sb.update(o, o.decay_of(false), &mut layer.bias, &mut gb, lr);
            }
        }
        outcome
    }

    /// The mean loss and correct predictions on `rows`, and every prediction, without
    /// updating.
    pub fn evaluate(&self, rows: &[&[f32]], y: &[u8], threads: usize) -> (Outcome, Vec<u8>) {
        let pass = self.forward(rows, y, crate::threads_used(rows.len(), threads));
        let n = self.layers.last().map_or(0, |l| l.outputs);
        let out = pass.a.last().expect("a layer");
        let preds = out
            .chunks(n)
            .map(|r| r.iter().enumerate().fold(0, |b, (k, &v)| if v > r[b] { k } else { b }) as u8)
            .collect();
        (pass.outcome, preds)
    }
}
