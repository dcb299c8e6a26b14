//! The per-row work between the two large products, on blocks of 16 hidden units: the
//! buffers of one thread ([`Scratch`], with its [`Gradients`]), the hidden layer and logits of
//! a row, the head (loss, arg-max and output error), and a row's share of the gradients.

use super::{Weights, CHUNK};
use crate::kernels::Shape;
use ndarray::{Array1, Array2};
use twinnet_core::{argmax, Head, CLASSES, INPUTS};

/// Gradient accumulators and forward-pass statistics of one thread (held in its [`Scratch`]).
#[derive(Debug, Clone)]
pub struct Gradients {
    pub(super) dw1: Array2<f32>,
    pub(super) db1: Array1<f32>,
    pub(super) dw2: Array2<f32>,
    pub(super) db2: Array1<f32>,
    pub(super) loss: f64,
    pub(super) correct: usize,
}

impl Gradients {
    fn new(h: usize) -> Self {
        Self {
            dw1: Array2::zeros((h, INPUTS)),
            db1: Array1::zeros(h),
            dw2: Array2::zeros((CLASSES, h)),
            db2: Array1::zeros(CLASSES),
            loss: 0.0,
            correct: 0,
        }
    }

    pub(super) fn clear(&mut self) {
        self.dw1.fill(0.0);
        self.db1.fill(0.0);
        self.dw2.fill(0.0);
        self.db2.fill(0.0);
        self.loss = 0.0;
        self.correct = 0;
    }

    pub(super) fn add(&mut self, o: &Gradients) {
        self.dw1 += &o.dw1;
        self.db1 += &o.db1;
        self.dw2 += &o.dw2;
        self.db2 += &o.db2;
        self.loss += o.loss;
        self.correct += o.correct;
    }
}

/// Lanes of the small per-row products: a block of hidden units, or the ten classes, padded
/// with zeros to a fixed width so that every such product is a few whole vector operations.
pub(super) const P: usize = 16;
/// One padded block.
pub(super) type Block = [f32; P];

/// The block of hidden units `j0..j0 + n` of row `r` (stride `h`): `(j0, n)` for each block.
fn blocks(h: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..h).step_by(P).map(move |j0| (j0, (h - j0).min(P)))
}

/// `v[..n]` padded with zeros.
#[inline(always)]
fn padded(v: &[f32]) -> Block {
    let mut r = [0.0; P];
    r[..v.len()].copy_from_slice(v);
    r
}

/// One thread's reusable buffers: chunk intermediates (row-major `[CHUNK, h]`), the second
/// layer's parameters and gradient accumulators in padded blocks of 16 hidden units, and
/// the gradient accumulators the threads' results are summed in.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// `Z1 = X·W1ᵀ + b1`, `[CHUNK, h]` in blocks of `P` units (rows padded to whole blocks).
    pub(super) z1: Vec<Block>,
    /// `A1 = ReLU(Z1)`, likewise.
    pub(super) a1: Vec<Block>,
    /// `dZ1`, likewise.
    pub(super) dz1: Vec<Block>,
    /// `b1` by blocks.
    b1: Vec<Block>,
    /// Column `j` of `W2` (the ten classes), for each hidden unit `j`.
    w2t: Vec<Block>,
    /// `b2`.
    b2: Block,
    /// `W2[o, block]` for each block of hidden units and class `o`.
    w2: Vec<[Block; CLASSES]>,
    /// `dW2`, `db1`, `db2` accumulated in the layouts of `w2`, `b1`, `b2`.
    pub(super) dw2: Vec<[Block; CLASSES]>,
    pub(super) db1: Vec<Block>,
    pub(super) db2: Block,
    pub(super) grads: Gradients,
}

