//! `twinnet check --command CMD`: is this implementation right?
//!
//! For each scenario (full-batch and mini-batch 64, each head: the report's NumPy model with the
//! softmax head, its PyTorch model with the double softmax) the implementation and a reference
//! backend (`--against`, ndarray by default) start from the same weights and take the same
//! batches. Two things are compared, each against a floor measured on the spot:
//!
//! ```text
//! update 1, per tensor t:   d_t = ‖Δθ_t(impl) − Δθ_t(ref)‖ / ‖Δθ_t(ref)‖      (Δθ = θ₁ − θ₀)
//! then after each update u:  d(u) = ‖θ(impl, u) − θ(ref, u)‖ / ‖θ(ref, u)‖
//! floor = max( the reference from a start one f32 ulp away (every parameter),
//!              the report's model in float64, step by step (`twinnet_ndarray::reference`),
//!              the reference on each batch's rows in reverse order (the same sums, added in
//!              another order) )
//! pass  ⇔  every d ≤ FACTOR × its floor
//! ```
//! Update 1 isolates one gradient, so a wrong formula shows at once, tensor by tensor; the
//! horizon catches what grows. The float64 model is part of the floor because computing in
//! float64 (as the report's NumPy program does) is correct, not wrong: the bound covers the
//! float32/float64 difference by measurement. The reversed rows are in it because summation
//! order alone moves float32 results, and an implementation's sums need not run in the
//! reference's order (measured: the report's PyTorch program against tch, full batch, double
//! softmax, differs in fc2.weight's first update by ~6e-6 relative, where the one-ulp start
//! and float64 move it by less than 1.2e-7 on an AMD EPYC). A scenario the implementation refuses at `init`
//! (a head it does not implement) is reported as skipped.

use crate::data;
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use twinnet_core::train::BatchOrder;
use twinnet_core::trajectory::{one_ulp_everywhere, relative_difference};
use twinnet_core::{
    Backend, BackendKind, Batch, Device, Head, Init, Model, ModelConfig, Normalize, Params, Regime,
    Threads, NAMES,
};
use twinnet_data::{Dataset, DatasetName};
use twinnet_engine::Engine;
use twinnet_ndarray::reference;

/// How far above its floor a difference may be (measured: a float32 implementation written
/// for the tests, the report's float64 NumPy model and PyTorch's own end within 1–3× of it; the
/// planted mistakes of the tests, 10³–10⁸×).
pub const FACTOR: f64 = 10.0;

/// The learning rate of every scenario (the report's).
const LR: f32 = 0.1;

/// What `twinnet check` was asked to do.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The implementation's command.
    pub command: String,
    /// The reference backend.
    pub against: BackendKind,
    /// Seconds to wait for each reply.
    pub timeout: Duration,
    /// Training images (the first N of the dataset).
    pub train_limit: usize,
    /// Mini-batch updates of the horizon.
    pub updates: usize,
    /// Full-batch iterations of the horizon.
    pub iterations: usize,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
}

impl CheckOptions {
    /// `command` against ndarray with the defaults: 2,000 images, 100 mini-batch updates,
    /// 20 full-batch iterations.
    pub fn new(command: &str) -> Self {
        Self {
            command: command.into(),
            against: BackendKind::Ndarray,
            timeout: twinnet_process::DEFAULT_TIMEOUT,
            train_limit: 2000,
            updates: 100,
            iterations: 20,
            data_dir: None,
        }
    }
}

impl CheckOptions {
    /// Fails when `--json` `out` is a file this check reads: the program or any file its
    /// command names (its script, say), or a file of the data folder.
    pub fn check_output(&self, out: &std::path::Path) -> Result<()> {
        let words = shell_words::split(&self.command).unwrap_or_default();
        let dir = self.data_dir.clone().unwrap_or_else(|| DatasetName::Mnist.default_dir());
        let mut inputs: Vec<(String, PathBuf)> = words
            .iter()
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .map(|p| ("command".to_string(), p))
            .collect();
        inputs.extend(twinnet_data::FILES.iter().map(|f| ("data-dir".to_string(), dir.join(f))));
        let named: Vec<(&str, &std::path::Path)> =
            inputs.iter().map(|(f, p)| (f.as_str(), p.as_path())).collect();
        crate::staging::check_not_an_input(out, "json", &named)
    }
}

