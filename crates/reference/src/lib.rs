//! The float64 reference of any multilayer perceptron: what `twinnet check` and the
//! conformance suite trust. Readable and step by step, with no regard for speed; every
//! formula is beside the code that computes it, and the tests check each gradient by finite
//! differences and against libtorch's autograd (`crates/tch/tests/reference.rs`).
//!
//! Examples are **rows** (PyTorch's layout); layer `l` of `L` maps width `nₗ₋₁` to `nₗ`:
//! ```text
//! A₀ = X                    [m, n₀]          (n₀ = 784 pixels)
//! Zₗ = Aₗ₋₁·Wₗᵀ + bₗ        [m, nₗ]          Wₗ [nₗ, nₗ₋₁] (fcₗ.weight), bₗ [nₗ] (fcₗ.bias)
//! Aₗ = act(Zₗ)              for l < L        (relu, sigmoid or tanh: the same for every hidden layer)
//! A_L = out(Z_L)            the head's outputs: softmax for the softmax heads, σ for the sigmoid heads
//! ```
//! The loss is the mean over the batch of the head's per-example loss `ℓ` (see
//! [`example_loss`]); predictions are the arg-max of the outputs. Backward, with
//! `δ_L = ∂ℓ/∂Z_L` per example ([`output_error`]):
//! ```text
//! ∂L/∂Wₗ = (1/m) δₗᵀ·Aₗ₋₁      ∂L/∂bₗ = (1/m) Σᵢ δₗ[i, :]
//! δₗ₋₁ = (δₗ·Wₗ) ∘ act′(Zₗ₋₁)
//! ```
//! and one step of gradient descent is `Wₗ := Wₗ − α ∂L/∂Wₗ`, `bₗ := bₗ − α ∂L/∂bₗ`.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use twinnet_core::{Activation, Head, ModelConfig, Optimizer, Params, INPUTS};
use twinnet_data::Dataset;

mod optim;
pub use optim::OptimizerState;

/// One layer's parameters: `fcₗ.weight` `[out, in]` and `fcₗ.bias` `[out]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// `Wₗ`, `[nₗ, nₗ₋₁]`.
    pub weight: Array2<f64>,
    /// `bₗ`, `[nₗ]`.
    pub bias: Array1<f64>,
}

/// A multilayer perceptron: its layers, the activation of every hidden layer, and its head.
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// `fc1 … fcL`, input side first.
    pub layers: Vec<Layer>,
    /// The activation of layers `1 … L−1`.
    pub activation: Activation,
    /// The output layer's function and loss.
    pub head: Head,
}

/// Every intermediate of a forward pass that the backward pass needs.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `Z₁ … Z_L`, each `[m, nₗ]`.
    pub z: Vec<Array2<f64>>,
    /// `A₀ = X, A₁ … A_L`; `A_L` is the head's outputs.
    pub a: Vec<Array2<f64>>,
}

/// `σ(z) = 1 / (1 + e^(−z))`, computed without overflow for either sign.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eᶻ)`, computed without overflow: `max(z, 0) + ln(1 + e^(−|z|))`.
pub fn softplus(z: f64) -> f64 {
    z.max(0.0) + (-z.abs()).exp().ln_1p()
}

/// The activation of one value.
/// ```text
/// relu: max(0, z)     sigmoid: σ(z)     tanh: tanh z
/// ```
pub fn activate(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Relu => z.max(0.0),
        Activation::Sigmoid => sigmoid(z),
        Activation::Tanh => z.tanh(),
    }
}

