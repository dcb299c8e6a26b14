//! The files of the exchange, in formats any language reads: the normalized data set as
//! `.npy` (float32 `[n, 784]`, int64 `[n]`), written once per (content, normalization) into
//! twinnet's cache; parameters as one float32 `.npy` per tensor; predictions as int64 `.npy`.

use crate::error::ProcessError;
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use twinnet_core::{Params, CLASSES, INPUTS};
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

/// The file beside a split's two `.npy` files recording their sizes and sha256, as
/// `sha256sum` writes them (`<hash>  <size> <name>` per line).
const SUMS: &str = "SUMS";

/// `data`, normalized by `norm`, as `.npy` files under `cache/process-data/`: written once per
/// content and normalization (atomically: a folder of its own, renamed into place), reused
/// after.
///
/// Programs are handed these files, and a program can write to them: they are made read-only,
/// and their sizes and sha256 are recorded beside them when written and checked each time a
/// run hands them over. Files that changed since are rebuilt, with a warning on stderr, so no
/// run trains on data a program altered while its result says the data was verified.
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
    // Fast path, no lock: the files are there and as written.
    if matches!(intact(&dir), Intact::Yes) {
        return Ok(files);
    }
    std::fs::create_dir_all(&root).map_err(|e| ProcessError::io(&root, "cannot create", e))?;
    // Runs in other threads or processes may be checking or building the same folder: one at a
    // time, and each looks again once it holds the lock (the folder may have been built
    // meanwhile, and must then not be touched: a run may be reading it).
    let lock_path = root.join(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| ProcessError::io(&lock_path, "cannot open", e))?;
    lock.lock().map_err(|e| ProcessError::io(&lock_path, "cannot lock", e))?;
    match intact(&dir) {
        Intact::Yes => return Ok(files),
        Intact::Absent => {}
        Intact::No(why) => eprintln!(
            "twinnet: warning: {}: {why} since twinnet wrote it (a program may have written to \
             the data it was handed): rebuilt from the data set",
            dir.display()
        ),
    }
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
    let mut sums = String::new();
    for f in [&tx, &ty] {
        let (size, hash) = size_and_hash(f).map_err(|e| ProcessError::io(f, "cannot read", e))?;
        let name = f.file_name().unwrap_or_default().to_string_lossy();
        sums.push_str(&format!("{hash}  {size} {name}\n"));
        std::fs::set_permissions(f, twinnet_core::file::default_permissions(0o444))
            .map_err(|e| ProcessError::io(f, "cannot make read-only", e))?;
    }
    let s = tmp.path().join(SUMS);
    std::fs::write(&s, sums).map_err(|e| ProcessError::io(&s, "cannot write", e))?;
    let existing = std::fs::symlink_metadata(&dir).ok();
    if existing.as_ref().is_some_and(|m| m.is_dir()) {
        // A folder that failed its check: each file is replaced by rename, so its path names
        // a whole file at every moment (a run that opened the old one keeps it), the record
        // last.
        for name in ["x.npy", "y.npy", SUMS] {
            let (from, to) = (tmp.path().join(name), dir.join(name));
            std::fs::rename(&from, &to).map_err(|e| ProcessError::io(&to, "cannot replace", e))?;
        }
    } else {
        // Not a folder (a link or a file put there): removed, never followed.
        if existing.is_some() {
            std::fs::remove_file(&dir).map_err(|e| ProcessError::io(&dir, "cannot remove", e))?;
        }
        std::fs::rename(tmp.path(), &dir)
            .map_err(|e| ProcessError::io(&dir, "cannot move into place", e))?;
        let _ = tmp.keep();
    }
    drop(lock);
    Ok(files)
}

/// Whether a split's folder holds the files its sums record.
enum Intact {
    Yes,
    Absent,
    No(String),
}

fn intact(dir: &Path) -> Intact {
    let Ok(sums) = std::fs::read_to_string(dir.join(SUMS)) else {
        return if dir.exists() {
            Intact::No("no record of its files".into())
        } else {
            Intact::Absent
        };
    };
    let mut seen = 0;
    for line in sums.lines() {
        let mut parts = line.splitn(2, "  ");
        let (Some(hash), Some(rest)) = (parts.next(), parts.next()) else {
            return Intact::No("its record is unreadable".into());
        };
        let Some((size, name)) = rest.split_once(' ') else {
            return Intact::No("its record is unreadable".into());
        };
        let f = dir.join(name);
        match size_and_hash(&f) {
            Ok((s, h)) if s.to_string() == size && h == hash => seen += 1,
            Ok(_) => return Intact::No(format!("{name} changed")),
            Err(_) => return Intact::No(format!("{name} is gone")),
        }
    }
    if seen == 2 {
        Intact::Yes
    } else {
        Intact::No("its record is incomplete".into())
    }
}

