//! The fast path: the same forward and backward pass as [`crate::reference`], in `f32`, with
//! examples as **rows** (PyTorch's layout, `X [m, 784]`), fused per chunk of rows.
//!
//! For each chunk `Xc [c, 784]` of the batch, with `1/m` the batch's mean factor:
//! ```text
//! Z1 = Xc·W1ᵀ + b1   A1 = ReLU(Z1)   Z2 = A1·W2ᵀ + b2   [c, h], [c, h], [c, 10]
//! dZ2 = head_grad(Z2) / m                                 (per row, see `head_row`)
//! dW2 += dZ2ᵀ·A1     db2 += Σ rows dZ2
//! dZ1 = (dZ2·W2) ∘ [Z1 > 0]
//! dW1 += dZ1ᵀ·Xc     db1 += Σ rows dZ1
//! ```
//! The chunk stays in cache between its forward product and its backward product, so the
//! training set is streamed from memory once per pass instead of twice, and nothing is
//! allocated per update: every buffer lives in a [`Worker`]. Threads take contiguous parts of
//! the batch, each with its own accumulators, summed afterwards in thread order, so a given
//! thread count always gives bit-identical results.

use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array1, Array2, ArrayView2, Axis, Zip};
use twinnet_core::{Head, Params, CLASSES, INPUTS};

/// Rows per chunk: `128 × 784 × 4 B ≈ 400 KB`, which with its packed copy fits a 1 MB L2.
pub const CHUNK: usize = 128;
/// Fewest rows per thread worth a thread of its own.
pub const MIN_ROWS_PER_THREAD: usize = 1024;

/// The parameters as `f32` matrices in PyTorch's shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    /// `[h, 784]`.
    pub w1: Array2<f32>,
    /// `[h]`.
    pub b1: Array1<f32>,
    /// `[10, h]`.
    pub w2: Array2<f32>,
    /// `[10]`.
    pub b2: Array1<f32>,
}

impl Net {
    /// From parameters in PyTorch's layout (no copy of the layout, only of the values).
    pub fn from_params(p: &Params) -> Self {
        let h = p.hidden;
        Self {
            w1: Array2::from_shape_vec((h, INPUTS), p.w1.clone()).expect("w1 shape"),
            b1: Array1::from(p.b1.clone()),
            w2: Array2::from_shape_vec((CLASSES, h), p.w2.clone()).expect("w2 shape"),
            b2: Array1::from(p.b2.clone()),
        }
    }

    /// Back to [`Params`].
    pub fn to_params(&self) -> Params {
        let v = |a: &[f32]| a.to_vec();
        Params {
            hidden: self.b1.len(),
            w1: v(self.w1.as_slice().expect("standard layout")),
            b1: v(self.b1.as_slice().expect("standard layout")),
            w2: v(self.w2.as_slice().expect("standard layout")),
            b2: v(self.b2.as_slice().expect("standard layout")),
        }
    }

    fn hidden(&self) -> usize {
        self.b1.len()
    }
}

/// Gradient accumulators and forward-pass statistics of one worker.
#[derive(Debug, Clone)]
pub struct Acc {
    dw1: Array2<f32>,
    db1: Array1<f32>,
    dw2: Array2<f32>,
    db2: Array1<f32>,
    loss: f64,
    correct: usize,
}

impl Acc {
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

    fn clear(&mut self) {
        self.dw1.fill(0.0);
        self.db1.fill(0.0);
        self.dw2.fill(0.0);
        self.db2.fill(0.0);
        self.loss = 0.0;
        self.correct = 0;
    }

    fn add(&mut self, o: &Acc) {
        self.dw1 += &o.dw1;
        self.db1 += &o.db1;
        self.dw2 += &o.dw2;
        self.db2 += &o.db2;
        self.loss += o.loss;
        self.correct += o.correct;
    }
}

/// One thread's reusable buffers: chunk intermediates and gradient accumulators.
#[derive(Debug, Clone)]
pub struct Worker {
    z1: Array2<f32>,
    a1: Array2<f32>,
    z2: Array2<f32>,
    dz1: Array2<f32>,
    acc: Acc,
}