/// The activation's derivative at `z`, where `a = act(z)`.
/// ```text
/// relu: 1 if z > 0 else 0     sigmoid: a(1 − a)     tanh: 1 − a²
/// ```
pub fn derivative(act: Activation, z: f64, a: f64) -> f64 {
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

/// `softmax(z)ⱼ = e^(zⱼ − max z) / Σₖ e^(zₖ − max z)` (the max subtracted keeps `exp` finite).
pub fn softmax(z: ArrayView1<f64>) -> Array1<f64> {
    let max = z.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    let e = z.mapv(|x| (x - max).exp());
    let sum = e.sum();
    e / sum
}

/// `ln Σⱼ e^(zⱼ)`, computed stably.
pub fn logsumexp(z: ArrayView1<f64>) -> f64 {
    let max = z.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
    max + z.mapv(|x| (x - max).exp()).sum().ln()
}

/// The head's outputs for one example's last pre-activation `z`.
/// ```text
/// softmax, double-softmax: a = softmax(z)       sigmoid-*: aⱼ = σ(zⱼ)
/// ```
pub fn outputs(head: Head, z: ArrayView1<f64>) -> Array1<f64> {
    match head {
        Head::Softmax | Head::DoubleSoftmax => softmax(z),
        Head::SigmoidQuadratic | Head::SigmoidCrossEntropy => z.mapv(sigmoid),
    }
}

/// One example's loss `ℓ` from its last pre-activation `z`, outputs `a` and label `y`
/// (`e_y` its one-hot vector).
/// ```text
/// softmax:               ℓ = −ln aᵧ = logsumexp(z) − zᵧ
/// double-softmax:        ℓ = −ln softmax(a)ᵧ = logsumexp(a) − aᵧ      (CrossEntropyLoss of softmax(z))
/// sigmoid-quadratic:     ℓ = ½ Σⱼ (aⱼ − e_yⱼ)²                         (Nielsen's QuadraticCost)
/// sigmoid-cross-entropy: ℓ = Σⱼ −[e_yⱼ ln aⱼ + (1 − e_yⱼ) ln(1 − aⱼ)]
///                          = Σⱼ softplus(zⱼ) − zᵧ                        (Nielsen's CrossEntropyCost,
///                            since −ln σ(z) = softplus(−z), −ln(1 − σ(z)) = softplus(z), softplus(z) − z = softplus(−z))
/// ```
pub fn example_loss(head: Head, z: ArrayView1<f64>, a: ArrayView1<f64>, y: usize) -> f64 {
    match head {
        Head::Softmax => logsumexp(z) - z[y],
        Head::DoubleSoftmax => logsumexp(a) - a[y],
        Head::SigmoidQuadratic => {
            0.5 * a
                .iter()
                .enumerate()
                .map(|(j, &v)| (v - if j == y { 1.0 } else { 0.0 }).powi(2))
                .sum::<f64>()
        }
        Head::SigmoidCrossEntropy => z.iter().map(|&v| softplus(v)).sum::<f64>() - z[y],
    }
}

/// `δ = ∂ℓ/∂z` of one example.
/// ```text
/// softmax:               δ = a − e_y
/// double-softmax:        g = softmax(a) − e_y,  δ = a ∘ (g − ⟨a, g⟩)   (the softmax Jacobian
///                        ∂aₖ/∂zⱼ = aₖ(δₖⱼ − aⱼ) applied to g = ∂ℓ/∂a)
/// sigmoid-quadratic:     δ = (a − e_y) ∘ σ′(z) = (a − e_y) ∘ a ∘ (1 − a)
/// sigmoid-cross-entropy: δ = a − e_y                                   (σ′ cancels: Nielsen's eq. 66)
/// ```
pub fn output_error(head: Head, a: ArrayView1<f64>, y: usize) -> Array1<f64> {
    let mut minus_y = a.to_owned();
    minus_y[y] -= 1.0;
    match head {
        Head::Softmax | Head::SigmoidCrossEntropy => minus_y,
        Head::DoubleSoftmax => {
            let mut g = softmax(a);
            g[y] -= 1.0;
            let dot = a.dot(&g);
            &a * &g.mapv(|v| v - dot)
        }
        Head::SigmoidQuadratic => &minus_y * &a.mapv(|v| v * (1.0 - v)),
    }
}

/// The index of the largest entry (the first, on ties).
pub fn argmax(v: ArrayView1<f64>) -> usize {
    v.iter().enumerate().fold(0, |best, (k, &x)| if x > v[best] { k } else { best })
}

impl Mlp {
    /// The network of `layers` (each one's input width the previous one's output width).
    ///
    /// # Panics
    /// If the layers do not chain or there are none.
    pub fn new(layers: Vec<Layer>, activation: Activation, head: Head) -> Self {
        assert!(!layers.is_empty(), "a network has at least one layer");
        for (l, w) in layers.windows(2).enumerate() {
            assert_eq!(
                w[1].weight.ncols(),
                w[0].weight.nrows(),
                "fc{} takes fc{}'s outputs",
                l + 2,
                l + 1
            );
        }
        for (l, layer) in layers.iter().enumerate() {
            assert_eq!(layer.bias.len(), layer.weight.nrows(), "fc{}: one bias per output", l + 1);
        }
        Self { layers, activation, head }
    }

    /// The widths, input first: `[n₀, n₁, …, n_L]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.layers[0].weight.ncols())
            .chain(self.layers.iter().map(|l| l.weight.nrows()))
            .collect()
    }

    /// The network of `p`'s layers (any depth) in `f64`, with `activation` and `head`.
    pub fn from_params(p: &Params, activation: Activation, head: Head) -> Self {
        let layers = p
            .layers
            .iter()
            .map(|l| Layer {
                weight: Array2::from_shape_vec(
                    (l.outputs, l.inputs),
                    l.weight.iter().map(|&x| x as f64).collect(),
                )
                .expect("a layer's weight is [outputs, inputs]"),
                bias: l.bias.iter().map(|&x| x as f64).collect(),
            })
            .collect();
        Self::new(layers, activation, head)
    }

    /// Back to `f32` parameters, rounding each value to the nearest `f32`.
    pub fn to_params(&self) -> Params {
        Params {
            layers: self
                .layers
                .iter()
                .map(|l| twinnet_core::Layer {
                    inputs: l.weight.ncols(),
                    outputs: l.weight.nrows(),
                    weight: l.weight.iter().map(|&x| x as f32).collect(),
                    bias: l.bias.iter().map(|&x| x as f32).collect(),
                })
                .collect(),
        }
    }

    /// The forward pass of a batch `x` `[m, n₀]` (see the module's formulas).
    pub fn forward(&self, x: ArrayView2<f64>) -> Forward {
        let last = self.layers.len() - 1;
        let mut a = vec![x.to_owned()];
        let mut z = vec![];
        for (l, layer) in self.layers.iter().enumerate() {
            let zl = a[l].dot(&layer.weight.t()) + &layer.bias;
            let al = if l < last {
                zl.mapv(|v| activate(self.activation, v))
            } else {
                let mut out = zl.clone();
                for (mut row, zr) in out.rows_mut().into_iter().zip(zl.rows()) {
                    row.assign(&outputs(self.head, zr));
                }
                out
            };
            z.push(zl);
            a.push(al);
        }
        Forward { z, a }
    }

    /// The mean loss of a forward pass on labels `y`.
    pub fn loss(&self, f: &Forward, y: &[u8]) -> f64 {
        let (z, a) = (f.z.last().expect("a layer"), f.a.last().expect("a layer"));
        let total: f64 = y
            .iter()
            .enumerate()
            .map(|(i, &k)| example_loss(self.head, z.row(i), a.row(i), k as usize))
            .sum();
        total / y.len() as f64
    }

    /// The arg-max of each example's outputs.
    pub fn predictions(&self, f: &Forward) -> Vec<u8> {
        f.a.last().expect("a layer").rows().into_iter().map(|r| argmax(r) as u8).collect()
    }

    /// The gradients of the mean loss of `(x, y)`, one [`Layer`] of them per layer, and the
    /// forward pass they came from.
    pub fn gradients(&self, x: ArrayView2<f64>, y: &[u8]) -> (Forward, Vec<Layer>) {
        let f = self.forward(x);
        let m = y.len() as f64;
        let out = f.a.last().expect("a layer");
        let mut delta = Array2::zeros(out.raw_dim());
        for (i, &k) in y.iter().enumerate() {
            delta.row_mut(i).assign(&output_error(self.head, out.row(i), k as usize));
        }
        let mut grads = Vec::with_capacity(self.layers.len());
        for l in (0..self.layers.len()).rev() {
            let weight = delta.t().dot(&f.a[l]) / m;
            let bias = delta.sum_axis(Axis(0)) / m;
            if l > 0 {
                let back = delta.dot(&self.layers[l].weight);
                let act = self.activation;
                let d = ndarray::Zip::from(&f.z[l - 1])
                    .and(&f.a[l])
                    .map_collect(|&z, &a| derivative(act, z, a));
                delta = back * d;
            }
            grads.push(Layer { weight, bias });
        }
        grads.reverse();
        (f, grads)
    }

    /// One step of gradient descent on `(x, y)` at learning rate `alpha`; returns the mean
    /// loss and the number of correct predictions of the forward pass before it.
    pub fn step(&mut self, x: ArrayView2<f64>, y: &[u8], alpha: f64) -> (f64, usize) {
        let (f, grads) = self.gradients(x, y);
        let loss = self.loss(&f, y);
        let correct = self.predictions(&f).iter().zip(y).filter(|(p, t)| p == t).count();
        for (layer, g) in self.layers.iter_mut().zip(&grads) {
            layer.weight.scaled_add(-alpha, &g.weight);
            layer.bias.scaled_add(-alpha, &g.bias);
        }
        (loss, correct)
    }
}

