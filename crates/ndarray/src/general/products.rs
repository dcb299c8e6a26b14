//! The general path's products, each sum in the pinned order of the module above: the dot
//! product ([`dot`]), `y += s·x` ([`axpy`]), and the three products of a step blocked
//! [`BLOCK`] vectors at a time ([`affine`], [`accumulate`], [`back_propagate`]), compiled for
//! AVX2 where the CPU has it, the same bits either way.

use std::ops::Range;

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

/// `G[j] += Σᵢ D[i, j]·A[i]` for every output `j` in `outputs`, adding example after example
/// (as one [`axpy`] per example would): `d` is `[m, n_out]`, `g` `[outputs.len(), n_in]` (the
/// gradient vectors of those outputs, so that two threads can take two ranges of outputs).
pub fn accumulate(d: &[f32], rows: &[&[f32]], outputs: Range<usize>, g: &mut [f32]) {
    dispatch!(accumulate_avx2, accumulate_portable(d, rows, outputs, g))
}

avx2_build!(
    accumulate_avx2,
    accumulate_portable(d: &[f32], rows: &[&[f32]], outputs: Range<usize>, g: &mut [f32])
);

/// Examples [`accumulate`] adds into every gradient vector before going on to the next ones:
/// their vectors (`EXAMPLES × n_in` values) stay in the L2 cache while every output's sum
/// takes them, instead of the whole batch being read from memory once per output (which made
/// a full-batch weight gradient six times slower).
const EXAMPLES: usize = 128;

#[inline(always)]
fn accumulate_portable(d: &[f32], rows: &[&[f32]], outputs: Range<usize>, g: &mut [f32]) {
    let m = rows.len();
    let Some(n_out) = d.len().checked_div(m) else { return };
    if outputs.is_empty() {
        return;
    }
    let n_in = g.len() / outputs.len();
    for (part, rows) in rows.chunks(EXAMPLES).enumerate() {
        let d = &d[part * EXAMPLES * n_out..];
        for (j, gj) in outputs.clone().zip(g.chunks_exact_mut(n_in)) {
            for (block, rs) in rows.chunks(BLOCK).enumerate() {
                let mut s = [0f32; BLOCK];
                for (r, s) in s.iter_mut().take(rs.len()).enumerate() {
                    *s = d[(block * BLOCK + r) * n_out + j];
                }
                combine(gj, &s[..rs.len()], rs);
            }
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
