//! The shared heart of twinnet: the options both backends accept and their validated forms
//! ([`TrainPlan`], [`Model`], [`Threads`], the one table of [`defaults`]), the parameters in
//! PyTorch's layout, the [`Backend`] trait, the one training loop that decides batch order,
//! and the metrics of a prediction.
//!
//! ```
//! use twinnet_core::{Confusion, Init, Params};
//!
//! let p = Params::init(10, Init::Uniform, 0)?;   // the report's initialize_parameters()
//! assert_eq!(p.count(), 784 * 10 + 10 + 10 * 10 + 10);
//! let c = Confusion::new(&[0, 1, 1], &[0, 1, 0]);
//! assert!((c.accuracy() - 2.0 / 3.0).abs() < 1e-12);
//! # Ok::<(), twinnet_core::ParamsError>(())
//! ```

mod backend;
mod config;
pub mod file;
mod metrics;
mod model;
mod optim;
mod options;
pub mod palette;
mod params;
pub mod rng;
pub mod stats;
pub mod system;
pub mod train;
pub mod trajectory;

pub use backend::{Backend, BackendError, BackendInfo, Batch, BatchError, Evaluation, StepStats};
pub use config::{
    defaults, ConfigError, Threads, TrainConfig, TrainPlan, MAX_HISTORY, MAX_THREADS, MAX_UPDATES,
};
pub use metrics::{argmax, ClassMetrics, Confusion};
pub use model::{check_hidden, check_widths, Hidden, Model, ModelConfig, BYTES_PER_PARAM};
pub use optim::{Betas, Optimizer, OptimizerSettings};
pub use options::{
    Activation, BackendKind, Choice, DecayScope, Device, Head, Init, InitRng, Normalize,
    OptimizerKind, Regime,
};
pub use params::{tensor_name, Layer, Params, ParamsError, CLASSES, INPUTS, NAMES};
pub use train::{
    train, train_evaluating, Divergence, EpochRecord, EvalEvery, TrainError, TrainOutcome,
};
