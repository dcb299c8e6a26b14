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

/// The tests' options for `command`: 600 synthetic images, 20 updates, 6 iterations.
fn options(command: &str) -> CheckOptions {
    CheckOptions {
        train_limit: 600,
        updates: 20,
        iterations: 6,
        data_dir: Some(data()),
        ..CheckOptions::new(command)
    }
}

fn run(args: &str) -> CheckReport {
    let command = format!("python3 {} {args}", numpy_net().display());
    check(&options(&command), &AtomicBool::new(false)).unwrap()
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
        let opts = CheckOptions { against, ..options(&command) };
        let r = check(&opts, &AtomicBool::new(false)).unwrap();
        assert!(r.passed(), "{module}: {}", r.text());
    }
}

/// What the protocol reports besides the parameters is checked too, each against its floor:
/// a wrong loss, a NaN loss, a correct count taken after the update, wrong predictions, an
/// `evaluate` that fails, and a `rewind` that takes nothing back each fail, naming the
/// quantity, while the parameters are right.
#[test]
fn wrong_reports_fail_naming_the_quantity() {
    for (mistake, says) in [
        ("loss-summed", "the step's loss"),
        ("loss-nan", "the step's loss"),
        ("correct-after-update", "the step's correct count"),
        ("predictions-off-by-one", "the evaluation's predictions"),
        ("rewind-noop", "taken back (rewind)"),
    ] {
        let r = run(&format!("--mistake {mistake}"));
        let text = r.text();
        assert!(!r.passed(), "{mistake} passed: {text}");
        let verdict = text.lines().last().unwrap();
        assert!(verdict.starts_with("FAIL: ") && verdict.contains(says), "{mistake}: {verdict}");
    }
    let command = format!("python3 {} --mistake evaluate-raises", numpy_net().display());
    let e = check(&options(&command), &AtomicBool::new(false)).unwrap_err().to_string();
    assert!(e.contains("evaluate is not written yet") || e.contains("`evaluate`"), "{e}");
}

/// Options that cannot work are refused before any program starts, as `train` refuses them.
#[test]
fn impossible_options_are_refused() {
    for (opts, says) in [
        (CheckOptions { train_limit: 0, ..CheckOptions::new("x") }, "--train-limit"),
        (CheckOptions { train_limit: 1_000_000_000, ..CheckOptions::new("x") }, "--train-limit"),
        (
            CheckOptions { train_limit: 600, updates: 1_000_000_000_000, ..CheckOptions::new("x") },
            "--updates",
        ),
        (
            CheckOptions { train_limit: 600, iterations: 0, ..CheckOptions::new("x") },
            "--iterations",
        ),
        (
            CheckOptions {
                train_limit: 600,
                against: twinnet_core::BackendKind::Process,
                ..CheckOptions::new("x")
            },
            "--against process",
        ),
    ] {
        let opts = CheckOptions { data_dir: Some(data()), ..opts };
        let e = check(&opts, &AtomicBool::new(false)).unwrap_err().to_string();
        assert!(e.contains(says), "{says}: {e}");
    }
}

/// A program that refuses a scenario passes with the skipped scenario named in the last line.
#[test]
fn a_pass_with_skipped_scenarios_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("softmax_only.py");
    std::fs::write(
        &script,
        format!(
            "import runpy, sys\nsys.argv = ['numpy_net.py']\nimport twinnet_backend\n\
             ns = runpy.run_path({:?})\nNet = ns['Net']\n\
             class Only(Net):\n    def __init__(self, p, s):\n        \
             if s['head'] != 'softmax':\n            raise ValueError('only softmax')\n        \
             super().__init__(p, s)\n\
             twinnet_backend.serve(Only)\n",
            numpy_net().display().to_string()
        ),
    )
    .unwrap();
    let r =
        check(&options(&format!("python3 {}", script.display())), &AtomicBool::new(false)).unwrap();
    let last = r.text().lines().last().unwrap().to_string();
    assert!(r.passed(), "{}", r.text());
    assert!(
        last.starts_with("PASS (2 of 4 scenarios; skipped: ") && last.contains("only softmax"),
        "{last}"
    );
}

/// `check` with a model: that model, full-batch and in mini-batches.
fn run_model(args: &str, model: twinnet_runner::check::CheckModel) -> CheckReport {
    let command = format!("python3 {} {args}", numpy_net().display());
    let opts = CheckOptions { model, ..options(&command) };
    check(&opts, &AtomicBool::new(false)).unwrap()
}

