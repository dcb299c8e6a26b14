//! IDX files, the format MNIST ships in: a big-endian header, then raw `u8` data.
//!
//! ```text
//! images (idx3): magic 2051 | count u32 | rows u32 | cols u32 | count·rows·cols pixels
//! labels (idx1): magic 2049 | count u32 |                       count labels
//! ```
//! A file that starts with the gzip magic bytes `1f 8b` (or whose name ends in `.gz`) is
//! decompressed first, so the `.gz` files of the original MNIST site read the same way.

use crate::error::{DataError, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::Path;

/// Magic number of an idx3 (3-D, `u8`) image file.
pub const IMAGES_MAGIC: u32 = 2051;
/// Magic number of an idx1 (1-D, `u8`) label file.
pub const LABELS_MAGIC: u32 = 2049;
/// MNIST's side length: images are `SIDE × SIDE`.
pub const SIDE: usize = 28;
/// Pixels per image, `28 · 28 = 784`.
pub const PIXELS: usize = SIDE * SIDE;
/// Decompressed size above which a `.gz` file is refused (MNIST's largest file is 47 MB).
pub const MAX_DECOMPRESSED: u64 = 1 << 30;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads a file's bytes, decompressing gzip transparently.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if path.is_dir() {
        return Err(DataError::IsDir { path: path.into() });
    }
    let io = |source| DataError::Io { path: path.into(), source };
    // Checked before opening (opening a FIFO blocks until a writer comes), and again after:
    // what is read is a regular file.
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(DataError::NotAFile { path: path.into() });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(DataError::NotAFile { path: path.into() });
    }
    let mut raw = Vec::new();
    file.take(MAX_DECOMPRESSED + 1).read_to_end(&mut raw).map_err(io)?;
    if raw.len() as u64 > MAX_DECOMPRESSED {
        return Err(DataError::TooLarge { path: path.into(), limit: MAX_DECOMPRESSED });
    }
    let named_gz = path.extension().is_some_and(|e| e == "gz");
    if raw.starts_with(&GZIP_MAGIC) || named_gz {
        gunzip(path, &raw)
    } else {
        Ok(raw)
    }
}

fn gunzip(path: &Path, raw: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut dec = GzDecoder::new(raw).take(MAX_DECOMPRESSED + 1);
    dec.read_to_end(&mut out).map_err(|source| DataError::Gzip { path: path.into(), source })?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(DataError::TooLarge { path: path.into(), limit: MAX_DECOMPRESSED });
    }
    Ok(out)
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// Checks the header length and magic number, returns the header's `u32` fields after it.
fn header<const N: usize>(
    path: &Path,
    bytes: &[u8],
    kind: &'static str,
    magic: u32,
) -> Result<[u32; N]> {
    let len = 4 * (N + 1);
    if bytes.len() < 4 {
        let found = bytes.len() as u64;
        return Err(DataError::Truncated {
            path: path.into(),
            part: "header",
            expected: len as u64,
            found,
        });
    }
    let found = be_u32(bytes, 0);
    if found != magic {
        return Err(DataError::Magic { path: path.into(), kind, expected: magic, found });
    }
    if bytes.len() < len {
        let found = bytes.len() as u64;
        return Err(DataError::Truncated {
            path: path.into(),
            part: "header",
            expected: len as u64,
            found,
        });
    }
    Ok(std::array::from_fn(|i| be_u32(bytes, 4 * (i + 1))))
}

/// Checks that the body after a header of `head` bytes holds exactly `expected` bytes.
fn body<'a>(path: &Path, bytes: &'a [u8], head: usize, expected: u64) -> Result<&'a [u8]> {
    let found = (bytes.len() - head) as u64;
    if found < expected {
        return Err(DataError::Truncated { path: path.into(), part: "data", expected, found });
    }
    if found > expected {
        return Err(DataError::Trailing { path: path.into(), expected, extra: found - expected });
    }
    Ok(&bytes[head..])
}

/// Parses an idx3 image file held in memory; `path` only names it in errors.
///
/// Returns the pixels, `count · 784` bytes, image after image, row-major.
pub fn parse_images(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let [count, rows, cols] = header::<3>(path, bytes, "idx3 images", IMAGES_MAGIC)?;
    if rows as usize != SIDE || cols as usize != SIDE {
        return Err(DataError::Dims { path: path.into(), rows, cols });
    }
    let expected = count as u64 * PIXELS as u64;
    Ok(body(path, bytes, 16, expected)?.to_vec())
}

/// Parses an idx1 label file held in memory; every label must be a digit 0–9.
pub fn parse_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let [count] = header::<1>(path, bytes, "idx1 labels", LABELS_MAGIC)?;
    let labels = body(path, bytes, 8, count as u64)?;
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(DataError::Label { path: path.into(), index, label });
    }
    Ok(labels.to_vec())
}

