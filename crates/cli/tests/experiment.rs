//! `twinnet run` and `twinnet plot` end to end on smoke.toml, with both backends.

mod common;
use common::*;
use serde_json::Value;

/// A result without what legitimately changes between two runs: timings.
fn without_timings(mut v: Value) -> Value {
    v.as_object_mut().unwrap().remove("timing");
    for h in v["history"].as_array_mut().unwrap() {
        h.as_object_mut().unwrap().remove("elapsed_s");
    }
    v
}

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