/// One update of the oracle: the parameters after it, and the mean loss and the number of
/// correct predictions of the forward pass before it (what a backend's step reports).
#[derive(Debug, Clone, PartialEq)]
pub struct OracleStep {
    /// The parameters after the update.
    pub params: Params,
    /// The batch's mean loss before it.
    pub loss: f64,
    /// Correct predictions before it.
    pub correct: usize,
}

/// The oracle that `twinnet check` and the conformance suite trust:
/// `config`'s model in `f64`, step by step, from `start` over `batches` (`None`: the whole of
/// `data`) at learning rate `alpha`.
pub fn trajectory(
    config: &ModelConfig,
    start: &Params,
    data: &Dataset,
    batches: &[Option<Vec<u32>>],
    alpha: f64,
) -> Vec<OracleStep> {
    trajectory_with(config, &Optimizer::SGD, start, data, batches, alpha)
}

/// [`trajectory`] with `optimizer`'s rule.
pub fn trajectory_with(
    config: &ModelConfig,
    optimizer: &Optimizer,
    start: &Params,
    data: &Dataset,
    batches: &[Option<Vec<u32>>],
    alpha: f64,
) -> Vec<OracleStep> {
    let mut state = OptimizerState::default();
    let mut net = Mlp::from_params(start, config.activation, config.head);
    let x = features(config, data);
    let all: Vec<u32> = (0..data.len() as u32).collect();
    batches
        .iter()
        .map(|b| {
            let rows: Vec<usize> =
                b.as_deref().unwrap_or(&all).iter().map(|&i| i as usize).collect();
            let xb = x.select(Axis(0), &rows);
            let yb: Vec<u8> = rows.iter().filter_map(|&i| data.labels().get(i).copied()).collect();
            let (loss, correct) = if optimizer.is_plain_sgd() {
                net.step(xb.view(), &yb, alpha)
            } else {
                net.step_with(xb.view(), &yb, alpha, optimizer, &mut state)
            };
            OracleStep { params: net.to_params(), loss, correct }
        })
        .collect()
}

/// The oracle's evaluation of `params` on `data`: the mean loss and every prediction.
pub fn evaluate(config: &ModelConfig, params: &Params, data: &Dataset) -> (f64, Vec<u8>) {
    let net = Mlp::from_params(params, config.activation, config.head);
    let f = net.forward(features(config, data).view());
    (net.loss(&f, data.labels()), net.predictions(&f))
}

/// `data`'s images as `f64` rows `[n, 784]`, normalized as `config` says.
pub fn features(config: &ModelConfig, data: &Dataset) -> Array2<f64> {
    let xs: Vec<f64> = data.features(config.normalize).iter().map(|&v| v as f64).collect();
    Array2::from_shape_vec((data.len(), INPUTS), xs).expect("a dataset holds n × 784 pixels")
}