/// One scenario: a model and a regime.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    name: &'static str,
    regime: Regime,
    head: Head,
    normalize: Normalize,
    init: Init,
}

mod report;

pub use report::{CheckReport, Measured, ScenarioCheck};

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "full-batch, softmax (the NumPy model)",
        regime: Regime::FullBatch,
        head: Head::Softmax,
        normalize: Normalize::Unit,
        init: Init::Uniform,
    },
    Scenario {
        name: "mini-batch 64, softmax",
        regime: Regime::Minibatch,
        head: Head::Softmax,
        normalize: Normalize::Unit,
        init: Init::Uniform,
    },
    Scenario {
        name: "full-batch, double softmax",
        regime: Regime::FullBatch,
        head: Head::DoubleSoftmax,
        normalize: Normalize::Symmetric,
        init: Init::TorchDefault,
    },
    Scenario {
        name: "mini-batch 64, double softmax (the PyTorch model)",
        regime: Regime::Minibatch,
        head: Head::DoubleSoftmax,
        normalize: Normalize::Symmetric,
        init: Init::TorchDefault,
    },
];

/// What a backend reported and held after each update: its step's loss and correct count,
/// and its parameters.
#[derive(Debug)]
struct Run {
    steps: Vec<(f64, usize, Params)>,
    /// The evaluation after the last update: mean loss and predictions.
    evaluation: (f64, Vec<u8>),
}

/// A backend over `batches`, its parameters read after every update, then evaluated on `eval`.
fn run_backend(
    b: &mut dyn Backend,
    batches: &[Option<Vec<u32>>],
    eval: &Dataset,
    stop: &AtomicBool,
) -> Result<Run> {
    let mut steps = Vec::with_capacity(batches.len());
    for batch in batches {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        let s = match batch {
            Some(ix) => b.step(Batch::Indices(ix), LR)?,
            None => b.step(Batch::All, LR)?,
        };
        steps.push((s.loss as f64, s.correct, b.params()?));
    }
    let e = b.evaluate(eval)?;
    Ok(Run { steps, evaluation: (e.loss, e.predictions) })
}

/// The oracle (the report's model in float64) as a [`Run`].
fn oracle_run(model: &Model, train: &Dataset, batches: &[Option<Vec<u32>>], eval: &Dataset) -> Run {
    let steps = reference::trajectory(model.config(), model.params(), train, batches, LR as f64);
    let last = steps.last().map_or_else(|| model.params().clone(), |s| s.params.clone());
    Run {
        steps: steps.into_iter().map(|s| (s.loss, s.correct, s.params)).collect(),
        evaluation: reference::evaluate(model.config(), &last, eval),
    }
}

