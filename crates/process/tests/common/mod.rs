//! Helpers of the process backend's tests: the float32 NumPy implementation written for them,
//! started as a backend.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;
use twinnet_core::{Model, Threads};
use twinnet_data::Dataset;
use twinnet_process::{ProcessBackend, ProcessError, ProcessSpec};

/// The test implementation's file.
pub fn numpy_net() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/numpy_net.py")
}

/// `python3 numpy_net.py [extra…]` as a command.
pub fn numpy_command(extra: &str) -> String {
    format!("python3 {} {extra}", numpy_net().display())
}

/// A cache folder for the tests' data files, shared by the test binary.
pub fn cache() -> PathBuf {
    static C: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    C.get_or_init(|| tempfile::tempdir().unwrap()).path().to_path_buf()
}

/// `command` started as a backend on `train` with `model`, at most `ahead` steps ahead.
pub fn start(
    command: &str,
    model: &Model,
    train: &Dataset,
    ahead: usize,
    timeout: Duration,
) -> Result<ProcessBackend, ProcessError> {
    let spec = ProcessSpec { ahead, ..ProcessSpec::parse(command, timeout)? };
    ProcessBackend::start(&spec, model, Some(train), Threads::ONE, cache())
}

/// Whether a process whose command line holds `needle` is alive.
pub fn alive(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
    })
}
