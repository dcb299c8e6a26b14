//! An implementation of one's own through the binary: `train`, `run` (with `--jobs`), `drift`,
//! `eval`, `compare`, `verify` and `check` work with `--backend process` unchanged; it trains
//! to the ndarray backend's numbers within the measured floor; Ctrl-C and a killed twinnet take
//! the child with them.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn numpy_net() -> PathBuf {
    repo().join("crates/process/tests/python/numpy_net.py")
}

fn command(extra: &str) -> String {
    format!("python3 {} {extra}", numpy_net().display())
}

/// The float32 implementation written for the tests ends where the ndarray backend ends, within
/// the floor `twinnet drift` measures beside it (the ndarray backend from a start one ulp away),
/// and `compare` and `verify` read its results as any other.
#[test]
fn process_runs_match_ndarray_within_the_floor() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 1000, 200);
    let exp = tmp.path().join("floor.toml");
    std::fs::write(
        &exp,
        format!(
            "description = \"process vs ndarray\"\n\
             [[setting]]\nname = \"mini\"\nregime = \"minibatch\"\nepochs = 3\nthreads = 1\n\
             [[source]]\nname = \"implementation\"\nb = {{ backend = \"process\", command = \"{}\" }}\n\
             [[source]]\nname = \"ulp\"\nnudge = {{ tensor = \"fc1.weight\", index = [3, 400] }}\n",
            command("")
        ),
    )
    .unwrap();
    let out = tmp.path().join("floor");
    let o = twinnet(
        &data,
        &["drift", exp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let d = json(&out.join("drift.json"));
    let pairs = d["settings"][0]["pairs"].as_array().unwrap();
    let last =
        |p: &serde_json::Value| p["drift"].as_array().unwrap().last().unwrap()[1].as_f64().unwrap();
    let (imp, ulp) = (last(&pairs[0]), last(&pairs[1]));
    assert!(imp <= 10.0 * ulp, "implementation {imp:e} vs the one-ulp floor {ulp:e}");
    let runs = d["settings"][0]["runs"].as_array().unwrap();
    let lib = runs[1]["result"]["environment"]["backend_library"].as_str().unwrap();
    assert!(lib.starts_with("process: numpy float32 (twinnet's tests)"), "{lib}");
    assert_eq!(runs[1]["result"]["config"]["command"], command(""));

    // An experiment of process runs, two at a time: results, then verify and compare.
    let exp = tmp.path().join("mine.toml");
    std::fs::write(
        &exp,
        format!(
            "description = \"mine\"\n[defaults]\nbackend = \"process\"\ncommand = \"{}\"\nepochs = 2\n\
             regime = \"minibatch\"\n[[run]]\nname = \"a\"\n[[run]]\nname = \"b\"\nseed = 1\n",
            command("")
        ),
    )
    .unwrap();
    let res = tmp.path().join("mine");
    let (e, r) = (exp.to_str().unwrap(), res.to_str().unwrap());
    let o = twinnet(&data, &["run", e, "--out", r, "--quiet", "--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = twinnet(&data, &["verify", e, "--against", r, "--quiet"]);
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("reproduced"),
        "{}",
        stderr(&o)
    );
    let (a, b) = (res.join("a.json"), res.join("b.json"));
    let o = twinnet(&data, &["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The command is part of the config hash: another command, another plan.
    let plan = |c: &str| {
        let o = twinnet(&data, &["plan", e, "--json", "--command", c]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["runs"][0]["config_hash"]
            .clone()
    };
    assert_ne!(plan(&command("")), plan(&command("--float64")));
    // eval of a run's parameters by the implementation.
    let p = res.join("a.safetensors");
    let o = twinnet(
        &data,
        &[
            "eval",
            "--params",
            p.to_str().unwrap(),
            "--backend",
            "process",
            "--command",
            &command(""),
        ],
    );
    assert!(
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains("test accuracy"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn check_passes_a_right_implementation_and_fails_a_wrong_one() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 600, 50);
    let check = |extra: &str| {
        twinnet(
            &data,
            &[
                "check",
                "--command",
                &command(extra),
                "--train-limit",
                "600",
                "--updates",
                "10",
                "--iterations",
                "4",
            ],
        )
    };
    let o = check("");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).ends_with("PASS\n"));
    let o = check("--mistake relu-mask-missing");
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("FAIL: ") && out.contains("update 1: fc1.weight differs by"), "{out}");
}

/// Starts a long `train --backend process` whose child carries `tag`; waits until it trains.
fn long_train(data: &Path, tag: &str) -> std::process::Child {
    long_process_train(data, &command(&format!("--tag {tag}")), &[tag], &[])
}

fn wait(child: &mut std::process::Child) -> Option<i32> {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code();
        }
        assert!(t.elapsed() < Duration::from_secs(20), "twinnet did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_and_a_killed_twinnet_take_the_child_with_them() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 1000, 100);
    let mut c = long_train(&data, "sigint-test");
    // SAFETY: `kill` with a child's pid and a valid signal number.
    unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
    assert_eq!(wait(&mut c), Some(130));
    std::thread::sleep(Duration::from_millis(300));
    assert!(!alive("sigint-test"), "the implementation outlived an interrupted twinnet");
    let mut c = long_train(&data, "sigkill-test");
    c.kill().unwrap();
    let _ = c.wait();
    let t = Instant::now();
    while alive("sigkill-test") {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the implementation outlived a killed twinnet"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
