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

use twinnet_core::{Activation, Head, Layer, Params};

/// Partial sums of a dot product.
pub const LANES: usize = 8;

/// `Σₖ a[k]·b[k]` in the pinned order (see the module's documentation).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0f32; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// `y[k] += s·x[k]` for every `k`.
pub fn axpy(s: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += s * x;
    }
}

/// Vectors a product handles together: each weight (or gradient) vector is loaded once for
/// this many examples (or outputs). Blocking only changes which values are computed together,
/// never the order in which any one sum is formed, so the bits are those of the plain loops
/// (a test compares them).
const BLOCK: usize = 4;

/// Calls `$f` compiled for AVX2 (`$avx2`, the same code under `#[target_feature]`) when the
/// CPU has it, else the portable build. Rust never fuses `a·b + c` into one rounding, so both
/// compute the same bits; AVX2 only does eight lanes in one instruction.
macro_rules! dispatch {
    ($avx2:ident, $f:ident ( $($arg:expr),* )) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (detected just above), all the function requires.
                return unsafe { $avx2($($arg),*) };
            }
        }
        $f($($arg),*)
    }};
}

/// Defines `$avx2`, `$f` compiled with AVX2 enabled.
macro_rules! avx2_build {
    ($avx2:ident, $f:ident ( $($arg:ident : $t:ty),* )) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2($($arg: $t),*) {
            $f($($arg),*)
        }
    };
}

/// `Z[i, j] = W[j]·A[i] + b[j]` for every example `i` (`rows`) and output `j`, each dot
/// product in [`dot`]'s pinned order: `w` is `[n_out, n_in]`, `z` `[m, n_out]`.
pub fn affine(w: &[f32], b: &[f32], rows: &[&[f32]], z: &mut [f32]) {
    dispatch!(affine_avx2, affine_portable(w, b, rows, z))
}

avx2_build!(affine_avx2, affine_portable(w: &[f32], b: &[f32], rows: &[&[f32]], z: &mut [f32]));

#[inline(always)]
fn affine_portable(w: &[f32], b: &[f32], rows: &[&[f32]], z: &mut [f32]) {
    let n_out = b.len();
    for (block, rs) in rows.chunks(BLOCK).enumerate() {
        for (j, (wj, bj)) in w.chunks_exact(w.len() / n_out.max(1)).zip(b).enumerate() {
            let sums = dots(wj, rs);
            for (r, s) in sums.iter().take(rs.len()).enumerate() {
                z[(block * BLOCK + r) * n_out + j] = s + bj;
            }
        }
    }
}

/// [`dot`] of `w` with each of up to [`BLOCK`] rows, each in [`dot`]'s order: a full block at
/// once (every weight vector loaded once for four rows), a short one row by row.
#[inline(always)]
fn dots(w: &[f32], rs: &[&[f32]]) -> [f32; BLOCK] {
    let mut out = [0f32; BLOCK];
    let [x0, x1, x2, x3] = rs else {
        for (o, row) in out.iter_mut().zip(rs) {
            *o = dot(w, row);
        }
        return out;
    };
    let (mut a0, mut a1, mut a2, mut a3) =
        ([0f32; LANES], [0f32; LANES], [0f32; LANES], [0f32; LANES]);
    let n = w.len();
    let lanes = w
        .chunks_exact(LANES)
        .zip(x0[..n].chunks_exact(LANES))
        .zip(x1[..n].chunks_exact(LANES))
        .zip(x2[..n].chunks_exact(LANES))
        .zip(x3[..n].chunks_exact(LANES));
    for ((((wv, v0), v1), v2), v3) in lanes {
        // One loop per row, so that a row's eight lanes become one vector.
        lanes_add(&mut a0, wv, v0);
        lanes_add(&mut a1, wv, v1);
        lanes_add(&mut a2, wv, v2);
        lanes_add(&mut a3, wv, v3);
    }
    let acc = [a0, a1, a2, a3];
    let n = n / LANES * LANES;
    for ((o, a), row) in out.iter_mut().zip(&acc).zip(rs) {
        let tail: f32 = w[n..].iter().zip(&row[n..]).map(|(x, y)| x * y).sum();
        *o = ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])) + tail;
    }
    out
}

