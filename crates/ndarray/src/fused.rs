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
//! training set is streamed from memory once per pass instead of twice; rows are read by index
//! (a mini-batch is never gathered into a copy); the two large products run on the
//! [`crate::kernels`] chosen for the CPU; and nothing is allocated per update: every buffer
//! lives in a [`Worker`]. Threads take contiguous parts of
//! the batch, each with its own accumulators, summed afterwards in thread order, so a given
//! thread count always gives bit-identical results.

use crate::kernels::Kernels;
pub use crate::kernels::Pixels;
use ndarray::{Array1, Array2};
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

/// One thread's reusable buffers: chunk intermediates (row-major `[CHUNK, ·]`) and gradient
/// accumulators.
#[derive(Debug, Clone)]
pub struct Worker {
    z1: Vec<f32>,
    a1: Vec<f32>,
    z2: Vec<f32>,
    dz1: Vec<f32>,
    acc: Acc,
}

impl Worker {
    /// Buffers for hidden width `h`.
    pub fn new(h: usize) -> Self {
        Self {
            z1: vec![0.0; CHUNK * h],
            a1: vec![0.0; CHUNK * h],
            z2: vec![0.0; CHUNK * CLASSES],
            dz1: vec![0.0; CHUNK * h],
            acc: Acc::new(h),
        }
    }
}

/// Loss, arg-max class and output error of one example, in place on its logits row `z`
/// (which becomes `dZ2 · m`). Softmax subtracts the row max, so no `exp` overflows.
/// ```text
/// softmax:         p = softmax(z)   L = lse(z) − z_y           dz = p − e_y
/// double-softmax:  p = softmax(z)   q = softmax(p)   L = lse(p) − p_y
///                  g = q − e_y      dz = p ∘ (g − ⟨p, g⟩)
/// ```
#[inline]
pub fn head_row(head: Head, z: &mut [f32; CLASSES], y: usize) -> (f64, usize) {
    let argmax = z.iter().enumerate().fold(0, |b, (k, &v)| if v > z[b] { k } else { b });
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
    }
}

/// `softmax(z)` of one row, with the max subtracted first.
#[inline]
pub fn softmax_row(z: &[f32; CLASSES]) -> [f32; CLASSES] {
    softmax_parts(z).0
}

/// `(softmax(z), max z, Σ exp(z − max z))`.
#[inline]
fn softmax_parts(z: &[f32; CLASSES]) -> ([f32; CLASSES], f32, f32) {
    let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    let mut e = z.map(|v| (v - max).exp());
    let sum: f32 = e.iter().sum();
    e.iter_mut().for_each(|v| *v /= sum);
    (e, max, sum)
}

/// Forward pass of one chunk of rows `idx`: `Z1`, `A1`, `Z2` into the worker's buffers.
fn forward_chunk(net: &Net, x: &Pixels<'_>, idx: &[u32], w: &mut Worker, k: &Kernels) {
    let (c, h) = (idx.len(), net.hidden());
    let w1 = net.w1.as_slice().expect("standard layout");
    let z1 = &mut w.z1[..c * h];
    k.forward(w1, h, x, INPUTS, idx, z1);
    let (b1, b2, w2) = (
        net.b1.as_slice().expect("b1"),
        net.b2.as_slice().expect("b2"),
        net.w2.as_slice().expect("w2"),
    );
    for (zr, ar) in z1.chunks_exact_mut(h).zip(w.a1.chunks_exact_mut(h)) {
        for j in 0..h {
            zr[j] += b1[j];
            ar[j] = zr[j].max(0.0);
        }
    }
    for (ar, zr) in w.a1[..c * h].chunks_exact(h).zip(w.z2.chunks_exact_mut(CLASSES)) {
        for o in 0..CLASSES {
            zr[o] = b2[o] + w2[o * h..(o + 1) * h].iter().zip(ar).map(|(a, b)| a * b).sum::<f32>();
        }
    }
}

