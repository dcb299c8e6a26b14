//! Any multilayer perceptron from the command line: `--hidden`, `--activation`, the sigmoid
//! heads and the normal inits, trained by both built-in backends, recorded in the result,
//! saved at any depth and evaluated again; what a backend cannot train refused by name before
//! any work; the report's network recorded exactly as before.

mod common;
use common::*;
use std::path::Path;

/// One run's flags.
fn train_args(backend: &str, model: &[&str], out: &Path, params: &Path) -> Vec<String> {
    let mut a: Vec<String> = [
        "train",
        "--backend",
        backend,
        "--regime",
        "minibatch",
        "--batch-size",
        "10",
        "--lr",
        "0.5",
        "--epochs",
        "2",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
        "--save-params",
        params.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec();
    a.extend(model.iter().map(|s| s.to_string()));
    a
}

fn run(data: &Path, args: &[String]) -> std::process::Output {
    twinnet(data, &args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn any_network_trains_saves_and_evaluates_on_both_backends() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 80);
    let cases: [(&[&str], serde_json::Value, &[usize]); 3] = [
        (
            &[
                "--hidden",
                "30,20",
                "--activation",
                "tanh",
                "--head",
                "sigmoid-quadratic",
                "--init",
                "normal-scaled",
            ],
            serde_json::json!([30, 20]),
            &[784, 30, 20, 10],
        ),
        (
            &["--hidden", "none", "--head", "sigmoid-cross-entropy", "--init", "normal"],
            serde_json::json!([]),
            &[784, 10],
        ),
        (
            &["--hidden", "12", "--activation", "sigmoid", "--init", "torch-default"],
            serde_json::json!(12),
            &[784, 12, 10],
        ),
    ];
    for (model, recorded, widths) in cases {
        for backend in ["ndarray", "tch"] {
            let what = format!("{backend} {model:?}");
            let out = tmp.path().join("r.json");
            let params = tmp.path().join("p.safetensors");
            let o = run(&data, &train_args(backend, model, &out, &params));
            assert!(o.status.success(), "{what}: {}", stderr(&o));
            let r = json(&out);
            assert_eq!(r["config"]["hidden"], recorded, "{what}");
            let activation = model.iter().position(|&a| a == "--activation").map(|i| model[i + 1]);
            assert_eq!(r["config"]["activation"].as_str(), activation, "{what}");
            let saved = twinnet_core::Params::load_widths(&params, None).unwrap();
            assert_eq!(saved.widths(), widths, "{what}");
            // Every epoch's loss is a number (no step blew up).
            let h = r["history"].as_array().unwrap();
            assert!(h.iter().all(|e| e["train_loss"].as_f64().unwrap().is_finite()), "{what}");
            // `eval` of the saved parameters with the same model settings is the run's test.
            let mut eval: Vec<String> =
                ["eval", "--backend", backend, "--params"].map(String::from).to_vec();
            eval.push(params.to_str().unwrap().into());
            for flag in ["--activation", "--head"] {
                if let Some(i) = model.iter().position(|&a| a == flag) {
                    eval.extend([flag.to_string(), model[i + 1].to_string()]);
                }
            }
            let eval_out = tmp.path().join("e.json");
            eval.extend(["--out".into(), eval_out.to_str().unwrap().into()]);
            let o = run(&data, &eval);
            assert!(o.status.success(), "{what}: eval: {}", stderr(&o));
            let e = json(&eval_out);
            assert_eq!(e["test"]["accuracy"], r["test"]["accuracy"], "{what}");
            assert_eq!(e["hidden"], recorded, "{what}");
            let (a, b) = (e["test"]["loss"].as_f64().unwrap(), r["test"]["loss"].as_f64().unwrap());
            assert!((a - b).abs() <= 1e-6 * b.abs(), "{what}: eval loss {a} vs the run's {b}");
        }
    }
}

/// The report's network is recorded as it always was: one width as a number, no activation
/// key (so every committed result reads and hashes as before).
#[test]
fn the_reports_network_is_recorded_as_before() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    let out = tmp.path().join("r.json");
    let o = twinnet(&data, &["train", "--epochs", "1", "--quiet", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&out);
    assert_eq!(r["config"]["hidden"], 10);
    assert!(r["config"].get("activation").is_none());
    let o = twinnet(
        &data,
        &[
            "train",
            "--epochs",
            "1",
            "--quiet",
            "--activation",
            "relu",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&out)["config"]["activation"], "relu");
}

/// Settings that cannot work fail before any work, naming the setting; a program that speaks
/// protocol version 1 is refused any network outside the report's family before `init`,
/// naming the setting and its version.
#[test]
fn what_cannot_be_trained_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 50, 10);
    let v1 = tmp.path().join("v1.py");
    std::fs::write(
        &v1,
        "import sys, json\nfor l in sys.stdin:\n    r = json.loads(l)\n    \
         print(json.dumps({'id': r['id'], 'ok': True, 'protocol': 1}), flush=True)\n",
    )
    .unwrap();
    let command = format!("python3 {}", v1.display());
    let process = ["--backend", "process", "--command", command.as_str()];
    let cases: [(Vec<&str>, &str); 5] = [
        (vec!["--hidden", "30,0"], "hidden: every width must be at least 1 (hidden layer 2 is 0)"),
        (vec!["--hidden", "wide"], "`wide` is not hidden widths"),
        (
            [&process[..], &["--hidden", "30,20"]].concat(),
            "--hidden 30,20: the program speaks protocol version 1",
        ),
        (
            [&process[..], &["--activation", "tanh"]].concat(),
            "--activation tanh: the program speaks protocol version 1",
        ),
        ([&process[..], &["--head", "sigmoid-quadratic"]].concat(), "--head sigmoid-quadratic"),
    ];
    for (flags, needle) in cases {
        let out = tmp.path().join("never.json");
        let mut args = vec!["train", "--epochs", "1", "--quiet", "--out", out.to_str().unwrap()];
        args.extend(flags.iter());
        let o = twinnet(&data, &args);
        assert!(!o.status.success(), "{flags:?} was accepted");
        assert!(stderr(&o).contains(needle), "{flags:?}: {}", stderr(&o));
        assert!(!out.exists(), "{flags:?}: wrote a result");
    }
}

