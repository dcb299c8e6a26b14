//! The runs `check` compares: the implementation's and the reference backends' (step by step,
//! or with steps sent ahead and taken back), the float64 oracle's, and starting a program.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use twinnet_core::{Backend, Batch, Model, Params, Threads};
use twinnet_data::Dataset;
use twinnet_reference as reference;

/// What a backend reported and held after each update: its step's loss and correct count,
/// and its parameters.
#[derive(Debug)]
pub(super) struct Run {
    pub(super) steps: Vec<(f64, usize, Params)>,
    /// The evaluation after the last update: mean loss and predictions.
    pub(super) evaluation: (f64, Vec<u8>),
}

/// A backend over `batches` at learning rate `lr`, its parameters read after every update, then
/// evaluated on `eval`.
pub(super) fn run_backend(
    b: &mut dyn Backend,
    batches: &[Option<Vec<u32>>],
    lr: f32,
    eval: &Dataset,
    stop: &AtomicBool,
) -> Result<Run> {
    let mut steps = Vec::with_capacity(batches.len());
    for batch in batches {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let s = match batch {
            Some(ix) => b.step(Batch::Indices(ix), lr)?,
            None => b.step(Batch::All, lr)?,
        };
        steps.push((s.loss as f64, s.correct, b.params()?));
    }
    let e = b.evaluate(eval)?;
    Ok(Run { steps, evaluation: (e.loss, e.predictions) })
}

/// The oracle (the model in float64) as a [`Run`].
pub(super) fn oracle_run(
    model: &Model,
    train: &Dataset,
    batches: &[Option<Vec<u32>>],
    lr: f32,
    eval: &Dataset,
) -> Run {
    let (config, optimizer) = (model.config(), model.optimizer());
    let steps =
        reference::trajectory_with(config, optimizer, model.params(), train, batches, lr as f64);
    let last = steps.last().map_or_else(|| model.params().clone(), |s| s.params.clone());
    Run {
        steps: steps.into_iter().map(|s| (s.loss, s.correct, s.params)).collect(),
        evaluation: reference::evaluate(model.config(), &last, eval),
    }
}

/// A backend with steps sent ahead: an epoch's order announced, batches of `batch` rows at
/// learning rate `lr`, parameters read (and so steps sent ahead taken back, `rewind`) only
/// after every `every`-th update; the parameters at those.
#[allow(clippy::too_many_arguments)]
pub(super) fn run_ahead(
    b: &mut dyn Backend,
    epochs: &[Vec<u32>],
    batch: usize,
    lr: f32,
    updates: usize,
    every: usize,
    stop: &AtomicBool,
) -> Result<Vec<(usize, Params)>> {
    let mut out = vec![];
    let mut u = 0;
    for order in epochs {
        b.will_need_epoch(order, batch);
        for rows in order.chunks(batch) {
            if u == updates {
                return Ok(out);
            }
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            b.step(Batch::Indices(rows), lr)?;
            u += 1;
            if u % every == 0 || u == updates {
                out.push((u, b.params()?));
            }
        }
    }
    Ok(out)
}

/// How often the rewind scenario reads the parameters: a prime, so that reads fall inside
/// epochs (with steps sent ahead to take back), not only at their ends.
pub(super) const REWIND_EVERY: usize = 7;

/// The mini-batch size of the default scenarios (the report's).
pub(super) const BATCH: usize = 64;

/// Why a program could not be started for a scenario.
pub(super) enum StartError {
    /// It refused the scenario at `init` (a head, an activation or a depth it does not
    /// implement): skipped.
    Refused(String),
    /// Anything else: the check fails.
    Failed(Error),
}
pub(super) use StartError::{Failed, Refused};

pub(super) fn start(
    spec: &twinnet_process::ProcessSpec,
    model: &Model,
    train: &Dataset,
) -> std::result::Result<twinnet_process::ProcessBackend, StartError> {
    match twinnet_process::ProcessBackend::start(
        spec,
        model,
        Some(train),
        Threads::ONE,
        twinnet_data::cache_dir(),
    ) {
        Ok(b) => Ok(b),
        Err(
            e @ (twinnet_process::ProcessError::Failed { .. }
            | twinnet_process::ProcessError::Unsupported { .. }),
        ) => Err(Refused(e.to_string().lines().next().unwrap_or_default().to_string())),
        Err(e) => Err(Failed(Error::Process(e))),
    }
}
