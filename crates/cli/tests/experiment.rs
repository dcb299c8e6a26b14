//! `twinnet run` and `twinnet plot` end to end on smoke.toml, with both backends.

mod common;
use common::*;
use serde_json::Value;

#[test]
fn smoke_experiment_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 2000, 300);
    let out = tmp.path().join("smoke");
    let exp = repo().join("experiments/smoke.toml");
    let o =
        twinnet(&data, &["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).trim().ends_with("summary.md"));

    let files = listing(&out);
    for f in [
        "confusion.png",
        "confusion.svg",
        "curves.png",
        "curves.svg",
        "experiment.json",
        "experiment.toml",
        "summary.md",
    ] {
        assert!(files.contains(&f.to_string()), "{f} missing from {files:?}");
    }
    for run in ["ndarray-full-batch", "tch-minibatch"] {
        let v: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("{run}.json"))).unwrap(),
        )
        .unwrap();
        for key in
            ["config", "environment", "history", "test", "timing", "status", "updates_per_epoch"]
        {
            assert!(v.get(key).is_some(), "{run}: no `{key}`");
        }
        for key in [
            "seed",
            "threads",
            "device",
            "backend",
            "regime",
            "head",
            "init",
            "normalize",
            "lr",
            "batch_size",
            "epochs",
            "hidden",
        ] {
            assert!(v["config"].get(key).is_some(), "{run}: no config.{key}");
        }
        for key in ["twinnet", "backend_library", "cpu", "threads"] {
            assert!(v["environment"].get(key).is_some(), "{run}: no environment.{key}");
        }
        for key in [
            "accuracy",
            "confusion",
            "per_class",
            "macro_avg",
            "weighted_avg",
            "report",
            "collapsed",
        ] {
            assert!(v["test"].get(key).is_some(), "{run}: no test.{key}");
        }
        let h = v["history"].as_array().unwrap();
        assert_eq!(h.len(), 5);
        for key in ["epoch", "step", "train_loss", "train_accuracy", "elapsed_s"] {
            assert!(h[0].get(key).is_some(), "{run}: no history.{key}");
        }
        let confusion = v["test"]["confusion"].as_array().unwrap();
        let total: u64 =
            confusion.iter().flat_map(|r| r.as_array().unwrap()).map(|c| c.as_u64().unwrap()).sum();
        assert_eq!(total, 300);
        assert!(v["test"]["report"].as_str().unwrap().contains("weighted avg"));
    }
    let mb: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tch-minibatch.json")).unwrap())
            .unwrap();
    assert_eq!(mb["updates_per_epoch"], 32); // ⌈2000 / 64⌉
    assert_eq!(mb["history"][4]["step"], 160);
    let png = std::fs::read(out.join("curves.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(std::fs::read_to_string(out.join("confusion.svg")).unwrap().starts_with("<svg"));

    // `plot` redraws byte-identical files from the JSON alone.
    let before: Vec<Vec<u8>> =
        ["curves.png", "curves.svg", "confusion.png", "confusion.svg", "summary.md"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
    for f in ["curves.png", "curves.svg", "confusion.png", "confusion.svg", "summary.md"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let o = twinnet(&data, &["plot", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let after: Vec<Vec<u8>> =
        ["curves.png", "curves.svg", "confusion.png", "confusion.svg", "summary.md"]
            .iter()
            .map(|f| std::fs::read(out.join(f)).unwrap())
            .collect();
    assert!(before == after, "plot did not redraw identical files");

    // Same command, same seed and threads: the same JSON apart from timings.
    let again = tmp.path().join("again");
    let o = twinnet(
        &data,
        &["run", exp.to_str().unwrap(), "--out", again.to_str().unwrap(), "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for run in ["ndarray-full-batch", "tch-minibatch"] {
        let read = |d: &std::path::Path| -> Value {
            serde_json::from_str(&std::fs::read_to_string(d.join(format!("{run}.json"))).unwrap())
                .unwrap()
        };
        assert_eq!(
            without_timings(read(&out)),
            without_timings(read(&again)),
            "{run} is not reproducible"
        );
        assert_eq!(
            std::fs::read(out.join(format!("{run}.safetensors"))).unwrap(),
            std::fs::read(again.join(format!("{run}.safetensors"))).unwrap()
        );
    }

    // A re-run into the same folder replaces it as a whole.
    std::fs::write(out.join("stale.json"), "{}").unwrap();
    let o = twinnet(
        &data,
        &["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--epochs", "2"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!out.join("stale.json").exists());
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("tch-minibatch.json")).unwrap())
            .unwrap();
    assert_eq!(v["config"]["epochs"], 2);
    assert!(
        listing(tmp.path()).iter().all(|n| !n.starts_with('.')),
        "temporary folders left: {:?}",
        listing(tmp.path())
    );
}

#[test]
fn train_writes_json_params_and_reruns_from_config() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 500, 100);
    let (json, params) = (tmp.path().join("r.json"), tmp.path().join("p.safetensors"));
    let args = [
        "train",
        "--epochs",
        "3",
        "--regime",
        "minibatch",
        "--quiet",
        "--out",
        json.to_str().unwrap(),
        "--save-params",
        params.to_str().unwrap(),
    ];
    let o = twinnet(&data, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("test accuracy") && stdout.contains("precision"), "{stdout}");
    assert!(twinnet_core::Params::load(&params, Some(10)).is_ok());

    // --config-from re-runs it: the same config and the same numbers.
    let json2 = tmp.path().join("r2.json");
    let o = twinnet(
        &data,
        &[
            "train",
            "--config-from",
            json.to_str().unwrap(),
            "--quiet",
            "--out",
            json2.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let a: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&json2).unwrap()).unwrap();
    assert_eq!(a["config"], b["config"]);
    assert_eq!(a["test"], b["test"]);
}

/// `twinnet compare` on two configurations of a seed sweep, on a single run, and on a folder
/// that needs a configuration named.
#[test]
fn compare_configurations_of_a_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 600, 100);
    let exp = tmp.path().join("sweep.toml");
    std::fs::write(
        &exp,
        "description = \"compare test\"\nseeds = \"0..3\"\n[defaults]\nepochs = 3\n\n[[run]]\nname = \"slow\"\nlr = 0.01\n\n[[run]]\nname = \"fast\"\nregime = \"minibatch\"\n",
    )
    .unwrap();
    let dir = tmp.path().join("sweep");
    let o =
        twinnet(&data, &["run", exp.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let d = dir.to_str().unwrap();
    let json = tmp.path().join("c.json");
    let (a, b) = (format!("{d}:slow"), format!("{d}:fast"));
    let o =
        twinnet(&data, &["compare", &a, &b, "--target", "0.5", "--json", json.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("(3 run(s), 0 diverged"), "{text}");
    // Each side says what it trained, in the runs tables' words.
    assert!(text.contains("network 784-10-10 relu, head softmax"), "{text}");
    let acc = text.lines().find(|l| l.starts_with("| test accuracy (%)")).unwrap();
    assert_eq!(acc.matches('|').count(), 8, "{acc}");
    let rows: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = rows["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1 + 10 + 2, "accuracy, ten recalls, updates to target, time");
    assert_eq!(rows[0]["a"].as_array().unwrap().len(), 3);
    // Mini-batch SGD at lr 0.1 beats full-batch at lr 0.01 after 3 epochs, clearly.
    assert!(rows[0]["diff"].as_f64().unwrap() > 0.0, "{}", rows[0]);
    // One run against three: described, not tested.
    let one = dir.join("slow-seed0.json");
    let o = twinnet(&data, &["compare", one.to_str().unwrap(), &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("too few runs to test"));
    // A folder with two configurations must be told which.
    let o = twinnet(&data, &["compare", d, &b]);
    let err = stderr(&o);
    assert!(
        !o.status.success() && err.contains("name one as") && err.contains("slow, fast"),
        "{err}"
    );
    let o = twinnet(&data, &["compare", &format!("{d}:nope"), &b]);
    assert!(
        !o.status.success() && stderr(&o).contains("no configuration `nope`"),
        "{}",
        stderr(&o)
    );
}