impl Worker {
    /// Buffers for hidden width `h`.
    pub fn new(h: usize) -> Self {
        Self {
            z1: Array2::zeros((CHUNK, h)),
            a1: Array2::zeros((CHUNK, h)),
            z2: Array2::zeros((CHUNK, CLASSES)),
            dz1: Array2::zeros((CHUNK, h)),
            acc: Acc::new(h),
        }
    }
}

/// Loss, correctness and output error of one example, in place on its logits row `z`
/// (which becomes `dZ2 · m`). Softmax subtracts the row max, so no `exp` overflows.
/// ```text
/// softmax:         p = softmax(z)   L = lse(z) − z_y           dz = p − e_y
/// double-softmax:  p = softmax(z)   q = softmax(p)   L = lse(p) − p_y
///                  g = q − e_y      dz = p ∘ (g − ⟨p, g⟩)
/// ```
#[inline]
pub fn head_row(head: Head, z: &mut [f32; CLASSES], y: usize) -> (f64, bool) {
    let argmax = z.iter().enumerate().fold(0, |b, (k, &v)| if v > z[b] { k } else { b });
    let p = softmax_row(z);
    match head {
        Head::Softmax => {
            // lse(z) − z_y = −log p_y, computed from the shifted logits for stability.
            // In f64 so that the loss of extreme (finite) logits stays finite.
            let max = z[argmax];
            let sum: f32 = z.iter().map(|&v| (v - max).exp()).sum();
            let loss = sum.ln() as f64 + max as f64 - z[y] as f64;
            *z = p;
            z[y] -= 1.0;
            (loss, argmax == y)
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
            (loss, argmax == y)
        }
    }
}

/// `softmax(z)` of one row, with the max subtracted first.
#[inline]
pub fn softmax_row(z: &[f32; CLASSES]) -> [f32; CLASSES] {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut e = z.map(|v| (v - max).exp());
    let sum: f32 = e.iter().sum();
    e.iter_mut().for_each(|v| *v /= sum);
    e
}

/// Forward pass of one chunk: `Z1`, `A1`, `Z2` into the worker's buffers (first `c` rows).
fn forward_chunk(net: &Net, xc: ArrayView2<f32>, w: &mut Worker) {
    let c = xc.nrows();
    let mut z1 = w.z1.slice_mut(s![..c, ..]);
    general_mat_mul(1.0, &xc, &net.w1.t(), 0.0, &mut z1);
    z1 += &net.b1;
    let mut a1 = w.a1.slice_mut(s![..c, ..]);
    Zip::from(&mut a1).and(&z1).for_each(|a, &z| *a = z.max(0.0));
    let mut z2 = w.z2.slice_mut(s![..c, ..]);
    general_mat_mul(1.0, &a1, &net.w2.t(), 0.0, &mut z2);
    z2 += &net.b2;
}

/// Forward and backward pass of one chunk, accumulating into `w.acc`.
fn chunk(net: &Net, head: Head, xc: ArrayView2<f32>, yc: &[u8], inv_m: f32, w: &mut Worker) {
    let c = xc.nrows();
    forward_chunk(net, xc, w);
    for (mut row, &y) in w.z2.slice_mut(s![..c, ..]).rows_mut().into_iter().zip(yc) {
        let mut z: [f32; CLASSES] = std::array::from_fn(|k| row[k]);
        let (loss, ok) = head_row(head, &mut z, y as usize);
        w.acc.loss += loss;
        w.acc.correct += ok as usize;
        for k in 0..CLASSES {
            row[k] = z[k] * inv_m;
        }
    }
    let dz2 = w.z2.slice(s![..c, ..]);
    let a1 = w.a1.slice(s![..c, ..]);
    general_mat_mul(1.0, &dz2.t(), &a1, 1.0, &mut w.acc.dw2);
    w.acc.db2 += &dz2.sum_axis(Axis(0));
    let mut dz1 = w.dz1.slice_mut(s![..c, ..]);
    general_mat_mul(1.0, &dz2, &net.w2, 0.0, &mut dz1);
    Zip::from(&mut dz1).and(w.z1.slice(s![..c, ..])).for_each(|d, &z| {
        if z <= 0.0 {
            *d = 0.0
        }
    });
    general_mat_mul(1.0, &dz1.t(), &xc, 1.0, &mut w.acc.dw1);
    w.acc.db1 += &dz1.sum_axis(Axis(0));
}

