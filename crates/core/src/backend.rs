//! The interface every backend implements: it only knows how to compute.
//!
//! A backend owns its copy of the (normalized) training set in whatever layout suits it. The
//! shared [training loop](crate::train) decides which examples form each update and hands them
//! over as a [`Batch`], so two backends given the same seed see exactly the same batches.

use crate::params::Params;
use twinnet_data::Dataset;

/// A batch index outside the training set: every backend rejects it the same way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("batch index {index} is outside the training set of {len} examples")]
pub struct BatchError {
    /// The first offending index.
    pub index: u32,
    /// The training set's size.
    pub len: usize,
}

impl BatchError {
    /// Checks that every index of a batch is inside a training set of `len` examples.
    pub fn check(ix: &[u32], len: usize) -> Result<(), Self> {
        match ix.iter().find(|&&i| i as usize >= len) {
            Some(&index) => Err(Self { index, len }),
            None => Ok(()),
        }
    }
}

/// What computes a backend's numbers, as each result records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendInfo {
    /// The library and its settings that matter, e.g. `ndarray 0.17 (from scratch)`.
    pub library: String,
    /// Where it computes: `cpu`, `cuda:0`.
    pub device: String,
    /// What decides its bits on this machine, by name: the kernel set, whether the order of
    /// its sums is pinned, the code paths of its libraries.
    pub numerics: std::collections::BTreeMap<String, String>,
}

impl BackendInfo {
    /// `library` computing on `device`, its bits decided by the named `numerics`.
    pub fn new<'a>(
        library: String,
        device: String,
        numerics: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Self {
        let numerics = numerics.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Self { library, device, numerics }
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

/// Why a backend could not compute: a batch it must reject, or its own failure (boxed, so
/// that every backend, in this process or another, fits behind one `Box<dyn Backend>`).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// A batch index outside the training set: every backend rejects it the same way.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// The implementation failed; its own error, with its causes.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl BackendError {
    /// The backend's own error `e`.
    pub fn failed(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Failed(Box::new(e))
    }
}

/// A network implementation: forward, backward and update of the 784 → hidden → 10 model.
///
/// Object-safe: the runner holds every backend as a `Box<dyn Backend>` (built in one place,
/// the engine), and a `Box` of a backend is a backend.
pub trait Backend {
    /// Number of training examples the backend holds.
    fn train_len(&self) -> usize;

    /// One gradient-descent update `θ := θ − lr·∇θ L(batch)`, returning the statistics of the
    /// forward pass that preceded it.
    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, BackendError>;

    /// A hint that `next` is the batch of the step after the coming one ([`crate::train()`]
    /// gives it before each mini-batch step), so a backend can start fetching its examples
    /// while it computes. Changes no result; the default ignores it, as it may ignore batch
    /// indices it would reject.
    fn will_need(&mut self, next: Batch<'_>) {
        let _ = next;
    }

    /// A hint that the coming epoch's updates are the batches `order.chunks(batch_size)`, in
    /// that order ([`crate::train()`] gives it at the start of each mini-batch epoch), so a
    /// backend in another process can send them ahead instead of waiting for each reply.
    /// Changes no result; the default ignores it.
    fn will_need_epoch(&mut self, order: &[u32], batch_size: usize) {
        let _ = (order, batch_size);
    }

    /// Predictions and mean loss on `data`, normalized as the model's inputs are.
    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError>;

    /// A copy of the current parameters (`&mut`: a backend in another process is asked).
    fn params(&mut self) -> Result<Params, BackendError>;

    /// The library and device that compute this backend's numbers.
    fn describe(&self) -> BackendInfo;
}

impl<B: Backend + ?Sized> Backend for Box<B> {
    fn train_len(&self) -> usize {
        (**self).train_len()
    }
    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, BackendError> {
        (**self).step(batch, lr)
    }
    fn will_need(&mut self, next: Batch<'_>) {
        (**self).will_need(next)
    }
    fn will_need_epoch(&mut self, order: &[u32], batch_size: usize) {
        (**self).will_need_epoch(order, batch_size)
    }
    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError> {
        (**self).evaluate(data)
    }
    fn params(&mut self) -> Result<Params, BackendError> {
        (**self).params()
    }
    fn describe(&self) -> BackendInfo {
        (**self).describe()
    }
}
