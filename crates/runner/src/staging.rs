//! Output paths: checked before any work, and results folders written beside their final place
//! and moved into it as a whole, so a failed or interrupted run leaves what was there intact.
//!
//! A folder given as `--out` is replaced only when it does not exist, is empty, or is a results
//! folder twinnet wrote (its `experiment.json` or `drift.json` reads as one); anything else
//! (a thesis folder, a git repository, the folder holding the experiment file) is refused
//! before any work, naming what it holds. Temporary folders get unpredictable names
//! (`tempfile`); a symbolic link where a folder would be replaced is refused, never followed.

use crate::bail;
use crate::error::{Context, Error, Result};
use crate::interrupt::{self, FolderGuard};
use crate::layout::{ResultsDir, LOCK, PLAN_JSON};
use std::fs::{File, TryLockError};
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
    tempfile::Builder::new().prefix(".twinnet-write-probe-").tempfile_in(dir).with_context(
        || format!("--{flag} {}: folder {} is not writable", path.display(), dir.display()),
    )?;
    Ok(())
}

/// Fails early when the file `path` could not be written. `-` (standard output) and a device
/// or FIFO (written in place, [`twinnet_core::file::write_output`]) need no folder.
pub fn check_writable(path: &Path, flag: &str) -> Result<()> {
    if twinnet_core::file::Target::of(path) != twinnet_core::file::Target::File {
        return Ok(());
    }
    if path.is_dir() {
        bail!("--{flag} {}: is a folder, expected a file path", path.display());
    }
    check_folder(path, flag)
}

/// Whether `a` and `b` name the same file (after resolving their folders; either may not
/// exist yet).
pub fn same_file(a: &Path, b: &Path) -> bool {
    let resolve = |p: &Path| -> Option<PathBuf> {
        let dir = std::fs::canonicalize(parent_of(p)).ok()?;
        Some(dir.join(p.file_name()?))
    };
    match (resolve(a), resolve(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// Fails when output `out` (of `--out_flag`) is the same file as an input of the command
/// (`inputs`: the flag that names it, and its path): writing it would destroy what was read.
pub fn check_not_an_input(out: &Path, out_flag: &str, inputs: &[(&str, &Path)]) -> Result<()> {
    for (flag, input) in inputs {
        if same_file(out, input) {
            bail!(
                "--{out_flag} {}: is the input of --{flag}; writing it would destroy what this \
                 command reads: choose another path",
                out.display()
            );
        }
    }
    Ok(())
}

/// Fails when an input of the command lies inside the results folder `out`, which the command
/// replaces as a whole (the input would be gone afterwards).
pub fn check_outside(out: &Path, inputs: &[(&str, &Path)]) -> Result<()> {
    let Ok(o) = std::fs::canonicalize(out) else { return Ok(()) };
    for (what, input) in inputs {
        if std::fs::canonicalize(input).is_ok_and(|i| i.starts_with(&o)) {
            bail!(
                "--out {}: holds the {what} {}, and the run replaces the folder as a whole: \
                 copy it elsewhere or choose another --out",
                out.display(),
                input.display()
            );
        }
    }
    Ok(())
}

/// Whether `dir` is a results folder twinnet wrote: its `experiment.json` or `drift.json`
/// reads as an experiment's or a drift experiment's record.
pub fn is_results_folder(dir: &Path) -> bool {
    let d = ResultsDir::new(dir);
    let reads = |p: PathBuf, what| {
        p.is_file()
            && crate::schema::read_versioned::<serde_json::Value>(&p, what).is_ok_and(|v| {
                v.get("name").is_some() && (v.get("runs").is_some() || v.get("settings").is_some())
            })
    };
    reads(d.experiment_json(), "experiment record") || reads(d.drift_json(), "drift record")
}

/// Up to five names of what `dir` holds, for messages.
fn contents(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()))
        .map(|i| i.collect())
        .unwrap_or_default();
    names.sort();
    let more = names.len().saturating_sub(5);
    names.truncate(5);
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

/// Fails unless `out` may be replaced by a results folder: it does not exist, is an empty
/// folder, or is a results folder twinnet wrote. Never follows a symbolic link.
pub fn check_replaceable(out: &Path) -> Result<()> {
    let meta = match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(out, "cannot inspect --out", e)),
        Ok(m) => m,
    };
    if meta.file_type().is_symlink() {
        bail!(
            "--out {}: is a symbolic link; twinnet replaces only a folder it wrote, never through \
             a link: give the folder's own path",
            out.display()
        );
    }
    if !meta.is_dir() {
        bail!("--out {}: is a file, expected a folder", out.display());
    }
    let empty = std::fs::read_dir(out)
        .map_err(|e| Error::io(out, "cannot list --out", e))?
        .next()
        .is_none();
    if empty || is_results_folder(out) {
        return Ok(());
    }
    bail!(
        "--out {}: not a results folder twinnet wrote (no experiment.json or drift.json of \
         twinnet's), it holds {}: refusing to replace it; give a new or empty folder, or one \
         twinnet wrote",
        out.display(),
        contents(out)
    )
}

