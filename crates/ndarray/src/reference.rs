//! The report's NumPy model, step by step and in `f64`: the readable specification that the
//! fast path ([`crate::fused`]) is tested against, and on which the gradients are checked by
//! finite differences.
//!
//! Shapes follow the report (section 2.2): examples are **columns**.
//! ```text
//! X  [784, m]   W1 [h, 784]  b1 [h, 1]   W2 [10, h]  b2 [10, 1]   Y [10, m] (one-hot)
//! Z1 = W1·X + b1      A1 = ReLU(Z1)      Z2 = W2·A1 + b2      A2 = softmax(Z2)
//! ```
//! Every function here is one line of the report, named as in its code.

use ndarray::{Array1, Array2, ArrayView2, Axis};
use twinnet_core::{Head, Params, CLASSES, INPUTS};

/// This module is the report's model only; any other head is `twinnet-reference`'s.
const SOFTMAX_ONLY: &str = "the report's model has a softmax head (twinnet-reference computes any)";

/// The parameters as `f64` matrices in the report's shapes (biases as columns).
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    /// `[h, 784]`.
    pub w1: Array2<f64>,
    /// `[h, 1]`.
    pub b1: Array2<f64>,
    /// `[10, h]`.
    pub w2: Array2<f64>,
    /// `[10, 1]`.
    pub b2: Array2<f64>,
}

/// Gradients of the mean loss, in the shapes of [`Parameters`].
#[derive(Debug, Clone, PartialEq)]
pub struct Grads {
    /// `∂L/∂W1`.
    pub dw1: Array2<f64>,
    /// `∂L/∂b1`.
    pub db1: Array2<f64>,
    /// `∂L/∂W2`.
    pub dw2: Array2<f64>,
    /// `∂L/∂b2`.
    pub db2: Array2<f64>,
}

/// What `forward_prop` returns: every intermediate the backward pass needs.
#[derive(Debug, Clone)]
pub struct Forward {
    /// `Z1 = W1·X + b1`, `[h, m]`.
    pub z1: Array2<f64>,
    /// `A1 = ReLU(Z1)`, `[h, m]`.
    pub a1: Array2<f64>,
    /// `Z2 = W2·A1 + b2`, `[10, m]`.
    pub z2: Array2<f64>,
    /// `A2 = softmax(Z2)`, `[10, m]`.
    pub a2: Array2<f64>,
}

impl Parameters {
    /// `initialize_parameters()` — from a [`Params`] (see [`Params::init`] for the draws).
    pub fn from_params(p: &Params) -> Self {
        let h = p.hidden();
        let (l1, l2) = (&p.layers[0], &p.layers[1]);
        let m = |v: &[f32], r, c| {
            Array2::from_shape_vec((r, c), v.iter().map(|&x| x as f64).collect()).expect("shape")
        };
        Self {
            w1: m(&l1.weight, h, INPUTS),
            b1: m(&l1.bias, h, 1),
            w2: m(&l2.weight, CLASSES, h),
            b2: m(&l2.bias, CLASSES, 1),
        }
    }

    /// Back to `f32` parameters in PyTorch's layout.
    pub fn to_params(&self) -> Params {
        let v = |a: &Array2<f64>| a.iter().map(|&x| x as f32).collect();
        Params::report(v(&self.w1), v(&self.b1), v(&self.w2), v(&self.b2))
    }
}

/// `ReLU(x) = max(0, x)`, element-wise.
pub fn relu(z: &Array2<f64>) -> Array2<f64> {
    z.mapv(|x| x.max(0.0))
}

/// `ReLU′(Z) = 1 if Z > 0 else 0`, element-wise.
pub fn relu_deriv(z: &Array2<f64>) -> Array2<f64> {
    z.mapv(|x| if x > 0.0 { 1.0 } else { 0.0 })
}

/// `softmax(z)ᵢ = exp(zᵢ − max z) / Σⱼ exp(zⱼ − max z)` for every column: subtracting the
/// column's max changes nothing mathematically and keeps `exp` from overflowing.
pub fn softmax(z: &Array2<f64>) -> Array2<f64> {
    let mut out = z.clone();
    for mut col in out.columns_mut() {
        let max = col.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        col.mapv_inplace(|x| (x - max).exp());
        let sum = col.sum();
        col /= sum;
    }
    out
}

/// `log Σⱼ exp(zⱼ)` for every column, computed stably.
pub fn logsumexp(z: &Array2<f64>) -> Array1<f64> {
    z.map_axis(Axis(0), |col| {
        let max = col.fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        max + col.mapv(|x| (x - max).exp()).sum().ln()
    })
}

/// `forward_prop()`: `Z1 = W1·X + b1`, `A1 = ReLU(Z1)`, `Z2 = W2·A1 + b2`, `A2 = softmax(Z2)`.
pub fn forward_prop(net: &Parameters, x: ArrayView2<f64>) -> Forward {
    let z1 = net.w1.dot(&x) + &net.b1;
    let a1 = relu(&z1);
    let z2 = net.w2.dot(&a1) + &net.b2;
    let a2 = softmax(&z2);
    Forward { z1, a1, z2, a2 }
}

/// `one_hot_encode(y)`: `Y[k, i] = 1 if yᵢ = k`, shape `[10, m]`.
pub fn one_hot(y: &[u8]) -> Array2<f64> {
    let mut out = Array2::zeros((CLASSES, y.len()));
    for (i, &k) in y.iter().enumerate() {
        out[[k as usize, i]] = 1.0;
    }
    out
}

