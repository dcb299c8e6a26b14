//! Optimizer settings from the command line and experiment files: recorded in the result only
//! when given (so plain SGD's results read and hash as before), shown in the runs table, and
//! every setting that cannot work refused by name before any work. (Their arithmetic against
//! `torch.optim`: `optim.rs`.)

mod common;
use common::*;

#[test]
fn settings_that_cannot_work_are_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 64, 16);
    let base = ["train", "--epochs", "1", "--quiet"];
    for (flags, field) in [
        (&["--optimizer", "adam", "--nesterov"][..], "nesterov"),
        (&["--optimizer", "adamw", "--momentum", "0.9"], "momentum"),
        (&["--nesterov"], "nesterov"),
        (&["--momentum", "0.9", "--dampening", "0.1", "--nesterov"], "nesterov"),
        (&["--betas", "0.9,0.99"], "betas"),
        (&["--optimizer", "adam", "--betas", "0.9,1"], "betas"),
        (&["--weight-decay", "-0.1"], "weight-decay"),
        (&["--optimizer", "adam", "--eps", "nan"], "eps"),
    ] {
        let out = tmp.path().join("never.json");
        let o = twinnet(&data, &[&base[..], flags, &["--out", out.to_str().unwrap()]].concat());
        let err = stderr(&o);
        assert!(!o.status.success(), "{flags:?} ran");
        assert!(err.contains(&format!("{field}:")), "{flags:?}: {err}");
        assert!(!out.exists(), "{flags:?} wrote a result");
    }
    let o = twinnet(&data, &[&base[..], &["--betas", "0.9"]].concat());
    assert!(!o.status.success() && stderr(&o).contains("B1,B2"), "{}", stderr(&o));
    // A program that does not say it implements optimizers is not handed one.
    let program = repo().join("crates/process/tests/python/numpy_net.py");
    let command = format!("python3 {} --no-optimizers", program.display());
    let flags = ["--backend", "process", "--command", &command, "--optimizer", "adam"];
    let o = twinnet(&data, &[&base[..], &flags].concat());
    assert!(!o.status.success(), "adam ran on a program without the capability");
    assert!(
        stderr(&o).contains("--optimizer adam") && stderr(&o).contains("`optimizers` capability"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn optimizers_are_recorded_only_when_given_and_shown_in_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 128, 32);
    let file = tmp.path().join("opt.toml");
    std::fs::write(
        &file,
        r#"description = "optimizers"
[defaults]
regime = "minibatch"
epochs = 2
hidden = 8

[[run]]
name = "plain"

[[run]]
name = "nesterov"
momentum = 0.9
nesterov = true

[[run]]
name = "adamw"
optimizer = "adamw"
lr = 0.001
betas = [0.8, 0.99]
decay = "weights"
"#,
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o =
        twinnet(&data, &["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let config = |name: &str| json(&out.join(format!("{name}.json")))["config"].clone();
    let plain = config("plain");
    for key in ["optimizer", "momentum", "nesterov", "betas", "eps", "weight-decay", "decay"] {
        assert!(plain.get(key).is_none(), "plain SGD records {key}: {plain}");
    }
    let adamw = config("adamw");
    assert_eq!(adamw["optimizer"], "adamw");
    assert_eq!(adamw["betas"], serde_json::json!([0.8, 0.99]));
    assert_eq!(config("nesterov")["nesterov"], true);
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("minibatch 64 · sgd momentum 0.9 nesterov"), "{summary}");
    assert!(
        summary.contains("minibatch 64 · adamw β 0.8,0.99 ε 1e-8 decay 0.01 (weights)"),
        "{summary}"
    );
}
