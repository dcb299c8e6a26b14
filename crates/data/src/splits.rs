//! A dataset in MNIST's format, read: one split ([`Dataset`]) and both ([`Splits`], MNIST's or
//! Fashion-MNIST's), with the checksums of what was read.

use crate::error::{DataError, Result};
use crate::folder::{locate, FILES};
use crate::idx::{parse_images, parse_labels, read_bytes, PIXELS};
use crate::normalize::Normalize;
use crate::source::DatasetName;
use std::path::Path;

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
        if n_images == 0 {
            return Err(DataError::Empty { path: images.into() });
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

/// Both splits of a dataset in MNIST's format (MNIST, Fashion-MNIST), and the checksums of what
/// was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits {
    /// The training images (60,000 for MNIST and Fashion-MNIST).
    pub train: Dataset,
    /// The test images (10,000).
    pub test: Dataset,
    /// The sha256 (hex) of each of the four files' decompressed bytes, in [`FILES`] order.
    pub sha256: [String; 4],
}

impl Splits {
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
