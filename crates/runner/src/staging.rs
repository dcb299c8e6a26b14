//! Output paths: checked before any training, and results written beside their final place
//! and moved into it as a whole, so a failed or interrupted run leaves what was there intact.

use crate::bail;
use crate::error::{Context, Result};
use std::path::{Path, PathBuf};

/// The folder `path` lives in (`.` for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Fails early, before any training, when nothing can be created in the folder of `path`
/// (the output of `--flag`): the folder must exist and be writable.
pub fn check_folder(path: &Path, flag: &str) -> Result<()> {
    let dir = parent_of(path);
    if !dir.is_dir() {
        bail!("--{flag} {}: folder {} does not exist", path.display(), dir.display());
    }
    let probe = dir.join(format!(".twinnet-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| {
        format!("--{flag} {}: folder {} is not writable", path.display(), dir.display())
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Fails early when the file `path` could not be written.
pub fn check_writable(path: &Path, flag: &str) -> Result<()> {
    if path.is_dir() {
        bail!("--{flag} {}: is a folder, expected a file path", path.display());
    }
    check_folder(path, flag)
}

/// Fails when `out` (a results folder, `--out`) is a file or its folder is not writable.
fn check_out_folder(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("--out {}: is a file, expected a folder", out.display());
    }
    check_folder(out, "out")
}

/// A results folder being built beside its final place `out` (as `.<name>.tmp-<pid>`), removed
/// on drop unless [`Staged::commit`] moved it into place.
#[derive(Debug)]
pub struct Staged {
    out: PathBuf,
    tmp: Option<PathBuf>,
    /// Kept on drop (a resumable folder, [`Staged::resumable`]).
    keep: bool,
}

impl Staged {
    /// Creates the temporary folder for `out`, whose folder must be writable.
    pub fn new(out: &Path) -> Result<Self> {
        check_out_folder(out)?;
        let leaf = out.file_name().context("--out must name a folder")?.to_string_lossy();
        let tmp = parent_of(out).join(format!(".{leaf}.tmp-{}", std::process::id()));
        std::fs::create_dir_all(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        Ok(Self { out: out.to_path_buf(), tmp: Some(tmp), keep: false })
    }

    /// The resumable folder for `out`, `.<name>.partial` beside it: kept when the work stops
    /// (an error, an interrupt) so that `--resume` finishes it; also returns whether it was
    /// there already.
    pub fn resumable(out: &Path) -> Result<(Self, bool)> {
        check_out_folder(out)?;
        let leaf = out.file_name().context("--out must name a folder")?.to_string_lossy();
        let tmp = parent_of(out).join(format!(".{leaf}.partial"));
        let existed = tmp.exists();
        std::fs::create_dir_all(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        Ok((Self { out: out.to_path_buf(), tmp: Some(tmp), keep: true }, existed))
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        self.tmp.as_deref().expect("not yet committed")
    }

    /// Replaces `out` as a whole: old → `.old`, new → place, drop `.old`.
    pub fn commit(mut self) -> Result<()> {
        let out = &self.out;
        let leaf = out.file_name().context("--out must name a folder")?.to_string_lossy();
        let old = parent_of(out).join(format!(".{leaf}.old-{}", std::process::id()));
        if out.exists() {
            std::fs::rename(out, &old).with_context(|| {
                format!("{}: cannot move the previous results aside", out.display())
            })?;
        }
        let tmp = self.tmp.take().expect("not yet committed");
        if let Err(e) = std::fs::rename(&tmp, out) {
            self.tmp = Some(tmp);
            let _ = std::fs::rename(&old, out);
            return Err(e).with_context(|| {
                format!("{}: cannot move the new results into place", out.display())
            });
        }
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(p) = self.tmp.take().filter(|_| !self.keep) {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}
