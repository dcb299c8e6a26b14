//! The files of the exchange, in formats any language reads: the normalized data set as
//! `.npy` (float32 `[n, 784]`, int64 `[n]`), written once per (content, normalization) into
//! twinnet's cache; parameters as one float32 `.npy` per tensor; predictions as int64 `.npy`.

use crate::error::ProcessError;
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use twinnet_core::{Params, CLASSES, INPUTS, NAMES};
use twinnet_data::{Dataset, Normalize};

/// A split's two files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFiles {
    /// Normalized images, float32 `[n, 784]`.
    pub x: PathBuf,
    /// Labels, int64 `[n]`.
    pub y: PathBuf,
}

fn npy_error(path: &Path, action: &'static str, e: impl std::fmt::Display) -> ProcessError {
    ProcessError::io(path, action, std::io::Error::other(e.to_string()))
}

/// `data`, normalized by `norm`, as `.npy` files under `cache/process-data/`: written once per
/// content and normalization (atomically: a folder of its own, renamed into place), reused
/// after.
pub fn split_files(
    cache: &Path,
    data: &Dataset,
    norm: Normalize,
) -> Result<SplitFiles, ProcessError> {
    let mut h = Sha256::new();
    h.update((data.len() as u64).to_le_bytes());
    h.update(data.pixels());
    h.update(data.labels());
    let key: String = h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let root = cache.join("process-data");
    let dir = root.join(format!("{key}-{norm}"));
    let files = SplitFiles { x: dir.join("x.npy"), y: dir.join("y.npy") };
    if files.x.is_file() && files.y.is_file() {
        return Ok(files);
    }
    std::fs::create_dir_all(&root).map_err(|e| ProcessError::io(&root, "cannot create", e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".data-")
        .tempdir_in(&root)
        .map_err(|e| ProcessError::io(&root, "cannot create a folder in", e))?;
    let x = Array2::from_shape_vec((data.len(), INPUTS), data.features(norm))
        .expect("a dataset holds n × 784 pixels");
    let y: Array1<i64> = data.labels().iter().map(|&l| l as i64).collect();
    let (tx, ty) = (tmp.path().join("x.npy"), tmp.path().join("y.npy"));
    write_npy(&tx, &x).map_err(|e| npy_error(&tx, "cannot write", e))?;
    write_npy(&ty, &y).map_err(|e| npy_error(&ty, "cannot write", e))?;
    match std::fs::rename(tmp.path(), &dir) {
        Ok(()) => {
            let _ = tmp.keep();
        }
        // Another process wrote the same files meanwhile: theirs are as good.
        Err(_) if files.x.is_file() && files.y.is_file() => {}
        Err(e) => return Err(ProcessError::io(&dir, "cannot move into place", e)),
    }
    Ok(files)
}

/// Writes `p` into `dir` as `<name>.npy`, one float32 file per tensor in PyTorch's shape;
/// returns the paths by name.
pub fn write_params(dir: &Path, p: &Params) -> Result<Vec<(&'static str, PathBuf)>, ProcessError> {
    let mut out = vec![];
    for (name, shape, values) in p.tensors() {
        let path = dir.join(format!("{name}.npy"));
        let a = ndarray::ArrayD::from_shape_vec(shape, values.to_vec()).expect("tensor shapes");
        write_npy(&path, &a).map_err(|e| npy_error(&path, "cannot write", e))?;
        out.push((name, path));
    }
    Ok(out)
}

/// Reads the four tensors of width `hidden` from `dir`, checking names and shapes.
pub fn read_params(dir: &Path, hidden: usize) -> Result<Params, String> {
    let mut tensors = vec![];
    for (name, shape) in
        NAMES.iter().zip([vec![hidden, INPUTS], vec![hidden], vec![CLASSES, hidden], vec![CLASSES]])
    {
        let path = dir.join(format!("{name}.npy"));
        let a: ndarray::ArrayD<f32> =
            read_npy(&path).map_err(|e| format!("{name}: not a float32 .npy file ({e})"))?;
        if a.shape() != shape.as_slice() {
            return Err(format!("{name} has shape {:?}, expected {shape:?}", a.shape()));
        }
        tensors.push(a.iter().copied().collect::<Vec<f32>>());
    }
    let mut t = tensors.into_iter();
    let mut next = || t.next().unwrap_or_default();
    Ok(Params { hidden, w1: next(), b1: next(), w2: next(), b2: next() })
}

/// Reads `n` predictions (int64 class indices below 10) from `path`.
pub fn read_predictions(path: &Path, n: usize) -> Result<Vec<u8>, String> {
    let a: Array1<i64> =
        read_npy(path).map_err(|e| format!("predictions: not an int64 .npy file ({e})"))?;
    if a.len() != n {
        return Err(format!("{} predictions for {n} images", a.len()));
    }
    a.iter()
        .map(|&p| u8::try_from(p).ok().filter(|&p| (p as usize) < CLASSES))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| "a prediction is not a class index 0–9".to_string())
}
