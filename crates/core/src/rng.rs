//! A small, seeded, portable random number generator (xoshiro256** seeded by SplitMix64).
//!
//! Twinnet owns its generator instead of depending on `rand`, so that a seed gives the same
//! initial weights and batch order on every platform and with every future dependency version.

/// xoshiro256** (Blackman & Vigna), seeded from a `u64` through SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

/// Independent streams derived from one user seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Initial parameters.
    Init = 1,
    /// Mini-batch order.
    Shuffle = 2,
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator for `stream` of the user's `seed`.
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mut x = seed ^ (stream as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
        Self { s: std::array::from_fn(|_| splitmix64(&mut x)) }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in `[lo, hi)`, from 24 random bits (the full precision of an `f32` in `[0, 1)`).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 * (1.0 / (1u32 << 24) as f32);
        lo + (hi - lo) * u
    }

    /// A standard normal draw, `N(0, 1)`, by Box–Muller from two 53-bit uniforms:
    /// ```text
    /// u₁ ∈ (0, 1],  u₂ ∈ [0, 1):   z = √(−2 ln u₁) · cos(2π u₂)
    /// ```
    /// computed in `f64` with the `libm` crate's `log` and `cos` (a portable software
    /// implementation: the platform's `ln`/`cos` may pick a different code path on another CPU,
    /// and a draw must be the same bits everywhere), then rounded to `f32`. One draw per call
    /// (the sine half is not kept), so a tensor's draws do not depend on the one before.
    pub fn normal(&mut self) -> f32 {
        let unit = |bits: u64| (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        let u1 = 1.0 - unit(self.next_u64());
        let u2 = unit(self.next_u64());
        ((-2.0 * libm::log(u1)).sqrt() * libm::cos(2.0 * std::f64::consts::PI * u2)) as f32
    }

    /// Uniform integer in `[0, n)`, without modulo bias (Lemire's method).
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "empty range");
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            if low >= n.wrapping_neg() % n {
                return (m >> 64) as u64;
            }
        }
    }

    /// Fisher–Yates shuffle in place.
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            xs.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_and_repeat() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(0, Stream::Init);
                move |_| r.next_u64()
            })
            .collect();
        let mut r = Rng::new(0, Stream::Init);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        let mut s = Rng::new(0, Stream::Shuffle);
        assert_ne!(a[0], s.next_u64());
    }

    #[test]
    fn uniform_range_and_mean() {
        let mut r = Rng::new(42, Stream::Init);
        let xs: Vec<f32> = (0..100_000).map(|_| r.uniform(-0.5, 0.5)).collect();
        assert!(xs.iter().all(|x| (-0.5..0.5).contains(x)));
        let mean = xs.iter().map(|&x| x as f64).sum::<f64>() / xs.len() as f64;
        // sd of the mean of U[-0.5, 0.5] over 1e5 draws is 0.29/316 ≈ 9e-4: 5 sd.
        assert!(mean.abs() < 5e-3, "{mean}");
    }

    /// Mean 0, variance 1, the tails of a normal (Kolmogorov–Smirnov against statrs' normal
    /// CDF), and the same first draws as when this was written (the bits are part of every
    /// result drawn with `--init normal`).
    #[test]
    fn normal_draws() {
        use statrs::distribution::{ContinuousCDF, Normal};
        let mut r = Rng::new(7, Stream::Init);
        let mut xs: Vec<f64> = (0..100_000).map(|_| r.normal() as f64).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // sd of the mean: 1/316 ≈ 3.2e-3; of the variance: √(2/n) ≈ 4.5e-3: 5 sd each.
        assert!(mean.abs() < 0.016 && (var - 1.0).abs() < 0.023, "{mean} {var}");
        xs.sort_by(f64::total_cmp);
        let cdf = Normal::standard();
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf.cdf(x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max);
        // Kolmogorov's 0.1% critical value: 1.95/√n.
        assert!(d < 1.95 / n.sqrt(), "KS distance {d}");
        let mut r = Rng::new(0, Stream::Init);
        let first: Vec<u32> = (0..3).map(|_| r.normal().to_bits()).collect();
        assert_eq!(
            first,
            PINNED_NORMAL_BITS,
            "{:?}",
            first.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>()
        );
    }

    /// The first three `normal()` draws of seed 0's init stream.
    const PINNED_NORMAL_BITS: [u32; 3] = [3206279070, 1002981521, 1065141041];

    #[test]
    fn shuffle_is_a_permutation() {
        let mut r = Rng::new(3, Stream::Shuffle);
        let mut xs: Vec<u32> = (0..1000).collect();
        r.shuffle(&mut xs);
        assert_ne!(xs, (0..1000).collect::<Vec<_>>());
        xs.sort_unstable();
        assert_eq!(xs, (0..1000).collect::<Vec<_>>());
    }
}