/// Reads and validates an idx3 image file (raw or gzip).
pub fn read_images(path: &Path) -> Result<Vec<u8>> {
    parse_images(path, &read_bytes(path)?)
}

/// Reads and validates an idx1 label file (raw or gzip).
pub fn read_labels(path: &Path) -> Result<Vec<u8>> {
    parse_labels(path, &read_bytes(path)?)
}

/// Encodes `pixels` (`count · rows · cols` bytes) as an idx3 file.
///
/// The inverse of [`parse_images`] for 28×28 images; other sizes are allowed so tests can
/// build invalid files.
pub fn encode_images(pixels: &[u8], rows: u32, cols: u32) -> Vec<u8> {
    let per = (rows as usize * cols as usize).max(1);
    let count = (pixels.len() / per) as u32;
    let mut out = Vec::with_capacity(16 + pixels.len());
    for v in [IMAGES_MAGIC, count, rows, cols] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes `labels` as an idx1 file, the inverse of [`parse_labels`].
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    for v in [LABELS_MAGIC, labels.len() as u32] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> &'static Path {
        Path::new("mem.idx")
    }

    #[test]
    fn round_trip_in_memory() {
        let pixels: Vec<u8> = (0..3 * PIXELS).map(|i| (i * 7 % 256) as u8).collect();
        assert_eq!(parse_images(p(), &encode_images(&pixels, 28, 28)).unwrap(), pixels);
        let labels = vec![0, 9, 5];
        assert_eq!(parse_labels(p(), &encode_labels(&labels)).unwrap(), labels);
        // Zero images is a valid, empty file.
        assert!(parse_images(p(), &encode_images(&[], 28, 28)).unwrap().is_empty());
    }

    #[test]
    fn header_errors() {
        let err = parse_images(p(), &[]).unwrap_err();
        assert!(matches!(err, DataError::Truncated { part: "header", found: 0, .. }), "{err}");
        let err = parse_images(p(), &encode_labels(&[1])).unwrap_err();
        assert!(matches!(err, DataError::Magic { expected: 2051, found: 2049, .. }), "{err}");
        let err = parse_labels(p(), &encode_images(&[0; PIXELS], 28, 28)).unwrap_err();
        assert!(matches!(err, DataError::Magic { expected: 2049, found: 2051, .. }), "{err}");
        let short = &encode_images(&[0; PIXELS], 28, 28)[..10];
        let err = parse_images(p(), short).unwrap_err();
        assert!(matches!(
            err,
            DataError::Truncated { part: "header", expected: 16, found: 10, .. }
        ));
        let err = parse_images(p(), &encode_images(&[0; 27 * 28], 27, 28)).unwrap_err();
        assert!(matches!(err, DataError::Dims { rows: 27, cols: 28, .. }), "{err}");
        assert!(err.to_string().contains("expected 28x28 images, found 27x28"));
    }

    #[test]
    fn body_errors() {
        let mut f = encode_images(&[1; 2 * PIXELS], 28, 28);
        f.pop();
        let err = parse_images(p(), &f).unwrap_err();
        assert!(matches!(
            err,
            DataError::Truncated { part: "data", expected: 1568, found: 1567, .. }
        ));
        f.extend_from_slice(&[0, 0, 0]);
        let err = parse_images(p(), &f).unwrap_err();
        assert!(matches!(err, DataError::Trailing { expected: 1568, extra: 2, .. }), "{err}");
        let err = parse_labels(p(), &encode_labels(&[3, 10, 2])).unwrap_err();
        assert!(matches!(err, DataError::Label { index: 1, label: 10, .. }), "{err}");
        // A header promising far more than the file holds is an error, not a huge allocation.
        let mut huge = encode_labels(&[1]);
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(parse_labels(p(), &huge), Err(DataError::Truncated { .. })));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(7), ..ProptestConfig::default() })]

        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse_images(p(), &bytes);
            let _ = parse_labels(p(), &bytes);
            let _ = gunzip(p(), &bytes);
        }

        #[test]
        fn parsers_never_panic_on_valid_headers(
            count in 0u32..4, rows in 0u32..40, tail in proptest::collection::vec(any::<u8>(), 0..4000)
        ) {
            let mut f = Vec::new();
            for v in [IMAGES_MAGIC, count, rows, 28] { f.extend_from_slice(&v.to_be_bytes()); }
            f.extend_from_slice(&tail);
            if let Ok(px) = parse_images(p(), &f) {
                prop_assert_eq!(px.len(), count as usize * PIXELS);
            }
            let mut l = Vec::new();
            for v in [LABELS_MAGIC, count] { l.extend_from_slice(&v.to_be_bytes()); }
            l.extend_from_slice(&tail);
            if let Ok(ls) = parse_labels(p(), &l) {
                prop_assert!(ls.iter().all(|&x| x <= 9));
            }
        }
    }
}
