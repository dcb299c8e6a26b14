//! The two products, written once over [`Lanes`]:
//!
//! ```text
//! forward:   Z[r, j]  = Σₖ W[j, k] · X[idx[r], k]        (Z = X_idx · Wᵀ,   [c, h])
//! backward:  G[j, k] += Σᵣ D[r, j] · X[idx[r], k]        (G += Dᵀ · X_idx,  [h, 784])
//! ```
//! Register blocks of hidden units × rows (forward) or hidden units × pixel vectors
//! (backward) around a stream of the other operand.

use super::lanes::Lanes;
use super::pixels::{span, Pixels, AHEAD};
use super::Shape;
use twinnet_core::system::prefetch;

/// `out[q][g] = Σₖ w[g·d + k] · xs[q][k]` for the `B` weight rows at `w` and `R` input rows:
/// each loaded weight vector feeds `R` multiply-adds and each input vector `B`. The whole
/// vectors before `lo` and from `hi` on are skipped (their products are zero).
///
/// # Safety
/// The CPU has `V`'s instruction set; `w` must point at `B · d` floats and every `xs[q]` at
/// `d` pixels.
#[inline(always)]
unsafe fn forward_block<V: Lanes, const B: usize, const R: usize>(
    w: *const f32,
    xs: [*const u8; R],
    (a, c): (f32, f32),
    d: usize,
    (lo, hi): (usize, usize),
) -> [[f32; B]; R] {
    // SAFETY (every `V::` call): the caller promises V's instruction set.
    let (av, cv) = unsafe { (V::splat(a), V::splat(c)) };
    let full = d / V::L * V::L;
    let end = hi.div_ceil(V::L).saturating_mul(V::L).min(full);
    let mut acc = [[unsafe { V::splat(0.0) }; B]; R];
    let mut k = lo / V::L * V::L;
    while k < end {
        let mut xv = [unsafe { V::splat(0.0) }; R];
        for q in 0..R {
            // SAFETY: k + L <= full <= d for every input row and every weight row.
            xv[q] = unsafe { V::load_px(xs[q].add(k), av, cv) };
        }
        for g in 0..B {
            // SAFETY: as above.
            let wv = unsafe { V::load(w.add(g * d + k)) };
            for q in 0..R {
                acc[q][g] = unsafe { V::madd(wv, xv[q], acc[q][g]) };
            }
        }
        k += V::L;
    }
    let mut out = [[0.0; B]; R];
    for q in 0..R {
        for g in 0..B {
            // SAFETY: full <= k < d stays inside weight row g and input row q.
            let tail: f32 = (full..d)
                .map(|k| unsafe { *w.add(g * d + k) * V::madd1(*xs[q].add(k) as f32, a, c) })
                .sum();
            out[q][g] = unsafe { acc[q][g].reduce() } + tail;
        }
    }
    out
}

/// `gw[g·d + k + t·L] += Σᵣ dz[r·h + g] · x[idx[r]·d + k + t·L]` for the `B` hidden units at
/// `dz`/`gw` and the `K` pixel vectors from column `k`: each broadcast `dz` value feeds `K`
/// multiply-adds and each pixel vector `B`.
///
/// Rows whose span (`x.spans`) misses these vectors are skipped (their products are zero).
///
/// # Safety
/// The CPU has `V`'s instruction set; `dz` must index `idx.len()` rows of stride `ld` with `B`
/// valid columns, `gw` must point at `B` rows of `d` floats, `k + K·L <= d`, and every
/// `idx[r]·d + d` must be inside `x`.
#[inline(always)]
unsafe fn backward_block<V: Lanes, const B: usize, const K: usize>(
    dz: *const f32,
    s: Shape,
    x: &Pixels<'_>,
    idx: &[u32],
    gw: *mut f32,
    k: usize,
) {
    let (ld, d) = (s.ld, s.d);
    // SAFETY (every `V::` call): the caller promises V's instruction set.
    let (av, cv) = unsafe { (V::splat(x.a), V::splat(x.c)) };
    let mut acc = [[unsafe { V::splat(0.0) }; K]; B];
    for (r, &i) in idx.iter().enumerate() {
        let (lo, hi) = span(x, i, d);
        if lo >= k + K * V::L || hi <= k {
            continue;
        }
        // SAFETY: row i holds d pixels and k + K·L <= d.
        let p = unsafe { x.p.as_ptr().add(i as usize * d + k) };
        let mut xv = [unsafe { V::splat(0.0) }; K];
        for t in 0..K {
            // SAFETY: as above.
            xv[t] = unsafe { V::load_px(p.add(t * V::L), av, cv) };
        }
        for g in 0..B {
            // SAFETY: dz row r holds B columns here.
            let s = unsafe { V::splat(*dz.add(r * ld + g)) };
            for t in 0..K {
                acc[g][t] = unsafe { V::madd(s, xv[t], acc[g][t]) };
            }
        }
    }
    for g in 0..B {
        for t in 0..K {
            // SAFETY: g < B and k + t·L + L <= d.
            unsafe {
                let o = gw.add(g * d + k + t * V::L);
                V::load(o).add(acc[g][t]).store(o);
            }
        }
    }
}

/// The widest register block of hidden units [`blocks!`] instantiates.
const MAX_BLOCK: usize = 10;

