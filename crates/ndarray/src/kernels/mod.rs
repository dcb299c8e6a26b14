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
//! The kernels are written once, over `Lanes` (sixteen `f32` lanes and the handful of
//! operations they need), and compiled three times: AVX-512 (one register), AVX2+FMA (two
//! registers) and a portable baseline (an array, `f32::mul_add`); the best one the CPU
//! supports is picked at run time (no `target-cpu=native`). The register blocks only change
//! which values are computed together, never the order in which any one sum is formed: every
//! lane of every accumulator adds its terms in pixel (or row) order with fused multiply-adds,
//! the 16 lanes are summed pairwise, and the scalar tail starts at the same pixel (`d` rounded
//! down to 16). So **every kernel set computes the same bits**: results depend neither on the
//! CPU's instruction set nor on the run, only the speed does (pinning AVX2 to sixteen lanes
//! costs it about 15% against its former eight-lane kernels: see the README's benchmarks).
//!
//! Two things keep the FMA units fed rather than waiting: the forward product asks for each
//! row 8 rows (`AHEAD`) before it reads it (from DRAM the rows arrived slower than the products
//! used them, even in storage order), and with [`Pixels::spans`] both products skip the vectors
//! of an image's blank border, whose products are exact zeros (about 30% of MNIST's).

mod lanes;
mod pixels;
mod products;
#[cfg(target_arch = "x86_64")]
mod x86;

use lanes::Portable;
pub use pixels::{prefetch_rows, Pixels, Span};
use products::{backward, forward};

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

/// A product kernel: `(a, shape, x, idx, out)`. Unsafe to call: it may execute instructions
/// the CPU lacks, and it trusts the shapes (see [`Kernels`]).
type Kernel = unsafe fn(&[f32], Shape, &Pixels<'_>, &[u32], &mut [f32]);

/// One kernel set, compiled for one instruction set.
///
/// Invariant (what makes its safe methods sound): a `Kernels` is only made by
/// [`Kernels::available`], which detects the CPU's instruction sets first, or by
/// [`Kernels::portable`], whose set every CPU has; its fields are private, so no other value
/// exists.
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
            // SAFETY: by the type's invariant, `available` detected this set on this CPU.
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
        // SAFETY: the shapes were checked just above; the instruction set is there by the
        // type's invariant.
        unsafe { (self.forward)(w, s, x, idx, z) }
    }

    /// `g[j·d + k] += Σᵣ dz[r·ld + j] · x[idx[r]·d + k]`.
    pub fn backward(&self, dz: &[f32], s: Shape, x: &Pixels<'_>, idx: &[u32], g: &mut [f32]) {
        assert!(g.len() == s.h * s.d && dz.len() >= idx.len() * s.ld, "kernel shapes");
        check_rows(s, x, idx);
        // SAFETY: as in `forward`.
        unsafe { (self.backward)(dz, s, x, idx, g) }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel set against the plain triple loop, for widths that exercise the block and
    /// lane remainders (d mod 16 from 4 to 15), a padded row stride, and rows with blank
    /// borders (spans), under both normalizations; with `c = 0`, skipping by spans gives
    /// exactly the sums without; and every set gives the same bits.
    #[test]
    fn kernels_match_plain_loops() {
        let mut s = 1u32;
        let mut rnd = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1 << 24) as f32 - 0.5
        };
        for (h, d) in [(10, 784), (3, 20), (13, 37), (1, 5), (21, 100), (7, 29), (11, 47)] {
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
            for (a, c) in [(2.0 / 255.0, -1.0), (1.0 / 255.0, 0.0)] {
                let mut reference: Option<(Vec<u32>, Vec<u32>)> = None;
                for k in Kernels::available() {
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
                    // Every kernel set computes the portable set's bits.
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    let (z, g) = &out[1];
                    match &reference {
                        None => reference = Some((bits(z), bits(g))),
                        Some((zr, gr)) => assert!(
                            (&bits(z), &bits(g)) == (zr, gr),
                            "{} differs from the first set's bits: h={h} d={d} c={c}",
                            k.name()
                        ),
                    }
                }
            }
        }
    }
}
