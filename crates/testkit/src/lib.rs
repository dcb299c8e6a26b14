//! Test support shared by every crate's tests (a dev-dependency only): seeded random data,
//! gzip, synthetic MNIST folders, the real MNIST for the tests that need it, and the
//! [`conformance`] suite every backend runs.
//!
//! Tests that need the real MNIST are marked `#[ignore = "needs MNIST"]` and call [`mnist`]:
//! plain `cargo test` lists them as ignored instead of passing them silently, and `make test`
//! (which installs MNIST first) runs them with `--include-ignored`, where a missing file fails.
//!
//! ```
//! let d = twinnet_testkit::random_dataset(3, 7);
//! assert_eq!(d.len(), 3);
//! assert_eq!(d, twinnet_testkit::random_dataset(3, 7));
//! ```

pub mod conformance;

use flate2::{write::GzEncoder, Compression};
use std::io::Write;
use std::path::Path;
use twinnet_core::rng::{Rng, Stream};
use twinnet_data::idx::{encode_images, encode_labels};
use twinnet_data::{Dataset, Splits, FILES, PIXELS};

/// `n` random images (pixels uniform in `0..=255`) with random labels, from `seed`.
pub fn random_dataset(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed, Stream::Shuffle);
    let px = (0..n * PIXELS).map(|_| rng.below(256) as u8).collect();
    let ls = (0..n).map(|_| rng.below(10) as u8).collect();
    Dataset::new(px, ls)
}

/// `bytes`, gzip-compressed.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).expect("writing to memory");
    e.finish().expect("writing to memory")
}

/// `n` learnable images from `rng`: digit `k` lights pixel band `k` (pixels `78k..78k + 78`
/// bright, the others dim).
fn learnable(n: usize, rng: &mut Rng) -> Dataset {
    let labels: Vec<u8> = (0..n).map(|_| rng.below(10) as u8).collect();
    let mut px = vec![0u8; n * PIXELS];
    for (i, &l) in labels.iter().enumerate() {
        for j in 0..PIXELS {
            let on = j / 78 == l as usize;
            px[i * PIXELS + j] = if on { 100 + rng.below(156) as u8 } else { rng.below(80) as u8 };
        }
    }
    Dataset::new(px, labels)
}

/// `n` learnable images (see [`synthetic_mnist`]) from `seed`.
pub fn learnable_dataset(n: usize, seed: u64) -> Dataset {
    learnable(n, &mut Rng::new(seed, Stream::Shuffle))
}

/// Writes a learnable synthetic MNIST into `dir` (created): the four IDX files, raw, with
/// `n_train` and `n_test` images; digit `k` lights pixel band `k`.
pub fn synthetic_mnist(dir: &Path, n_train: usize, n_test: usize) {
    let mut rng = Rng::new(1, Stream::Shuffle);
    std::fs::create_dir_all(dir).expect("create the data folder");
    for (names, n) in [(&FILES[..2], n_train), (&FILES[2..], n_test)] {
        let d = learnable(n, &mut rng);
        std::fs::write(dir.join(names[0]), encode_images(d.pixels(), 28, 28))
            .expect("write images");
        std::fs::write(dir.join(names[1]), encode_labels(d.labels())).expect("write labels");
    }
}

/// The real MNIST from `$TWINNET_DATA_DIR` or the cache (`make data` installs it). Panics
/// with the folder and the remedy when it is not there: call it only from a test marked
/// `#[ignore = "needs MNIST"]`.
pub fn mnist() -> Splits {
    let dir = twinnet_data::default_data_dir();
    Splits::load(&dir).unwrap_or_else(|e| {
        panic!("this test needs MNIST in {} (run `make data`): {e}", dir.display())
    })
}

/// The real Fashion-MNIST from `$TWINNET_FASHION_MNIST_DIR` or the cache (`make data` installs
/// it); as [`mnist`], for tests marked `#[ignore = "needs Fashion-MNIST"]`.
pub fn fashion_mnist() -> Splits {
    let dir = twinnet_data::DatasetName::FashionMnist.default_dir();
    Splits::load(&dir).unwrap_or_else(|e| {
        panic!("this test needs Fashion-MNIST in {} (run `make data`): {e}", dir.display())
    })
}
