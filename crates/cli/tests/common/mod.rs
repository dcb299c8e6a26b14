//! Helpers of the end-to-end tests: a synthetic MNIST folder and a way to run the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use twinnet_core::rng::{Rng, Stream};
use twinnet_data::idx::{encode_images, encode_labels};
use twinnet_data::{FILES, PIXELS};

/// Writes a learnable synthetic MNIST (digit `k` lights pixel band `k`) into `dir`.
pub fn synthetic_mnist(dir: &Path, n_train: usize, n_test: usize) {
    let mut rng = Rng::new(1, Stream::Shuffle);
    std::fs::create_dir_all(dir).unwrap();
    for (names, n) in [(&FILES[..2], n_train), (&FILES[2..], n_test)] {
        let labels: Vec<u8> = (0..n).map(|_| rng.below(10) as u8).collect();
        let mut px = vec![0u8; n * PIXELS];
        for (i, &l) in labels.iter().enumerate() {
            for j in 0..PIXELS {
                let on = j / 78 == l as usize;
                px[i * PIXELS + j] =
                    if on { 100 + rng.below(156) as u8 } else { rng.below(80) as u8 };
            }
        }
        std::fs::write(dir.join(names[0]), encode_images(&px, 28, 28)).unwrap();
        std::fs::write(dir.join(names[1]), encode_labels(&labels)).unwrap();
    }
}

/// The repository root (for `experiments/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `twinnet args…` with `data` as its data folder.
pub fn twinnet(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(args)
        .env("TWINNET_DATA_DIR", data)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("twinnet runs")
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The names in a folder, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
