//! The interface every backend implements: it only knows how to compute.
//!
//! A backend owns its copy of the (normalized) training set in whatever layout suits it. The
//! shared [training loop](crate::train) decides which examples form each update and hands them
//! over as a [`Batch`], so two backends given the same seed see exactly the same batches.

use crate::options::ModelConfig;
use crate::params::Params;
use twinnet_data::Dataset;

/// Arguments that every backend rejects the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendInputError {
    /// A thread count of zero.
    #[error("threads: must be at least 1")]
    Threads,
    /// Parameters whose hidden width differs from the model's.
    #[error("hidden: the parameters have hidden width {found}, the model {expected}")]
    Hidden { expected: usize, found: usize },
    /// A batch index outside the training set.
    #[error("batch index {index} is outside the training set of {len} examples")]
    Index { index: u32, len: usize },
}

impl BackendInputError {
    /// Checks a backend's construction: at least one thread, and starting parameters (when
    /// given) of the model's hidden width.
    pub fn check_setup(
        model: &ModelConfig,
        params: Option<&Params>,
        threads: usize,
    ) -> Result<(), Self> {
        if threads == 0 {
            return Err(Self::Threads);
        }
        match params {
            Some(p) if p.hidden != model.hidden => {
                Err(Self::Hidden { expected: model.hidden, found: p.hidden })
            }
            _ => Ok(()),
        }
    }

    /// Checks that every index of a batch is inside a training set of `len` examples.
    pub fn check_batch(ix: &[u32], len: usize) -> Result<(), Self> {
        match ix.iter().find(|&&i| i as usize >= len) {
            Some(&index) => Err(Self::Index { index, len }),
            None => Ok(()),
        }
    }
}

/// The examples of one update.
#[derive(Debug, Clone, Copy)]
pub enum Batch<'a> {
    /// Every training example, in storage order (full-batch gradient descent).
    All,
    /// These training examples, in this order (a mini-batch).
    Indices(&'a [u32]),
}

impl Batch<'_> {
    /// Number of examples in the batch, given the training-set size.
    pub fn len(&self, n_train: usize) -> usize {
        match self {
            Batch::All => n_train,
            Batch::Indices(ix) => ix.len(),
        }
    }
}

/// What the forward pass of one update saw, before the parameters changed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean loss over the batch.
    pub loss: f32,
    /// Examples whose arg-max output equals the label.
    pub correct: usize,
    /// Examples in the batch.
    pub size: usize,
}

/// Predictions and loss of the current parameters on a set of images.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Arg-max class per image.
    pub predictions: Vec<u8>,
    /// Mean loss under the model's head.
    pub loss: f64,
}

/// A network implementation: forward, backward and update of the 784 → hidden → 10 model.
pub trait Backend {
    /// The backend's own error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Number of training examples the backend holds.
    fn train_len(&self) -> usize;

    /// One gradient-descent update `θ := θ − lr·∇θ L(batch)`, returning the statistics of the
    /// forward pass that preceded it.
    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, Self::Error>;

    /// A hint that `next` is the batch of the step after the coming one ([`crate::train()`]
    /// gives it before each mini-batch step), so a backend can start fetching its examples
    /// while it computes. Changes no result; the default ignores it, as it may ignore batch
    /// indices it would reject.
    fn will_need(&mut self, next: Batch<'_>) {
        let _ = next;
    }

    /// Predictions and mean loss on `data`, normalized as the model's inputs are.
    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, Self::Error>;

    /// A copy of the current parameters.
    fn params(&self) -> Result<Params, Self::Error>;
}
