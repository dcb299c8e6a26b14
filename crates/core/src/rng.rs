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
