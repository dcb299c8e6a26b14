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

mod row;

pub use crate::kernels::Pixels;
pub use row::{head_row, softmax_row, Gradients, Scratch};

use crate::kernels::{Kernels, Task};
use crate::optim::State;
use ndarray::{Array1, Array2};
use row::{hidden_and_logits, row_grads, P};
use twinnet_core::{Head, Optimizer, Params, CLASSES, INPUTS};

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
        let h = p.hidden();
        let (l1, l2) = (&p.layers[0], &p.layers[1]);
        Self {
            w1: Array2::from_shape_vec((h, INPUTS), l1.weight.clone()).expect("w1 shape"),
            b1: Array1::from(l1.bias.clone()),
            w2: Array2::from_shape_vec((CLASSES, h), l2.weight.clone()).expect("w2 shape"),
            b2: Array1::from(l2.bias.clone()),
        }
    }

    /// Back to [`Params`].
    pub fn to_params(&self) -> Params {
        let v = |a: &[f32]| a.to_vec();
        Params::report(
            v(self.w1.as_slice().expect("standard layout")),
            v(self.b1.as_slice().expect("standard layout")),
            v(self.w2.as_slice().expect("standard layout")),
            v(self.b2.as_slice().expect("standard layout")),
        )
    }
}

/// The examples an update (or part of one) computes on: rows `idx` of the images `x` with
/// labels `y`, under the model's `head`.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a, 'x> {
    /// The output head.
    pub head: Head,
    /// Every image, `[n, 784]`.
    pub x: &'a Pixels<'x>,
    /// Every label, `[n]`.
    pub y: &'a [u8],
    /// The rows of this update, in order.
    pub idx: &'a [u32],
}

/// Forward and backward pass of one chunk of rows, accumulating into the thread's scratch.
#[inline(always)]
fn chunk(net: &Weights, rows: Rows<'_, '_>, inv_m: f32, w: &mut Scratch, k: &Kernels) {
    let Rows { head, x, y, idx } = rows;
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
    rows: Rows<'a, 'x>,
    inv_m: f32,
    w: &'a mut Scratch,
    k: &'a Kernels,
}

impl Task for GradientPass<'_, '_> {
    type Output = ();
    #[inline(always)]
    fn run(self) {
        let GradientPass { net, rows, inv_m, w, k } = self;
        w.prepare(net);
        for part in rows.idx.chunks(CHUNK) {
            chunk(net, Rows { idx: part, ..rows }, inv_m, w, k);
        }
        w.finish();
    }
}

/// One update on `rows`: the batch cut into parts as [`PARTS`] says, one [`Scratch`] each
/// (`scratch` holds `PARTS`), on up to `threads` threads; then plain gradient descent, or
/// `optimizer`'s rule with its state in `state` (fc1.weight, fc1.bias, fc2.weight, fc2.bias).
/// Returns the batch's summed loss and correct count.
pub fn step(
    net: &mut Weights,
    rows: Rows<'_, '_>,
    lr: f32,
    (optimizer, state): (&Optimizer, &mut [State; 4]),
    scratch: &mut [Scratch; PARTS],
    threads: usize,
    k: &Kernels,
) -> (f64, usize) {
    let idx = rows.idx;
    let m = idx.len();
    let inv_m = 1.0 / m as f32;
    let parts = parts(m);
    // Contiguous parts, multiples of CHUNK so that every part holds whole chunks.
    let per = m.div_ceil(parts).div_ceil(CHUNK) * CHUNK;
    let net_ref = &*net;
    // Part i (rows `i·per..`) into scratch i; a group of parts (contiguous rows, contiguous
    // scratches) per thread. Nothing is collected: no allocation per update.
    let run_parts = move |part_rows: &[u32], ws: &mut [Scratch]| {
        for (idx, w) in part_rows.chunks(per).zip(ws) {
            k.run(GradientPass { net: net_ref, rows: Rows { idx, ..rows }, inv_m, w, k });
        }
    };
    let used = if m == 0 { 1 } else { m.div_ceil(per) };
    let t = threads.clamp(1, used);
    if m == 0 {
        // An empty batch: one pass over nothing, which clears the accumulators.
        k.run(GradientPass { net: net_ref, rows, inv_m, w: &mut scratch[0], k });
    } else if t == 1 {
        run_parts(idx, &mut scratch[..]);
    } else {
        // This thread takes the first group, spawned threads the others.
        let group = used.div_ceil(t);
        std::thread::scope(|scope| {
            let mut groups = idx.chunks(per * group).zip(scratch.chunks_mut(group));
            let mine = groups.next();
            for (part_rows, ws) in groups {
                scope.spawn(move || run_parts(part_rows, ws));
            }
            if let Some((part_rows, ws)) = mine {
                run_parts(part_rows, ws);
            }
        });
    }
    // The parts' sums, added in part order.
    let (first, rest) = scratch.split_at_mut(1);
    let w0 = &mut first[0];
    for w in &rest[..used.saturating_sub(1)] {
        w0.grads.add(&w.grads);
    }
    let g = &mut w0.grads;
    if optimizer.is_plain_sgd() {
        net.w1.scaled_add(-lr, &g.dw1);
        net.b1.scaled_add(-lr, &g.db1);
        net.w2.scaled_add(-lr, &g.dw2);
        net.b2.scaled_add(-lr, &g.db2);
    } else {
        // The mean loss's gradients, then the optimizer's rule (they are scratch from here).
        let slice = "standard layout";
        let tensors = [
            (net.w1.as_slice_mut().expect(slice), g.dw1.as_slice_mut().expect(slice), true),
            (net.b1.as_slice_mut().expect(slice), g.db1.as_slice_mut().expect(slice), false),
            (net.w2.as_slice_mut().expect(slice), g.dw2.as_slice_mut().expect(slice), true),
            (net.b2.as_slice_mut().expect(slice), g.db2.as_slice_mut().expect(slice), false),
        ];
        for ((p, g, is_weight), s) in tensors.into_iter().zip(state.iter_mut()) {
            s.update(optimizer, optimizer.decay_of(is_weight), p, g, lr);
        }
    }
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
