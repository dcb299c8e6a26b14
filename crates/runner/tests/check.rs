//! `twinnet check` on implementations written for the tests: the float32 NumPy one and its
//! float64 twin pass; each planted mistake fails, naming the update and the tensor.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use twinnet_runner::check::{check, CheckOptions, CheckReport};

fn numpy_net() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../process/tests/python/numpy_net.py")
}

fn data() -> PathBuf {
    static D: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let d = D.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        twinnet_testkit::synthetic_mnist(t.path(), 600, 50);
        t
    });
    d.path().to_path_buf()
}

fn run(args: &str) -> CheckReport {
    let command = format!("python3 {} {args}", numpy_net().display());
    let opts = CheckOptions {
        train_limit: 600,
        updates: 20,
        iterations: 6,
        data_dir: Some(data()),
        ..CheckOptions::new(&command)
    };
    check(&opts, &AtomicBool::new(false)).unwrap()
}

#[test]
fn a_right_implementation_passes_in_float32_and_in_float64() {
    for args in ["", "--float64"] {
        let r = run(args);
        let text = r.text();
        assert!(r.passed(), "{args}: {text}");
        assert!(text.ends_with("PASS\n"), "{text}");
        assert_eq!(r.scenarios.len(), 4);
        assert!(r.scenarios.iter().all(|s| s.skipped.is_none() && !s.horizon.is_empty()));
    }
}

#[test]
fn each_planted_mistake_fails_at_update_1() {
    for (mistake, tensor) in [
        ("bias-grad-doubled", "fc1.bias"),
        ("relu-mask-missing", "fc1.weight"),
        ("softmax-wrong-axis", "fc1.weight"),
        ("lr-twice", "fc1.weight"),
        ("no-averaging", "fc1.weight"),
    ] {
        let r = run(&format!("--mistake {mistake}"));
        let text = r.text();
        assert!(!r.passed(), "{mistake} passed: {text}");
        let verdict = text.lines().last().unwrap();
        assert!(verdict.starts_with("FAIL: ") && verdict.contains("update 1: "), "{verdict}");
        assert!(
            verdict.contains(tensor) && verdict.contains("× the floor"),
            "{mistake}: {verdict}"
        );
    }
}

/// The report's two models shipped with twinnet pass `check` against the backend that mirrors
/// them: the NumPy model (float64) against ndarray, the PyTorch model against tch.
#[test]
fn the_report_models_shipped_pass_check() {
    for (module, against) in [
        ("numpy_model", twinnet_core::BackendKind::Ndarray),
        ("pytorch_model", twinnet_core::BackendKind::Tch),
    ] {
        let command = format!("python3 -m twinnet_backend.{module}");
        let opts = CheckOptions {
            against,
            train_limit: 600,
            updates: 20,
            iterations: 6,
            data_dir: Some(data()),
            ..CheckOptions::new(&command)
        };
        let r = check(&opts, &AtomicBool::new(false)).unwrap();
        assert!(r.passed(), "{module}: {}", r.text());
    }
}
