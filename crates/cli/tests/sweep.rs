//! The run-by-index contract end to end: `plan`, `run --index/--shard` into one shared folder,
//! resume, `collect`, and its bad input; on smoke.toml and synthetic data.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// What every test here starts from: a temporary folder, synthetic data in it (2000 training
/// images) and the path of experiments/smoke.toml.
fn smoke() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 2000, 300);
    (tmp, data, repo().join("experiments/smoke.toml"))
}

/// Smoke's two runs in `a` and `b` are the same apart from timings (results bit for bit in
/// their parameters), and so is `experiment.json` apart from its total time and the keys in
/// `also_differ`.
fn assert_same_results(a: &Path, b: &Path, also_differ: &[&str]) {
    for n in ["ndarray-full-batch", "tch-minibatch"] {
        assert_eq!(
            without_timings(json(&a.join(format!("{n}.json")))),
            without_timings(json(&b.join(format!("{n}.json")))),
            "{n}"
        );
        let p = format!("{n}.safetensors");
        assert_eq!(std::fs::read(a.join(&p)).unwrap(), std::fs::read(b.join(&p)).unwrap());
    }
    let (mut x, mut y) = (json(&a.join("experiment.json")), json(&b.join("experiment.json")));
    for v in [&mut x, &mut y] {
        for k in ["total_s"].iter().chain(also_differ) {
            v.as_object_mut().unwrap().remove(*k);
        }
    }
    assert_eq!(x, y);
}

