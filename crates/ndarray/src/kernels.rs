//! The two products that cost most of a training step, written for the shapes of this network
//! (a few hidden units, 784 inputs) and for rows picked by index, so a mini-batch is never
//! copied out of the training set. The rows are the raw `u8` pixels `P`, normalized to
//! `X = a·P + c` in registers as they are loaded: a pass over MNIST reads 47 MB instead of
//! 188 MB of `f32` features, and the products were memory bound on those:
//!
//! ```text
//! forward:   Z[r, j]  = Σₖ W[j, k] · X[idx[r], k]        (Z = X_idx · Wᵀ,   [c, h])
//! backward:  G[j, k] += Σᵣ D[r, j] · X[idx[r], k]        (G += Dᵀ · X_idx,  [h, 784])
//! ```
//! Both keep a block of accumulators in registers and stream the other operand past it, so
//! each loaded (and normalized) pixel vector feeds many fused multiply-adds:
//! - forward: `R` rows × `B` hidden units (AVX-512: 2 × 10, the whole layer: each pixel is
//!   loaded once and each weight vector feeds both rows);
//! - backward: `B` hidden units × `K` pixel vectors (AVX-512: 10 × 2), rows streaming past.
//!
//! The kernels are written once, over [`Lanes`] (one SIMD register and the handful of
//! operations they need), and compiled three times: AVX-512, AVX2+FMA and a portable
//! baseline; the best one the CPU supports is picked at run time (no `target-cpu=native`).
//! The register blocks only change which values are computed together, never the order in
//! which any one sum is formed: every lane of every accumulator adds its terms in pixel (or
//! row) order, and lanes are summed pairwise. So results depend only on the lane width and
//! are bit-identical run to run.
//!
//! Two things keep the FMA units fed rather than waiting: the forward product asks for each
//! row 8 rows (`AHEAD`) before it reads it (from DRAM the rows arrived slower than the products
//! used them, even in storage order), and with [`Pixels::spans`] both products skip the vectors
//! of an image's blank border, whose products are exact zeros (about 30% of MNIST's).

use twinnet_core::system::prefetch;

/// Raw `u8` pixels `[n, d]` and their normalization `x = a·p + c` (see
/// [`Normalize::affine`](twinnet_data::Normalize::affine)), applied in registers as each pixel
/// is loaded: one fused multiply-add per loaded vector, which then feeds ten or twenty more.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    /// Row-major pixels.
    pub p: &'a [u8],
    /// Scale `a`.
    pub a: f32,
    /// Offset `c`.
    pub c: f32,
    /// Optionally, where each row's nonzero pixels lie ([`Span::of_rows`]). When `c = 0` a
    /// zero pixel is a zero feature, whose products are zero: the kernels then skip the
    /// vectors of a row outside its span (MNIST digits leave about 30% of each image
    /// blank). No term that is not exactly zero is skipped, and the others are added in the
    /// same order, so the sums do not change (up to the sign of a zero).
    pub spans: Option<&'a [Span]>,
}

impl<'a> Pixels<'a> {
    /// The pixels `p`, normalized as `norm` asks, with or without their spans.
    pub fn new(p: &'a [u8], norm: twinnet_data::Normalize, spans: Option<&'a [Span]>) -> Self {
        let (a, c) = norm.affine();
        Self { p, a, c, spans }
    }
}

/// The pixels `lo..hi` of a row outside which all its pixels are zero (`lo = hi = 0` for a
/// blank row).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// First nonzero pixel.
    pub lo: u32,
    /// One past the last nonzero pixel.
    pub hi: u32,
}

impl Span {
    /// The span of every row of `p` (`[n, d]`).
    pub fn of_rows(p: &[u8], d: usize) -> Vec<Span> {
        p.chunks_exact(d)
            .map(|row| match row.iter().position(|&v| v != 0) {
                None => Span::default(),
                Some(lo) => {
                    let hi = d - row.iter().rev().position(|&v| v != 0).unwrap_or(0);
                    Span { lo: lo as u32, hi: hi as u32 }
                }
            })
            .collect()
    }
}

