//! The two products that cost 99% of a training step, written for the shapes of this network
//! (a few hidden units, 784 inputs) and for rows picked by index, so a mini-batch is never
//! copied out of the training set. The rows are the raw `u8` pixels `P`, normalized to
//! `X = a·P + c` in registers as they are loaded: a pass over MNIST reads 47 MB instead of
//! 188 MB of `f32` features, and the products were memory bound on those:
//!
//! ```text
//! forward:   Z[r, j]  = Σₖ W[j, k] · X[idx[r], k]        (Z = X_idx · Wᵀ,   [c, h])
//! backward:  G[j, k] += Σᵣ D[r, j] · X[idx[r], k]        (G += Dᵀ · X_idx,  [h, 784])
//! ```
//! Both keep a block of `G` hidden units × `L` inputs in registers (`acc[G][L]`) and stream the
//! other operand past it, so each loaded value feeds `G` fused multiply-adds. The same generic
//! code is compiled three times — AVX-512, AVX2+FMA and baseline x86-64/other — and the best
//! one the CPU supports is picked at run time (no `target-cpu=native`). The summation order
//! depends only on the kernel chosen, so results are bit-identical run to run on one machine.

/// Raw `u8` pixels `[n, d]` and their normalization `x = a·p + c` (see
/// [`Normalize::affine`](twinnet_data::Normalize::affine)), applied in registers as each pixel
/// is loaded: one fused multiply-add per loaded vector, which then feeds five or ten more.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    /// Row-major pixels.
    pub p: &'a [u8],
    /// Scale `a`.
    pub a: f32,
    /// Offset `c`.
    pub c: f32,
}

/// Hidden units per register block.
const G: usize = 5;

/// A product kernel: `(a, h, x, d, idx, out)`.
type Kernel = fn(&[f32], usize, &Pixels<'_>, usize, &[u32], &mut [f32]);

/// One kernel set, compiled for one instruction set.
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    /// Name of the instruction set (`avx512`, `avx2`, `portable`).
    pub name: &'static str,
    forward: Kernel,
    backward: Kernel,
}

impl Kernels {
    /// The fastest kernels this CPU runs, chosen once.
    pub fn best() -> Kernels {
        static BEST: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512f") {
                    return Kernels {
                        name: "avx512",
                        forward: x86::forward_avx512,
                        backward: x86::backward_avx512,
                    };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    return Kernels {
                        name: "avx2",
                        forward: x86::forward_avx2,
                        backward: x86::backward_avx2,
                    };
                }
            }
            Kernels::portable()
        })
    }

    /// The baseline kernels, valid on every CPU.
    pub fn portable() -> Kernels {
        Kernels {
            name: "portable",
            forward: forward::<8, 1, false>,
            backward: backward::<8, false>,
        }
    }

    /// `z[r·h + j] = Σₖ w[j·d + k] · x[idx[r]·d + k]` for every row `r` of `idx`.
    pub fn forward(
        &self,
        w: &[f32],
        h: usize,
        x: &Pixels<'_>,
        d: usize,
        idx: &[u32],
        z: &mut [f32],
    ) {
        assert!(w.len() == h * d && z.len() == idx.len() * h, "kernel shapes");
        assert!(idx.iter().all(|&i| (i as usize + 1) * d <= x.p.len()), "row index out of range");
        (self.forward)(w, h, x, d, idx, z)
    }

    /// `g[j·d + k] += Σᵣ dz[r·h + j] · x[idx[r]·d + k]`.
    pub fn backward(
        &self,
        dz: &[f32],
        h: usize,
        x: &Pixels<'_>,
        d: usize,
        idx: &[u32],
        g: &mut [f32],
    ) {
        assert!(g.len() == h * d && dz.len() == idx.len() * h, "kernel shapes");
        assert!(idx.iter().all(|&i| (i as usize + 1) * d <= x.p.len()), "row index out of range");
        (self.backward)(dz, h, x, d, idx, g)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{backward, forward, Pixels};

    macro_rules! variant {
        ($fwd:ident, $bwd:ident, $feat:literal, $l:literal, $r:literal) => {
            pub fn $fwd(w: &[f32], h: usize, x: &Pixels<'_>, d: usize, idx: &[u32], z: &mut [f32]) {
                #[target_feature(enable = $feat)]
                fn inner(
                    w: &[f32],
                    h: usize,
                    x: &Pixels<'_>,
                    d: usize,
                    idx: &[u32],
                    z: &mut [f32],
                ) {
                    forward::<$l, $r, true>(w, h, x, d, idx, z)
                }
                // SAFETY: only installed by `Kernels::best` after detecting these features.
                unsafe { inner(w, h, x, d, idx, z) }
            }
            pub fn $bwd(
                dz: &[f32],
                h: usize,
                x: &Pixels<'_>,
                d: usize,
                idx: &[u32],
                g: &mut [f32],
            ) {
                #[target_feature(enable = $feat)]
                fn inner(
                    dz: &[f32],
                    h: usize,
                    x: &Pixels<'_>,
                    d: usize,
                    idx: &[u32],
                    g: &mut [f32],
                ) {
                    backward::<$l, true>(dz, h, x, d, idx, g)
                }
                // SAFETY: only installed by `Kernels::best` after detecting these features.
                unsafe { inner(dz, h, x, d, idx, g) }
            }
        };
    }

    // Accumulators: 2 rows × 5 units = 10 registers, which neither AVX-512 (32 registers) nor
    // AVX2 (16) spills; 4 rows spilled to the stack and ran slower.
    variant!(forward_avx512, backward_avx512, "avx512f,avx2,fma", 16, 2);
    variant!(forward_avx2, backward_avx2, "avx2,fma", 8, 2);
}

