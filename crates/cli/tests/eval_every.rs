//! `--eval-every K`: the test set evaluated during training, in the history (and the curves),
//! on both built-in backends; nothing recorded or hashed differently without it.

mod common;
use common::*;

#[test]
fn test_accuracy_every_k_epochs_in_the_history() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 80);
    for backend in ["ndarray", "tch"] {
        let out = tmp.path().join(format!("{backend}.json"));
        let plain = tmp.path().join(format!("{backend}-plain.json"));
        let args = |o: &std::path::Path| {
            vec![
                "train".to_string(),
                "--backend".into(),
                backend.into(),
                "--regime".into(),
                "minibatch".into(),
                "--epochs".into(),
                "5".into(),
                "--log-every".into(),
                "5".into(),
                "--quiet".into(),
                "--out".into(),
                o.to_str().unwrap().into(),
            ]
        };
        let mut with: Vec<String> = args(&out);
        with.extend(["--eval-every".into(), "2".into()]);
        let o = twinnet(&data, &with.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{backend}: {}", stderr(&o));
        let o = twinnet(&data, &args(&plain).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(o.status.success(), "{backend}: {}", stderr(&o));
        let (r, p) = (json(&out), json(&plain));
        // Evaluated epochs 2, 4 and the last are kept beside log-every's 5, and carry the test
        // accuracy and loss; the last one's is the run's test result.
        let h = r["history"].as_array().unwrap();
        let epochs: Vec<u64> = h.iter().map(|e| e["epoch"].as_u64().unwrap()).collect();
        assert_eq!(epochs, [2, 4, 5], "{backend}");
        for e in h {
            let a = e["test_accuracy"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&a) && e["test_loss"].as_f64().unwrap() > 0.0);
        }
        assert_eq!(h[2]["test_accuracy"], r["test"]["accuracy"], "{backend}");
        assert_eq!(r["config"]["eval_every"], 2);
        // Evaluating changes no parameter: the same training, the same end.
        assert_eq!(r["test"]["accuracy"], p["test"]["accuracy"], "{backend}");
        assert_eq!(r["history"][2]["train_loss"], p["history"][0]["train_loss"], "{backend}");
        // Without the flag nothing new is recorded, so every earlier result hashes as before.
        assert!(p["config"].get("eval_every").is_none());
        assert!(p["history"][0].get("test_accuracy").is_none());
        assert_ne!(r["config_hash"], p["config_hash"]);
    }
}