/// Shapes of a product: `h` hidden units, `d` inputs, and `ld` (≥ `h`), the row stride of
/// the `[rows, h]` operand (`z` or `dz`), whose padding the kernels neither read nor write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Hidden units.
    pub h: usize,
    /// Inputs per row.
    pub d: usize,
    /// Row stride of `z` / `dz`.
    pub ld: usize,
}

/// A product kernel: `(a, shape, x, idx, out)`.
type Kernel = fn(&[f32], Shape, &Pixels<'_>, &[u32], &mut [f32]);

/// One kernel set, compiled for one instruction set.
#[derive(Debug, Clone, Copy)]
pub struct Kernels {
    forward: Kernel,
    backward: Kernel,
    isa: Isa,
}

/// The instruction sets there are kernels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

/// Work to compile for the kernels' instruction set: [`Kernels::run`] calls `run` from a
/// function with that set's target features, so the code inlined into it (fixed-width array
/// loops in particular) is vectorized for it. Plain arithmetic gives the same results under
/// every set (Rust never fuses a multiply and an add on its own).
pub trait Task {
    /// What the work returns.
    type Output;
    /// The work. Implementations should be `#[inline(always)]`: a call that is not inlined
    /// runs with the baseline instruction set.
    fn run(self) -> Self::Output;
}

impl Kernels {
    /// The fastest kernels this CPU runs, chosen once.
    pub fn best() -> Kernels {
        static BEST: std::sync::OnceLock<Kernels> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| Kernels::available()[0])
    }

    /// Every kernel set this CPU runs, fastest first (the portable one last). For tests and
    /// benchmarks of the slower sets.
    pub fn available() -> Vec<Kernels> {
        let mut sets = vec![];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                sets.push(Kernels {
                    forward: x86::forward_avx512,
                    backward: x86::backward_avx512,
                    isa: Isa::Avx512,
                });
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                sets.push(Kernels {
                    forward: x86::forward_avx2,
                    backward: x86::backward_avx2,
                    isa: Isa::Avx2,
                });
            }
        }
        sets.push(Kernels::portable());
        sets
    }

    /// The baseline kernels, valid on every CPU.
    pub fn portable() -> Kernels {
        Kernels {
            forward: forward::<Portable, 5, 1>,
            backward: backward::<Portable, 5, 1>,
            isa: Isa::Portable,
        }
    }

    /// Name of the instruction set (`avx512`, `avx2`, `portable`).
    pub fn name(&self) -> &'static str {
        match self.isa {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => "avx512",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => "avx2",
            Isa::Portable => "portable",
        }
    }

    /// Runs `task` compiled for this kernel set's instruction set.
    pub fn run<T: Task>(&self, task: T) -> T::Output {
        match self.isa {
            // SAFETY: these kernel sets are only built by `available` after detecting the
            // features.
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => unsafe { x86::run_avx512(task) },
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => unsafe { x86::run_avx2(task) },
            Isa::Portable => task.run(),
        }
    }

    /// `z[r·ld + j] = Σₖ w[j·d + k] · x[idx[r]·d + k]` for every row `r` of `idx`.
    pub fn forward(&self, w: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], z: &mut [f32]) {
        assert!(w.len() == s.h * s.d && z.len() >= idx.len() * s.ld, "kernel shapes");
        check_rows(s, x, idx);
        (self.forward)(w, s, x, idx, z)
    }

    /// `g[j·d + k] += Σᵣ dz[r·ld + j] · x[idx[r]·d + k]`.
    pub fn backward(&self, dz: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], g: &mut [f32]) {
        assert!(g.len() == s.h * s.d && dz.len() >= idx.len() * s.ld, "kernel shapes");
        check_rows(s, x, idx);
        (self.backward)(dz, s, x, idx, g)
    }
}

/// The checks every kernel relies on: `ld ≥ h`, rows inside `x`, one span per row.
fn check_rows(s: Shape, x: &Pixels<'_>, idx: &[u32]) {
    assert!(s.ld >= s.h, "kernel shapes");
    assert!(idx.iter().all(|&i| (i as usize + 1) * s.d <= x.p.len()), "row index out of range");
    if let Some(spans) = x.spans {
        assert_eq!(spans.len() * s.d, x.p.len(), "one span per row");
    }
}