/// Hints the CPU to bring `xs` into cache (a no-op off x86-64).
#[inline(always)]
fn prefetch(xs: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in xs.chunks(64) {
        // SAFETY: prefetching is a hint; the address is inside `xs`.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr() as *const i8
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = xs;
}

/// Pairwise sum of the lanes (a fixed order).
#[inline(always)]
fn reduce<const L: usize>(a: &[f32; L]) -> f32 {
    let mut v = *a;
    let mut n = L;
    while n > 1 {
        n /= 2;
        for l in 0..n {
            v[l] += v[l + n];
        }
    }
    v[0]
}

/// Loads `L` pixels from `p` and normalizes them: `a·p + c`.
///
/// # Safety
/// `p..p + L` must be inside one allocation.
#[inline(always)]
unsafe fn load_px<const L: usize, const FMA: bool>(p: *const u8, a: f32, c: f32) -> [f32; L] {
    // SAFETY: the caller guarantees L readable bytes.
    let b: [u8; L] = unsafe { std::ptr::read_unaligned(p as *const [u8; L]) };
    b.map(|v| madd::<FMA>(v as f32, a, c))
}

/// Loads `L` floats from `p` (no alignment needed).
///
/// # Safety
/// `p..p + L` must be inside one allocation.
#[inline(always)]
unsafe fn load<const L: usize>(p: *const f32) -> [f32; L] {
    // SAFETY: the caller guarantees L readable floats.
    unsafe { std::ptr::read_unaligned(p as *const [f32; L]) }
}

/// `a·b + c`, fused where the instruction set has FMA (one rounding), else two roundings.
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `out[q][g] = Σₖ w[g·d + k] · xs[q][k]` for the `B` weight rows at `w` and `R` input rows:
/// each loaded weight vector feeds `R` multiply-adds and each input vector `B`.
///
/// # Safety
/// `w` must point at `B · d` floats and every `xs[q]` at `d` floats.
#[inline(always)]
unsafe fn forward_block<const L: usize, const B: usize, const R: usize, const FMA: bool>(
    w: *const f32,
    xs: [*const u8; R],
    (a, c): (f32, f32),
    d: usize,
) -> [[f32; B]; R] {
    let full = d / L * L;
    let mut acc = [[[0f32; L]; B]; R];
    let mut k = 0;
    while k < full {
        // SAFETY: k + L <= full <= d for every input row and every weight row.
        let xv: [[f32; L]; R] =
            std::array::from_fn(|q| unsafe { load_px::<L, FMA>(xs[q].add(k), a, c) });
        for g in 0..B {
            let wv: [f32; L] = unsafe { load(w.add(g * d + k)) };
            for q in 0..R {
                for l in 0..L {
                    acc[q][g][l] = madd::<FMA>(wv[l], xv[q][l], acc[q][g][l]);
                }
            }
        }
        k += L;
    }
    std::array::from_fn(|q| {
        std::array::from_fn(|g| {
            // SAFETY: full <= k < d stays inside weight row g and input row q.
            let tail: f32 = (full..d)
                .map(|k| unsafe { *w.add(g * d + k) * madd::<FMA>(*xs[q].add(k) as f32, a, c) })
                .sum();
            reduce(&acc[q][g]) + tail
        })
    })
}

/// `gw[g·d + k] += Σᵣ dz[r·h + g] · x[idx[r]·d + k]` for the `B` hidden units at `dz`/`gw`.
///
/// # Safety
/// `dz` must index `idx.len()` rows of stride `h` with `B` valid columns, `gw` must point at
/// `B · d` floats, and every `idx[r]·d + d` must be inside `x`.
#[inline(always)]
unsafe fn backward_block<const L: usize, const B: usize, const FMA: bool>(
    dz: *const f32,
    h: usize,
    x: *const u8,
    (a, c): (f32, f32),
    d: usize,
    idx: &[u32],
    gw: *mut f32,
) {
    let full = d / L * L;
    let mut k = 0;
    while k < full {
        let mut acc = [[0f32; L]; B];
        for (r, &i) in idx.iter().enumerate() {
            // SAFETY: row i holds d floats and k + L <= d; dz row r holds B columns here.
            let xv: [f32; L] = unsafe { load_px::<L, FMA>(x.add(i as usize * d + k), a, c) };
            for (g, a) in acc.iter_mut().enumerate() {
                let s = unsafe { *dz.add(r * h + g) };
                for l in 0..L {
                    a[l] = madd::<FMA>(s, xv[l], a[l]);
                }
            }
        }
        for (g, a) in acc.iter().enumerate() {
            for l in 0..L {
                // SAFETY: g < B and k + l < d.
                unsafe { *gw.add(g * d + k + l) += a[l] };
            }
        }
        k += L;
    }
    for g in 0..B {
        for k in full..d {
            // SAFETY: as above, for the last d - full columns.
            let s: f32 = idx
                .iter()
                .enumerate()
                .map(|(r, &i)| unsafe {
                    *dz.add(r * h + g) * madd::<FMA>(*x.add(i as usize * d + k) as f32, a, c)
                })
                .sum();
            unsafe { *gw.add(g * d + k) += s };
        }
    }
}

/// Splits `h` hidden units into register blocks of up to `G` and runs `f::<B>` on each.
macro_rules! blocks {
    ($h:expr, |$j0:ident, $b:ident| $body:expr) => {{
        let mut $j0 = 0;
        while $j0 < $h {
            match ($h - $j0).min(G) {
                5 => {
                    const $b: usize = 5;
                    $body;
                    $j0 += 5;
                }
                4 => {
                    const $b: usize = 4;
                    $body;
                    $j0 += 4;
                }
                3 => {
                    const $b: usize = 3;
                    $body;
                    $j0 += 3;
                }
                2 => {
                    const $b: usize = 2;
                    $body;
                    $j0 += 2;
                }
                _ => {
                    const $b: usize = 1;
                    $body;
                    $j0 += 1;
                }
            }
        }
    }};
}

/// Forward product, `L` lanes per register, hidden units in blocks of up to `G`.
/// Forward product, `L` lanes per register, hidden units in blocks of up to `G`, input rows
/// in blocks of `R`.
#[inline(always)]
fn forward<const L: usize, const R: usize, const FMA: bool>(
    w: &[f32],
    h: usize,
    x: &Pixels<'_>,
    d: usize,
    idx: &[u32],
    z: &mut [f32],
) {
    // Shapes were checked by `Kernels::forward`: w is h·d, z is idx.len()·h, rows in x.
    let row = |i: u32| x.p[i as usize * d..][..d].as_ptr();
    let ac = (x.a, x.c);
    // Mini-batch rows are scattered over the training set: ask for them all now, or each
    // row's first use waits for DRAM (consecutive rows need no hint: the hardware does it).
    for (q, &i) in idx.iter().enumerate().skip(1) {
        if i != idx[q - 1].wrapping_add(1) {
            prefetch(&x.p[i as usize * d..][..d]);
        }
    }
    // Hidden-unit blocks outside, rows inside: a block of B weight rows (B · 3 KB) stays in L1
    // while the rows stream past it.
    blocks!(h, |j0, B| {
        let wb = w[j0 * d..(j0 + B) * d].as_ptr();
        let mut r = 0;
        while r + R <= idx.len() {
            let xs: [*const u8; R] = std::array::from_fn(|q| row(idx[r + q]));
            // SAFETY: rows j0..j0 + B of w exist (j0 + B <= h); each xs[q] has d floats.
            let out = unsafe { forward_block::<L, B, R, FMA>(wb, xs, ac, d) };
            for (q, o) in out.iter().enumerate() {
                z[(r + q) * h + j0..(r + q) * h + j0 + B].copy_from_slice(o);
            }
            r += R;
        }
        for r in r..idx.len() {
            // SAFETY: as above, one input row.
            let [out] = unsafe { forward_block::<L, B, 1, FMA>(wb, [row(idx[r])], ac, d) };
            z[r * h + j0..r * h + j0 + B].copy_from_slice(&out);
        }
    });
}

/// Backward product, `L` lanes per register, hidden units in blocks of up to `G`.
#[inline(always)]
fn backward<const L: usize, const FMA: bool>(
    dz: &[f32],
    h: usize,
    x: &Pixels<'_>,
    d: usize,
    idx: &[u32],
    g: &mut [f32],
) {
    // Shapes were checked by `Kernels::backward`: dz is idx.len()·h, g is h·d, rows in x.
    blocks!(h, |j0, B| {
        // SAFETY: columns j0..j0 + B of dz and rows j0..j0 + B of g exist; rows of x checked.
        unsafe {
            backward_block::<L, B, FMA>(
                dz[j0..].as_ptr(),
                h,
                x.p.as_ptr(),
                (x.a, x.c),
                d,
                idx,
                g[j0 * d..].as_mut_ptr(),
            )
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel set against the plain triple loop, for widths that exercise the block and
    /// lane remainders.
    #[test]
    fn kernels_match_plain_loops() {
        let mut s = 1u32;
        let mut rnd = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for (h, d) in [(10, 784), (3, 20), (13, 37), (1, 5)] {
            let n = 9;
            let w: Vec<f32> = (0..h * d).map(|_| rnd()).collect();
            let x: Vec<u8> = (0..n * d).map(|_| ((rnd() + 0.5) * 255.0) as u8).collect();
            let dz: Vec<f32> = (0..4 * h).map(|_| rnd()).collect();
            let idx = [7u32, 0, 3, 7];
            for k in [Kernels::best(), Kernels::portable()] {
                let mut z = vec![0.0; idx.len() * h];
                let (a, c) = (2.0 / 255.0, -1.0);
                let px = Pixels { p: &x, a, c };
                let xf = |v: u8| a as f64 * v as f64 + c as f64;
                k.forward(&w, h, &px, d, &idx, &mut z);
                let mut g = vec![1.0; h * d];
                k.backward(&dz, h, &px, d, &idx, &mut g);
                for (r, &i) in idx.iter().enumerate() {
                    for j in 0..h {
                        let terms =
                            (0..d).map(|col| w[j * d + col] as f64 * xf(x[i as usize * d + col]));
                        let (want, scale): (f64, f64) =
                            terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
                        assert!(
                            (z[r * h + j] as f64 - want).abs() <= 1e-6 * scale,
                            "{} fwd h={h} d={d}",
                            k.name
                        );
                    }
                }
                for j in 0..h {
                    for col in 0..d {
                        let terms = idx
                            .iter()
                            .enumerate()
                            .map(|(r, &i)| dz[r * h + j] as f64 * xf(x[i as usize * d + col]));
                        let (want, scale): (f64, f64) =
                            terms.fold((1.0, 1.0), |(s, a), t| (s + t, a + t.abs()));
                        assert!(
                            (g[j * d + col] as f64 - want).abs() <= 1e-6 * scale,
                            "{} bwd h={h} d={d}",
                            k.name
                        );
                    }
                }
            }
        }
    }
}
