//! Every kind of bad data and parameter file, end to end through the binary: a one-line error
//! that names the file and what was expected, a non-zero exit, and no output file.

mod common;
use common::*;
use std::path::Path;
use twinnet_data::idx::{encode_images, encode_labels};
use twinnet_testkit::gz;

type Breaker = fn(&Path);

/// Runs `train` on a synthetic folder broken by `breaker`; returns stderr after checking the
/// failure, the one-line message and that no output was written.
fn fails(breaker: Breaker, extra: &[&str]) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    breaker(&data);
    let out = tmp.path().join("r.json");
    let mut args = vec!["train", "--epochs", "1", "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = twinnet(&data, &args);
    let err = stderr(&o);
    assert!(!o.status.success(), "accepted: {err}");
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    assert!(!out.exists(), "output written despite: {err}");
    err
}

const TRI: &str = "train-images-idx3-ubyte";
const TRL: &str = "train-labels-idx1-ubyte";

#[test]
fn bad_data_files() {
    let cases: Vec<(&str, Breaker, &[&str])> = vec![
        ("missing file", |d| std::fs::remove_file(d.join(TRL)).unwrap(), &[TRL, "no `"]),
        (
            "wrong magic",
            |d| std::fs::write(d.join(TRI), encode_labels(&[1; 100])).unwrap(),
            &[TRI, "magic", "2051", "2049"],
        ),
        (
            "27x28 images",
            |d| {
                std::fs::write(d.join(TRI), encode_images(&vec![0; 100 * 27 * 28], 27, 28)).unwrap()
            },
            &[TRI, "28x28", "27x28"],
        ),
        (
            "label count",
            |d| std::fs::write(d.join(TRL), encode_labels(&[1; 99])).unwrap(),
            &[TRI, TRL, "100", "99"],
        ),
        (
            "truncated header",
            |d| std::fs::write(d.join(TRI), &encode_images(&[], 28, 28)[..9]).unwrap(),
            &[TRI, "truncated header", "16", "9"],
        ),
        (
            "truncated body",
            |d| {
                let b = std::fs::read(d.join(TRI)).unwrap();
                std::fs::write(d.join(TRI), &b[..b.len() - 100]).unwrap();
            },
            &[TRI, "truncated data"],
        ),
        (
            "trailing garbage",
            |d| {
                let mut b = std::fs::read(d.join(TRL)).unwrap();
                b.extend_from_slice(b"junk");
                std::fs::write(d.join(TRL), b).unwrap();
            },
            &[TRL, "4 trailing bytes"],
        ),
        (
            "label of 10",
            |d| {
                let mut ls = vec![1u8; 100];
                ls[42] = 10;
                std::fs::write(d.join(TRL), encode_labels(&ls)).unwrap();
            },
            &[TRL, "label 10", "index 42"],
        ),
        (
            "gz that is not gzip",
            |d| {
                std::fs::remove_file(d.join(TRI)).unwrap();
                std::fs::write(d.join(format!("{TRI}.gz")), b"not gzip at all").unwrap();
            },
            &[TRI, "gzip"],
        ),
        (
            "gz cut short",
            |d| {
                let b = gz(&std::fs::read(d.join(TRI)).unwrap());
                std::fs::remove_file(d.join(TRI)).unwrap();
                std::fs::write(d.join(format!("{TRI}.gz")), &b[..b.len() / 3]).unwrap();
            },
            &[TRI, "gzip"],
        ),
        (
            "empty file",
            |d| std::fs::write(d.join(TRL), b"").unwrap(),
            &[TRL, "truncated header", "found 0"],
        ),
        (
            "directory for a file",
            |d| {
                std::fs::remove_file(d.join(TRL)).unwrap();
                std::fs::create_dir(d.join(TRL)).unwrap();
            },
            &[TRL, "is a directory"],
        ),
    ];
    for (what, breaker, needles) in cases {
        let err = fails(breaker, &[]);
        for n in needles {
            assert!(err.contains(n), "{what}: `{n}` not in: {err}");
        }
    }
}

#[test]
fn bad_parameter_files() {
    use twinnet_core::{Init, Params};
    let tmp = tempfile::tempdir().unwrap();
    let f = |name: &str| tmp.path().join(name);
    std::fs::write(f("text.safetensors"), b"definitely not safetensors").unwrap();
    Params::init(12, Init::Uniform, 0).unwrap().save(&f("h12.safetensors")).unwrap();
    let mut nan = Params::init(10, Init::Uniform, 0).unwrap();
    nan.layers[1].weight[3] = f32::NAN;
    nan.save(&f("nan.safetensors")).unwrap();
    let mut inf = Params::init(10, Init::Uniform, 0).unwrap();
    inf.layers[0].bias[0] = f32::INFINITY;
    inf.save(&f("inf.safetensors")).unwrap();
    // Hand-built files: a missing tensor, a wrong shape, a wrong dtype.
    let write = |name: &str, tensors: &[(&str, safetensors::Dtype, Vec<usize>)]| {
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, d, s)| vec![0u8; s.iter().product::<usize>() * d.bitsize() / 8])
            .collect();
        let views = tensors.iter().zip(&data).map(|((n, d, s), b)| {
            (n.to_string(), safetensors::tensor::TensorView::new(*d, s.clone(), b).unwrap())
        });
        std::fs::write(f(name), safetensors::serialize(views, None).unwrap()).unwrap();
    };
    use safetensors::Dtype::{F32, F64};
    write(
        "missing.safetensors",
        &[
            ("fc1.weight", F32, vec![10, 784]),
            ("fc1.bias", F32, vec![10]),
            ("fc2.weight", F32, vec![10, 10]),
        ],
    );
    write("shape.safetensors", &[("fc1.weight", F32, vec![10, 783])]);
    write("dtype.safetensors", &[("fc1.weight", F64, vec![10, 784])]);
    let cases = [
        ("text.safetensors", "not a safetensors file"),
        ("missing.safetensors", "missing tensor `fc2.bias`"),
        ("shape.safetensors", "shape [10, 783], expected [10, 784]"),
        ("dtype.safetensors", "dtype F64, expected F32"),
        ("h12.safetensors", "widths [784, 12, 10], but widths [784, 10, 10]"),
        ("nan.safetensors", "fc2.weight"),
        ("inf.safetensors", "fc1.bias"),
        ("absent.safetensors", "absent.safetensors"),
    ];
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 100, 20);
    for (name, needle) in cases {
        for backend in ["ndarray", "tch"] {
            let path = f(name);
            let o = twinnet(
                &data,
                &[
                    "train",
                    "--backend",
                    backend,
                    "--epochs",
                    "1",
                    "--quiet",
                    "--init-from",
                    path.to_str().unwrap(),
                ],
            );
            let err = stderr(&o);
            assert!(!o.status.success(), "{name} accepted by {backend}");
            assert!(err.contains(name) && err.contains(needle), "{name} ({backend}): {err}");
        }
    }
}