/// `acc[l] += w[l]·x[l]` for the [`LANES`] lanes.
#[inline(always)]
fn lanes_add(acc: &mut [f32; LANES], w: &[f32], x: &[f32]) {
    let (w, x): (&[f32; LANES], &[f32; LANES]) =
        (w.try_into().expect("LANES values"), x.try_into().expect("LANES values"));
    for l in 0..LANES {
        acc[l] += w[l] * x[l];
    }
}

/// `G[j] += Σᵢ D[i, j]·A[i]` for every output `j`, adding example after example (as one
/// [`axpy`] per example would): `d` is `[m, n_out]`, `g` `[n_out, n_in]`.
pub fn accumulate(d: &[f32], rows: &[&[f32]], g: &mut [f32]) {
    dispatch!(accumulate_avx2, accumulate_portable(d, rows, g))
}

avx2_build!(accumulate_avx2, accumulate_portable(d: &[f32], rows: &[&[f32]], g: &mut [f32]));

#[inline(always)]
fn accumulate_portable(d: &[f32], rows: &[&[f32]], g: &mut [f32]) {
    let m = rows.len();
    let Some(n_out) = d.len().checked_div(m) else { return };
    for (j, gj) in g.chunks_exact_mut(g.len() / n_out.max(1)).enumerate() {
        for (block, rs) in rows.chunks(BLOCK).enumerate() {
            let mut s = [0f32; BLOCK];
            for (r, s) in s.iter_mut().take(rs.len()).enumerate() {
                *s = d[(block * BLOCK + r) * n_out + j];
            }
            combine(gj, &s[..rs.len()], rs);
        }
    }
}

/// `B[i] = Σⱼ D[i, j]·W[j]` for every example `i`, adding output after output from zero (as
/// one [`axpy`] per output would): `d` is `[m, n_out]`, `w` `[n_out, n_in]`, `back`
/// `[m, n_in]`.
pub fn back_propagate(d: &[f32], w: &[f32], n_out: usize, back: &mut [f32]) {
    dispatch!(back_propagate_avx2, back_propagate_portable(d, w, n_out, back))
}

avx2_build!(
    back_propagate_avx2,
    back_propagate_portable(d: &[f32], w: &[f32], n_out: usize, back: &mut [f32])
);

#[inline(always)]
fn back_propagate_portable(d: &[f32], w: &[f32], n_out: usize, back: &mut [f32]) {
    back.iter_mut().for_each(|v| *v = 0.0);
    if n_out == 0 || w.is_empty() {
        return;
    }
    let n_in = w.len() / n_out;
    let mut ws = [&w[..0]; BLOCK];
    for (di, out) in d.chunks_exact(n_out).zip(back.chunks_exact_mut(n_in)) {
        for (jb, ds) in di.chunks(BLOCK).enumerate() {
            for (r, wr) in ws.iter_mut().take(ds.len()).enumerate() {
                *wr = &w[(jb * BLOCK + r) * n_in..(jb * BLOCK + r + 1) * n_in];
            }
            combine(out, ds, &ws[..ds.len()]);
        }
    }
}

