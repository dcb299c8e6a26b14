//! SIGINT or SIGTERM in the middle of an experiment: exit 130, no partial results, and the
//! previous results in the output folder intact.

mod common;
use common::*;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Sends `signal` to `child` and waits (at most 20 s) for it to exit.
fn stop_with(child: &mut Child, signal: i32) -> ExitStatus {
    // SAFETY: kill only sends a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "did not stop after the signal");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A previous results folder's record (what `--out` may replace).
const PREVIOUS: &str = "{\"schema_version\": 2, \"name\": \"long\", \"runs\": [\"a\"]}";

/// `dir/out`, a previous results folder of experiment `long`.
fn previous_results(dir: &std::path::Path) -> std::path::PathBuf {
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("experiment.json"), PREVIOUS).unwrap();
    out
}

fn interrupted_by(signal: i32) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 3000, 100);
    let exp = tmp.path().join("long.toml");
    std::fs::write(
        &exp,
        "description = \"long\"\n[[run]]\nname = \"a\"\nregime = \"minibatch\"\nepochs = 100000\n",
    )
    .unwrap();
    let out = previous_results(tmp.path());

    let mut child = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("TWINNET_DATA_DIR", &data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it load and train for a moment, then interrupt.
    std::thread::sleep(Duration::from_millis(1500));
    let status = stop_with(&mut child, signal);
    assert_eq!(status.code(), Some(130), "signal {signal}");
    assert_eq!(listing(&out), ["experiment.json"], "signal {signal}: the old results changed");
    assert_eq!(std::fs::read_to_string(out.join("experiment.json")).unwrap(), PREVIOUS);
    let leftovers: Vec<String> =
        listing(tmp.path()).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(leftovers.is_empty(), "signal {signal}: temporary files left: {leftovers:?}");
}

#[test]
fn sigint_leaves_nothing_half_written() {
    interrupted_by(libc::SIGINT);
}

#[test]
fn sigterm_leaves_nothing_half_written() {
    interrupted_by(libc::SIGTERM);
}

/// The processes whose command line mentions `needle` (this test's own temporary folder).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = vec![];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else { continue };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            found.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
        }
    }
    found
}

/// SIGTERM to a `run --jobs 2` stops its run processes too: exit 130, no process left, the
/// previous results intact, and the resumable folder holding no half-written result.
#[test]
fn sigterm_stops_every_run_of_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 3000, 100);
    let exp = tmp.path().join("long.toml");
    std::fs::write(
        &exp,
        "description = \"long\"\n[defaults]\nregime = \"minibatch\"\nepochs = 100000\n\
         [[run]]\nname = \"a\"\n[[run]]\nname = \"b\"\n",
    )
    .unwrap();
    let out = previous_results(tmp.path());

    let mut child = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--jobs", "2"])
        .env("TWINNET_DATA_DIR", &data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partial = tmp.path().join(".out.partial");
    let needle = partial.to_str().unwrap().to_string();
    // Wait until both runs' processes are training.
    let start = Instant::now();
    while processes_mentioning(&needle).len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(30), "the runs did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1000));
    let status = stop_with(&mut child, libc::SIGTERM);
    assert_eq!(status.code(), Some(130));
    let left = processes_mentioning(&needle);
    assert!(left.is_empty(), "still running: {left:?}");
    assert_eq!(listing(&out), ["experiment.json"]);
    assert_eq!(std::fs::read_to_string(out.join("experiment.json")).unwrap(), PREVIOUS);
    // No run finished: the resumable folder is gone (it would only block the rerun); had one
    // finished, it would hold that run's complete result and nothing half-written.
    assert!(!partial.exists(), "{:?}", listing(&partial));
}