/// A results folder being built beside its final place `out`, removed on drop (and on an
/// interrupt) unless [`Staged::commit`] moved it into place; or, made by [`Staged::resumable`],
/// the resumable `.<name>.partial` kept for `--resume` (locked while in use).
#[derive(Debug)]
pub struct Staged {
    out: PathBuf,
    tmp: Option<PathBuf>,
    /// A resumable folder: kept on drop, unless no run finished in it.
    resumable: bool,
    /// The lock held on a resumable folder.
    lock: Option<File>,
    /// Registers the temporary folder for removal on an interrupt.
    _guard: Option<FolderGuard>,
}

/// `out`'s last component, which a results folder must have.
fn leaf(out: &Path) -> Result<String> {
    Ok(out.file_name().context("--out must name a folder")?.to_string_lossy().into_owned())
}

impl Staged {
    /// Creates the temporary folder for `out` (which must be replaceable,
    /// [`check_replaceable`], and whose folder must be writable), with an unpredictable name.
    pub fn new(out: &Path) -> Result<Self> {
        check_replaceable(out)?;
        check_folder(out, "out")?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.tmp-", leaf(out)?))
            .tempdir_in(parent_of(out))
            .with_context(|| format!("--out {}: cannot create a folder beside it", out.display()))?
            .keep();
        let guard = interrupt::register_folder(&tmp);
        Ok(Self {
            out: out.into(),
            tmp: Some(tmp),
            resumable: false,
            lock: None,
            _guard: Some(guard),
        })
    }

    /// The resumable folder for `out`, `.<name>.partial` beside it, locked while this value
    /// lives (a second `run --resume` into it fails at once, naming it); kept when the work
    /// stops (an error, an interrupt) so that `--resume` finishes it, unless no run finished in
    /// it. Also returns whether it was there already.
    pub fn resumable(out: &Path) -> Result<(Self, bool)> {
        check_replaceable(out)?;
        check_folder(out, "out")?;
        let tmp = parent_of(out).join(format!(".{}.partial", leaf(out)?));
        let existed = match std::fs::symlink_metadata(&tmp) {
            Ok(m) if m.file_type().is_symlink() || !m.is_dir() => bail!(
                "{}: not a folder of an unfinished run (a link or a file): remove it",
                tmp.display()
            ),
            Ok(_) => true,
            Err(_) => {
                std::fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, "cannot create", e))?;
                false
            }
        };
        let lock_path = tmp.join(LOCK);
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, "cannot open the lock", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => bail!(
                "{}: another `twinnet run` is working in this folder; wait for it to finish (or \
                 stop it), then rerun with --resume",
                tmp.display()
            ),
            Err(TryLockError::Error(e)) => return Err(Error::io(&lock_path, "cannot lock", e)),
        }
        let s = Self {
            out: out.into(),
            tmp: Some(tmp),
            resumable: true,
            lock: Some(lock),
            _guard: None,
        };
        Ok((s, existed))
    }

    /// The folder to write into.
    pub fn dir(&self) -> &Path {
        self.tmp.as_deref().expect("not yet committed")
    }

    /// Replaces `out` as a whole: the previous folder aside, the new one into place, the
    /// previous one removed; an interrupt waits until both renames are done.
    pub fn commit(mut self) -> Result<()> {
        let out = self.out.clone();
        check_replaceable(&out)?;
        let tmp = self.tmp.clone().expect("not yet committed");
        if let Some(lock) = self.lock.take() {
            drop(lock);
            let _ = std::fs::remove_file(tmp.join(LOCK));
        }
        // A staging folder is made rwx------; results are as readable as any folder.
        let _ = std::fs::set_permissions(&tmp, twinnet_core::file::default_permissions(0o755));
        let aside = tempfile::Builder::new()
            .prefix(&format!(".{}.old-", leaf(&out)?))
            .tempdir_in(parent_of(&out))
            .with_context(|| format!("{}: cannot make room beside it", out.display()))?;
        let old = aside.path().join("previous");
        interrupt::critical(|| -> Result<()> {
            if out.exists() {
                std::fs::rename(&out, &old)
                    .map_err(|e| Error::io(&out, "cannot move the previous results aside", e))?;
            }
            if let Err(e) = std::fs::rename(&tmp, &out) {
                let _ = std::fs::rename(&old, &out);
                return Err(Error::io(&out, "cannot move the new results into place", e));
            }
            Ok(())
        })?;
        self.tmp = None;
        drop(aside);
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        let Some(p) = self.tmp.take() else { return };
        if !self.resumable {
            let _ = std::fs::remove_dir_all(p);
            return;
        }
        // A resumable folder in which no run finished holds only the plan and the lock: it
        // would only block the corrected rerun, so it goes.
        let only_plan = std::fs::read_dir(&p).is_ok_and(|r| {
            r.filter_map(|e| e.ok()).all(|e| e.file_name() == PLAN_JSON || e.file_name() == LOCK)
        });
        if only_plan {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}
