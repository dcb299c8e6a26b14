//! Results that do not depend on the machine: the tch backend's pinned code path gives the same
//! bits when MKL is held to AVX2 (as on an AVX2-only CPU), every result records what produced
//! its bits, and `twinnet verify` catches a result that moved.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;

/// Trains `args` on `data` with `env` set; returns the parameter file's bytes and the result.
#[cfg(feature = "tch")]
fn train(
    data: &Path,
    dir: &Path,
    tag: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Vec<u8>, Value) {
    let (out, params) = (dir.join(format!("{tag}.json")), dir.join(format!("{tag}.safetensors")));
    let mut all = vec!["train", "--quiet", "--out", out.to_str().unwrap()];
    all.extend_from_slice(&["--save-params", params.to_str().unwrap()]);
    all.extend_from_slice(args);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_twinnet"));
    cmd.args(&all).env("TWINNET_DATA_DIR", data);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{tag}: {}", stderr(&o));
    (std::fs::read(&params).unwrap(), json(&out))
}

/// On a CPU with AVX-512, `MKL_ENABLE_INSTRUCTIONS=AVX2` makes MKL dispatch as on an AVX2-only
/// CPU (and ATen is pinned to AVX2 already): the pinned path must give the same bits. Without
/// pinning MKL's AVX-512 and AVX2 kernels sum differently, so this fails if pinning breaks.
#[cfg(feature = "tch")]
#[test]
fn tch_pinned_bits_do_not_depend_on_the_instruction_set() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 2000, 200);
    for regime in ["full-batch", "minibatch"] {
        let args =
            ["--backend", "tch", "--regime", regime, "--epochs", "4", "--init", "torch-default"];
        let (here, r) = train(&data, tmp.path(), &format!("{regime}-here"), &args, &[]);
        let env = [("MKL_ENABLE_INSTRUCTIONS", "AVX2")];
        let (avx2, _) = train(&data, tmp.path(), &format!("{regime}-avx2"), &args, &env);
        assert!(
            here == avx2,
            "{regime}: the pinned path computed other bits with MKL held to AVX2"
        );
        let numerics = &r["environment"]["numerics"];
        assert_eq!(numerics["code_path"], "pinned", "{r:#}");
        let features = r["environment"]["cpu_features"].as_str().unwrap();
        if features.contains("avx2") && features.contains("fma") {
            assert_eq!(numerics["aten_cpu_capability"], "avx2", "{numerics}");
            assert_eq!(
                numerics["mkl_cbwr"], "AVX2",
                "MKL did not take the AVX2 branch: {numerics}"
            );
        }
    }
    // The check is sensitive: where the CPU has AVX-512, libtorch's native path computes other
    // bits than with MKL held to AVX2 (on an AVX2-only CPU the two are the same path).
    let args = ["--backend", "tch", "--epochs", "4", "--init", "torch-default", "--native-kernels"];
    let (native, r) = train(&data, tmp.path(), "native", &args, &[]);
    assert_eq!(r["environment"]["numerics"]["code_path"], "native");
    if r["environment"]["cpu_features"].as_str().unwrap().contains("avx512f") {
        let env = [("MKL_ENABLE_INSTRUCTIONS", "AVX2")];
        let (held, _) = train(&data, tmp.path(), "native-avx2", &args, &env);
        assert!(native != held, "MKL held to AVX2 changed nothing: the check above proves nothing");
    }
}

/// Every result records the CPU's features and what decides its backend's bits.
#[test]
fn results_record_what_produced_their_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 50);
    let out = tmp.path().join("r.json");
    let o = twinnet(&data, &["train", "--epochs", "1", "--quiet", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let env = &json(&out)["environment"];
    assert!(env["cpu"].as_str().is_some_and(|c| !c.is_empty()), "{env}");
    assert!(env["cpu_features"].is_string(), "{env}");
    let kernels = env["numerics"]["kernels"].as_str().unwrap();
    assert!(["avx512", "avx2", "portable"].contains(&kernels), "{env}");
    assert!(env["numerics"]["sum_order"].as_str().unwrap().starts_with("pinned"), "{env}");
    assert_eq!(env["threads"], json(&out)["config"]["threads"]);
}

/// `twinnet verify` passes on a folder it reproduces and names the run and field that moved.
#[test]
fn verify_catches_a_moved_result() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 600, 100);
    let exp = tmp.path().join("tiny.toml");
    std::fs::write(
        &exp,
        "description = \"verify test\"\n[defaults]\nepochs = 2\n\n[[run]]\nname = \"a\"\nregime = \"full-batch\"\n\n[[run]]\nname = \"b\"\nregime = \"minibatch\"\n",
    )
    .unwrap();
    let committed = tmp.path().join("committed");
    let (e, c) = (exp.to_str().unwrap(), committed.to_str().unwrap());
    let o = twinnet(&data, &["run", e, "--out", c, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = twinnet(&data, &["verify", e, "--against", c, "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("reproduced"));

    // A test accuracy that moved.
    let b = committed.join("b.json");
    let mut r = json(&b);
    r["test"]["accuracy"] = Value::from(0.5);
    std::fs::write(&b, serde_json::to_string_pretty(&r).unwrap()).unwrap();
    // Parameters that moved: another run's file in a's place.
    std::fs::copy(committed.join("b.safetensors"), committed.join("a.safetensors")).unwrap();
    let o = twinnet(&data, &["verify", e, "--against", c, "--quiet"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("b: test.accuracy: ") && err.contains(" here, 0.5 committed"), "{err}");
    assert!(err.contains("a: parameters"), "{err}");
    assert!(err.contains("2 difference(s)"), "{err}");
}
