//! A backend in another process: any program that speaks twinnet's protocol over its stdin and
//! stdout (`docs/protocol.md`: version [`PROTOCOL`], one JSON object per line, bulk data as
//! `.npy` files) becomes a [`twinnet_core::Backend`], built by the engine like the others. The
//! Python module that makes a class such a program (`twinnet_backend.serve`) ships inside
//! this crate and is put on the child's `PYTHONPATH` ([`python_module`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use twinnet_process::ProcessSpec;
//!
//! let spec = ProcessSpec::parse("python3 my_net.py", Duration::from_secs(600))?;
//! assert_eq!(spec.argv, ["python3", "my_net.py"]);
//! # Ok::<(), twinnet_process::ProcessError>(())
//! ```

mod backend;
mod child;
mod error;
pub mod files;
mod group;
mod hello;
mod pipe;
mod stderr;

pub use backend::{ProcessBackend, AHEAD};
pub use child::MAX_LINE;
pub use error::ProcessError;
pub use group::end_all;

use std::path::{Path, PathBuf};
use std::time::Duration;
use twinnet_core::Regime;
use twinnet_data::DatasetName;

/// The protocol version this build speaks.
pub const PROTOCOL: u32 = 2;

/// The default deadline for each reply: generous (a full-batch step of a slow implementation
/// on all of MNIST takes seconds), still an end to a hung child.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The Python package twinnet ships (`python/twinnet_backend/`): the module that serves a
/// class, and the report's two models as reference implementations
/// (`python3 -m twinnet_backend.numpy_model`, `python3 -m twinnet_backend.pytorch_model`).
pub const PYTHON_PACKAGE: [(&str, &str); 3] = [
    ("__init__.py", include_str!("../../../python/twinnet_backend/__init__.py")),
    ("numpy_model.py", include_str!("../../../python/twinnet_backend/numpy_model.py")),
    ("pytorch_model.py", include_str!("../../../python/twinnet_backend/pytorch_model.py")),
];

/// How to start an implementation and what to tell it about the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSpec {
    /// The command as given (recorded, and named in errors).
    pub command: String,
    /// It split as a shell would, without a shell.
    pub argv: Vec<String>,
    /// The deadline for each reply.
    pub timeout: Duration,
    /// The most steps sent ahead ([`AHEAD`]; 0: one at a time).
    pub ahead: usize,
    /// The run's learning rate (also sent with each step).
    pub lr: f32,
    /// Its regime.
    pub regime: Regime,
    /// Its mini-batch size.
    pub batch_size: usize,
    /// Its seed.
    pub seed: u64,
    /// Its dataset.
    pub dataset: DatasetName,
}

impl ProcessSpec {
    /// `command` split as a shell would (quotes, backslashes; no expansion, no shell), with
    /// `timeout` and the report's run settings (the engine sets the run's).
    pub fn parse(command: &str, timeout: Duration) -> Result<Self, ProcessError> {
        let bad = |message: String| ProcessError::Command { command: command.into(), message };
        let argv = shell_words::split(command).map_err(|e| bad(e.to_string()))?;
        if argv.is_empty() {
            return Err(bad("names no program".into()));
        }
        if timeout.is_zero() {
            return Err(bad("the timeout must be positive".into()));
        }
        Ok(Self {
            command: command.into(),
            argv,
            timeout,
            ahead: AHEAD,
            lr: twinnet_core::defaults::LR,
            regime: twinnet_core::defaults::REGIME,
            batch_size: twinnet_core::defaults::BATCH_SIZE,
            seed: twinnet_core::defaults::SEED,
            dataset: DatasetName::default(),
        })
    }
}

/// Writes the Python package twinnet ships into `cache/python/<hash>/twinnet_backend/` (once
/// per version) and returns the folder to put on `PYTHONPATH`.
pub fn python_module(cache: &Path) -> Result<PathBuf, ProcessError> {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (name, text) in PYTHON_PACKAGE {
        h.update(name.as_bytes());
        h.update(text.as_bytes());
    }
    let hash: String = h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect();
    let root = cache.join("python").join(hash);
    let dir = root.join("twinnet_backend");
    std::fs::create_dir_all(&dir).map_err(|e| ProcessError::io(&dir, "cannot create", e))?;
    for (name, text) in PYTHON_PACKAGE {
        let file = dir.join(name);
        if std::fs::read_to_string(&file).is_ok_and(|s| s == text) {
            continue;
        }
        twinnet_core::file::write_atomic(&file, text.as_bytes())
            .map_err(|e| ProcessError::io(&file, "cannot write", e))?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_as_a_shell_would() {
        let s = ProcessSpec::parse("python3 'my net.py' --x \"a b\"", DEFAULT_TIMEOUT).unwrap();
        assert_eq!(s.argv, ["python3", "my net.py", "--x", "a b"]);
        let e = ProcessSpec::parse("python3 'unclosed", DEFAULT_TIMEOUT).unwrap_err().to_string();
        assert!(e.contains("--command `python3 'unclosed`"), "{e}");
        assert!(ProcessSpec::parse("   ", DEFAULT_TIMEOUT)
            .unwrap_err()
            .to_string()
            .contains("no program"));
    }
}
