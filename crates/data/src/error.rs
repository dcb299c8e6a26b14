//! Typed errors of the IDX reader: each names the file, what was expected and what was found.

use std::path::PathBuf;

/// Everything that can go wrong while locating, reading or validating MNIST files.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The data folder itself is missing or not a folder.
    #[error("{dir}: data folder not found (run `make data`, or pass --data-dir / set TWINNET_DATA_DIR to a folder holding the four MNIST files)")]
    MissingDir { dir: PathBuf },
    /// One of the four standard files is in none of the searched places.
    #[error("{dir}: no `{name}` or `{name}.gz` in this folder")]
    MissingFile { dir: PathBuf, name: &'static str },
    /// The path exists but is a directory.
    #[error("{path}: is a directory, expected an IDX file")]
    IsDir { path: PathBuf },
    /// The path is not a regular file (a FIFO, a device, a socket): reading it could block
    /// forever or never end.
    #[error("{path}: not a regular file (a FIFO, device or socket), expected an IDX file")]
    NotAFile { path: PathBuf },
    /// The split holds no example.
    #[error("{path}: holds no image (an empty split cannot train or test)")]
    Empty { path: PathBuf },
    /// The operating system refused to read the file.
    #[error("{path}: cannot read")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `.gz` file (or one starting with the gzip magic bytes) that does not decompress.
    #[error("{path}: not a valid gzip stream")]
    Gzip {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file (or its decompressed stream) is larger than any MNIST-like file should be.
    #[error("{path}: holds or decompresses to more than {limit} bytes, refusing to read it")]
    TooLarge { path: PathBuf, limit: u64 },
    /// The first four bytes are not the IDX magic number of the expected kind.
    #[error("{path}: bad magic number: expected {expected} ({kind}), found {found}")]
    Magic { path: PathBuf, kind: &'static str, expected: u32, found: u32 },
    /// Images that are not 28×28.
    #[error("{path}: expected 28x28 images, found {rows}x{cols}")]
    Dims { path: PathBuf, rows: u32, cols: u32 },
    /// Fewer bytes than the header (or the header's counts) promise.
    #[error("{path}: truncated {part}: expected {expected} bytes, found {found}")]
    Truncated { path: PathBuf, part: &'static str, expected: u64, found: u64 },
    /// More bytes than the header's counts account for.
    #[error("{path}: {extra} trailing bytes after the {expected} bytes the header describes")]
    Trailing { path: PathBuf, expected: u64, extra: u64 },
    /// A label outside 0–9.
    #[error("{path}: label {label} at index {index} is not a digit 0-9")]
    Label { path: PathBuf, index: usize, label: u8 },
    /// Image and label files of one split disagree on the number of examples.
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch { images: PathBuf, n_images: usize, labels: PathBuf, n_labels: usize },
    /// A request for more examples than a split holds.
    #[error("asked for {requested} examples but the split holds only {available}")]
    Limit { requested: usize, available: usize },
}

/// Shorthand used throughout the crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
