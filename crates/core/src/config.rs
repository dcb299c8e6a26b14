//! Settings, validated once into types that cannot hold a value that does not work.
//!
//! The partial, user-facing forms (the CLI's flags, experiment files) are checked in one place
//! and become:
//! - [`TrainPlan`]: a [`TrainConfig`] checked against the size of the training set it will run
//!   on; [`crate::train()`] takes nothing else;
//! - [`Model`](crate::Model): a [`ModelConfig`](crate::ModelConfig) and the parameters it
//!   starts from, whose widths agree; backends are built from nothing else (`model.rs`);
//! - [`Threads`]: a thread count of at least one.
//!
//! [`defaults`] is the one table of the report's settings that every default comes from.
//!
//! ```
//! use twinnet_core::{defaults, Regime, TrainConfig};
//!
//! let cfg = TrainConfig { regime: Regime::Minibatch, batch_size: 0, ..TrainConfig::default() };
//! let err = cfg.validate(60_000).unwrap_err();
//! assert_eq!(err.field, "batch-size");
//! let plan = TrainConfig::default().validate(60_000)?;
//! assert_eq!(plan.config().lr, defaults::LR);
//! # Ok::<(), twinnet_core::ConfigError>(())
//! ```

use crate::options::Regime;
use serde::{Deserialize, Serialize};
use std::num::NonZeroUsize;

/// The report's settings, the one table every default of twinnet is taken from: the CLI's
/// flags and experiment files fall back to it, and so do
/// [`ModelConfig::default`](crate::ModelConfig::default) and [`TrainConfig::default`].
pub mod defaults {
    use crate::options::{Activation, BackendKind, Device, Head, Init, InitRng, Normalize, Regime};

    /// The report's NumPy model is the from-scratch one.
    pub const BACKEND: BackendKind = BackendKind::Ndarray;
    /// The NumPy model's full-batch gradient descent.
    pub const REGIME: Regime = Regime::FullBatch;
    /// The PyTorch model's `DataLoader(batch_size=64)`.
    pub const BATCH_SIZE: usize = 64;
    /// Both models' learning rate α.
    pub const LR: f32 = 0.1;
    /// Both models' 500 epochs (full-batch: 500 updates).
    pub const EPOCHS: usize = 500;
    /// The NumPy model's `U[−0.5, 0.5]`.
    pub const INIT: Init = Init::Uniform;
    /// twinnet's generator: the same starting weights on both backends.
    pub const INIT_RNG: InitRng = InitRng::Twinnet;
    /// The NumPy model's `x / 255`.
    pub const NORMALIZE: Normalize = Normalize::Unit;
    /// The NumPy model's softmax and cross-entropy.
    pub const HEAD: Head = Head::Softmax;
    /// Both models' 10 hidden units.
    pub const HIDDEN: usize = 10;
    /// Both models' ReLU hidden layer.
    pub const ACTIVATION: Activation = Activation::Relu;
    /// Seed of the initial parameters and the batch order.
    pub const SEED: u64 = 0;
    /// The tch backend computes on the CPU unless asked.
    pub const DEVICE: Device = Device::Cpu;
    /// The training curve at every epoch.
    pub const LOG_EVERY: usize = 1;
}

/// The most parameter updates one run may make: `epochs × updates per epoch` above this is
/// refused (at 20 µs an update, ten trillion updates would take six years).
pub const MAX_UPDATES: u64 = 10_000_000_000_000;

/// The most epoch records a run's history may hold (`epochs / log_every`, about 40 bytes
/// each): above it, raise `log-every`.
pub const MAX_HISTORY: usize = 10_000_000;

/// The most compute threads a run may ask for.
pub const MAX_THREADS: usize = 1024;

/// `n` bytes as MiB or GiB.
pub(crate) fn bytes(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64)
    }
}

/// A setting that cannot work, named as on the command line (`batch-size`, not `batch_size`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The option's name, e.g. `lr`.
    pub field: &'static str,
    /// What is wrong with its value.
    pub message: String,
}

impl ConfigError {
    /// The error for `field`.
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// A number of compute threads, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Threads(NonZeroUsize);

impl Threads {
    /// One thread.
    pub const ONE: Threads = Threads(NonZeroUsize::MIN);

    /// `n` threads; `threads: must be at least 1` for zero, and at most [`MAX_THREADS`].
    pub fn new(n: usize) -> Result<Self, ConfigError> {
        if n > MAX_THREADS {
            return Err(ConfigError::new(
                "threads",
                format!("must be at most {MAX_THREADS}, got {n}"),
            ));
        }
        NonZeroUsize::new(n)
            .map(Threads)
            .ok_or_else(|| ConfigError::new("threads", "must be at least 1"))
    }

