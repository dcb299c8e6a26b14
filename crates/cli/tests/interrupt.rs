//! SIGINT or SIGTERM in the middle of an experiment: exit 130, no partial results, and the
//! previous results in the output folder intact.

mod common;
use common::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("previous.json"), "{\"kept\": true}").unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .env("TWINNET_DATA_DIR", &data)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let it load and train for a moment, then interrupt.
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill only sends a signal to our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "did not stop after the signal");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "signal {signal}");
    assert_eq!(listing(&out), ["previous.json"], "signal {signal}: the old results changed");
    assert_eq!(std::fs::read_to_string(out.join("previous.json")).unwrap(), "{\"kept\": true}");
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