/// `y[k] = (…((y[k] + s₀·x₀[k]) + s₁·x₁[k]) + …)` for every `k`: one [`axpy`] per vector, in
/// order, with `y` loaded and stored once for [`BLOCK`] of them.
#[inline(always)]
fn combine(y: &mut [f32], s: &[f32], xs: &[&[f32]]) {
    if let ([s0, s1, s2, s3], [x0, x1, x2, x3]) = (s, xs) {
        let (x0, x1, x2, x3) = (&x0[..y.len()], &x1[..y.len()], &x2[..y.len()], &x3[..y.len()]);
        for k in 0..y.len() {
            y[k] = (((y[k] + s0 * x0[k]) + s1 * x1[k]) + s2 * x2[k]) + s3 * x3[k];
        }
    } else {
        for (&s, x) in s.iter().zip(xs) {
            axpy(s, x, y);
        }
    }
}

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
            let mut g = vec![0f32; a.len()];
            let (max, sum) = softmax(a, &mut g);
            g[y] -= 1.0;
            let dot: f32 = a.iter().zip(&g).map(|(p, g)| p * g).sum();
            for k in 0..a.len() {
                d[k] = a[k] * (g[k] - dot);
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

/// The network in `f32`, with what a step needs kept between steps.
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Layer>,
    activation: Activation,
    head: Head,
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
    /// The network of `p`'s layers, with `activation` in every hidden layer and `head`.
    pub fn new(p: &Params, activation: Activation, head: Head) -> Self {
        Self { layers: p.layers.clone(), activation, head }
    }

    /// The parameters as they are now.
    pub fn params(&self) -> Params {
        Params { layers: self.layers.clone() }
    }

    /// The forward pass of `rows` (each `n₀` features) with labels `y`.
    fn forward(&self, rows: &[&[f32]], y: &[u8]) -> Pass {
        let m = rows.len();
        let last = self.layers.len() - 1;
        let mut zs = Vec::with_capacity(self.layers.len());
        let mut acts: Vec<Vec<f32>> = Vec::with_capacity(self.layers.len());
        for (l, layer) in self.layers.iter().enumerate() {
            let (n_in, n_out) = (layer.inputs, layer.outputs);
            let mut z = vec![0f32; m * n_out];
            let inputs: Vec<&[f32]> =
                if l == 0 { rows.to_vec() } else { acts[l - 1].chunks_exact(n_in).collect() };
            affine(&layer.weight, &layer.bias, &inputs, &mut z);
            if l < last {
                acts.push(z.iter().map(|&v| activate(self.activation, v)).collect());
            } else {
                acts.push(vec![0f32; m * n_out]);
            }
            zs.push(z);
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
    /// `lr`; returns the loss and correct predictions of the forward pass before it.
    pub fn step(&mut self, rows: &[&[f32]], y: &[u8], lr: f32) -> Outcome {
        let m = rows.len();
        let Pass { z: zs, a: acts, mut delta, outcome } = self.forward(rows, y);
        let inv_m = 1.0 / m as f32;
        for l in (0..self.layers.len()).rev() {
            let (n_in, n_out) = (self.layers[l].inputs, self.layers[l].outputs);
            // ∂L/∂Wₗ = (1/m) δₗᵀ·Aₗ₋₁ and ∂L/∂bₗ, summed example after example.
            let inputs: Vec<&[f32]> =
                if l == 0 { rows.to_vec() } else { acts[l - 1].chunks_exact(n_in).collect() };
            let mut gw = vec![0f32; n_out * n_in];
            accumulate(&delta, &inputs, &mut gw);
            let mut gb = vec![0f32; n_out];
            for di in delta.chunks_exact(n_out) {
                for (g, d) in gb.iter_mut().zip(di) {
                    *g += d;
                }
            }
            // δₗ₋₁ = (δₗ·Wₗ) ∘ act′(Zₗ₋₁), with Wₗ before its update.
            if l > 0 {
                let mut back = vec![0f32; m * n_in];
                back_propagate(&delta, &self.layers[l].weight, n_out, &mut back);
                for ((b, &z), &a) in back.iter_mut().zip(&zs[l - 1]).zip(&acts[l - 1]) {
                    *b *= derivative(self.activation, z, a);
                }
                delta = back;
            }
            let layer = &mut self.layers[l];
            axpy(-lr * inv_m, &gw, &mut layer.weight);
            axpy(-lr * inv_m, &gb, &mut layer.bias);
        }
        outcome
    }

    /// The mean loss and correct predictions on `rows`, and every prediction, without
    /// updating.
    pub fn evaluate(&self, rows: &[&[f32]], y: &[u8]) -> (Outcome, Vec<u8>) {
        let pass = self.forward(rows, y);
        let n = self.layers.last().map_or(0, |l| l.outputs);
        let out = pass.a.last().expect("a layer");
        let preds = out
            .chunks(n)
            .map(|r| r.iter().enumerate().fold(0, |b, (k, &v)| if v > r[b] { k } else { b }) as u8)
            .collect();
        (pass.outcome, preds)
    }
}
