//! Bad input: a clear one-line error naming the flag, file or field, a non-zero exit, and no
//! output file.

mod common;
use common::*;

#[test]
fn invalid_flags_are_rejected_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 200, 50);
    let out = tmp.path().join("r.json");
    let cases: &[(&[&str], &str)] = &[
        (&["--lr", "0"], "lr"),
        (&["--lr", "-1"], "lr"),
        (&["--lr", "nan"], "lr"),
        (&["--lr", "inf"], "lr"),
        (&["--lr", "abc"], "--lr"),
        (&["--regime", "minibatch", "--batch-size", "0"], "batch-size"),
        (&["--regime", "minibatch", "--batch-size", "201"], "batch-size"),
        (&["--epochs", "0"], "epochs"),
        (&["--hidden", "0"], "hidden"),
        (&["--threads", "0"], "threads"),
        (&["--log-every", "0"], "log-every"),
        (&["--eval-every", "0"], "eval-every"),
        (&["--eval-every", "2"], "eval-every"),
        (&["--hidden", "30,0"], "hidden"),
        (&["--hidden", "wide"], "--hidden"),
        (&["--activation", "softplus"], "--activation"),
        (&["--train-limit", "0"], "train-limit"),
        (&["--train-limit", "201"], "train-limit"),
        (&["--backend", "jax"], "--backend"),
        (&["--regime", "stochastic"], "--regime"),
        (&["--head", "sigmoid"], "--head"),
        (&["--init", "zeros"], "--init"),
        (&["--normalize", "zscore"], "--normalize"),
        (&["--device", "tpu"], "--device"),
        (&["--device", "cuda"], "device"),
    ];
    for (flags, name) in cases {
        let mut args = vec!["train", "--epochs", "1", "--quiet", "--out", out.to_str().unwrap()];
        args.extend_from_slice(flags);
        let o = twinnet(&data, &args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{flags:?} was accepted");
        assert!(err.contains(name), "{flags:?}: message does not name {name}: {err}");
        assert!(!out.exists(), "{flags:?} left an output file");
    }
}

/// `twinnet train --backend tch --device cuda …` into `out`.
#[cfg(feature = "tch")]
fn train_on_cuda(data: &std::path::Path, out: &std::path::Path) -> std::process::Output {
    let out = out.to_str().unwrap();
    let args = ["train", "--backend", "tch", "--device", "cuda", "--epochs", "2", "--quiet"];
    twinnet(data, &[&args[..], &["--out", out]].concat())
}

/// Whether this machine has an NVIDIA driver (then the GPU test below runs instead).
#[cfg(feature = "tch")]
fn has_gpu() -> bool {
    std::path::Path::new("/proc/driver/nvidia").exists()
}

/// On a machine without a GPU, `--device cuda` fails with the clear error, one line, nothing
/// written (on a machine with one, `gpu_training_runs_on_the_gpu` checks the other side).
#[cfg(feature = "tch")]
#[test]
fn cuda_without_a_gpu_fails_clearly() {
    if has_gpu() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    let out = tmp.path().join("r.json");
    let o = train_on_cuda(&data, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    assert!(err.contains("device: cuda was requested but libtorch finds no CUDA GPU"), "{err}");
    assert!(!out.exists(), "output written despite: {err}");
}

/// On a GPU machine (`make test` runs it there: `--include-ignored`, not skipped when
/// /proc/driver/nvidia exists), `--device cuda` trains on the GPU: the run succeeds, records
/// `cuda:0`, and learns (a silent fall-back to the CPU, or a failure, fails this test).
#[cfg(feature = "tch")]
#[test]
#[ignore = "needs a GPU"]
fn gpu_training_runs_on_the_gpu() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 600, 100);
    let out = tmp.path().join("r.json");
    let o = train_on_cuda(&data, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(r["environment"]["device"], "cuda:0", "--device cuda ran elsewhere");
    let acc = r["test"]["accuracy"].as_f64().unwrap();
    assert!(acc > 0.5, "test accuracy {acc} on the learnable synthetic set");
}