    /// The count.
    pub fn get(self) -> usize {
        self.0.get()
    }
}

/// How to train: the regime and its schedule (not yet checked: see [`TrainPlan`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Full-batch gradient descent or mini-batch SGD.
    pub regime: Regime,
    /// Mini-batch size (ignored by full-batch).
    pub batch_size: usize,
    /// Learning rate α.
    pub lr: f32,
    /// Passes over the training set (full-batch: updates).
    pub epochs: usize,
    /// Seed of the batch order (and, elsewhere, of the initial parameters).
    pub seed: u64,
    /// Record the history every this many epochs (and at the last).
    pub log_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            regime: defaults::REGIME,
            batch_size: defaults::BATCH_SIZE,
            lr: defaults::LR,
            epochs: defaults::EPOCHS,
            seed: defaults::SEED,
            log_every: defaults::LOG_EVERY,
        }
    }
}

impl TrainConfig {
    /// Checks every option against a training set of `n_train` examples.
    pub fn validate(self, n_train: usize) -> Result<TrainPlan, ConfigError> {
        let bad = |field, message: String| Err(ConfigError { field, message });
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", format!("must be a finite number > 0, got {}", self.lr));
        }
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1".into());
        }
        if self.log_every == 0 {
            return bad("log-every", "must be at least 1".into());
        }
        if n_train == 0 {
            return bad("train-limit", "the training set is empty".into());
        }
        if self.regime == Regime::Minibatch && !(1..=n_train).contains(&self.batch_size) {
            return bad(
                "batch-size",
                format!(
                    "must be between 1 and the training-set size {n_train}, got {}",
                    self.batch_size
                ),
            );
        }
        let plan = TrainPlan { config: self, n_train };
        let updates = (plan.updates_per_epoch() as u64).checked_mul(self.epochs as u64);
        if updates.is_none_or(|u| u > MAX_UPDATES) {
            return bad(
                "epochs",
                format!(
                    "{} epochs of {} update(s) exceed the {MAX_UPDATES} updates one run may make",
                    self.epochs,
                    plan.updates_per_epoch()
                ),
            );
        }
        let records = self.epochs / self.log_every;
        if records > MAX_HISTORY {
            return bad(
                "log-every",
                format!(
                    "the history would hold {records} epoch records, at most {MAX_HISTORY}: raise \
                     --log-every (or lower --epochs)"
                ),
            );
        }
        Ok(plan)
    }
}

/// A [`TrainConfig`] checked against a training set of [`TrainPlan::n_train`] examples:
/// learning rate finite and positive, at least one epoch, a batch size between 1 and the set's
/// size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainPlan {
    config: TrainConfig,
    n_train: usize,
}

impl TrainPlan {
    /// The checked settings.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// The size of the training set the plan was checked for.
    pub fn n_train(&self) -> usize {
        self.n_train
    }

    /// Parameter updates per epoch: 1 for full-batch, `⌈n / B⌉` for minibatch.
    pub fn updates_per_epoch(&self) -> usize {
        match self.config.regime {
            Regime::FullBatch => 1,
            Regime::Minibatch => self.n_train.div_ceil(self.config.batch_size),
        }
    }

    /// The same plan with other epochs, seed and log interval (each still checked: at least
    /// one epoch, a positive interval).
    pub fn with_schedule(
        self,
        epochs: usize,
        seed: u64,
        log_every: usize,
    ) -> Result<Self, ConfigError> {
        TrainConfig { epochs, seed, log_every, ..self.config }.validate(self.n_train)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_at_least_one() {
        assert_eq!(Threads::new(0).unwrap_err().field, "threads");
        assert_eq!(Threads::new(3).unwrap().get(), 3);
        assert_eq!(Threads::ONE.get(), 1);
    }

    #[test]
    fn plan_updates_per_epoch() {
        let mb = TrainConfig { regime: Regime::Minibatch, ..TrainConfig::default() };
        assert_eq!(mb.validate(60_000).unwrap().updates_per_epoch(), 938);
        assert_eq!(TrainConfig::default().validate(60_000).unwrap().updates_per_epoch(), 1);
        let p = mb.validate(100).unwrap();
        assert_eq!(p.with_schedule(0, 1, 1).unwrap_err().field, "epochs");
    }
}
