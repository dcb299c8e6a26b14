//! A vector of sixteen `f32` lanes ([`Lanes`]) and its portable implementation; the x86 ones
//! are in `x86.rs`. Every method may execute the instructions of one instruction set, so
//! every method is `unsafe`: its caller promises the CPU has that set.
//!
//! Every implementation computes the same bits: sixteen lanes on every set (AVX-512: one
//! register; AVX2: two; portable: an array), every multiply-add fused (one rounding), and the
//! lanes summed in one pairwise order. So the kernels' sums are formed in the same order
//! whatever the CPU, and only their speed depends on it.

/// Sixteen `f32` lanes (one or more SIMD registers) and the operations the kernels use. The
/// kernels are generic over it and `#[inline(always)]`, so each instantiation is compiled
/// inside one `#[target_feature]` function and becomes straight vector code. Implementations
/// must agree bit for bit (see the module documentation).
///
/// # Safety
/// For implementors: the methods use the instructions of one instruction set, the one the
/// implementing type is named after, and nothing else that could be unavailable.
///
/// For callers, every method is `unsafe` with the same first requirement: **the CPU has that
/// instruction set** (checked at run time by [`super::Kernels::available`], the only place that
/// builds kernels over a type other than [`Portable`]). Pointer arguments add their own.
pub(super) unsafe trait Lanes: Copy {
    /// Lanes: 16 in every implementation (what makes their sums agree).
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
    /// `L` pixels from `p`, normalized: `a·p + c` (fused: one rounding).
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set, and `p..p + L` is readable.
    unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self;
    /// `a·b + c`, fused (one rounding).
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
    /// Pairwise sum of the lanes: `v[l] += v[l + 8]`, then `[l + 4]`, `[l + 2]`, `[l + 1]`.
    ///
    /// # Safety
    /// The CPU has `Self`'s instruction set.
    unsafe fn reduce(self) -> f32;
}

/// The baseline for any CPU: sixteen plain `f32` lanes, multiply-adds by `f32::mul_add` (one
/// rounding, as the FMA instructions of the other sets: software where the CPU has no FMA,
/// slow but exact) and the same pairwise reduction, so it computes the x86 sets' bits.
#[derive(Debug, Clone, Copy)]
pub(super) struct Portable([f32; 16]);

// SAFETY: plain Rust arithmetic, valid on every CPU.
unsafe impl Lanes for Portable {
    const L: usize = 16;
    #[inline(always)]
    unsafe fn splat(v: f32) -> Self {
        Portable([v; 16])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 16 readable floats.
        Portable(unsafe { std::ptr::read_unaligned(p as *const [f32; 16]) })
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 16 writable floats.
        unsafe { std::ptr::write_unaligned(p as *mut [f32; 16], self.0) }
    }
    #[inline(always)]
    unsafe fn load_px(p: *const u8, a: Self, c: Self) -> Self {
        // SAFETY: the caller guarantees 16 readable bytes.
        let b: [u8; 16] = unsafe { std::ptr::read_unaligned(p as *const [u8; 16]) };
        Portable(std::array::from_fn(|l| (b[l] as f32).mul_add(a.0[l], c.0[l])))
    }
    #[inline(always)]
    unsafe fn madd(a: Self, b: Self, c: Self) -> Self {
        Portable(std::array::from_fn(|l| a.0[l].mul_add(b.0[l], c.0[l])))
    }
    #[inline(always)]
    unsafe fn madd1(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Portable(std::array::from_fn(|l| self.0[l] + o.0[l]))
    }
    #[inline(always)]
    unsafe fn reduce(self) -> f32 {
        let v = self.0;
        let v8: [f32; 8] = std::array::from_fn(|l| v[l] + v[l + 8]);
        let v4: [f32; 4] = std::array::from_fn(|l| v8[l] + v8[l + 4]);
        (v4[0] + v4[2]) + (v4[1] + v4[3])
    }
}