/// Accumulates the gradient of the mean loss over `x`/`y` (one worker, chunk after chunk).
fn accumulate(net: &Net, head: Head, x: ArrayView2<f32>, y: &[u8], inv_m: f32, w: &mut Worker) {
    w.acc.clear();
    for (i, xc) in x.axis_chunks_iter(Axis(0), CHUNK).enumerate() {
        chunk(net, head, xc, &y[i * CHUNK..i * CHUNK + xc.nrows()], inv_m, w);
    }
}

/// One gradient-descent update on the batch `x [m, 784]`, `y [m]` using up to
/// `workers.len()` threads. Returns the batch's summed loss and correct count.
pub fn step(
    net: &mut Net,
    head: Head,
    x: ArrayView2<f32>,
    y: &[u8],
    lr: f32,
    workers: &mut [Worker],
) -> (f64, usize) {
    let m = y.len();
    let inv_m = 1.0 / m as f32;
    let t = workers.len().min(m / MIN_ROWS_PER_THREAD).max(1);
    let (first, rest) = workers.split_at_mut(1);
    let w0 = &mut first[0];
    if t == 1 {
        accumulate(net, head, x, y, inv_m, w0);
    } else {
        // Contiguous parts, multiples of CHUNK so that every thread sees whole chunks.
        let per = m.div_ceil(t).div_ceil(CHUNK) * CHUNK;
        let net_ref = &*net;
        std::thread::scope(|scope| {
            for (i, w) in rest[..t - 1].iter_mut().enumerate() {
                let lo = ((i + 1) * per).min(m);
                let hi = ((i + 2) * per).min(m);
                let (xp, yp) = (x.slice(s![lo..hi, ..]), &y[lo..hi]);
                scope.spawn(move || accumulate(net_ref, head, xp, yp, inv_m, w));
            }
            let hi = per.min(m);
            accumulate(net_ref, head, x.slice(s![..hi, ..]), &y[..hi], inv_m, w0);
        });
        for w in &rest[..t - 1] {
            w0.acc.add(&w.acc);
        }
    }
    let g = &w0.acc;
    net.w1.scaled_add(-lr, &g.dw1);
    net.b1.scaled_add(-lr, &g.db1);
    net.w2.scaled_add(-lr, &g.dw2);
    net.b2.scaled_add(-lr, &g.db2);
    (g.loss, g.correct)
}

/// Predictions and summed loss of `x`/`y` under the current parameters.
pub fn evaluate(
    net: &Net,
    head: Head,
    x: ArrayView2<f32>,
    y: &[u8],
    w: &mut Worker,
) -> (Vec<u8>, f64) {
    let mut preds = Vec::with_capacity(y.len());
    let mut loss = 0.0;
    for (i, xc) in x.axis_chunks_iter(Axis(0), CHUNK).enumerate() {
        forward_chunk(net, xc, w);
        for (row, &t) in w.z2.slice(s![..xc.nrows(), ..]).rows().into_iter().zip(&y[i * CHUNK..]) {
            let mut z: [f32; CLASSES] = std::array::from_fn(|k| row[k]);
            let argmax = z.iter().enumerate().fold(0, |b, (k, &v)| if v > z[b] { k } else { b });
            preds.push(argmax as u8);
            loss += head_row(head, &mut z, t as usize).0;
        }
    }
    debug_assert_eq!(net.hidden(), w.z1.ncols());
    (preds, loss)
}