#[test]
fn bad_data_and_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    // Missing folder.
    let o = twinnet(&tmp.path().join("nope"), &["train", "--epochs", "1", "--quiet"]);
    assert!(!o.status.success() && stderr(&o).contains("nope"), "{}", stderr(&o));
    // Output folder that does not exist: rejected before training.
    let o =
        twinnet(&data, &["train", "--epochs", "1", "--quiet", "--out", "/nonexistent/dir/r.json"]);
    assert!(!o.status.success() && stderr(&o).contains("/nonexistent/dir"), "{}", stderr(&o));
    // Corrupt label file.
    std::fs::write(data.join("t10k-labels-idx1-ubyte"), [0u8, 0, 8, 1, 0, 0, 0, 20]).unwrap();
    let o = twinnet(&data, &["train", "--epochs", "1", "--quiet"]);
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("t10k-labels-idx1-ubyte") && err.contains("truncated"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
}

#[test]
fn divergence_stops_and_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 50);
    let out = tmp.path().join("r.json");
    let o = twinnet(
        &data,
        &["train", "--lr", "50", "--epochs", "20", "--quiet", "--out", out.to_str().unwrap()],
    );
    let err = stderr(&o);
    assert!(!o.status.success() && err.contains("diverged") && err.contains("epoch"), "{err}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["status"], "diverged");
    assert!(v.get("test").is_none(), "a diverged run reports no accuracy");
    assert!(v["divergence"]["step"].as_u64().unwrap() >= 1);
}

#[test]
fn bad_experiment_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    let cases = [
        ("description = \"d\"\n[[run]]\nname = \"a\"\nepochz = 3\n", "unknown field `epochz`"),
        (
            "description = \"d\"\n[[run]]\nname = \"a\"\n[[run]]\nname = \"a\"\n",
            "two runs are named `a`",
        ),
        ("[[run]]\nname = \"a\"\n", "description"),
        ("description = \"d\"\n[[run]\n", "line 2"),
        ("description = \"d\"\n[[run]]\nname = \"a\"\nlr = -1.0\n", "lr"),
    ];
    for (src, needle) in cases {
        let f = tmp.path().join("bad.toml");
        std::fs::write(&f, src).unwrap();
        let out = tmp.path().join("out");
        let o = twinnet(
            &data,
            &["run", f.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"],
        );
        assert!(!o.status.success(), "{src:?} was accepted");
        assert!(stderr(&o).contains(needle), "{src:?}: {}", stderr(&o));
        assert!(!out.exists(), "{src:?} left output");
    }
}

/// A build without the tch feature says so (run by `make test` with --no-default-features).
#[cfg(not(feature = "tch"))]
#[test]
fn tch_backend_needs_the_feature() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    let o = twinnet(&data, &["train", "--backend", "tch", "--epochs", "1", "--quiet"]);
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("backend") && err.contains("tch` feature"),
        "{err}"
    );
}

#[test]
fn run_output_folder_is_checked_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    let exp = repo().join("experiments/smoke.toml");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "keep").unwrap();
    for (out, needle) in
        [("/nonexistent/dir/out", "/nonexistent/dir"), (file.to_str().unwrap(), "is a file")]
    {
        let o = twinnet(&data, &["run", exp.to_str().unwrap(), "--out", out, "--quiet"]);
        assert!(!o.status.success() && stderr(&o).contains(needle), "{out}: {}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep");
}

/// `twinnet eval` on a missing or malformed parameters file: one line naming it, no output.
#[test]
fn eval_of_a_bad_parameters_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    let out = tmp.path().join("e.json");
    let bad = tmp.path().join("bad.safetensors");
    std::fs::write(&bad, b"not safetensors").unwrap();
    for params in [tmp.path().join("missing.safetensors"), bad] {
        let p = params.to_str().unwrap();
        let o = twinnet(&data, &["eval", "--params", p, "--out", out.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
        assert!(err.contains(p), "does not name the file: {err}");
        assert!(!out.exists() && !out.with_extension("png").exists(), "output written: {err}");
    }
}