/// Mean loss of the head over the batch.
/// ```text
/// softmax:         L = −(1/m) Σᵢ log A2[yᵢ, i]        = (1/m) Σᵢ (logsumexp(Z2[:, i]) − Z2[yᵢ, i])
/// double-softmax:  L = −(1/m) Σᵢ log softmax(A2)[yᵢ, i] = (1/m) Σᵢ (logsumexp(A2[:, i]) − A2[yᵢ, i])
/// ```
pub fn loss(head: Head, f: &Forward, y: &[u8]) -> f64 {
    let z = match head {
        Head::Softmax => &f.z2,
        Head::DoubleSoftmax => &f.a2,
        Head::SigmoidQuadratic | Head::SigmoidCrossEntropy => panic!("{SOFTMAX_ONLY}: {head}"),
    };
    let lse = logsumexp(z);
    let m = y.len() as f64;
    y.iter().enumerate().map(|(i, &k)| lse[i] - z[[k as usize, i]]).sum::<f64>() / m
}

/// `∂(m·L)/∂Z2`, the output error of each example (before the `1/m` of the mean).
/// ```text
/// softmax:         dZ2 = A2 − Y
/// double-softmax:  Q = softmax(A2),  G = Q − Y                         (∂/∂A2 of CE on A2)
///                  dZ2 = A2 ∘ (G − 1·(Σₖ A2ₖ Gₖ))                      (softmax Jacobian:
///                  ∂A2ₖ/∂Z2ⱼ = A2ₖ(δₖⱼ − A2ⱼ), so dZ2ⱼ = Σₖ Gₖ A2ₖ(δₖⱼ − A2ⱼ) = A2ⱼ(Gⱼ − ⟨A2, G⟩))
/// ```
pub fn head_grad(head: Head, f: &Forward, y_one_hot: &Array2<f64>) -> Array2<f64> {
    match head {
        Head::Softmax => &f.a2 - y_one_hot,
        Head::DoubleSoftmax => {
            let g = softmax(&f.a2) - y_one_hot;
            let dot = (&f.a2 * &g).sum_axis(Axis(0)); // ⟨A2, G⟩ per column
            &f.a2 * &(g - &dot.insert_axis(Axis(0)))
        }
        Head::SigmoidQuadratic | Head::SigmoidCrossEntropy => panic!("{SOFTMAX_ONLY}: {head}"),
    }
}

/// `backward_prop()`:
/// ```text
/// dZ2 = head_grad                 dW2 = (1/m) dZ2·A1ᵀ    db2 = (1/m) Σᵢ dZ2[:, i]
/// dZ1 = W2ᵀ·dZ2 ∘ ReLU′(Z1)       dW1 = (1/m) dZ1·Xᵀ     db1 = (1/m) Σᵢ dZ1[:, i]
/// ```
pub fn backward_prop(
    net: &Parameters,
    head: Head,
    f: &Forward,
    x: ArrayView2<f64>,
    y: &[u8],
) -> Grads {
    let m = y.len() as f64;
    let dz2 = head_grad(head, f, &one_hot(y));
    let dw2 = dz2.dot(&f.a1.t()) / m;
    let db2 = dz2.sum_axis(Axis(1)).insert_axis(Axis(1)) / m;
    let dz1 = net.w2.t().dot(&dz2) * relu_deriv(&f.z1);
    let dw1 = dz1.dot(&x.t()) / m;
    let db1 = dz1.sum_axis(Axis(1)).insert_axis(Axis(1)) / m;
    Grads { dw1, db1, dw2, db2 }
}

/// `update_params()`: `W := W − α·dW`, `b := b − α·db`.
pub fn update_params(net: &mut Parameters, g: &Grads, alpha: f64) {
    net.w1.scaled_add(-alpha, &g.dw1);
    net.b1.scaled_add(-alpha, &g.db1);
    net.w2.scaled_add(-alpha, &g.dw2);
    net.b2.scaled_add(-alpha, &g.db2);
}

/// `get_predictions(A2)`: the arg-max row of every column (the first, on ties).
pub fn get_predictions(a2: &Array2<f64>) -> Vec<u8> {
    a2.columns()
        .into_iter()
        .map(|c| {
            c.iter().enumerate().fold(0, |best, (k, &v)| if v > c[best] { k } else { best }) as u8
        })
        .collect()
}

/// `get_accuracy(pred, Y)`: the fraction of predictions equal to the labels.
pub fn get_accuracy(pred: &[u8], y: &[u8]) -> f64 {
    pred.iter().zip(y).filter(|(p, t)| p == t).count() as f64 / y.len() as f64
}

/// One iteration of the report's `gradient_descent()` on the batch `(x, y)`: forward, loss,
/// backward, update. Returns the loss and accuracy of the forward pass.
pub fn gradient_descent_step(
    net: &mut Parameters,
    head: Head,
    x: ArrayView2<f64>,
    y: &[u8],
    alpha: f64,
) -> (f64, f64) {
    let f = forward_prop(net, x);
    let l = loss(head, &f, y);
    let acc = get_accuracy(&get_predictions(&f.a2), y);
    let g = backward_prop(net, head, &f, x, y);
    update_params(net, &g, alpha);
    (l, acc)
}
