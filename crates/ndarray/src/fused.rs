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
//! lives in a [`Scratch`]. Threads take contiguous parts of
//! the batch, each with its own accumulators, summed afterwards in thread order, so a given
//! thread count always gives bit-identical results.
//!
//! Between the two products, each row's small products (`+ b1`, ReLU, `A1·W2ᵀ`, the head,
//! `dZ2ᵀ·A1`, `dZ2·W2`) work on hidden units in blocks of 16 lanes padded with zeros, on local
//! copies (so the compiler sees no aliasing), compiled for the kernels' instruction set through
//! [`Kernels::run`]: each is a handful of vector operations. They form every sum in the same
//! order as a plain loop would; only `exp`/`ln` are scalar library calls.

pub use crate::kernels::Pixels;
use crate::kernels::{Kernels, Shape, Task};
use ndarray::{Array1, Array2};
use twinnet_core::{argmax, Head, Params, CLASSES, INPUTS};

/// Rows per chunk: `128 × 784 B ≈ 100 KB` of pixels, which stay in the L2 cache from the
/// forward product to the backward one.
pub const CHUNK: usize = 128;
/// Fewest rows worth a part of their own (see [`PARTS`]).
pub const MIN_ROWS_PER_PART: usize = 1024;
/// The most parts a batch's gradient is accumulated in: a batch of `m` rows is cut into
/// `min(PARTS, m / MIN_ROWS_PER_PART)` (at least 1) contiguous parts of whole chunks, each
/// summed into its own accumulators, and the parts are added in order. The cut depends on `m`
/// only, never on the thread count: threads (at most `PARTS`) only decide which parts run at
/// the same time, so every thread count gives the same bits.
pub const PARTS: usize = 2;

/// How many parts a batch of `m` rows is cut into: `min(PARTS, m / MIN_ROWS_PER_PART)`, at
/// least 1 (see [`PARTS`]).
pub fn parts(m: usize) -> usize {
    PARTS.min(m / MIN_ROWS_PER_PART).max(1)
}

/// The parameters as `f32` matrices in PyTorch's shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// `[h, 784]`.
    pub w1: Array2<f32>,
    /// `[h]`.
    pub b1: Array1<f32>,
    /// `[10, h]`.
    pub w2: Array2<f32>,
    /// `[10]`.
    pub b2: Array1<f32>,
}

impl Weights {
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
}

/// Gradient accumulators and forward-pass statistics of one thread (held in its [`Scratch`]).
#[derive(Debug, Clone)]
pub struct Gradients {
    dw1: Array2<f32>,
    db1: Array1<f32>,
    dw2: Array2<f32>,
    db2: Array1<f32>,
    loss: f64,
    correct: usize,
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

    fn clear(&mut self) {
        self.dw1.fill(0.0);
        self.db1.fill(0.0);
        self.dw2.fill(0.0);
        self.db2.fill(0.0);
        self.loss = 0.0;
        self.correct = 0;
    }