/// A backend with steps sent ahead: an epoch's order announced, parameters read (and so steps
/// sent ahead taken back, `rewind`) only after every `every`-th update; the parameters at those.
fn run_ahead(
    b: &mut dyn Backend,
    epochs: &[Vec<u32>],
    updates: usize,
    every: usize,
    stop: &AtomicBool,
) -> Result<Vec<(usize, Params)>> {
    let mut out = vec![];
    let mut u = 0;
    for order in epochs {
        b.will_need_epoch(order, BATCH);
        for batch in order.chunks(BATCH) {
            if u == updates {
                return Ok(out);
            }
            if stop.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            b.step(Batch::Indices(batch), LR)?;
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
const REWIND_EVERY: usize = 7;

/// The mini-batch size of the scenarios.
const BATCH: usize = 64;

/// `|a − b| / |b|` (absolute when `b` is 0; NaN when either is not finite, which fails).
fn relative(a: f64, b: f64) -> f64 {
    if !a.is_finite() || !b.is_finite() {
        return f64::NAN;
    }
    let d = (a - b).abs();
    if b != 0.0 {
        d / b.abs()
    } else {
        d
    }
}

/// Predictions that differ.
fn disagreements(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 + a.len().abs_diff(b.len()) as f64
}

/// `‖(a₁ − a₀) − (b₁ − b₀)‖ / ‖b₁ − b₀‖` for tensor `k` (absolute when b moved nothing).
fn update_difference(k: usize, a: (&Params, &Params), b: (&Params, &Params)) -> f64 {
    let t = |p: &Params| p.tensors().into_iter().nth(k).map(|t| t.2.to_vec()).unwrap_or_default();
    let (a0, a1, b0, b1) = (t(a.0), t(a.1), t(b.0), t(b.1));
    let (mut diff, mut norm) = (0f64, 0f64);
    for (((x0, x1), y0), y1) in a0.iter().zip(&a1).zip(&b0).zip(&b1) {
        let (da, db) = (*x1 as f64 - *x0 as f64, *y1 as f64 - *y0 as f64);
        diff += (da - db).powi(2);
        norm += db.powi(2);
    }
    if norm > 0.0 {
        (diff / norm).sqrt()
    } else {
        diff.sqrt()
    }
}

/// The smallest floor a comparison uses: float32's resolution (a floor of exactly zero,
/// from two runs that agree bit for bit, would make any rounding a failure).
const MIN_FLOOR: f64 = f32::EPSILON as f64;

/// The smallest floor of a count (correct predictions, predictions that differ): a tenth, so
/// that [`FACTOR`] × it allows one — a prediction on a tie may fall either way.
const MIN_COUNT_FLOOR: f64 = 0.1;

/// The most updates or iterations a horizon may have (each keeps a copy of the parameters of
/// three runs).
pub const MAX_HORIZON: usize = 100_000;

/// The most images the check's evaluation uses (the first of the test set).
const EVAL_IMAGES: usize = 2000;

/// Every measurement of one scenario: the implementation's run `i` against the reference's
/// `r` (both from `p0`), each quantity's floor the largest of the floor runs' distances from
/// `r` (each with its own start: the reference from one ulp away, the oracle, the reference on
/// the batches' rows in reverse order).
fn measure(p0: &Params, i: &Run, r: &Run, floors: &[(&Params, &Run)]) -> ScenarioCheck {
    let most = |f: &dyn Fn(&Params, &Run) -> f64| {
        floors.iter().map(|(s, run)| f(s, run)).fold(0.0, f64::max)
    };
    let first_update = match (r.steps.first(), i.steps.first()) {
        (Some(r1), Some(i1)) => NAMES
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let floor = most(&|s, run| {
                    run.steps
                        .first()
                        .map_or(f64::NAN, |f1| update_difference(k, (s, &f1.2), (p0, &r1.2)))
                });
                Measured {
                    what: (*name).into(),
                    update: 1,
                    difference: update_difference(k, (p0, &i1.2), (p0, &r1.2)),
                    floor: floor.max(MIN_FLOOR),
                }
            })
            .collect(),
        _ => vec![],
    };
    let mut horizon = vec![];
    let mut outputs = vec![];
    for (u, (ri, ii)) in r.steps.iter().zip(&i.steps).enumerate() {
        let update = u + 1;
        let at = |run: &Run| run.steps.get(u).cloned();
        let floor = most(&|_, run| at(run).map_or(f64::NAN, |x| relative_difference(&ri.2, &x.2)));
        horizon.push(Measured {
            what: "all parameters".into(),
            update,
            difference: relative_difference(&ri.2, &ii.2),
            floor: floor.max(MIN_FLOOR),
        });
        let floor = most(&|_, run| at(run).map_or(f64::NAN, |x| relative(x.0, ri.0)));
        outputs.push(Measured {
            what: "the step's loss".into(),
            update,
            difference: relative(ii.0, ri.0),
            floor: floor.max(MIN_FLOOR),
        });
        let floor = most(&|_, run| at(run).map_or(f64::NAN, |x| x.1.abs_diff(ri.1) as f64));
        outputs.push(Measured {
            what: "the step's correct count".into(),
            update,
            difference: ii.1.abs_diff(ri.1) as f64,
            floor: floor.max(MIN_COUNT_FLOOR),
        });
    }
    let last = r.steps.len();
    let floor = most(&|_, run| relative(run.evaluation.0, r.evaluation.0));
    outputs.push(Measured {
        what: "the evaluation's loss".into(),
        update: last,
        difference: relative(i.evaluation.0, r.evaluation.0),
        floor: floor.max(MIN_FLOOR),
    });
    let floor = most(&|_, run| disagreements(&run.evaluation.1, &r.evaluation.1));
    outputs.push(Measured {
        what: "the evaluation's predictions (how many differ)".into(),
        update: last,
        difference: disagreements(&i.evaluation.1, &r.evaluation.1),
        floor: floor.max(MIN_COUNT_FLOOR),
    });
    ScenarioCheck { name: String::new(), skipped: None, first_update, horizon, outputs }
}

impl CheckOptions {
    /// Refuses options that cannot work, as `train` refuses them, before any work:
    /// `n_train` is the dataset's number of training images.
    fn validate(&self, n_train: usize) -> Result<()> {
        if self.train_limit == 0 || self.train_limit > n_train {
            crate::bail!(
                "--train-limit: must be between 1 and {n_train} (the training images), got {}",
                self.train_limit
            );
        }
        for (flag, n) in [("updates", self.updates), ("iterations", self.iterations)] {
            if n == 0 || n > MAX_HORIZON {
                crate::bail!("--{flag}: must be between 1 and {MAX_HORIZON}, got {n}");
            }
        }
        if self.against == BackendKind::Process {
            crate::bail!(
                "--against process: the reference must be a backend built into twinnet \
                 (ndarray or tch); the program under check is --command"
            );
        }
        Ok(())
    }
}

/// Checks `opts.command` in every scenario; `stop` ends it with [`Error::Interrupted`].
pub fn check(opts: &CheckOptions, stop: &AtomicBool) -> Result<CheckReport> {
    let data = data::load(opts.data_dir.as_deref(), DatasetName::Mnist)?;
    opts.validate(data.splits.train.len())?;
    let train = data.splits.train.take(opts.train_limit)?;
    let eval = data.splits.test.take(EVAL_IMAGES.min(data.splits.test.len()).max(1))?;
    let spec = twinnet_process::ProcessSpec::parse(&opts.command, opts.timeout)?;
    let reference_engine = Engine::resolve(opts.against, Device::Cpu)?;
    let other_kind =
        if opts.against == BackendKind::Ndarray { BackendKind::Tch } else { BackendKind::Ndarray };
    let other_engine = Engine::resolve(other_kind, Device::Cpu).ok();
    let mut implementation = String::from("it described nothing");
    let mut scenarios = vec![];
    let mut rewinds = false;
    let mut epochs: Vec<Vec<u32>> = vec![];
    let mut order = BatchOrder::new(train.len(), 0);
    while epochs.len() * train.len().div_ceil(BATCH) < opts.updates {
        epochs.push(order.next_epoch(train.len()).to_vec());
    }
    for sc in SCENARIOS {
        let config = ModelConfig { hidden: 10, head: sc.head, normalize: sc.normalize };
        let model = Model::new(config, Params::init(10, sc.init, 0)?)?;
        let batches: Vec<Option<Vec<u32>>> = match sc.regime {
            Regime::FullBatch => vec![None; opts.iterations],
            Regime::Minibatch => epochs
                .iter()
                .flat_map(|e| e.chunks(BATCH).map(|c| Some(c.to_vec())))
                .take(opts.updates)
                .collect(),
        };
        let pspec = twinnet_process::ProcessSpec {
            ahead: 0,
            lr: LR,
            regime: sc.regime,
            batch_size: BATCH,
            seed: 0,
            dataset: DatasetName::Mnist,
            ..spec.clone()
        };
        let mut imp = match start(&pspec, &model, &train) {
            Ok(b) => b,
            Err(Refused(why)) => {
                scenarios.push(ScenarioCheck::skipped(sc.name, why));
                continue;
            }
            Err(Failed(e)) => return Err(e),
        };
        implementation = imp.describe().library;
        rewinds |= imp.rewinds();
        let theirs = run_backend(&mut imp, &batches, &eval, stop)?;
        drop(imp);
        let threads = Threads::ONE;
        let ours = run_backend(
            reference_engine.build(&model, &train, threads)?.as_mut(),
            &batches,
            &eval,
            stop,
        )?;
        let nudged_model = Model::new(config, one_ulp_everywhere(model.params()))?;
        let nudged = run_backend(
            reference_engine.build(&nudged_model, &train, threads)?.as_mut(),
            &batches,
            &eval,
            stop,
        )?;
        let f64s = oracle_run(&model, &train, &batches, &eval);
        // The same batches, each one's rows in reverse order: the same mathematics summed in
        // another order (the rounding any other implementation's sums bring).
        let reversed: Vec<Option<Vec<u32>>> = batches
            .iter()
            .map(|b| {
                let mut rows = b.clone().unwrap_or_else(|| (0..train.len() as u32).collect());
                rows.reverse();
                Some(rows)
            })
            .collect();
        let reordered = run_backend(
            reference_engine.build(&model, &train, threads)?.as_mut(),
            &reversed,
            &eval,
            stop,
        )?;
        // twinnet's other float32 backend, where this build has it: the same mathematics in
        // another float32 implementation (another layout, other kernels).
        let other = match &other_engine {
            Some(e) => Some(run_backend(
                e.build(&model, &train, threads)?.as_mut(),
                &batches,
                &eval,
                stop,
            )?),
            None => None,
        };
        let p0 = model.params();
        let mut floors = vec![(nudged_model.params(), &nudged), (p0, &f64s), (p0, &reordered)];
        if let Some(o) = &other {
            floors.push((p0, o));
        }
        let mut c = measure(p0, &theirs, &ours, &floors);
        c.name = sc.name.into();
        // Steps sent ahead and taken back must land where one step at a time lands: the
        // mini-batch softmax scenario again, `AHEAD` steps ahead, parameters read every
        // `REWIND_EVERY` updates (mid-epoch: the steps sent ahead are taken back).
        if sc.regime == Regime::Minibatch && sc.head == Head::Softmax && rewinds {
            let ahead = twinnet_process::ProcessSpec { ahead: twinnet_process::AHEAD, ..pspec };
            let mut imp = match start(&ahead, &model, &train) {
                Ok(b) => b,
                Err(Refused(why)) => {
                    crate::bail!("{}: refused the same model a second time: {why}", opts.command)
                }
                Err(Failed(e)) => return Err(e),
            };
            for (u, p) in run_ahead(&mut imp, &epochs, opts.updates, REWIND_EVERY, stop)? {
                let (Some(r), Some(n), Some(f), Some(o)) = (
                    ours.steps.get(u - 1),
                    nudged.steps.get(u - 1),
                    f64s.steps.get(u - 1),
                    reordered.steps.get(u - 1),
                ) else {
                    continue;
                };
                c.outputs.push(Measured {
                    what: format!(
                        "all parameters, {} steps sent ahead and taken back (rewind)",
                        twinnet_process::AHEAD
                    ),
                    update: u,
                    difference: relative_difference(&r.2, &p),
                    floor: relative_difference(&r.2, &n.2)
                        .max(relative_difference(&r.2, &f.2))
                        .max(relative_difference(&r.2, &o.2))
                        .max(MIN_FLOOR),
                });
            }
        }
        scenarios.push(c);
    }
    Ok(CheckReport {
        command: opts.command.clone(),
        against: opts.against,
        implementation,
        rewind_checked: rewinds,
        scenarios,
    })
}

/// Why a program could not be started for a scenario.
enum StartError {
    /// It refused the scenario at `init` (a head it does not implement): skipped.
    Refused(String),
    /// Anything else: the check fails.
    Failed(Error),
}
use StartError::{Failed, Refused};

fn start(
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
        Err(e @ twinnet_process::ProcessError::Failed { .. }) => {
            Err(Refused(e.to_string().lines().next().unwrap_or_default().to_string()))
        }
        Err(e) => Err(Failed(Error::Process(e))),
    }
}
