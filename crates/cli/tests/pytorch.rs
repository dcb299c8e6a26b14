//! Against the real PyTorch of the project's venv (`make setup`): `--init-rng torch` draws
//! exactly what `torch.manual_seed(S)` followed by `nn.Linear(784, h)` and `nn.Linear(h, 10)`
//! draws in Python, bit for bit. Ignored by plain `cargo test` (it needs that Python);
//! `make test` runs it.

#![cfg(feature = "tch")]

mod common;
use common::*;
use std::process::Command;

#[test]
#[ignore = "needs PyTorch (the venv of make setup)"]
fn init_rng_torch_equals_pytorch_bit_for_bit() {
    let tmp = tempfile::tempdir().unwrap();
    let script = repo().join("crates/cli/tests/pytorch/init.py");
    for (init, seed, hidden) in [
        ("torch-default", 0, "10"),
        ("torch-default", 3, "16"),
        ("uniform", 7, "10"),
        ("torch-default", 5, "32,16,8"),
        ("normal", 1, "30"),
        ("normal-scaled", 2, "128,64"),
        ("normal", 9, "none"),
    ] {
        let raw = tmp.path().join(format!("{init}-{seed}-{hidden}.f32"));
        let o = Command::new(python())
            .arg(&script)
            .args([&seed.to_string(), hidden, init])
            .arg(&raw)
            .output()
            .unwrap();
        assert!(o.status.success(), "PyTorch: {}", stderr(&o));
        let want: Vec<u32> = std::fs::read(&raw)
            .unwrap()
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
            .collect();

        let file = tmp.path().join(format!("{init}-{seed}-{hidden}.safetensors"));
        let (s, h) = (seed.to_string(), hidden.to_string());
        let args = ["init", "--init-rng", "torch", "--init", init, "--seed", &s, "--hidden", &h];
        let o = twinnet(tmp.path(), &[&args[..], &["--out", file.to_str().unwrap()]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let p = twinnet_core::Params::load_widths(&file, None).unwrap();
        let got: Vec<u32> =
            p.tensors().into_iter().flat_map(|(_, _, t)| t.iter().map(|x| x.to_bits())).collect();
        assert_eq!(got.len(), want.len());
        let first = got.iter().zip(&want).position(|(a, b)| a != b);
        assert!(first.is_none(), "{init} seed {seed} h {hidden}: first difference at {first:?}");
    }
}

/// The default generator is twinnet's, whatever the backend: `twinnet init` writes what both
/// backends start from, and the result records it.
#[test]
fn same_flags_same_start_on_both_backends() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 50);
    let file = tmp.path().join("p.safetensors");
    let o = twinnet(&data, &["init", "--seed", "3", "--out", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let want = format!("{:016x}", twinnet_core::Params::load(&file, None).unwrap().fingerprint());
    for backend in ["ndarray", "tch"] {
        let out = tmp.path().join(format!("{backend}.json"));
        let args =
            ["train", "--backend", backend, "--seed", "3", "--epochs", "1", "--quiet", "--out"];
        let o = twinnet(&data, &[&args[..], &[out.to_str().unwrap()]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(r["initial"]["fingerprint"], want.as_str(), "{backend}");
        assert!(r["initial"]["source"].as_str().unwrap().starts_with("twinnet's generator"));
        assert_eq!(r["config"]["init_rng"], "twinnet");
    }
}

/// A model trained in PyTorch and saved with safetensors: `twinnet eval` on either backend
/// predicts what PyTorch predicts (the same confusion matrix over the 10,000 test images).
#[test]
#[ignore = "needs PyTorch (the venv of make setup) and MNIST"]
fn eval_of_a_pytorch_state_dict_matches_pytorch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = twinnet_data::default_data_dir();
    let script = repo().join("crates/cli/tests/pytorch/eval.py");
    for normalize in ["unit", "symmetric"] {
        let dir = tmp.path().join(normalize);
        std::fs::create_dir_all(&dir).unwrap();
        let o = Command::new(python())
            .arg(&script)
            .args([data.as_os_str(), dir.as_os_str()])
            .arg(normalize)
            .output()
            .unwrap();
        assert!(o.status.success(), "PyTorch: {}", stderr(&o));
        let want: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("confusion.json")).unwrap())
                .unwrap();
        let model = dir.join("model.safetensors");
        for backend in ["ndarray", "tch"] {
            let out = dir.join(format!("{backend}.json"));
            let args = [
                "eval",
                "--params",
                model.to_str().unwrap(),
                "--backend",
                backend,
                "--normalize",
                normalize,
                "--out",
                out.to_str().unwrap(),
            ];
            let o = twinnet(&data, &args);
            assert!(o.status.success(), "{}", stderr(&o));
            let r: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
            assert_eq!(r["test"]["confusion"], want, "{backend} {normalize}");
            assert_eq!(r["hidden"], 10);
            assert!(out.with_extension("png").exists() && out.with_extension("svg").exists());
        }
    }
}
