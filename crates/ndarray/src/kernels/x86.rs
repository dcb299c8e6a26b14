//! The x86-64 lanes (AVX-512; AVX2 with FMA), the kernels instantiated for each, and the
//! entry points compiled with each set's target features.

use super::lanes::Lanes;
use super::products::{backward, forward};
use super::{Pixels, Shape, Task};
use std::arch::x86_64::*;

/// 16 lanes of AVX-512 (32 registers: 2 × 10 forward accumulators do not spill).
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx512(__m512);

/// 16 lanes of AVX2 with FMA in two registers, lanes 0–7 and 8–15: the AVX-512 lanes and
/// their sums, so the two sets agree bit for bit (16 registers: blocks of 5 hidden units).
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx2(__m256, __m256);

/// The pairwise sum of 8 lanes, `[l + 4]`, then `[l + 2]`, then `[l + 1]`.
///
/// # Safety
/// The CPU has AVX.
#[inline(always)]
unsafe fn reduce8(v: __m256) -> f32 {
    unsafe {
        let v = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let v = _mm_add_ps(v, _mm_movehl_ps(v, v));
        _mm_cvtss_f32(_mm_add_ss(v, _mm_shuffle_ps::<1>(v, v)))
    }
}

// The `unsafe` blocks below call intrinsics of the set the type is named after, which every
// method's caller promises the CPU has (the `# Safety` of each `Lanes` method).

// SAFETY: AVX-512F only (and AVX2 in `reduce`, which every AVX-512 kernel set also checks).
unsafe impl Lanes for Avx512 {
    const L: usize = 16;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
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
    unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
        Avx512(unsafe { _mm512_fmadd_ps(a.0, b.0, c.0) })
    }
    #[inline(always)]
    unsafe fn madd1(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Avx512(unsafe { _mm512_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    unsafe fn reduce(self) -> f32 {
        unsafe {
            // [l + 8], then the 8-lane pairwise sum.
            let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(self.0)));
            reduce8(_mm256_add_ps(_mm512_castps512_ps256(self.0), hi))
        }
    }
}

// SAFETY: AVX and AVX2 with FMA only.
unsafe impl Lanes for Avx2 {
    const L: usize = 16;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        unsafe { Avx2(_mm256_set1_ps(v), _mm256_set1_ps(v)) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        unsafe { Avx2(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        unsafe {
            _mm256_storeu_ps(p, self.0);
            _mm256_storeu_ps(p.add(8), self.1);
        }
    }
    #[inline(always)]
    unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self {
        unsafe {
            let lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p as *const __m128i)));
            let hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(
                p.add(8) as *const __m128i
            )));
            Avx2(_mm256_fmadd_ps(lo, a.0, c.0), _mm256_fmadd_ps(hi, a.1, c.1))
        }
    }
    #[inline(always)]
    unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
        unsafe { Avx2(_mm256_fmadd_ps(a.0, b.0, c.0), _mm256_fmadd_ps(a.1, b.1, c.1)) }
    }
    #[inline(always)]
    unsafe fn madd1(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        unsafe { Avx2(_mm256_add_ps(self.0, o.0), _mm256_add_ps(self.1, o.1)) }
    }
    #[inline(always)]
    unsafe fn reduce(self) -> f32 {
        // [l + 8] (the two registers), then the 8-lane pairwise sum.
        unsafe { reduce8(_mm256_add_ps(self.0, self.1)) }
    }
}

macro_rules! variant {
    ($fwd:ident, $bwd:ident, $feat:literal, $v:ty, $gf:literal, $r:literal, $gb:literal, $k:literal) => {
        /// The forward product compiled for this instruction set.
        ///
        /// # Safety
        /// The CPU has the instruction set, and the shapes passed `Kernels::forward`'s checks.
        pub(super) unsafe fn $fwd(w: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], z: &mut [f32]) {
            #[target_feature(enable = $feat)]
            unsafe fn inner(w: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], z: &mut [f32]) {
                // SAFETY: this function runs only with the features enabled above.
                unsafe { forward::<$v, $gf, $r>(w, s, x, idx, z) }
            }
            // SAFETY: the caller promises these features and shapes.
            unsafe { inner(w, s, x, idx, z) }
        }
        /// The backward product compiled for this instruction set.
        ///
        /// # Safety
        /// The CPU has the instruction set, and the shapes passed `Kernels::backward`'s checks.
        pub(super) unsafe fn $bwd(
            dz: &[f32],
            s: Shape,
            x: &Pixels<'_>,
            idx: &[u32],
            g: &mut [f32],
        ) {
            #[target_feature(enable = $feat)]
            unsafe fn inner(dz: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], g: &mut [f32]) {
                // SAFETY: this function runs only with the features enabled above.
                unsafe { backward::<$v, $gb, $k>(dz, s, x, idx, g) }
            }
            // SAFETY: the caller promises these features and shapes.
            unsafe { inner(dz, s, x, idx, g) }
        }
    };
}

// (lanes, hidden units per block G, forward rows R, backward pixel vectors K). Registers
// in use, counting AVX2's 16 lanes as two: forward R·G accumulators + R pixels + 1 weight + 2
// constants, backward G·K accumulators + K pixels + 1 broadcast + 2 constants: 25 of
// AVX-512's 32, and 16 of AVX2's 16 (10 + 2 + 2 + 2 forward, 10 + 2 + 2 + 2 backward).
variant!(forward_avx512, backward_avx512, "avx512f,avx2,fma", Avx512, 10, 2, 10, 2);
variant!(forward_avx2, backward_avx2, "avx2,fma", Avx2, 5, 1, 5, 1);

/// [`Task::run`] with AVX-512 (and AVX2, FMA) enabled: unsafe to call where the CPU lacks them.
#[target_feature(enable = "avx512f,avx2,fma")]
pub(super) fn run_avx512<T: Task>(task: T) -> T::Output {
    task.run()
}

/// [`Task::run`] with AVX2 and FMA enabled: unsafe to call where the CPU lacks them.
#[target_feature(enable = "avx2,fma")]
pub(super) fn run_avx2<T: Task>(task: T) -> T::Output {
    task.run()
}
