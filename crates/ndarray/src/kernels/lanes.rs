//! One SIMD register of `f32` lanes ([`Lanes`]) and its portable implementation; the x86
//! ones are in `x86.rs`. Every method may execute the instructions of one instruction set, so
//! every method is `unsafe`: its caller promises the CPU has that set.

/// One SIMD register of `f32` lanes and the operations the kernels use. The kernels are
/// generic over it and `#[inline(always)]`, so each instantiation is compiled inside one
/// `#[target_feature]` function and becomes straight vector code.
///
/// # Safety
/// For implementors: the methods use the instructions of one instruction set, the one the
/// implementing type is named after, and nothing else that could be unavailable.
///
/// For callers, every method is `unsafe` with the same first requirement: **the CPU has that
/// instruction set** (checked at run time by [`super::Kernels::available`], the only place that
/// builds kernels over a type other than [`Portable`]). Pointer arguments add their own.
pub(super) unsafe trait Lanes: Copy {
    /// Lanes per register.
    const L: usize;
    /// All lanes `v`.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn splat(v: f32) -> Self;
    /// `L` floats from `p` (no alignment needed).
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set, and `p..p + L` is readable.
    unsafe fn load(p: *const f32) -> Self;
    /// Stores the lanes to `p..p + L`.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set, and `p..p + L` is writable.
    unsafe fn store(self, p: *mut f32);
    /// `L` pixels from `p`, normalized: `a·p + c` (one rounding where the set has FMA).
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set, and `p..p + L` is readable.
    unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self;
    /// `a·b + c` (one rounding where the set has FMA, else two).
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn madd(a: Self, b: Self, c: Self) -> Self;
    /// The scalar `a·b + c`, rounded as [`Lanes::madd`] rounds.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn madd1(a: f32, b: f32, c: f32) -> f32;
    /// `self + o`.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn add(self, o: Self) -> Self;
    /// Pairwise sum of the lanes: `v[l] += v[l + L/2]`, then `L/4`, … down to one lane.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn reduce(self) -> f32;
}

/// The baseline: eight plain `f32` lanes, no FMA (two roundings), for any CPU.
#[derive(Debug, Clone, Copy)]
pub(super) struct Portable([f32; 8]);

// SAFETY: plain Rust arithmetic, valid on every CPU.
unsafe impl Lanes for Portable {
    const L: usize = 8;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
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
    unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
        Portable(std::array::from_fn(|l| a.0[l] * b.0[l] + c.0[l]))
    }
    #[inline(always)]
    unsafe fn madd1(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Portable(std::array::from_fn(|l| self.0[l] + o.0[l]))
    }
    #[inline(always)]
    unsafe fn reduce(self) -> f32 {
        let v = self.0;
        let v4: [f32; 4] = std::array::from_fn(|l| v[l] + v[l + 4]);
        (v4[0] + v4[2]) + (v4[1] + v4[3])
    }
}
