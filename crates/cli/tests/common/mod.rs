//! Helpers of the end-to-end tests: a synthetic MNIST folder and a way to run the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
#[allow(unused_imports)] // not every test file makes synthetic data
pub use twinnet_testkit::synthetic_mnist;

/// The repository root (for `experiments/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `twinnet args…` with `data` as its data folder.
pub fn twinnet(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(args)
        .env("TWINNET_DATA_DIR", data)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("twinnet runs")
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The names in a folder, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
