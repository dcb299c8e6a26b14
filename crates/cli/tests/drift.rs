//! `twinnet drift` end to end: the shipped noise-floor experiment, shortened, on synthetic
//! data; and its bad input.

mod common;
use common::*;
use serde_json::Value;

#[test]
fn noise_floor_experiment_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 1200, 300);
    let out = tmp.path().join("floor");
    let exp = repo().join("experiments/noise-floor.toml");
    let args = ["drift", exp.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"];
    let o = twinnet(&data, &[&args[..], &["--epochs", "2"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let files = listing(&out);
    for f in ["drift.json", "drift.png", "drift.svg", "experiment.toml", "summary.md"] {
        assert!(files.contains(&f.to_string()), "{f} missing from {files:?}");
    }
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("drift.json")).unwrap()).unwrap();
    let settings = v["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 2);
    for s in settings {
        let name = s["name"].as_str().unwrap();
        let pair = |source: &str| {
            s["pairs"].as_array().unwrap().iter().find(|p| p["source"] == source).unwrap().clone()
        };
        let drift = |p: &Value| -> Vec<(u64, f64)> {
            p["drift"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| (d[0].as_u64().unwrap(), d[1].as_f64().unwrap()))
                .collect()
        };
        let updates = if name == "numpy-model" { 2 } else { 2 * 19 }; // 1200 / 64 → 19 batches
                                                                      // One snapshot per update up to 10, log-spaced after, and the last update.
        let nd = drift(&pair("ndarray-threads"));
        assert_eq!(nd.last().unwrap().0, updates, "{name}");
        assert!(nd.iter().take(2).enumerate().all(|(i, d)| d.0 == i as u64 + 1), "{name}");
        // The ndarray backend's bits do not depend on its thread count: exactly zero drift.
        assert!(nd.iter().all(|d| d.1 == 0.0), "{name}: {nd:?}");
        assert_eq!(pair("ndarray-threads")["identical"], true);
        // One ulp of one weight: a drift at f32's rounding scale after the first update.
        let ulp = drift(&pair("ulp-ndarray"));
        assert!(ulp[0].1 > 0.0 && ulp[0].1 < 1e-6, "{name}: {ulp:?}");
        assert_eq!(pair("ulp-ndarray")["identical"], false);
        // The framework: the two libraries sum in other orders; small, not zero, at first.
        let fw = drift(&pair("framework"));
        assert!(fw[0].1 > 0.0 && fw[0].1 < 1e-5, "{name}: {fw:?}");
        // Another seed: another network altogether.
        assert!(drift(&pair("seed"))[0].1 > 0.1, "{name}");
        // Per-epoch train-accuracy differences, and per-class recall differences.
        let p = pair("seed");
        assert_eq!(p["train_accuracy_difference"].as_array().unwrap().len(), 2);
        assert_eq!(p["recall_difference"].as_array().unwrap().len(), 10);
        // When the framework's drift meets the floor (the envelope of the four rounding
        // sources, naming which sets it) and each source: a seed's is never reached in 2 epochs.
        let meets = pair("framework")["meets"].as_array().unwrap().clone();
        let names: Vec<&str> = meets.iter().map(|m| m["source"].as_str().unwrap()).collect();
        assert_eq!(names, ["floor", "tch-threads", "ulp-ndarray", "ulp-tch", "seed"]);
        let set_by = meets[0]["set_by"].as_array().unwrap();
        assert!(!set_by.is_empty() && set_by.iter().all(|s| s[0] != "seed"), "{set_by:?}");
        assert!(meets[4]["first_within"].is_null() && meets[4]["stays_from"].is_null());
        assert!(meets[4]["ratio_at_end"].as_f64().unwrap() < 1e-3);
        // The nudged run records its start.
        let runs = s["runs"].as_array().unwrap();
        let b = &runs[pair("ulp-ndarray")["b"].as_u64().unwrap() as usize];
        assert!(
            b["result"]["initial"]["source"]
                .as_str()
                .unwrap()
                .ends_with("fc1.weight[0, 406] + 1 ulp"),
            "{b}"
        );
        assert_eq!(b["nudge"]["tensor"], "fc1.weight");
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## numpy-model") && md.contains("## pytorch-model"), "{md}");
    assert!(md.contains("| ndarray, 1 vs 2 threads |"), "{md}");
    assert!(md.contains("- *another seed (ndarray)*: never within the"), "{md}");
    assert!(md.contains("- *the floor* (at each update the largest of the floor pairs"), "{md}");

    // `twinnet plot` redraws a drift folder from its JSON: the same summary.
    std::fs::remove_file(out.join("summary.md")).unwrap();
    let o = twinnet(&data, &["plot", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(out.join("summary.md")).unwrap(), md);
}

#[test]
fn bad_drift_experiments_are_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 200, 50);
    let head = "description = \"d\"\n[[setting]]\nname = \"s\"\nepochs = 1\n";
    let cases = [
        (
            "[[source]]\nname = \"x\"\na = { regime = \"minibatch\" }\n",
            "source `x` in setting `s`: its two runs make different updates",
        ),
        ("[[source]]\nname = \"x\"\n", "source `x` in setting `s`: its two runs are the same run"),
        (
            "[[source]]\nname = \"x\"\nnudge = { tensor = \"fc1.weight\", index = [10, 0] }\n",
            "source `x`: nudge: index [10, 0] is not inside `fc1.weight` of shape [10, 784]",
        ),
        (
            "[[source]]\nname = \"x\"\nnudge = { tensor = \"fc9\", index = [0] }\n",
            "nudge: no tensor `fc9`",
        ),
        ("[[source]]\nname = \"x\"\nb = { lr = 0.2 }\nepoch = 3\n", "unknown field `epoch`"),
        ("", "at least one [[setting]] and one [[source]]"),
        (
            "[[source]]\nname = \"x\"\nb = { lr = 0.2 }\nmeets = [\"y\"]\n",
            "source `x`: meets: `y` is not another source of the file",
        ),
    ];
    for (i, (tail, want)) in cases.iter().enumerate() {
        let f = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&f, format!("{head}{tail}")).unwrap();
        let out = tmp.path().join(format!("out{i}"));
        let o = twinnet(&data, &["drift", f.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(err.contains(&*f.display().to_string()) && err.contains(want), "{want}: {err}");
        assert!(!out.exists(), "{}: output written", out.display());
    }
}