    fn add(&mut self, o: &Gradients) {
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
const P: usize = 16;
/// One padded block.
type Block = [f32; P];

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
    z1: Vec<Block>,
    /// `A1 = ReLU(Z1)`, likewise.
    a1: Vec<Block>,
    /// `dZ1`, likewise.
    dz1: Vec<Block>,
    /// `b1` by blocks.
    b1: Vec<Block>,
    /// Column `j` of `W2` (the ten classes), for each hidden unit `j`.
    w2t: Vec<Block>,
    /// `b2`.
    b2: Block,
    /// `W2[o, block]` for each block of hidden units and class `o`.
    w2: Vec<[Block; CLASSES]>,
    /// `dW2`, `db1`, `db2` accumulated in the layouts of `w2`, `b1`, `b2`.
    dw2: Vec<[Block; CLASSES]>,
    db1: Vec<Block>,
    db2: Block,
    grads: Gradients,
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
    fn shape(&self) -> Shape {
        let h = self.w2t.len();
        Shape { h, d: INPUTS, ld: h.div_ceil(P) * P }
    }

    /// Copies the parameters into the padded layouts and clears the accumulators.
    fn prepare(&mut self, net: &Weights) {
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
    fn finish(&mut self) {
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
fn hidden_and_logits(w: &Scratch, z1: &mut [Block], a1: &mut [Block]) -> [f32; CLASSES] {
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
fn row_grads(w: &mut Scratch, d: &[f32; CLASSES], z1: &[Block], a1: &[Block], dz1: &mut [Block]) {
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

/// Forward and backward pass of one chunk of rows `idx`, accumulating into the thread's scratch.
#[inline(always)]
fn chunk(
    net: &Weights,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    idx: &[u32],
    inv_m: f32,
    w: &mut Scratch,
    k: &Kernels,
) {
    let shape = w.shape();
    let nb = shape.ld / P;
    let w1 = net.w1.as_slice().expect("standard layout");
    let (mut z1, mut a1, mut dz1) =
        (std::mem::take(&mut w.z1), std::mem::take(&mut w.a1), std::mem::take(&mut w.dz1));
    k.forward(w1, shape, x, idx, z1.as_flattened_mut());
    let rows = (z1.chunks_exact_mut(nb).zip(a1.chunks_exact_mut(nb)))
        .zip(dz1.chunks_exact_mut(nb).zip(idx));
    for ((z1r, a1r), (dz1r, &i)) in rows {
        let mut z2 = hidden_and_logits(w, z1r, a1r);
        let label = y[i as usize] as usize;
        let (loss, argmax) = head_row(head, &mut z2, label);
        w.grads.loss += loss;
        w.grads.correct += (argmax == label) as usize;
        z2.iter_mut().for_each(|v| *v *= inv_m); // dZ2 row
        row_grads(w, &z2, z1r, a1r, dz1r);
    }
    let dw1 = w.grads.dw1.as_slice_mut().expect("dw1");
    k.backward(dz1.as_flattened(), shape, x, idx, dw1);
    (w.z1, w.a1, w.dz1) = (z1, a1, dz1);
}

/// Accumulates the gradient of the mean loss over the rows `idx` into `w.grads` (one thread,
/// chunk by chunk), compiled for the kernels' instruction set.
struct GradientPass<'a, 'x> {
    net: &'a Weights,
    head: Head,
    x: &'a Pixels<'x>,
    y: &'a [u8],
    idx: &'a [u32],
    inv_m: f32,
    w: &'a mut Scratch,
    k: &'a Kernels,
}

impl Task for GradientPass<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let GradientPass { net, head, x, y, idx, inv_m, w, k } = self;
        w.prepare(net);
        for part in idx.chunks(CHUNK) {
            chunk(net, head, x, y, part, inv_m, w, k);
        }
        w.finish();
    }
}

/// One gradient-descent update on the rows `idx` of `x [n, 784]` / `y [n]`: the batch cut
/// into parts as [`PARTS`] says, one [`Scratch`] each (`scratch` holds `PARTS`), on up to
/// `threads` threads. Returns the batch's summed loss and correct count.
pub fn step(
    net: &mut Weights,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    idx: &[u32],
    lr: f32,
    scratch: &mut [Scratch; PARTS],
    threads: usize,
    k: &Kernels,
) -> (f64, usize) {
    let m = idx.len();
    let inv_m = 1.0 / m as f32;
    let parts = parts(m);
    // Contiguous parts, multiples of CHUNK so that every part holds whole chunks.
    let per = m.div_ceil(parts).div_ceil(CHUNK) * CHUNK;
    let net_ref = &*net;
    // Part i (rows `i·per..`) into scratch i; a group of parts (contiguous rows, contiguous
    // scratches) per thread. Nothing is collected: no allocation per update.
    let run_parts = move |rows: &[u32], ws: &mut [Scratch]| {
        for (idx, w) in rows.chunks(per).zip(ws) {
            k.run(GradientPass { net: net_ref, head, x, y, idx, inv_m, w, k });
        }
    };
    let used = if m == 0 { 1 } else { m.div_ceil(per) };
    let t = threads.clamp(1, used);
    if m == 0 {
        // An empty batch: one pass over nothing, which clears the accumulators.
        k.run(GradientPass { net: net_ref, head, x, y, idx, inv_m, w: &mut scratch[0], k });
    } else if t == 1 {
        run_parts(idx, &mut scratch[..]);
    } else {
        // This thread takes the first group, spawned threads the others.
        let group = used.div_ceil(t);
        std::thread::scope(|scope| {
            let mut groups = idx.chunks(per * group).zip(scratch.chunks_mut(group));
            let mine = groups.next();
            for (rows, ws) in groups {
                scope.spawn(move || run_parts(rows, ws));
            }
            if let Some((rows, ws)) = mine {
                run_parts(rows, ws);
            }
        });
    }
    // The parts' sums, added in part order.
    let (first, rest) = scratch.split_at_mut(1);
    let w0 = &mut first[0];
    for w in &rest[..used.saturating_sub(1)] {
        w0.grads.add(&w.grads);
    }
    let g = &w0.grads;
    net.w1.scaled_add(-lr, &g.dw1);
    net.b1.scaled_add(-lr, &g.db1);
    net.w2.scaled_add(-lr, &g.dw2);
    net.b2.scaled_add(-lr, &g.db2);
    (g.loss, g.correct)
}

/// Predictions and summed loss of every row of `x`/`y` under the current parameters.
pub fn evaluate(
    net: &Weights,
    head: Head,
    x: &Pixels<'_>,
    y: &[u8],
    w: &mut Scratch,
    k: &Kernels,
) -> (Vec<u8>, f64) {
    k.run(Evaluate { net, head, x, y, w, k })
}

/// [`evaluate`], compiled for the kernels' instruction set.
struct Evaluate<'a, 'x> {
    net: &'a Weights,
    head: Head,
    x: &'a Pixels<'x>,
    y: &'a [u8],
    w: &'a mut Scratch,
    k: &'a Kernels,
}

impl Task for Evaluate<'_, '_> {
    type Output = (Vec<u8>, f64);
    #[inline(always)]
    fn run(self) -> (Vec<u8>, f64) {
        let Evaluate { net, head, x, y, w, k } = self;
        let shape = w.shape();
        let nb = shape.ld / P;
        let all: Vec<u32> = (0..y.len() as u32).collect();
        let mut preds = Vec::with_capacity(y.len());
        let mut loss = 0.0;
        w.prepare(net);
        let (mut z1, mut a1) = (std::mem::take(&mut w.z1), std::mem::take(&mut w.a1));
        for part in all.chunks(CHUNK) {
            let w1 = net.w1.as_slice().expect("standard layout");
            k.forward(w1, shape, x, part, z1.as_flattened_mut());
            let rows = z1.chunks_exact_mut(nb).zip(a1.chunks_exact_mut(nb)).zip(part);
            for ((z1r, a1r), &i) in rows {
                let mut z2 = hidden_and_logits(w, z1r, a1r);
                let (l, argmax) = head_row(head, &mut z2, y[i as usize] as usize);
                preds.push(argmax as u8);
                loss += l;
            }
        }
        (w.z1, w.a1) = (z1, a1);
        (preds, loss)
    }
}
