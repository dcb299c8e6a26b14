//! MNIST for twinnet: an IDX reader that validates everything and reads `.gz` transparently,
//! and the report's two pixel normalizations.
//!
//! ```no_run
//! use twinnet_data::{default_data_dir, Mnist, Normalize};
//!
//! let mnist = Mnist::load(&default_data_dir())?;
//! assert_eq!(mnist.train.len(), 60_000);
//! let xs: Vec<f32> = mnist.test.features(Normalize::Unit); // 10_000 × 784, in [0, 1]
//! # Ok::<(), twinnet_data::DataError>(())
//! ```

mod error;
pub mod idx;
mod mnist;
mod normalize;
mod source;

pub use error::{DataError, Result};
pub use idx::{PIXELS, SIDE};
pub use mnist::{
    cache_dir, default_data_dir, locate, sha256_hex, Dataset, Mnist, CACHE_ENV, DATA_DIR_ENV, FILES,
};
pub use normalize::Normalize;
pub use source::DatasetName;
