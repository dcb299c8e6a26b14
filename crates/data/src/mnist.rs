//! The MNIST splits: locating the four standard files, reading both splits, and the data
//! folder's default location.

use crate::error::{DataError, Result};
use crate::idx::{parse_images, parse_labels, read_bytes, PIXELS};
use crate::normalize::Normalize;
use crate::source::DatasetName;
use std::path::{Path, PathBuf};

/// The four standard file names (the original MNIST site's and torchvision's, without `.gz`).
pub const FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Environment variable naming the data folder (the `--data-dir` flag wins over it).
pub const DATA_DIR_ENV: &str = "TWINNET_DATA_DIR";
/// Environment variable naming twinnet's cache folder (libtorch venv, `mnist/`).
pub const CACHE_ENV: &str = "TWINNET_CACHE";

/// Twinnet's cache folder: `$TWINNET_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/twinnet`.
pub fn cache_dir() -> PathBuf {
    let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    var(CACHE_ENV).unwrap_or_else(|| {
        let base = var("XDG_CACHE_HOME")
            .or_else(|| var("HOME").map(|h| h.join(".cache")))
            .unwrap_or_else(|| PathBuf::from(".cache"));
        base.join("twinnet")
    })
}

/// The data folder used when none is given: `$TWINNET_DATA_DIR`, else `<cache>/mnist`
/// (where `make data` puts the files).
pub fn default_data_dir() -> PathBuf {
    std::env::var_os(DATA_DIR_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("mnist"))
}

/// Finds `name` or `name.gz` in `dir`, or in torchvision's layout `dir/MNIST/raw/`.
pub fn locate(dir: &Path, name: &'static str) -> Result<PathBuf> {
    let gz = format!("{name}.gz");
    [dir.to_path_buf(), dir.join("MNIST").join("raw")]
        .iter()
        .flat_map(|d| [d.join(name), d.join(&gz)])
        .find(|p| p.exists())
        .ok_or_else(|| DataError::MissingFile { dir: dir.into(), name })
}

/// One split: `len()` images of 28×28 `u8` pixels with their digit labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Dataset {
    /// Builds a split from row-major pixels (`labels.len() · 784` bytes) and labels 0–9.
    ///
    /// # Panics
    /// If the lengths disagree or a label is above 9; file input goes through [`Dataset::read`].
    pub fn new(pixels: Vec<u8>, labels: Vec<u8>) -> Self {
        assert_eq!(pixels.len(), labels.len() * PIXELS, "pixels and labels disagree");
        assert!(labels.iter().all(|&l| l <= 9), "labels must be digits");
        Self { pixels, labels }
    }

    /// Reads an image file and a label file and checks that they agree.
    pub fn read(images: &Path, labels: &Path) -> Result<Self> {
        Ok(Self::read_hashed(images, labels)?.0)
    }

    /// [`Dataset::read`], with the sha256 of each file's decompressed bytes.
    fn read_hashed(images: &Path, labels: &Path) -> Result<(Self, String, String)> {
        let (ib, lb) = (read_bytes(images)?, read_bytes(labels)?);
        let (si, sl) = (sha256_hex(&ib), sha256_hex(&lb));
        let pixels = parse_images(images, &ib)?;
        let ls = parse_labels(labels, &lb)?;
        let n_images = pixels.len() / PIXELS;
        if n_images != ls.len() {
            return Err(DataError::CountMismatch {
                images: images.into(),
                n_images,
                labels: labels.into(),
                n_labels: ls.len(),
            });
        }
        Ok((Self { pixels, labels: ls }, si, sl))
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no example.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All pixels, `len() · 784` bytes, image after image.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The 784 pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * PIXELS..(i + 1) * PIXELS]
    }

    /// The digit labels.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The normalized features, `len() × 784` row-major `f32`.
    pub fn features(&self, norm: Normalize) -> Vec<f32> {
        norm.apply_all(&self.pixels)
    }

    /// How many examples of each digit.
    pub fn label_counts(&self) -> [usize; 10] {
        let mut counts = [0; 10];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// The first `n` examples (`--train-limit`).
    pub fn take(&self, n: usize) -> Result<Self> {
        if n > self.len() {
            return Err(DataError::Limit { requested: n, available: self.len() });
        }
        Ok(Self { pixels: self.pixels[..n * PIXELS].to_vec(), labels: self.labels[..n].to_vec() })
    }
}

/// Both splits of MNIST or a dataset in its format, and the checksums of what was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mnist {
    /// The training images (60,000 for MNIST and Fashion-MNIST).
    pub train: Dataset,
    /// The test images (10,000).
    pub test: Dataset,
    /// The sha256 (hex) of each of the four files' decompressed bytes, in [`FILES`] order.
    pub sha256: [String; 4],
}

impl Mnist {
    /// Loads both splits from a folder holding the four standard files, raw or `.gz`.
    pub fn load(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            return Err(DataError::MissingDir { dir: dir.into() });
        }
        let paths = FILES.map(|f| locate(dir, f));
        let [tri, trl, tei, tel] = paths;
        let (tri, trl, tei, tel) = (tri?, trl?, tei?, tel?);
        let (train, s0, s1) = Dataset::read_hashed(&tri, &trl)?;
        let (test, s2, s3) = Dataset::read_hashed(&tei, &tel)?;
        Ok(Self { train, test, sha256: [s0, s1, s2, s3] })
    }

    /// Whether the four files are exactly `name`'s pinned ones.
    pub fn is(&self, name: DatasetName) -> bool {
        self.sha256.iter().zip(name.pinned_sha256()).all(|(a, b)| a == b)
    }

    /// The known dataset these files are, if any.
    pub fn identify(&self) -> Option<DatasetName> {
        DatasetName::ALL.into_iter().find(|&d| self.is(d))
    }
}

/// The sha256 of `bytes` as 64 lowercase hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