/// Splits `h` hidden units into register blocks of up to `$g` (at most [`MAX_BLOCK`]: wider
/// would fall to the `_` arm, width 1; `forward` and `backward` assert it at compile time) and
/// runs the body with the block's first unit `$j0` and its width as the constant `$b`.
macro_rules! blocks {
    ($h:expr, $g:expr, |$j0:ident, $b:ident| $body:expr) => {{
        let mut $j0 = 0;
        while $j0 < $h {
            macro_rules! arm {
                ($n:literal) => {{
                    const $b: usize = $n;
                    $body;
                    $j0 += $n;
                }};
            }
            match ($h - $j0).min($g) {
                10 => arm!(10),
                9 => arm!(9),
                8 => arm!(8),
                7 => arm!(7),
                6 => arm!(6),
                5 => arm!(5),
                4 => arm!(4),
                3 => arm!(3),
                2 => arm!(2),
                _ => arm!(1),
            }
        }
    }};
}

/// Forward product: hidden units in blocks of up to `G` (1 to 10), input rows in blocks of
/// `R`.
///
/// # Safety
/// The CPU has `V`'s instruction set, and the shapes passed `Kernels::forward`'s checks: `w`
/// is `h·d`, `z` at least `idx.len()·ld`, `ld ≥ h`, every row of `idx` inside `x`.
#[inline(always)]
pub(super) unsafe fn forward<V: Lanes, const G: usize, const R: usize>(
    w: &[f32],
    s: Shape,
    x: &Pixels<'_>,
    idx: &[u32],
    z: &mut [f32],
) {
    const { assert!(G >= 1 && G <= MAX_BLOCK, "blocks! instantiates widths 1 to 10 only") };
    let Shape { h, d, ld } = s;
    let row = |i: u32| x.p[i as usize * d..][..d].as_ptr();
    let ac = (x.a, x.c);
    // Ask for the rows before they are read, AHEAD rows in advance (here for the first ones,
    // in the loop below for the others): mini-batch rows are scattered over the training set,
    // and even consecutive rows arrived from DRAM slower than the products consumed them.
    for &i in idx.iter().take(AHEAD) {
        prefetch::<false>(&x.p[i as usize * d..][..d]);
    }
    // Hidden-unit blocks outside, rows inside: a block of B weight rows (B · 3 KB) stays in L1
    // while the rows stream past it.
    blocks!(h, G, |j0, B| {
        let wb = w[j0 * d..(j0 + B) * d].as_ptr();
        let mut r = 0;
        while r + R <= idx.len() {
            for &i in idx.iter().skip(r + AHEAD).take(R) {
                prefetch::<false>(&x.p[i as usize * d..][..d]);
            }
            let xs: [*const u8; R] = std::array::from_fn(|q| row(idx[r + q]));
            // The pixels any of the R rows needs.
            let range = (0..R)
                .map(|q| span(x, idx[r + q], d))
                .fold((d, 0), |(lo, hi), (l, h)| (lo.min(l), hi.max(h)));
            // SAFETY: the caller promises V's set; rows j0..j0 + B of w exist (j0 + B <= h);
            // each xs[q] has d pixels.
            let out = unsafe { forward_block::<V, B, R>(wb, xs, ac, d, range) };
            for (q, o) in out.iter().enumerate() {
                z[(r + q) * ld + j0..(r + q) * ld + j0 + B].copy_from_slice(o);
            }
            r += R;
        }
        for r in r..idx.len() {
            let range = span(x, idx[r], d);
            // SAFETY: as above, one input row.
            let [out] = unsafe { forward_block::<V, B, 1>(wb, [row(idx[r])], ac, d, range) };
            z[r * ld + j0..r * ld + j0 + B].copy_from_slice(&out);
        }
    });
}

/// Backward product: hidden units in blocks of up to `G` (1 to 10), pixels `K` vectors at
/// a time (then one at a time, then a scalar tail).
///
/// # Safety
/// The CPU has `V`'s instruction set, and the shapes passed `Kernels::backward`'s checks:
/// `dz` at least `idx.len()·ld`, `g` is `h·d`, `ld ≥ h`, every row of `idx` inside `x`.
#[inline(always)]
pub(super) unsafe fn backward<V: Lanes, const G: usize, const K: usize>(
    dz: &[f32],
    s: Shape,
    x: &Pixels<'_>,
    idx: &[u32],
    g: &mut [f32],
) {
    const { assert!(G >= 1 && G <= MAX_BLOCK, "blocks! instantiates widths 1 to 10 only") };
    let Shape { h, d, ld } = s;
    let (a, c) = (x.a, x.c);
    let full = d / V::L * V::L;
    blocks!(h, G, |j0, B| {
        let (dzb, gw) = (dz[j0..].as_ptr(), g[j0 * d..].as_mut_ptr());
        let mut k = 0;
        // SAFETY (both calls): the caller promises V's set; columns j0..j0 + B of dz and rows
        // j0..j0 + B of g exist, rows of x were checked, and k + K·L (or k + L) <= full <= d.
        while k + K * V::L <= full {
            unsafe { backward_block::<V, B, K>(dzb, s, x, idx, gw, k) };
            k += K * V::L;
        }
        while k < full {
            unsafe { backward_block::<V, B, 1>(dzb, s, x, idx, gw, k) };
            k += V::L;
        }
        for j in j0..j0 + B {
            for col in full..d {
                let s: f32 = idx
                    .iter()
                    .enumerate()
                    // SAFETY: the caller promises V's instruction set.
                    .map(|(r, &i)| {
                        dz[r * ld + j] * unsafe { V::madd1(x.p[i as usize * d + col] as f32, a, c) }
                    })
                    .sum();
                g[j * d + col] += s;
            }
        }
    });
}