/// Forward and backward pass of one chunk of rows `idx`, accumulating into `w.acc`.
fn chunk(
    net: &Net,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    idx: &[u32],
    inv_m: f32,
    w: &mut Worker,
    k: &Kernels,
) {
    let (c, h) = (idx.len(), net.hidden());
    forward_chunk(net, x, idx, w, k);
    let w2 = net.w2.as_slice().expect("w2");
    let dw2 = w.acc.dw2.as_slice_mut().expect("dw2");
    let (db1, db2) =
        (w.acc.db1.as_slice_mut().expect("db1"), w.acc.db2.as_slice_mut().expect("db2"));
    for r in 0..c {
        let zr: &mut [f32; CLASSES] =
            (&mut w.z2[r * CLASSES..(r + 1) * CLASSES]).try_into().expect("10 logits");
        let label = y[idx[r] as usize] as usize;
        let (loss, argmax) = head_row(head, zr, label);
        w.acc.loss += loss;
        w.acc.correct += (argmax == label) as usize;
        zr.iter_mut().for_each(|v| *v *= inv_m); // dZ2 row
        let (ar, z1r) = (&w.a1[r * h..(r + 1) * h], &w.z1[r * h..(r + 1) * h]);
        let dz1r = &mut w.dz1[r * h..(r + 1) * h];
        dz1r.fill(0.0);
        for o in 0..CLASSES {
            let d = zr[o];
            db2[o] += d;
            for j in 0..h {
                dw2[o * h + j] += d * ar[j]; // dW2 += dZ2ᵀ·A1
                dz1r[j] += d * w2[o * h + j]; // dZ2·W2
            }
        }
        for j in 0..h {
            if z1r[j] <= 0.0 {
                dz1r[j] = 0.0; // ∘ [Z1 > 0]
            }
            db1[j] += dz1r[j];
        }
    }
    k.backward(&w.dz1[..c * h], h, x, INPUTS, idx, w.acc.dw1.as_slice_mut().expect("dw1"));
}

/// Accumulates the gradient of the mean loss over the rows `idx` (one worker, chunk by chunk).
fn accumulate(
    net: &Net,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    idx: &[u32],
    inv_m: f32,
    w: &mut Worker,
    k: &Kernels,
) {
    w.acc.clear();
    for part in idx.chunks(CHUNK) {
        chunk(net, head, x, y, part, inv_m, w, k);
    }
}

/// One gradient-descent update on the rows `idx` of `x [n, 784]` / `y [n]`, using up to
/// `workers.len()` threads. Returns the batch's summed loss and correct count.
pub fn step(
    net: &mut Net,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    idx: &[u32],
    lr: f32,
    workers: &mut [Worker],
    k: &Kernels,
) -> (f64, usize) {
    let m = idx.len();
    let inv_m = 1.0 / m as f32;
    let t = workers.len().min(m / MIN_ROWS_PER_THREAD).max(1);
    let (first, rest) = workers.split_at_mut(1);
    let w0 = &mut first[0];
    if t == 1 {
        accumulate(net, head, x, y, idx, inv_m, w0, k);
    } else {
        // Contiguous parts, multiples of CHUNK so that every thread sees whole chunks.
        let per = m.div_ceil(t).div_ceil(CHUNK) * CHUNK;
        let net_ref = &*net;
        std::thread::scope(|scope| {
            for (part, w) in idx.chunks(per).skip(1).zip(rest.iter_mut()) {
                scope.spawn(move || accumulate(net_ref, head, x, y, part, inv_m, w, k));
            }
            accumulate(net_ref, head, x, y, &idx[..per.min(m)], inv_m, w0, k);
        });
        for w in &rest[..idx.chunks(per).count() - 1] {
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

/// Predictions and summed loss of every row of `x`/`y` under the current parameters.
pub fn evaluate(
    net: &Net,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    w: &mut Worker,
    k: &Kernels,
) -> (Vec<u8>, f64) {
    let all: Vec<u32> = (0..y.len() as u32).collect();
    let mut preds = Vec::with_capacity(y.len());
    let mut loss = 0.0;
    for part in all.chunks(CHUNK) {
        forward_chunk(net, x, part, w, k);
        for (r, &i) in part.iter().enumerate() {
            let mut z: [f32; CLASSES] =
                w.z2[r * CLASSES..(r + 1) * CLASSES].try_into().expect("10 logits");
            let (l, argmax) = head_row(head, &mut z, y[i as usize] as usize);
            preds.push(argmax as u8);
            loss += l;
        }
    }
    (preds, loss)
}
