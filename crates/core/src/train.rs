//! The training loop shared by every backend: epochs, batch order, history and divergence.
//!
//! ```text
//! full-batch:  1 update per epoch, on all n examples               (gradient descent)
//! minibatch:   ⌈n / B⌉ updates per epoch, on a fresh permutation of
//!              0..n cut into batches of B, the last short one kept  (DataLoader(shuffle=True))
//! ```
//! The train accuracy of an epoch is that of the forward passes *before* each update, summed
//! over the epoch's batches, as the report's curves (and its PyTorch loop) measure it.

use crate::backend::{Backend, BackendError, Batch};
use crate::config::TrainPlan;
use crate::options::Regime;
use crate::rng::{Rng, Stream};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The training curve at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Parameter updates made so far (after this epoch).
    pub step: usize,
    /// Mean loss of the epoch's forward passes.
    pub train_loss: f64,
    /// Accuracy of the epoch's forward passes (before each update).
    pub train_accuracy: f64,
    /// Seconds since training started.
    pub elapsed_s: f64,
    /// Accuracy on the test set after this epoch, where the run evaluates during training
    /// (`--eval-every`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_accuracy: Option<f64>,
    /// Mean test loss after this epoch, beside [`EpochRecord::test_accuracy`].
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::train::opt_num")]
    pub test_loss: Option<f64>,
}

/// A test loss that may be non-finite (a broken model), written as text then, as
/// `twinnet_runner`'s results write every loss.
mod opt_num {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(x) if x.is_finite() => x.serialize(s),
            Some(x) => x.to_string().serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            F(f64),
            S(String),
        }
        Ok(match Option::<Num>::deserialize(d)? {
            None => None,
            Some(Num::F(x)) => Some(x),
            Some(Num::S(t)) => Some(t.parse().map_err(serde::de::Error::custom)?),
        })
    }
}

/// Evaluation during training: the test set, and every how many epochs (and at the last).
#[derive(Debug, Clone, Copy)]
pub struct EvalEvery<'a> {
    /// The test set.
    pub data: &'a twinnet_data::Dataset,
    /// Evaluate after every `every`-th epoch and after the last (at least 1).
    pub every: usize,
}

/// A loss this many times the first update's (or `ln 10`, if larger) counts as divergence.
///
/// A model that predicts the uniform distribution has loss `ln 10 ≈ 2.3`; training only ever
/// lowers the loss from its start, so a loss ten times above both has blown up (as lr 50 does:
/// the loss jumps past 100 and the ReLUs die), even while it is still a finite number.
pub const BLOW_UP_FACTOR: f32 = 10.0;

/// Where a run's loss blew up or stopped being a finite number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// Epoch (from 1) of the offending update.
    pub epoch: usize,
    /// Update number (from 1) of the offending update.
    pub step: usize,
    /// The loss itself, as text (`NaN`, `inf`, `131.2`).
    pub loss: String,
    /// Why it counts as divergence.
    pub reason: String,
}

/// `Some(reason)` when `loss` diverged relative to the first update's loss `first`.
fn diverged(loss: f32, first: f32) -> Option<String> {
    let limit = BLOW_UP_FACTOR * first.max(std::f32::consts::LN_10);
    if !loss.is_finite() {
        Some("the loss is not a finite number".into())
    } else if loss > limit {
        Some(format!(
            "the loss exceeds {BLOW_UP_FACTOR} × the first update's loss {first:.4} (or ln 10)"
        ))
    } else {
        None
    }
}

/// How training ended.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    /// Every `log_every`-th epoch record and the last.
    pub history: Vec<EpochRecord>,
    /// Set when the loss became NaN or infinite; training stopped there.
    pub divergence: Option<Divergence>,
    /// Set when `stop` was raised; training stopped after the current update.
    pub interrupted: bool,
    /// Epochs completed.
    pub epochs: usize,
    /// Updates made.
    pub steps: usize,
    /// Seconds spent in the loop.
    pub train_s: f64,
}

/// The order in which examples are visited, reshuffled every epoch from the seed.
#[derive(Debug)]
pub struct BatchOrder {
    rng: Rng,
    perm: Vec<u32>,
}

impl BatchOrder {
    /// The order for `n` examples and `seed`.
    pub fn new(n: usize, seed: u64) -> Self {
        Self { rng: Rng::new(seed, Stream::Shuffle), perm: Vec::with_capacity(n) }
    }

    /// A fresh uniformly random permutation of `0..n` for the next epoch.
    pub fn next_epoch(&mut self, n: usize) -> &[u32] {
        self.perm.clear();
        self.perm.extend(0..n as u32);
        self.rng.shuffle(&mut self.perm);
        &self.perm
    }
}