impl Scratch {
    /// Buffers for hidden width `h`.
    pub fn new(h: usize) -> Self {
        let nb = h.div_ceil(P);
        Self {
            z1: vec![[0.0; P]; CHUNK * nb],
            a1: vec![[0.0; P]; CHUNK * nb],
            dz1: vec![[0.0; P]; CHUNK * nb],
            b1: vec![[0.0; P]; nb],
            w2t: vec![[0.0; P]; h],
            b2: [0.0; P],
            w2: vec![[[0.0; P]; CLASSES]; nb],
            dw2: vec![[[0.0; P]; CLASSES]; nb],
            db1: vec![[0.0; P]; nb],
            db2: [0.0; P],
            grads: Gradients::new(h),
        }
    }

    /// The shape of the first layer's products, with rows of `z1`/`dz1` padded to blocks.
    pub(super) fn shape(&self) -> Shape {
        let h = self.w2t.len();
        Shape { h, d: INPUTS, ld: h.div_ceil(P) * P }
    }

    /// Copies the parameters into the padded layouts and clears the accumulators.
    pub(super) fn prepare(&mut self, net: &Weights) {
        let (b1, w2, b2) = (
            net.b1.as_slice().expect("b1"),
            net.w2.as_slice().expect("w2"),
            net.b2.as_slice().expect("b2"),
        );
        let h = b1.len();
        for (b, (j0, n)) in blocks(h).enumerate() {
            self.b1[b] = padded(&b1[j0..j0 + n]);
            for o in 0..CLASSES {
                self.w2[b][o] = padded(&w2[o * h + j0..o * h + j0 + n]);
            }
        }
        for (j, col) in self.w2t.iter_mut().enumerate() {
            *col = padded(&std::array::from_fn::<f32, CLASSES, _>(|o| w2[o * h + j]));
        }
        self.b2 = padded(b2);
        self.dw2.iter_mut().for_each(|g| *g = [[0.0; P]; CLASSES]);
        self.db1.iter_mut().for_each(|g| *g = [0.0; P]);
        self.db2 = [0.0; P];
        self.grads.clear();
    }

    /// Moves the second layer's accumulators into `acc` (unpadded).
    pub(super) fn finish(&mut self) {
        let h = self.w2t.len();
        let (dw2, db1) = (
            self.grads.dw2.as_slice_mut().expect("dw2"),
            self.grads.db1.as_slice_mut().expect("db1"),
        );
        for (b, (j0, n)) in blocks(h).enumerate() {
            db1[j0..j0 + n].copy_from_slice(&self.db1[b][..n]);
            for o in 0..CLASSES {
                dw2[o * h + j0..o * h + j0 + n].copy_from_slice(&self.dw2[b][o][..n]);
            }
        }
        self.grads.db2.as_slice_mut().expect("db2").copy_from_slice(&self.db2[..CLASSES]);
    }
}

/// Loss, arg-max class and output error of one example, in place on its logits row `z`
/// (which becomes `dZ2 · m`). Softmax subtracts the row max, so no `exp` overflows.
/// ```text
/// softmax:         p = softmax(z)   L = lse(z) − z_y           dz = p − e_y
/// double-softmax:  p = softmax(z)   q = softmax(p)   L = lse(p) − p_y
///                  g = q − e_y      dz = p ∘ (g − ⟨p, g⟩)
/// ```
#[inline(always)]
pub fn head_row(head: Head, z: &mut [f32; CLASSES], y: usize) -> (f64, usize) {
    let argmax = argmax(z);
    let (p, max, sum) = softmax_parts(z);
    match head {
        Head::Softmax => {
            // lse(z) − z_y = −log p_y, from the shifted logits' sum for stability, and in f64
            // so that the loss of extreme (finite) logits stays finite.
            let loss = sum.ln() as f64 + max as f64 - z[y] as f64;
            *z = p;
            z[y] -= 1.0;
            (loss, argmax)
        }
        Head::DoubleSoftmax => {
            let q = softmax_row(&p);
            let sum: f32 = p.iter().map(|&v| v.exp()).sum(); // p ∈ [0, 1]: no overflow
            let loss = (sum.ln() - p[y]) as f64;
            let mut g = q;
            g[y] -= 1.0;
            let dot: f32 = p.iter().zip(&g).map(|(a, b)| a * b).sum();
            for k in 0..CLASSES {
                z[k] = p[k] * (g[k] - dot);
            }
            (loss, argmax)
        }
        Head::SigmoidQuadratic | Head::SigmoidCrossEntropy => {
            unreachable!("a model with head {head} is refused by Model::new")
        }
    }
}

