//! One training run on any backend: its starting weights, its backend (built by the engine
//! from a [`ValidRun`]), the shared training loop, the evaluation, and its [`RunResult`]. No
//! backend is named here.

use crate::data::Data;
use crate::error::{Context, Error, Result};
use crate::progress::RunBar;
use crate::schema::{Environment, Initial, RunResult, Status, TestResult, Timing, SCHEMA_VERSION};
use crate::settings::{RunConfig, ValidRun};
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::trajectory::{Nudge, Snapshots};
use twinnet_core::{train_evaluating, Backend, Confusion, EvalEvery, InitRng, Model, Params};

/// A finished run: its result and its final parameters.
#[derive(Debug)]
pub struct Finished {
    /// What goes into the JSON.
    pub result: RunResult,
    /// The trained parameters (for `--save-params`).
    pub params: Params,
}

/// A run's parameters after one update of the noise floor's schedule.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Updates made.
    pub updates: usize,
    /// The parameters then.
    pub params: Params,
}

/// The parameters a run starts from, and where they came from: its `--init-from` file, else
/// `--init` drawn with `--seed` by twinnet's generator or, with `--init-rng torch`, by
/// libtorch's exactly as PyTorch's `nn.Linear` layers draw them. One path for both backends
/// and for `twinnet init`, so the same flags give the same bits everywhere.
pub fn initial_params(cfg: &RunConfig) -> Result<(Params, Initial)> {
    let widths = cfg.model_config().widths();
    twinnet_core::check_widths(&widths)?;
    let (params, source) = match (&cfg.init_from, cfg.init_rng) {
        (Some(path), _) => {
            (Params::load_widths(path, Some(&widths))?, format!("file {}", path.display()))
        }
        (None, InitRng::Twinnet) => (
            Params::init_widths(&widths, cfg.init, cfg.seed),
            format!("twinnet's generator: {}, seed {}", cfg.init, cfg.seed),
        ),
        (None, InitRng::Torch) => (
            twinnet_engine::torch_params(cfg.init, &widths, cfg.seed)?,
            format!(
                "libtorch's generator (torch.manual_seed, nn.Linear order): {}, seed {}",
                cfg.init, cfg.seed
            ),
        ),
    };
    let fingerprint = format!("{:016x}", params.fingerprint());
    Ok((params, Initial { source, fingerprint }))
}

/// Trains and evaluates one run on `mnist` (the run was validated against its training set).
pub fn execute(run: &ValidRun, data: &Data, bar: &RunBar, stop: &AtomicBool) -> Result<Finished> {
    Ok(execute_probed(run, data, bar, stop, &Probe::default())?.0)
}

/// What the noise-floor experiment adds to a run: a one-ulp nudge of its starting parameters
/// and snapshots of its parameters after chosen updates. The default does neither (and then a
/// run is exactly [`execute`]'s).
#[derive(Debug, Default)]
pub struct Probe {
    /// Moves one starting parameter one ulp up (recorded in the result's `initial`).
    pub nudge: Option<Nudge>,
    /// Copy the parameters after these updates (sorted).
    pub snapshot_at: Vec<usize>,
}

/// [`execute`], probed: also returns the snapshots `probe` asked for.
pub fn execute_probed(
    run: &ValidRun,
    data: &Data,
    bar: &RunBar,
    stop: &AtomicBool,
    probe: &Probe,
) -> Result<(Finished, Vec<Snapshot>)> {
    let splits = &data.splits;
    let start = || -> Result<(Model, Initial)> {
        let (mut params, mut initial) = initial_params(run.config())?;
        if let Some(n) = &probe.nudge {
            n.apply(&mut params)?;
            initial.source = format!("{}, then {n}", initial.source);
            initial.fingerprint = format!("{:016x}", params.fingerprint());
        }
        Ok((Model::new(run.model().clone(), params)?.with_optimizer(run.optimizer()), initial))
    };
    let at = probe.snapshot_at.clone();
    let limited;
    let train_set = match run.config().train_limit {
        Some(n) => {
            limited = splits.train.take(n)?;
            &limited
        }
        None => &splits.train,
    };
    let (model, initial) = start()?;
    let backend = run.engine().build(&model, train_set, run.threads())?;
    train_and_evaluate(Snapshots::new(backend, at), run, initial, data, bar, stop)
}

/// Trains `b` with the shared loop, then evaluates it on `test` unless it diverged.
fn train_and_evaluate(
    mut b: Snapshots<Box<dyn Backend>>,
    run: &ValidRun,
    initial: Initial,
    data: &Data,
    bar: &RunBar,
    stop: &AtomicBool,
) -> Result<(Finished, Vec<Snapshot>)> {
    let plan = run.plan();
    let eval = run.config().eval_every.map(|every| EvalEvery { data: &data.splits.test, every });
    let out = train_evaluating(&mut b, plan, eval, stop, &mut |r| bar.epoch(r))
        .context("training failed")?;
    if out.interrupted {
        bar.finish("interrupted");
        return Err(Error::Interrupted);
    }
    let t = Instant::now();
    let (status, test_result) = match &out.divergence {
        Some(d) => {
            bar.finish(&format!("DIVERGED at epoch {} step {} (loss {})", d.epoch, d.step, d.loss));
            (Status::Diverged, None)
        }
        None => {
            let test = &data.splits.test;
            let eval = b.evaluate(test).context("evaluation failed")?;
            let confusion = Confusion::new(test.labels(), &eval.predictions);
            let r = TestResult::new(confusion, eval.loss, data.name());
            bar.finish(&format!("test accuracy {:.2}%", 100.0 * r.accuracy));
            (Status::Completed, Some(r))
        }
    };
    let eval_s = t.elapsed().as_secs_f64();
    let params = b.params()?;
    let info = b.describe();
    let result = RunResult {
        schema_version: SCHEMA_VERSION,
        config: run.config().clone(),
        environment: Environment::here(info, run.threads().get()),
        data: data.record.clone(),
        config_hash: crate::sweep::config_hash(run.config()),
        initial,
        status,
        divergence: out.divergence.clone(),
        updates_per_epoch: plan.updates_per_epoch(),
        history: out.history,
        test: test_result,
        timing: Timing {
            train_s: out.train_s,
            per_epoch_s: out.train_s / out.epochs.max(1) as f64,
            eval_s,
        },
    };
    let snapshots =
        b.into_parts().1.into_iter().map(|(updates, params)| Snapshot { updates, params });
    Ok((Finished { result, params }, snapshots.collect()))
}
