//! Pixel normalizations of the report: `u8` pixel → `f32` feature.
//!
//! ```text
//! unit:       x = p / 255                  ∈ [0, 1]    (the report's NumPy model)
//! symmetric:  x = (p / 255 − 0.5) / 0.5    ∈ [−1, 1]   (torchvision ToTensor + Normalize(0.5, 0.5))
//! ```
//! Both are computed in `f32` in exactly the order torchvision uses, so a tensor built here
//! equals the one the report's PyTorch code fed to its model, bit for bit.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How raw pixels become network inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Normalize {
    /// `p / 255`, in `[0, 1]`.
    Unit,
    /// `(p / 255 − 0.5) / 0.5`, in `[−1, 1]`.
    Symmetric,
}

impl Normalize {
    /// All variants, in the order they are documented.
    pub const ALL: [Normalize; 2] = [Normalize::Unit, Normalize::Symmetric];

    /// The option value that names this variant.
    pub fn as_str(self) -> &'static str {
        match self {
            Normalize::Unit => "unit",
            Normalize::Symmetric => "symmetric",
        }
    }

    /// Normalizes one pixel.
    #[inline]
    pub fn apply(self, p: u8) -> f32 {
        let x = p as f32 / 255.0;
        match self {
            Normalize::Unit => x,
            Normalize::Symmetric => (x - 0.5) / 0.5,
        }
    }

    /// `(a, c)` with `apply(p) = a·p + c` up to one `f32` rounding (unit: `1/255, 0`;
    /// symmetric: `2/255, −1`), for code that folds the normalization into a product:
    /// `Σ w·x = a·Σ w·p + c·Σ w`.
    pub fn affine(self) -> (f32, f32) {
        match self {
            Normalize::Unit => (1.0 / 255.0, 0.0),
            Normalize::Symmetric => (2.0 / 255.0, -1.0),
        }
    }

    /// Normalizes a slice of pixels into a new vector.
    pub fn apply_all(self, ps: &[u8]) -> Vec<f32> {
        let mut xs = vec![0.0; ps.len()];
        self.apply_into(&mut xs, ps);
        xs
    }

    /// `dst[k] = self.apply(src[k])` (over the shorter of the two), with the widest vectors
    /// the CPU has: the division is IEEE's in every lane, so the values are exactly
    /// [`apply`](Self::apply)'s.
    pub fn apply_into(self, dst: &mut [f32], src: &[u8]) {
        #[inline(always)]
        fn each(dst: &mut [f32], src: &[u8], norm: Normalize) {
            match norm {
                Normalize::Unit => {
                    dst.iter_mut().zip(src).for_each(|(d, &p)| *d = Normalize::Unit.apply(p))
                }
                Normalize::Symmetric => {
                    dst.iter_mut().zip(src).for_each(|(d, &p)| *d = Normalize::Symmetric.apply(p))
                }
            }
        }
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            fn avx512(dst: &mut [f32], src: &[u8], norm: Normalize) {
                each(dst, src, norm)
            }
            #[target_feature(enable = "avx2")]
            fn avx2(dst: &mut [f32], src: &[u8], norm: Normalize) {
                each(dst, src, norm)
            }
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has the instructions.
                return unsafe { avx512(dst, src, self) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has the instructions.
                return unsafe { avx2(dst, src, self) };
            }
        }
        each(dst, src, self)
    }
}

impl fmt::Display for Normalize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Normalize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown normalization `{s}` (expected unit or symmetric)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_endpoints() {
        assert_eq!(Normalize::Unit.apply(0), 0.0);
        assert_eq!(Normalize::Unit.apply(255), 1.0);
        assert_eq!(Normalize::Symmetric.apply(0), -1.0);
        assert_eq!(Normalize::Symmetric.apply(255), 1.0);
        // torch: (torch.tensor(128, dtype=torch.uint8).float() / 255 - 0.5) / 0.5 = 0.003921628
        assert!((Normalize::Symmetric.apply(128) - 0.003_921_628).abs() < 1e-7);
        for p in 0..=255u8 {
            let (u, s) = (Normalize::Unit.apply(p), Normalize::Symmetric.apply(p));
            assert!((0.0..=1.0).contains(&u) && (-1.0..=1.0).contains(&s));
        }
    }

    #[test]
    fn affine_matches_apply() {
        for n in Normalize::ALL {
            let (a, c) = n.affine();
            for p in 0..=255u8 {
                assert!((a * p as f32 + c - n.apply(p)).abs() <= 2.0 * f32::EPSILON, "{n} {p}");
            }
        }
    }

    #[test]
    fn apply_all_matches_apply() {
        // Every value, off the vector boundary, and a tail.
        let ps: Vec<u8> = (0..=255).chain(0..=255).skip(3).collect();
        for n in Normalize::ALL {
            let xs = n.apply_all(&ps);
            for (&p, &x) in ps.iter().zip(&xs) {
                assert_eq!(x.to_bits(), n.apply(p).to_bits());
            }
        }
    }

    #[test]
    fn parse_round_trip() {
        for n in Normalize::ALL {
            assert_eq!(n.as_str().parse::<Normalize>().unwrap(), n);
        }
        assert!("zscore".parse::<Normalize>().is_err());
    }
}