/// `softmax(z)` of one row, with the max subtracted first.
#[inline(always)]
pub fn softmax_row(z: &[f32; CLASSES]) -> [f32; CLASSES] {
    softmax_parts(z).0
}

/// `(softmax(z), max z, Σ exp(z − max z))`.
#[inline(always)]
fn softmax_parts(z: &[f32; CLASSES]) -> ([f32; CLASSES], f32, f32) {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut e = z.map(|v| (v - max).exp());
    let sum: f32 = e.iter().sum();
    e.iter_mut().for_each(|v| *v /= sum);
    (e, max, sum)
}

/// The hidden layer and the logits of one row, from its `Z1 = X·W1ᵀ` row `z1` (blocks of
/// [`P`] units): `z1 += b1`, `a1 = ReLU(z1)` in place, and
/// ```text
/// z2[o] = b2[o] + Σⱼ W2[o, j]·a1[j]
/// ```
/// with each sum formed in `j` order (from −0, as `Iterator::sum` does), all classes at once.
#[inline(always)]
pub(super) fn hidden_and_logits(w: &Scratch, z1: &mut [Block], a1: &mut [Block]) -> [f32; CLASSES] {
    // Every operand is copied into a local array first: the compiler then knows that no
    // store aliases a load, and each loop over `P` lanes becomes one or a few vector ops.
    let mut s: Block = [-0.0; P];
    for (b, (j0, n)) in blocks(w.w2t.len()).enumerate() {
        let (mut z, b1) = (z1[b], w.b1[b]);
        let mut a = [0.0; P];
        for l in 0..P {
            z[l] += b1[l];
            a[l] = z[l].max(0.0);
        }
        (z1[b], a1[b]) = (z, a);
        for (col, &a) in w.w2t[j0..j0 + n].iter().zip(&a[..n]) {
            let col = *col;
            for o in 0..P {
                s[o] += col[o] * a;
            }
        }
    }
    let b2 = w.b2;
    std::array::from_fn(|o| b2[o] + s[o])
}

/// One row's share of the gradients of the second layer and the bias `b1`, and its `dZ1`
/// row, given its output error `d` (the `dZ2` row):
/// ```text
/// dW2 += d ⊗ a1    db2 += d    dz1 = (d·W2) ∘ [z1 > 0]    db1 += dz1
/// ```
/// The padding lanes compute zeros that no one reads.
#[inline(always)]
pub(super) fn row_grads(
    w: &mut Scratch,
    d: &[f32; CLASSES],
    z1: &[Block],
    a1: &[Block],
    dz1: &mut [Block],
) {
    // Local copies, as in `hidden_and_logits`.
    let d = *d;
    let mut db2 = w.db2;
    for o in 0..CLASSES {
        db2[o] += d[o];
    }
    w.db2 = db2;
    for (b, ((z, a), dz1)) in z1.iter().zip(a1).zip(dz1).enumerate() {
        let (z, a, w2, mut dw2, mut db1) = (*z, *a, w.w2[b], w.dw2[b], w.db1[b]);
        let mut dz: Block = [0.0; P];
        for o in 0..CLASSES {
            let d = d[o];
            for l in 0..P {
                dw2[o][l] += d * a[l]; // dW2 += dZ2ᵀ·A1
                dz[l] += d * w2[o][l]; // dZ2·W2
            }
        }
        for l in 0..P {
            dz[l] = if z[l] <= 0.0 { 0.0 } else { dz[l] }; // ∘ [Z1 > 0]
            db1[l] += dz[l];
        }
        (w.dw2[b], w.db1[b], *dz1) = (dw2, db1, dz);
    }
}
