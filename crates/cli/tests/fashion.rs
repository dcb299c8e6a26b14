//! Fashion-MNIST: the files `make data` installs, their provisioning, and a run on them.

mod common;
use common::*;
use serde_json::Value;
use std::process::Command;
use twinnet_data::{DatasetName, Splits, FILES};

#[test]
#[ignore = "needs Fashion-MNIST"]
fn fashion_mnist_checksums_and_label_counts() {
    let d = twinnet_testkit::fashion_mnist();
    assert!(d.is(DatasetName::FashionMnist), "sha256 {:?}", d.sha256);
    assert_eq!(d.identify(), Some(DatasetName::FashionMnist));
    assert_eq!((d.train.len(), d.test.len()), (60_000, 10_000));
    assert_eq!(d.train.label_counts(), [6000; 10]);
    assert_eq!(d.test.label_counts(), [1000; 10]);
    // And MNIST is not mistaken for it.
    assert!(!twinnet_testkit::mnist().is(DatasetName::FashionMnist));
}

/// A corrupted cached file is detected and fetched again; a second run downloads nothing.
#[test]
#[ignore = "needs Fashion-MNIST"]
fn corrupted_cached_file_is_fetched_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("fashion-mnist");
    std::fs::create_dir(&dest).unwrap();
    let cached = DatasetName::FashionMnist.default_dir();
    for f in FILES {
        std::fs::copy(cached.join(format!("{f}.gz")), dest.join(format!("{f}.gz"))).unwrap();
    }
    let victim = dest.join("t10k-labels-idx1-ubyte.gz");
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();
    let script = repo().join("scripts/fetch-fashion-mnist.sh");
    let run = || Command::new(&script).arg(&dest).output().unwrap();
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.contains("t10k-labels-idx1-ubyte.gz fails its sha256 check, fetching it again"));
    assert!(Splits::load(&dest).unwrap().is(DatasetName::FashionMnist));
    let o = run();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && out.contains("all four files present and verified"), "{out}");
    assert!(!out.contains("fetching"), "a second run fetched: {out}");
}

#[test]
#[ignore = "needs Fashion-MNIST"]
fn a_run_names_records_and_checks_its_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.json");
    let fashion = DatasetName::FashionMnist.default_dir();
    let mnist = DatasetName::Mnist.default_dir();
    // No --data-dir: the dataset's own folder (TWINNET_DATA_DIR names MNIST's, not this one).
    let args =
        ["train", "--dataset", "fashion-mnist", "--epochs", "2", "--out", out.to_str().unwrap()];
    let o = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(args)
        .env("TWINNET_DATA_DIR", &mnist)
        .env("TWINNET_FASHION_MNIST_DIR", &fashion)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("  Ankle boot ") && text.contains(" T-shirt/top "), "{text}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["config"]["dataset"], "fashion-mnist");
    assert_eq!(v["data"]["dataset"], "fashion-mnist");
    assert_eq!(v["data"]["verified"], true);
    let pinned = DatasetName::FashionMnist.pinned_sha256();
    for (f, sum) in FILES.iter().zip(pinned) {
        assert_eq!(v["data"]["sha256"][f], sum, "{f}");
    }
    assert!(v["test"]["report"].as_str().unwrap().contains("  Ankle boot "));

    // MNIST's files under the Fashion-MNIST name: refused, naming the folder and the fix.
    let o = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["train", "--dataset", "fashion-mnist", "--epochs", "1", "--data-dir"])
        .arg(&mnist)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(&*mnist.display().to_string())
            && err.contains("these files are mnist, not fashion-mnist"),
        "{err}"
    );
}

/// Other files in the format are used and recorded as unverified; comparing results of two
/// datasets warns.
#[test]
fn unverified_data_is_recorded_and_compare_warns_across_datasets() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 300, 100);
    let run = |dataset: &str, out: &str| {
        let out = tmp.path().join(out);
        let d = data.to_str().unwrap();
        let args = ["train", "--dataset", dataset, "--data-dir", d, "--epochs", "2", "--out"];
        let o = twinnet(&data, &[&args[..], &[out.to_str().unwrap()]].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("recorded as unverified"));
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(
            (&v["data"]["dataset"], &v["data"]["verified"]),
            (&dataset.into(), &false.into())
        );
        out
    };
    let (a, b) = (run("mnist", "a.json"), run("fashion-mnist", "b.json"));
    let o = twinnet(&data, &["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("ran on mnist") && err.contains("on fashion-mnist"), "{err}");
}