#[test]
fn shards_resume_and_collect_equal_a_local_run() {
    let (tmp, data, exp) = smoke();
    let e = exp.to_str().unwrap();
    let shared = tmp.path().join("shared");
    let s = shared.to_str().unwrap();

    let o = twinnet(&data, &["plan", e, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plan: Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> =
        plan["runs"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ndarray-full-batch", "tch-minibatch"]);
    assert!(plan["runs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .all(|(i, r)| r["index"] == i && r["config_hash"].as_str().unwrap().len() == 16));

    // As scripts/slurm/submit.sh does: the job logs' folder is made before any task runs.
    std::fs::create_dir_all(shared.join("logs")).unwrap();
    std::fs::write(shared.join("logs/1_0.out"), "a task's log\n").unwrap();
    for shard in ["0/2", "1/2"] {
        let o = twinnet(&data, &["run", e, "--shard", shard, "--out", s, "--quiet"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Resume: a rerun skips what is there (the files are not touched).
    let before = std::fs::metadata(shared.join("tch-minibatch.json")).unwrap().modified().unwrap();
    let o = twinnet(&data, &["run", e, "--index", "1", "--out", s, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("run 1 `tch-minibatch`: already done"));
    let after = std::fs::metadata(shared.join("tch-minibatch.json")).unwrap().modified().unwrap();
    assert_eq!(before, after);

    let o = twinnet(&data, &["collect", s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let local = tmp.path().join("local");
    let o = twinnet(&data, &["run", e, "--out", local.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_same_results(&shared, &local, &["command", "cores"]);
    for f in ["summary.md", "curves.png", "confusion.png", "experiment.toml", "logs/1_0.out"] {
        assert!(shared.join(f).exists(), "{f}");
    }
}

#[test]
fn index_from_the_scheduler_environment() {
    let (tmp, data, exp) = smoke();
    let out = tmp.path().join("o");
    for (var, i) in [("SLURM_ARRAY_TASK_ID", "0"), ("JOB_COMPLETION_INDEX", "1")] {
        let o = Command::new(env!("CARGO_BIN_EXE_twinnet"))
            .args(["run", exp.to_str().unwrap(), "--index", "env", "--quiet", "--out"])
            .arg(&out)
            .env("TWINNET_DATA_DIR", &data)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .env(var, i)
            .output()
            .unwrap();
        assert!(o.status.success(), "{var}: {}", stderr(&o));
    }
    assert!(
        out.join("ndarray-full-batch.json").exists() && out.join("tch-minibatch.json").exists()
    );
    let o = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["run", exp.to_str().unwrap(), "--index", "env", "--out"])
        .arg(&out)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert!(stderr(&o).contains("neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set"));
}

/// Every bad input names what is wrong and leaves what was written as it was.
#[test]
fn bad_sweeps_are_refused_and_lose_nothing() {
    let (tmp, data, exp) = smoke();
    let e = exp.to_str().unwrap();
    let shared = tmp.path().join("shared");
    let s = shared.to_str().unwrap();
    let o = twinnet(&data, &["run", e, "--index", "0", "--out", s, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let listing_before = listing(&shared);
    let result_before = std::fs::read(shared.join("ndarray-full-batch.json")).unwrap();

    let fails = |args: &[&str], want: &str| {
        let o = twinnet(&data, args);
        assert!(!o.status.success(), "{args:?} succeeded");
        let err = stderr(&o);
        assert!(err.contains(want), "{args:?}: {err}");
    };
    fails(&["run", e, "--index", "2", "--out", s], "--index 2: the plan has runs 0..1 (2 runs)");
    fails(&["run", e, "--shard", "3/2", "--out", s], "--shard 3/2: expected K/N");
    fails(&["run", e, "--index", "0"], "give --out DIR");
    // The experiment's settings changed since the folder was planned.
    fails(
        &["run", e, "--index", "1", "--out", s, "--epochs", "3"],
        "planned from a different version of experiment `smoke`",
    );
    // A folder of another experiment.
    let other = tmp.path().join("other.toml");
    std::fs::write(&other, "description = \"d\"\n[[run]]\nname = \"a\"\nepochs = 1\n").unwrap();
    fails(
        &["run", other.to_str().unwrap(), "--index", "0", "--out", s],
        "a results folder of experiment `smoke`, not `other`",
    );
    // Incomplete: collect names the missing run; a stray result; a result of another config.
    fails(&["collect", s], "run 1 `tch-minibatch` is missing");
    std::fs::write(shared.join("stray.json"), "{}").unwrap();
    fails(&["collect", s], "stray.json is not a run of this plan");
    std::fs::remove_file(shared.join("stray.json")).unwrap();
    let mut v = json(&shared.join("ndarray-full-batch.json"));
    v["config_hash"] = "0000000000000000".into();
    let edited = serde_json::to_string_pretty(&v).unwrap();
    std::fs::write(shared.join("ndarray-full-batch.json"), &edited).unwrap();
    fails(&["collect", s], "run 0 `ndarray-full-batch`: config 0000000000000000 there");
    fails(&["run", e, "--index", "0", "--out", s], "a result of another config (0000000000000000)");
    std::fs::write(shared.join("ndarray-full-batch.json"), &result_before).unwrap();
    assert_eq!(listing(&shared), listing_before, "files were added or removed");
    assert!(!shared.join("summary.md").exists());
}

/// `--jobs 2` and the default (as many as the cores allow) give what `--jobs 1` gives (apart
/// from timings), every running run shows its progress, and `--resume` finishes an interrupted
/// one without redoing its finished runs.
#[test]
fn jobs_and_resume_give_the_same_results() {
    let (tmp, data, exp) = smoke();
    let e = exp.to_str().unwrap();
    let (one, two, auto) =
        (tmp.path().join("one"), tmp.path().join("two"), tmp.path().join("auto"));
    let o = twinnet(&data, &["run", e, "--out", one.to_str().unwrap(), "--jobs", "1", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Not a terminal: plain lines, each run's epochs among them.
    let o = twinnet(&data, &["run", e, "--out", two.to_str().unwrap(), "--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    for (i, run) in ["ndarray-full-batch", "tch-minibatch"].iter().enumerate() {
        assert!(err.contains(&format!("run {i} `{run}`: started")), "{err}");
        assert!(err.contains(&format!("[{run}] epoch 1/")), "{run}: no progress line\n{err}");
        assert!(err.contains(&format!("[{run}] test accuracy ")), "{run}: no final line\n{err}");
    }
    assert!(err.contains("finished (2/2)"), "{err}");
    assert!(!err.contains("twinnet-epoch"), "a child's report shown raw:\n{err}");
    let o = twinnet(&data, &["run", e, "--out", auto.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for dir in [&two, &auto] {
        assert_eq!(listing(&one), listing(dir));
        assert_same_results(&one, dir, &[]);
    }
    assert!(!tmp.path().join(".two.partial").exists());

    // An interrupted `--jobs` run: its folder holds run 0 only.
    let out = tmp.path().join("three");
    let partial = tmp.path().join(".three.partial");
    let o =
        twinnet(&data, &["run", e, "--index", "0", "--quiet", "--out", partial.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let kept =
        std::fs::metadata(partial.join("ndarray-full-batch.json")).unwrap().modified().unwrap();
    let o = twinnet(&data, &["run", e, "--out", out.to_str().unwrap(), "--jobs", "2"]);
    assert!(!o.status.success() && stderr(&o).contains("rerun with --resume"), "{}", stderr(&o));
    assert!(!out.exists());
    let o = twinnet(&data, &["run", e, "--out", out.to_str().unwrap(), "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("run 0 `ndarray-full-batch`: already done, kept"), "{err}");
    assert!(!err.contains("run 0 `ndarray-full-batch`: started"), "{err}");
    assert_eq!(
        std::fs::metadata(out.join("ndarray-full-batch.json")).unwrap().modified().unwrap(),
        kept
    );
    assert!(!partial.exists());
    assert_same_results(&one, &out, &[]);
}