/// The pixels `lo..hi` that row `i` needs computed: its span where zero pixels may be
/// skipped (`c = 0`), else all of them.
#[inline(always)]
fn span(x: &Pixels<'_>, i: u32, d: usize) -> (usize, usize) {
    match x.spans {
        Some(s) if x.c == 0.0 => {
            let s = s[i as usize];
            (s.lo as usize, s.hi as usize)
        }
        _ => (0, d),
    }
}

/// One SIMD register of `f32` lanes and the operations the kernels use. The kernels are
/// generic over it and `#[inline(always)]`, so each instantiation is compiled inside one
/// `#[target_feature]` function and becomes straight vector code.
///
/// # Safety
/// An implementation may use the instructions of one instruction set: its methods may only
/// run on a CPU that has it ([`Kernels::best`] checks before installing such kernels).
unsafe trait Lanes: Copy {
    /// Lanes per register.
    const L: usize;
    /// All lanes `v`.
    fn splat(v: f32) -> Self;
    /// `L` floats from `p` (no alignment needed).
    ///
    /// # Safety
    /// `p..p + L` must be readable.
    unsafe fn load(p: *const f32) -> Self;
    /// Stores the lanes to `p..p + L`.
    ///
    /// # Safety
    /// `p..p + L` must be writable.
    unsafe fn store(self, p: *mut f32);
    /// `L` pixels from `p`, normalized: `a·p + c` (one rounding where the set has FMA).
    ///
    /// # Safety
    /// `p..p + L` must be readable.
    unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self;
    /// `a·b + c` (one rounding where the set has FMA, else two).
    fn madd(a: Self, b: Self, c: Self) -> Self;
    /// The scalar `a·b + c`, rounded as [`Lanes::madd`] rounds.
    fn madd1(a: f32, b: f32, c: f32) -> f32;
    /// `self + o`.
    fn add(self, o: Self) -> Self;
    /// Pairwise sum of the lanes: `v[l] += v[l + L/2]`, then `L/4`, … down to one lane.
    fn reduce(self) -> f32;
}

/// The baseline: eight plain `f32` lanes, no FMA (two roundings), for any CPU.
#[derive(Debug, Clone, Copy)]
struct Portable([f32; 8]);

