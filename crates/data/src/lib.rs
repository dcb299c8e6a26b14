//! MNIST and datasets in its format for twinnet: an IDX reader that validates everything and reads `.gz` transparently,
//! and the report's two pixel normalizations.
//!
//! ```no_run
//! use twinnet_data::{default_data_dir, Splits, Normalize};
//!
//! let mnist = Splits::load(&default_data_dir())?;
//! assert_eq!(mnist.train.len(), 60_000);
//! let xs: Vec<f32> = mnist.test.features(Normalize::Unit); // 10_000 × 784, in [0, 1]
//! # Ok::<(), twinnet_data::DataError>(())
//! ```

mod error;
mod folder;
pub mod idx;
mod normalize;
mod source;
mod splits;

pub use error::{DataError, Result};
pub use folder::{cache_dir, default_data_dir, locate, CACHE_ENV, DATA_DIR_ENV, FILES};
pub use idx::{PIXELS, SIDE};
pub use normalize::Normalize;
pub use source::DatasetName;
pub use splits::{sha256_hex, Dataset, Splits};