/// `twinnet init` draws any depth with the run's own function, so `train --init-from` of it
/// starts exactly where `train` with the same flags does.
#[test]
fn init_draws_any_depth() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 60, 10);
    let file = tmp.path().join("deep.safetensors");
    let o = twinnet(
        &data,
        &[
            "init",
            "--hidden",
            "16,8",
            "--init",
            "normal",
            "--seed",
            "4",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let p = twinnet_core::Params::load_widths(&file, None).unwrap();
    assert_eq!(p.widths(), [784, 16, 8, 10]);
    assert_eq!(
        p,
        twinnet_core::Params::init_widths(&[784, 16, 8, 10], twinnet_core::Init::Normal, 4)
    );
    let (a, b) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    let common = ["train", "--epochs", "1", "--quiet", "--hidden", "16,8", "--activation", "tanh"];
    let o = twinnet(
        &data,
        &[&common[..], &["--init", "normal", "--seed", "4", "--out", a.to_str().unwrap()]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = twinnet(
        &data,
        &[
            &common[..],
            &["--seed", "4", "--init-from", file.to_str().unwrap(), "--out", b.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&a)["initial"]["fingerprint"], json(&b)["initial"]["fingerprint"]);
    assert_eq!(json(&a)["test"], json(&b)["test"]);
    // A file of other widths is refused, naming both.
    let o = twinnet(
        &data,
        &["train", "--epochs", "1", "--quiet", "--init-from", file.to_str().unwrap()],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("widths [784, 16, 8, 10], but widths [784, 10, 10]"),
        "{}",
        stderr(&o)
    );
}

/// A program speaking protocol version 2 trains any network: the test implementation in NumPy,
/// a tanh network of two hidden layers with the sigmoid cross-entropy head, saved at its depth.
#[test]
fn the_process_backend_trains_any_network() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 200, 40);
    let net = repo().join("crates/process/tests/python/numpy_net.py");
    let command = format!("python3 {}", net.display());
    let (out, params) = (tmp.path().join("p.json"), tmp.path().join("p.safetensors"));
    let model = ["--hidden", "16,12", "--activation", "tanh", "--head", "sigmoid-cross-entropy"];
    let mut args = train_args("process", &model, &out, &params);
    args.extend(["--command".into(), command]);
    let o = run(&data, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = json(&out);
    assert_eq!(r["config"]["hidden"], serde_json::json!([16, 12]));
    assert_eq!(r["environment"]["numerics"]["protocol"], "2");
    let saved = twinnet_core::Params::load_widths(&params, None).unwrap();
    assert_eq!(saved.widths(), [784, 16, 12, 10]);
}

/// `twinnet check` takes `train`'s model flags: Nielsen's sigmoid network with the quadratic
/// cost passes for the test implementation, fails for its mistake, and impossible settings are
/// refused by name before any program starts.
#[test]
fn check_takes_the_model_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 40);
    let net = repo().join("crates/process/tests/python/numpy_net.py");
    let model = [
        "--hidden",
        "20",
        "--activation",
        "sigmoid",
        "--head",
        "sigmoid-quadratic",
        "--init",
        "normal",
        "--lr",
        "3",
        "--batch-size",
        "10",
    ];
    let check = |extra: &str, flags: &[&str]| {
        let command = format!("python3 {} {extra}", net.display());
        let args = ["check", "--command", &command, "--train-limit", "300", "--updates", "8"];
        twinnet(&data, &[&args[..], &["--iterations", "3"], flags].concat())
    };
    let o = check("", &model);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("mini-batch 10, 784-20-10 sigmoid, sigmoid-quadratic head"), "{out}");
    assert!(out.ends_with("PASS\n"), "{out}");
    let o = check("--mistake derivative-at-activation", &model);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("FAIL: "));
    for (flags, says) in [
        (&["--lr", "0"][..], "--lr: must be a finite number > 0"),
        (&["--batch-size", "301"][..], "--batch-size: must be between 1 and the 300"),
        (&["--hidden", "20,0"][..], "hidden layer 2 is 0"),
    ] {
        let o = check("", flags);
        assert!(!o.status.success() && stderr(&o).contains(says), "{flags:?}: {}", stderr(&o));
    }
}