// SAFETY: plain Rust arithmetic, valid on every CPU.
unsafe impl Lanes for Portable {
    const L: usize = 8;
    #[inline(always)]
    fn splat(v: f32) -> Self {
        Portable([v; 8])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable floats.
        Portable(unsafe { std::ptr::read_unaligned(p as *const [f32; 8]) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 8 writable floats.
        unsafe { std::ptr::write_unaligned(p as *mut [f32; 8], self.0) }
    }
    #[inline(always)]
    unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self {
        // SAFETY: the caller guarantees 8 readable bytes.
        let b: [u8; 8] = unsafe { std::ptr::read_unaligned(p as *const [u8; 8]) };
        Portable(std::array::from_fn(|l| b[l] as f32 * a.0[l] + c.0[l]))
    }
    #[inline(always)]
    fn madd(a: Self, b: Self, c: Self) -> Self {
        Portable(std::array::from_fn(|l| a.0[l] * b.0[l] + c.0[l]))
    }
    #[inline(always)]
    fn madd1(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        Portable(std::array::from_fn(|l| self.0[l] + o.0[l]))
    }
    #[inline(always)]
    fn reduce(self) -> f32 {
        let v = self.0;
        let v4: [f32; 4] = std::array::from_fn(|l| v[l] + v[l + 4]);
        (v4[0] + v4[2]) + (v4[1] + v4[3])
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{backward, forward, Lanes, Pixels, Shape, Task};
    use std::arch::x86_64::*;

    /// 16 lanes of AVX-512 (32 registers: 2 × 10 forward accumulators do not spill).
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx512(__m512);

    /// 8 lanes of AVX2 with FMA (16 registers: blocks of 5 hidden units).
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx2(__m256);

    // The `unsafe` blocks below call intrinsics of the set the type is named after; the
    // trait's contract is that these methods only run where `Kernels::best` found it.

    // SAFETY: AVX-512F only, by the contract above.
    unsafe impl Lanes for Avx512 {
        const L: usize = 16;
        #[inline(always)]
        fn splat(v: f32) -> Self {
            Avx512(unsafe { _mm512_set1_ps(v) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx512(unsafe { _mm512_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm512_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self {
            unsafe {
                let b = _mm_loadu_si128(p as *const __m128i);
                Avx512(_mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b)), a.0, c.0))
            }
        }
        #[inline(always)]
        fn madd(a: Self, b: Self, c: Self) -> Self {
            Avx512(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
        }
        #[inline(always)]
        fn madd1(a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            Avx512(unsafe { _mm512_add_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn reduce(self) -> f32 {
            unsafe {
                let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
                Avx2(_mm256_add_ps(_mm512_castps512_ps256(self.0), hi)).reduce()
            }
        }
    }

    // SAFETY: AVX2 and FMA only, by the contract above.
    unsafe impl Lanes for Avx2 {
        const L: usize = 8;
        #[inline(always)]
        fn splat(v: f32) -> Self {
            Avx2(unsafe { _mm256_set1_ps(v) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(unsafe { _mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { _mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self {
            unsafe {
                let b = _mm_loadl_epi64(p as *const __m128i);
                Avx2(_mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), a.0, c.0))
            }
        }
        #[inline(always)]
        fn madd(a: Self, b: Self, c: Self) -> Self {
            Avx2(unsafe { _mm256_fmadd_ps(a.0, b.0, c.0) })
        }
        #[inline(always)]
        fn madd1(a: f32, b: f32, c: f32) -> f32 {
            a.mul_add(b, c)
        }
        #[inline(always)]
        fn add(self, o: Self) -> Self {
            Avx2(unsafe { _mm256_add_ps(self.0, o.0) })
        }
        #[inline(always)]
        fn reduce(self) -> f32 {
            unsafe {
                // [l + 4], then [l + 2], then [l + 1].
                let v =
                    _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps::<1>(self.0));
                let v = _mm_add_ps(v, _mm_movehl_ps(v, v));
                _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps::<1>(v, v)))
            }
        }
    }

    macro_rules! variant {
        ($fwd:ident, $bwd:ident, $feat:literal, $v:ty, $gf:literal, $r:literal, $gb:literal, $k:literal) => {
            pub fn $fwd(w: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], z: &mut [f32]) {
                #[target_feature(enable = $feat)]
                fn inner(w: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], z: &mut [f32]) {
                    forward::<$v, $gf, $r>(w, s, x, idx, z)
                }
                // SAFETY: only installed by `Kernels::available` after detecting these features.
                unsafe { inner(w, s, x, idx, z) }
            }
            pub fn $bwd(dz: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], g: &mut [f32]) {
                #[target_feature(enable = $feat)]
                fn inner(dz: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], g: &mut [f32]) {
                    backward::<$v, $gb, $k>(dz, s, x, idx, g)
                }
                // SAFETY: only installed by `Kernels::available` after detecting these features.
                unsafe { inner(dz, s, x, idx, g) }
            }
        };
    }

    // (lanes, hidden units per block G, forward rows R, backward pixel vectors K). Registers
    // in use: forward R·G accumulators + R pixels + 1 weight + 2 constants, backward G·K
    // accumulators + K pixels + 1 broadcast + 2 constants: 25 of AVX-512's 32, 15 of AVX2's
    // 16, so neither spills.
    variant!(forward_avx512, backward_avx512, "avx512f,avx2,fma", Avx512, 10, 2, 10, 2);
    variant!(forward_avx2, backward_avx2, "avx2,fma", Avx2, 5, 2, 5, 2);

    /// [`Task::run`] with AVX-512 (and AVX2, FMA) enabled.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) fn run_avx512<T: Task>(task: T) -> T::Output {
        task.run()
    }

    /// [`Task::run`] with AVX2 and FMA enabled.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn run_avx2<T: Task>(task: T) -> T::Output {
        task.run()
    }
}

/// How many rows ahead the forward product asks for the rows it will read.
const AHEAD: usize = 8;

/// Asks the CPU to bring the pixels the kernels will read of rows `idx` of `x` (`[n, d]`;
/// only their spans where those are skipped) into its second-level cache: for the next
/// mini-batch, while this one is computed. A hint only; panics if a row is out of range.
pub fn prefetch_rows(x: &Pixels<'_>, d: usize, idx: &[u32]) {
    for &i in idx {
        let (lo, hi) = span(x, i, d);
        prefetch::<true>(&x.p[i as usize * d..][lo..hi]);
    }
}

/// `out[q][g] = Σₖ w[g·d + k] · xs[q][k]` for the `B` weight rows at `w` and `R` input rows:
/// each loaded weight vector feeds `R` multiply-adds and each input vector `B`. The whole
/// vectors before `lo` and from `hi` on are skipped (their products are zero).
///
/// # Safety
/// `w` must point at `B · d` floats and every `xs[q]` at `d` pixels.
#[inline(always)]
unsafe fn forward_block<V: Lanes, const B: usize, const R: usize>(
    w: *const f32,
    xs: [*const u8; R],
    (a, c): (f32, f32),
    d: usize,
    (lo, hi): (usize, usize),
) -> [[f32; B]; R] {
    let (av, cv) = (V::splat(a), V::splat(c));
    let full = d / V::L * V::L;
    let end = hi.div_ceil(V::L).saturating_mul(V::L).min(full);
    let mut acc = [[V::splat(0.0); B]; R];
    let mut k = lo / V::L * V::L;
    while k < end {
        let mut xv = [V::splat(0.0); R];
        for q in 0..R {
            // SAFETY: k + L <= full <= d for every input row and every weight row.
            xv[q] = unsafe { V::load_px(xs[q].add(k), av, cv) };
        }
        for g in 0..B {
            // SAFETY: as above.
            let wv = unsafe { V::load(w.add(g * d + k)) };
            for q in 0..R {
                acc[q][g] = V::madd(wv, xv[q], acc[q][g]);
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
            out[q][g] = acc[q][g].reduce() + tail;
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
/// `dz` must index `idx.len()` rows of stride `ld` with `B` valid columns, `gw` must point at
/// `B` rows of `d` floats, `k + K·L <= d`, and every `idx[r]·d + d` must be inside `x`.
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
    let (av, cv) = (V::splat(x.a), V::splat(x.c));
    let mut acc = [[V::splat(0.0); K]; B];
    for (r, &i) in idx.iter().enumerate() {
        let (lo, hi) = span(x, i, d);
        if lo >= k + K * V::L || hi <= k {
            continue;
        }
        // SAFETY: row i holds d pixels and k + K·L <= d.
        let p = unsafe { x.p.as_ptr().add(i as usize * d + k) };
        let mut xv = [V::splat(0.0); K];
        for t in 0..K {
            // SAFETY: as above.
            xv[t] = unsafe { V::load_px(p.add(t * V::L), av, cv) };
        }
        for g in 0..B {
            // SAFETY: dz row r holds B columns here.
            let s = V::splat(unsafe { *dz.add(r * ld + g) });
            for t in 0..K {
                acc[g][t] = V::madd(s, xv[t], acc[g][t]);
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

/// Splits `h` hidden units into register blocks of up to `$g` and runs the body with the
/// block's first unit `$j0` and its width as the constant `$b`.
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

/// Forward product: hidden units in blocks of up to `G` (at most 10), input rows in blocks of
/// `R`.
#[inline(always)]
fn forward<V: Lanes, const G: usize, const R: usize>(
    w: &[f32],
    s: Shape,
    x: &Pixels<'_>,
    idx: &[u32],
    z: &mut [f32],
) {
    // Shapes were checked by `Kernels::forward`: w is h·d, z is idx.len()·ld, rows in x.
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
            // SAFETY: rows j0..j0 + B of w exist (j0 + B <= h); each xs[q] has d pixels.
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

/// Backward product: hidden units in blocks of up to `G` (at most 10), pixels `K` vectors at
/// a time (then one at a time, then a scalar tail).
#[inline(always)]
fn backward<V: Lanes, const G: usize, const K: usize>(
    dz: &[f32],
    s: Shape,
    x: &Pixels<'_>,
    idx: &[u32],
    g: &mut [f32],
) {
    // Shapes were checked by `Kernels::backward`: dz is idx.len()·ld, g is h·d, rows in x.
    let Shape { h, d, ld } = s;
    let (a, c) = (x.a, x.c);
    let full = d / V::L * V::L;
    blocks!(h, G, |j0, B| {
        let (dzb, gw) = (dz[j0..].as_ptr(), g[j0 * d..].as_mut_ptr());
        let mut k = 0;
        // SAFETY (both calls): columns j0..j0 + B of dz and rows j0..j0 + B of g exist, rows
        // of x were checked, and k + K·L (or k + L) <= full <= d.
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
                    .map(|(r, &i)| {
                        dz[r * ld + j] * V::madd1(x.p[i as usize * d + col] as f32, a, c)
                    })
                    .sum();
                g[j * d + col] += s;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel set against the plain triple loop, for widths that exercise the block and
    /// lane remainders, a padded row stride, and rows with blank borders (spans), under both
    /// normalizations; with `c = 0`, skipping by spans gives exactly the sums without.
    #[test]
    fn kernels_match_plain_loops() {
        let mut s = 1u32;
        let mut rnd = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for (h, d) in [(10, 784), (3, 20), (13, 37), (1, 5), (21, 100)] {
            let (n, ld) = (9, h + 3);
            let w: Vec<f32> = (0..h * d).map(|_| rnd()).collect();
            let mut x: Vec<u8> = (0..n * d).map(|_| ((rnd() + 0.5) * 255.0) as u8).collect();
            // Blank borders of different widths; row 4 blank, row 5 without zeros.
            for (i, row) in x.chunks_exact_mut(d).enumerate() {
                let (lo, hi) = match i {
                    4 => (d, d),
                    5 => (0, d),
                    _ => ((i * 7) % d, d - (i * 5) % (d - (i * 7) % d)),
                };
                row[..lo].fill(0);
                row[hi..].fill(0);
            }
            let spans = Span::of_rows(&x, d);
            assert_eq!(spans[4], Span::default());
            let dz: Vec<f32> = (0..5 * ld).map(|_| rnd()).collect();
            let idx = [7u32, 0, 3, 7, 4];
            let shape = Shape { h, d, ld };
            for k in Kernels::available() {
                for (a, c) in [(2.0 / 255.0, -1.0), (1.0 / 255.0, 0.0)] {
                    let xf = |v: u8| a as f64 * v as f64 + c as f64;
                    let mut out = vec![];
                    for spans in [None, Some(&spans[..])] {
                        let px = Pixels { p: &x, a, c, spans };
                        let mut z = vec![f32::NAN; idx.len() * ld];
                        k.forward(&w, shape, &px, &idx, &mut z);
                        let mut g = vec![1.0; h * d];
                        k.backward(&dz, shape, &px, &idx, &mut g);
                        for (r, &i) in idx.iter().enumerate() {
                            for j in 0..h {
                                let terms = (0..d)
                                    .map(|col| w[j * d + col] as f64 * xf(x[i as usize * d + col]));
                                let (want, scale): (f64, f64) =
                                    terms.fold((0.0, 0.0), |(s, a), t| (s + t, a + t.abs()));
                                assert!(
                                    (z[r * ld + j] as f64 - want).abs() <= 1e-6 * scale,
                                    "{} fwd h={h} d={d} c={c}",
                                    k.name()
                                );
                            }
                            assert!(z[r * ld + h..(r + 1) * ld].iter().all(|v| v.is_nan()));
                        }
                        for j in 0..h {
                            for col in 0..d {
                                let terms = idx.iter().enumerate().map(|(r, &i)| {
                                    dz[r * ld + j] as f64 * xf(x[i as usize * d + col])
                                });
                                let (want, scale): (f64, f64) =
                                    terms.fold((1.0, 1.0), |(s, a), t| (s + t, a + t.abs()));
                                assert!(
                                    (g[j * d + col] as f64 - want).abs() <= 1e-6 * scale,
                                    "{} bwd h={h} d={d} c={c}",
                                    k.name()
                                );
                            }
                        }
                        z.retain(|v| !v.is_nan());
                        out.push((z, g));
                    }
                    // Spans change no sum (`==`: up to the sign of a zero).
                    assert!(out[0] == out[1], "{} spans h={h} d={d} c={c}", k.name());
                }
            }
        }
    }
}