/// Why [`train()`] could not train.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The plan was checked for a training set of another size than the backend holds.
    #[error(
        "the training plan was checked for {planned} training examples, the backend holds {held}"
    )]
    SizeMismatch {
        /// [`TrainPlan::n_train`].
        planned: usize,
        /// [`Backend::train_len`].
        held: usize,
    },
    /// The backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

/// Trains `backend` by `plan` (checked for the backend's training set).
///
/// `on_epoch` sees every epoch's record (for progress display); the returned history keeps
/// every `log_every`-th and the last. A non-finite loss stops training at once and is reported
/// in [`TrainOutcome::divergence`], as does a loss that blows up past [`BLOW_UP_FACTOR`] × the
/// first; raising `stop` ends training too (in [`TrainOutcome::interrupted`]).
pub fn train<B: Backend + ?Sized>(
    backend: &mut B,
    plan: &TrainPlan,
    stop: &AtomicBool,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<TrainOutcome, TrainError> {
    train_evaluating(backend, plan, None, stop, on_epoch)
}

/// [`train()`], evaluating on `eval`'s test set after every `eval.every`-th epoch and the
/// last: those epochs' records carry the test accuracy and loss, and are kept in the history
/// whatever `log_every` says. The evaluations change no parameter (a backend's `evaluate`
/// leaves them as they are) and are counted in `elapsed_s`.
pub fn train_evaluating<B: Backend + ?Sized>(
    backend: &mut B,
    plan: &TrainPlan,
    eval: Option<EvalEvery<'_>>,
    stop: &AtomicBool,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<TrainOutcome, TrainError> {
    let n = backend.train_len();
    if n != plan.n_train() {
        return Err(TrainError::SizeMismatch { planned: plan.n_train(), held: n });
    }
    let cfg = plan.config();
    let start = Instant::now();
    let mut order = BatchOrder::new(n, cfg.seed);
    let mut first = None;
    let mut out = TrainOutcome {
        history: vec![],
        divergence: None,
        interrupted: false,
        epochs: 0,
        steps: 0,
        train_s: 0.0,
    };
    for epoch in 1..=cfg.epochs {
        let (mut loss_sum, mut correct, mut seen) = (0f64, 0usize, 0usize);
        let perm: &[u32] = match cfg.regime {
            Regime::FullBatch => &[],
            Regime::Minibatch => order.next_epoch(n),
        };
        if cfg.regime == Regime::Minibatch {
            backend.will_need_epoch(perm, cfg.batch_size);
        }
        let batches: Box<dyn Iterator<Item = Batch<'_>>> = match cfg.regime {
            Regime::FullBatch => Box::new(std::iter::once(Batch::All)),
            Regime::Minibatch => Box::new(perm.chunks(cfg.batch_size).map(Batch::Indices)),
        };
        let mut batches = batches.peekable();
        while let Some(batch) = batches.next() {
            if let Some(&next) = batches.peek() {
                backend.will_need(next);
            }
            let s = backend.step(batch, cfg.lr)?;
            out.steps += 1;
            let first = *first.get_or_insert(s.loss);
            if let Some(reason) = diverged(s.loss, first) {
                out.divergence =
                    Some(Divergence { epoch, step: out.steps, loss: s.loss.to_string(), reason });
                out.train_s = start.elapsed().as_secs_f64();
                return Ok(out);
            }
            loss_sum += s.loss as f64 * s.size as f64;
            correct += s.correct;
            seen += s.size;
            if stop.load(Ordering::Relaxed) {
                out.interrupted = true;
                out.train_s = start.elapsed().as_secs_f64();
                return Ok(out);
            }
        }
        out.epochs = epoch;
        let mut rec = EpochRecord {
            epoch,
            step: out.steps,
            train_loss: loss_sum / seen as f64,
            train_accuracy: correct as f64 / seen as f64,
            elapsed_s: 0.0,
            test_accuracy: None,
            test_loss: None,
        };
        let evaluated = eval.filter(|e| epoch % e.every.max(1) == 0 || epoch == cfg.epochs);
        if let Some(e) = evaluated {
            let ev = backend.evaluate(e.data)?;
            let right = ev.predictions.iter().zip(e.data.labels()).filter(|(p, y)| p == y).count();
            rec.test_accuracy = Some(right as f64 / e.data.len().max(1) as f64);
            rec.test_loss = Some(ev.loss);
        }
        rec.elapsed_s = start.elapsed().as_secs_f64();
        on_epoch(&rec);
        if epoch % cfg.log_every == 0 || epoch == cfg.epochs || evaluated.is_some() {
            out.history.push(rec);
        }
    }
    out.train_s = start.elapsed().as_secs_f64();
    Ok(out)
}
