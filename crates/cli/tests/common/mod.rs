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

/// The venv's `python3` (`TWINNET_TORCH_VENV`, as the Makefile exports it), else the one on
/// `PATH`: the real PyTorch the tests compare against.
pub fn python() -> PathBuf {
    std::env::var_os("TWINNET_TORCH_VENV")
        .map(|v| PathBuf::from(v).join("bin/python3"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "python3".into())
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

/// A JSON file, parsed.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A result without what legitimately changes between two runs: timings.
pub fn without_timings(mut v: serde_json::Value) -> serde_json::Value {
    v.as_object_mut().unwrap().remove("timing");
    for h in v["history"].as_array_mut().unwrap() {
        h.as_object_mut().unwrap().remove("elapsed_s");
    }
    v
}

/// Whether a process whose command line holds `needle` is alive.
pub fn alive(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
    })
}

/// Starts a `twinnet train --backend process --command CMD` that would run for 100,000
/// mini-batch epochs, with `data` as its data folder and `envs` besides; waits until a process
/// holding each of `needles` in its command line is alive, then a second (it trains).
pub fn long_process_train(
    data: &Path,
    command: &str,
    needles: &[&str],
    envs: &[(&str, &Path)],
) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["train", "--backend", "process", "--command", command])
        .args(["--regime", "minibatch", "--epochs", "100000", "--quiet"])
        .env("TWINNET_DATA_DIR", data)
        .envs(envs.iter().copied())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while !needles.iter().all(|n| alive(n)) {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "the program did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
    child
}
