//! Where a dataset's files are: the four standard names, twinnet's cache folder and the data
//! folder's default location, and finding a file raw, gzipped or in torchvision's layout.

use crate::error::{DataError, Result};
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
        .find(|p| std::fs::symlink_metadata(p).is_ok())
        .ok_or_else(|| DataError::MissingFile { dir: dir.into(), name })
        .and_then(|p| match std::fs::metadata(&p) {
            // A link that leads nowhere (dangling, or a loop) is there, and broken: said so,
            // not reported as absent.
            Err(source) => Err(DataError::Io { path: p, source }),
            Ok(_) => Ok(p),
        })
}