/// A file's size and sha256 (hex).
fn size_and_hash(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let size = std::io::copy(&mut f, &mut h)?;
    Ok((size, h.finalize().iter().map(|b| format!("{b:02x}")).collect()))
}

/// Writes `p` into `dir` as `<name>.npy`, one float32 file per tensor in PyTorch's shape;
/// returns the paths by name.
pub fn write_params(dir: &Path, p: &Params) -> Result<Vec<(String, PathBuf)>, ProcessError> {
    let mut out = vec![];
    for (name, shape, values) in p.tensors() {
        let path = dir.join(format!("{name}.npy"));
        let a = ndarray::ArrayD::from_shape_vec(shape, values.to_vec()).expect("tensor shapes");
        write_npy(&path, &a).map_err(|e| npy_error(&path, "cannot write", e))?;
        out.push((name, path));
    }
    Ok(out)
}

/// Reads the tensors of the network of `widths` (input first) from `dir`, checking names and
/// shapes.
pub fn read_params(dir: &Path, widths: &[usize]) -> Result<Params, String> {
    let mut p = Params::zeros_widths(widths);
    let shapes: Vec<(String, Vec<usize>)> =
        p.tensors().into_iter().map(|(name, shape, _)| (name, shape)).collect();
    for ((name, shape), slot) in shapes.into_iter().zip(p.tensors_mut()) {
        let path = dir.join(format!("{name}.npy"));
        let a: ndarray::ArrayD<f32> =
            read_npy(&path).map_err(|e| format!("{name}: not a float32 .npy file ({e})"))?;
        if a.shape() != shape.as_slice() {
            return Err(format!("{name} has shape {:?}, expected {shape:?}", a.shape()));
        }
        *slot = a.iter().copied().collect();
    }
    Ok(p)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A program that writes over the data it was handed (root ignores read-only files) does
    /// not poison later runs: the next hand-over finds the change and rebuilds the files.
    #[test]
    fn altered_data_files_are_rebuilt() {
        let cache = tempfile::tempdir().unwrap();
        let labels: Vec<u8> = (0..50).map(|i| (i % 10) as u8).collect();
        let pixels: Vec<u8> = (0..50 * INPUTS).map(|i| (i * 7 % 256) as u8).collect();
        let data = Dataset::new(pixels, labels);
        let f = split_files(cache.path(), &data, Normalize::Unit).unwrap();
        let good = std::fs::read(&f.x).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&f.x).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o444, "handed over read-only");
        }
        // Poisoned in place, and replaced by a file of the same size.
        std::fs::set_permissions(&f.x, twinnet_core::file::default_permissions(0o644)).unwrap();
        let mut bad = good.clone();
        *bad.last_mut().unwrap() ^= 0x55;
        std::fs::write(&f.x, &bad).unwrap();
        let again = split_files(cache.path(), &data, Normalize::Unit).unwrap();
        assert_eq!(again, f);
        assert_eq!(std::fs::read(&f.x).unwrap(), good, "rebuilt from the data set");
        // Gone altogether.
        std::fs::remove_file(&f.y).unwrap();
        split_files(cache.path(), &data, Normalize::Unit).unwrap();
        assert!(f.y.is_file());
        // The folder replaced by a link elsewhere: the link is removed, not followed.
        let elsewhere = tempfile::tempdir().unwrap();
        let dir = f.x.parent().unwrap();
        std::fs::remove_dir_all(dir).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(elsewhere.path(), dir).unwrap();
            split_files(cache.path(), &data, Normalize::Unit).unwrap();
            assert_eq!(
                std::fs::read_dir(elsewhere.path()).unwrap().count(),
                0,
                "nothing written through it"
            );
            assert_eq!(std::fs::read(&f.x).unwrap(), good);
        }
    }

    /// Runs in several threads handed the same data at once each find whole files at the
    /// paths they are given, at every moment (CI once saw a run's program find `x.npy` gone:
    /// a second builder had moved the first one's finished folder aside).
    #[test]
    fn concurrent_hand_overs_never_lose_the_files() {
        let labels: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
        let pixels: Vec<u8> = (0..200 * INPUTS).map(|i| (i * 13 % 256) as u8).collect();
        let data = Dataset::new(pixels, labels);
        for _ in 0..20 {
            let cache = tempfile::tempdir().unwrap();
            let barrier = std::sync::Barrier::new(6);
            std::thread::scope(|s| {
                for _ in 0..6 {
                    s.spawn(|| {
                        barrier.wait();
                        for _ in 0..5 {
                            let f = split_files(cache.path(), &data, Normalize::Unit).unwrap();
                            let x: Array2<f32> = read_npy(&f.x).expect("x.npy is there");
                            let y: Array1<i64> = read_npy(&f.y).expect("y.npy is there");
                            assert_eq!((x.nrows(), y.len()), (200, 200));
                        }
                    });
                }
            });
        }
    }
}