/// Nielsen's chapter-1 network (sigmoid, quadratic cost, N(0, 1), η = 3, mini-batches of 10)
/// and a deeper tanh network with the sigmoid cross-entropy: a right implementation passes in
/// float32 and float64; each planted mistake of a sigmoid or tanh network fails at update 1,
/// naming a tensor it touches.
#[test]
fn any_model_is_checked_and_its_mistakes_fail() {
    use twinnet_core::{Activation, Head, Hidden, Init};
    use twinnet_runner::check::CheckModel;
    let nielsen = CheckModel {
        hidden: Some(Hidden::one(20)),
        activation: Some(Activation::Sigmoid),
        head: Some(Head::SigmoidQuadratic),
        init: Some(Init::Normal),
        lr: Some(3.0),
        batch_size: Some(10),
        ..CheckModel::default()
    };
    let deep = CheckModel {
        hidden: Some(Hidden::new(vec![16, 12])),
        activation: Some(Activation::Tanh),
        head: Some(Head::SigmoidCrossEntropy),
        init: Some(Init::NormalScaled),
        lr: Some(0.5),
        batch_size: Some(10),
        ..CheckModel::default()
    };
    for model in [&nielsen, &deep] {
        for args in ["", "--float64"] {
            let r = run_model(args, model.clone());
            assert!(r.passed(), "{args}: {}", r.text());
            assert_eq!(r.scenarios.len(), 2);
            assert!(r.scenarios.iter().all(|s| s.skipped.is_none() && !s.horizon.is_empty()));
        }
    }
    let sigmoid_deep = CheckModel { activation: Some(Activation::Sigmoid), ..deep.clone() };
    for (mistake, model, tensors) in [
        ("derivative-at-activation", &nielsen, &["fc1.weight", "fc1.bias"][..]),
        ("quadratic-without-sigma-prime", &nielsen, &["fc1.", "fc2."][..]),
        ("derivative-at-activation", &deep, &["fc1.", "fc2."][..]),
        ("middle-layer-scaled", &sigmoid_deep, &["fc2.weight", "fc2.bias"][..]),
    ] {
        let r = run_model(&format!("--mistake {mistake}"), model.clone());
        let text = r.text();
        assert!(!r.passed(), "{mistake} passed: {text}");
        let verdict = text.lines().last().unwrap();
        assert!(verdict.starts_with("FAIL: ") && verdict.contains("update 1: "), "{verdict}");
        assert!(tensors.iter().any(|t| verdict.contains(t)), "{mistake}: {verdict}");
    }
}

/// A program that does not implement the model (the report's NumPy program, one ReLU layer)
/// has its scenarios skipped, with its reason, not failed.
#[test]
fn a_model_the_program_does_not_implement_is_skipped() {
    use twinnet_runner::check::CheckModel;
    let model = CheckModel {
        hidden: Some(twinnet_core::Hidden::new(vec![16, 12])),
        ..CheckModel::default()
    };
    let opts = CheckOptions { model, ..options("python3 -m twinnet_backend.numpy_model") };
    let r = check(&opts, &AtomicBool::new(false)).unwrap();
    assert_eq!(r.scenarios.len(), 2);
    for s in &r.scenarios {
        let why = s.skipped.as_deref().unwrap_or_default();
        assert!(why.contains("not layers [784, 16, 12, 10]"), "{why}");
    }
}

/// `check` with an optimizer: a right implementation of each (momentum with dampening,
/// Nesterov with weight decay, weights-only decay, Adam with decay, AdamW) passes in float32
/// and float64, against a floor measured with that optimizer; each planted mistake fails at
/// update 1, naming a tensor; a program without the `optimizers` capability is skipped.
#[test]
fn optimizers_are_checked_and_their_mistakes_fail() {
    use twinnet_core::{DecayScope, Hidden, Init, OptimizerKind, OptimizerSettings};
    use twinnet_runner::check::CheckModel;
    let sgd = OptimizerSettings::default();
    let adam = OptimizerSettings { kind: Some(OptimizerKind::Adam), ..sgd };
    let adamw =
        OptimizerSettings { kind: Some(OptimizerKind::AdamW), weight_decay: Some(0.1), ..sgd };
    let damped = OptimizerSettings { momentum: Some(0.9), dampening: Some(0.5), ..sgd };
    let decayed = OptimizerSettings { momentum: Some(0.9), weight_decay: Some(0.01), ..sgd };
    let model = |optimizer: OptimizerSettings| CheckModel {
        hidden: Some(Hidden::new(vec![16, 12])),
        init: Some(Init::TorchDefault),
        lr: Some(if optimizer.kind.is_some() { 0.001 } else { 0.1 }),
        batch_size: Some(16),
        optimizer,
        ..CheckModel::default()
    };
    let right = [
        damped,
        OptimizerSettings { nesterov: Some(true), ..decayed },
        OptimizerSettings { decay: Some(DecayScope::Weights), ..decayed },
        OptimizerSettings { weight_decay: Some(0.01), ..adam },
        adamw,
    ];
    for o in right {
        for args in ["", "--float64"] {
            let r = run_model(args, model(o));
            assert!(r.passed(), "{o:?} {args}: {}", r.text());
            assert!(r.scenarios.iter().all(|s| s.skipped.is_none() && !s.horizon.is_empty()));
        }
    }
    for (mistake, o, tensors) in [
        ("momentum-from-zero", damped, &["fc"][..]),
        ("adam-no-second-bias-correction", adam, &["fc"][..]),
        ("adamw-coupled", adamw, &["fc"][..]),
        ("decay-skips-biases", decayed, &[".bias"][..]),
    ] {
        let r = run_model(&format!("--mistake {mistake}"), model(o));
        let text = r.text();
        assert!(!r.passed(), "{mistake} passed: {text}");
        let verdict = text.lines().last().unwrap();
        assert!(verdict.starts_with("FAIL: ") && verdict.contains("update 1: "), "{verdict}");
        assert!(tensors.iter().any(|t| verdict.contains(t)), "{mistake}: {verdict}");
    }
    let r = run_model("--no-optimizers", model(adam));
    assert!(
        r.scenarios.iter().all(|s| {
            s.skipped.as_deref().is_some_and(|why| why.contains("`optimizers` capability"))
        }),
        "{}",
        r.text()
    );
}
