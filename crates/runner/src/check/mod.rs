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
//!              the report's model in float64, step by step (`twinnet_ndarray::reference`) )
//! pass  ⇔  every d ≤ FACTOR × its floor
//! ```
//! Update 1 isolates one gradient, so a wrong formula shows at once, tensor by tensor; the
//! horizon catches what grows. The float64 model is part of the floor because computing in
//! float64 (as the report's NumPy program does) is correct, not wrong: the bound covers the
//! float32/float64 difference by measurement. A scenario the implementation refuses at `init`
//! (a head it does not implement) is reported as skipped.

use crate::data;
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use twinnet_core::train::BatchOrder;
use twinnet_core::trajectory::relative_difference;
use twinnet_core::{
    Backend, BackendKind, Batch, Device, Head, Init, Model, ModelConfig, Normalize, Params, Regime,
    Threads, NAMES,
};
use twinnet_data::{Dataset, DatasetName};
use twinnet_engine::Engine;
use twinnet_ndarray::reference::{self, Parameters};

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

/// A backend's parameters after each of `batches` from `model`.
fn trajectory(
    b: &mut dyn Backend,
    batches: &[Option<Vec<u32>>],
    stop: &AtomicBool,
) -> Result<Vec<Params>> {
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        match batch {
            Some(ix) => b.step(Batch::Indices(ix), LR)?,
            None => b.step(Batch::All, LR)?,
        };
        out.push(b.params()?);
    }
    Ok(out)
}

/// The report's model in float64, step by step, after each of `batches`.
fn float64_trajectory(model: &Model, train: &Dataset, batches: &[Option<Vec<u32>>]) -> Vec<Params> {
    let c = model.config();
    let mut net = Parameters::from_params(model.params());
    let xs: Vec<f64> = train.features(c.normalize).iter().map(|&v| v as f64).collect();
    let x =
        ndarray::Array2::from_shape_vec((train.len(), twinnet_core::INPUTS), xs).expect("n × 784");
    let all: Vec<u32> = (0..train.len() as u32).collect();
    batches
        .iter()
        .map(|b| {
            let ix = b.as_deref().unwrap_or(&all);
            let rows: Vec<usize> = ix.iter().map(|&i| i as usize).collect();
            let xb = x.select(ndarray::Axis(0), &rows);
            let yb: Vec<u8> = rows.iter().filter_map(|&i| train.labels().get(i).copied()).collect();
            reference::gradient_descent_step(&mut net, c.head, xb.t(), &yb, LR as f64);
            net.to_params()
        })
        .collect()
}

/// Every parameter moved one f32 ulp, up and down in turn.
fn one_ulp_everywhere(p: &Params) -> Params {
    let mut q = p.clone();
    for v in [&mut q.w1, &mut q.b1, &mut q.w2, &mut q.b2] {
        for (i, x) in v.iter_mut().enumerate() {
            *x = if i % 2 == 0 { x.next_up() } else { x.next_down() };
        }
    }
    q
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

/// Checks `opts.command` in every scenario; `stop` ends it with [`Error::Interrupted`].
pub fn check(opts: &CheckOptions, stop: &AtomicBool) -> Result<CheckReport> {
    let data = data::load(opts.data_dir.as_deref(), DatasetName::Mnist)?;
    let train = data.splits.train.take(opts.train_limit.clamp(1, data.splits.train.len()))?;
    let spec = twinnet_process::ProcessSpec::parse(&opts.command, opts.timeout)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let reference_engine = Engine::resolve(opts.against, Device::Cpu)?;
    let mut implementation = String::from("it described nothing");
    let mut scenarios = vec![];
    for sc in SCENARIOS {
        let config = ModelConfig { hidden: 10, head: sc.head, normalize: sc.normalize };
        let model = Model::new(config, Params::init(10, sc.init, 0)?)?;
        let batches: Vec<Option<Vec<u32>>> = match sc.regime {
            Regime::FullBatch => vec![None; opts.iterations],
            Regime::Minibatch => {
                let mut order = BatchOrder::new(train.len(), 0);
                let mut out = vec![];
                while out.len() < opts.updates {
                    out.extend(order.next_epoch(train.len()).chunks(64).map(|c| Some(c.to_vec())));
                }
                out.truncate(opts.updates);
                out
            }
        };
        let pspec = twinnet_process::ProcessSpec {
            ahead: 0,
            lr: LR,
            regime: sc.regime,
            batch_size: 64,
            seed: 0,
            dataset: DatasetName::Mnist,
            ..spec.clone()
        };
        let started = twinnet_process::ProcessBackend::start(
            &pspec,
            &model,
            Some(&train),
            Threads::ONE,
            twinnet_data::cache_dir(),
        );
        let mut imp = match started {
            Ok(b) => b,
            Err(e @ twinnet_process::ProcessError::Failed { .. }) => {
                let first = e.to_string().lines().next().unwrap_or_default().to_string();
                scenarios.push(ScenarioCheck {
                    name: sc.name.into(),
                    skipped: Some(first),
                    first_update: vec![],
                    horizon: vec![],
                });
                continue;
            }
            Err(e) => return Err(Error::Backend(twinnet_core::BackendError::failed(e))),
        };
        implementation = imp.describe().library;
        let theirs = trajectory(&mut imp, &batches, stop)?;
        drop(imp);
        let threads = Threads::ONE;
        let ours =
            trajectory(reference_engine.build(&model, &train, threads)?.as_mut(), &batches, stop)?;
        let nudged_model = Model::new(config, one_ulp_everywhere(model.params()))?;
        let nudged = trajectory(
            reference_engine.build(&nudged_model, &train, threads)?.as_mut(),
            &batches,
            stop,
        )?;
        let f64s = float64_trajectory(&model, &train, &batches);
        let p0 = model.params();
        let n0 = nudged_model.params();
        let first_update = match (ours.first(), theirs.first(), nudged.first(), f64s.first()) {
            (Some(r1), Some(i1), Some(n1), Some(f1)) => NAMES
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let floor = update_difference(k, (n0, n1), (p0, r1))
                        .max(update_difference(k, (p0, f1), (p0, r1)))
                        .max(MIN_FLOOR);
                    Measured {
                        what: (*name).into(),
                        update: 1,
                        difference: update_difference(k, (p0, i1), (p0, r1)),
                        floor,
                    }
                })
                .collect(),
            _ => vec![],
        };
        let horizon = (0..ours.len().min(theirs.len()).min(nudged.len()).min(f64s.len()))
            .filter_map(|u| {
                let (r, i, n, f) = (ours.get(u)?, theirs.get(u)?, nudged.get(u)?, f64s.get(u)?);
                let floor = relative_difference(r, n).max(relative_difference(r, f)).max(MIN_FLOOR);
                Some(Measured {
                    what: "all parameters".into(),
                    update: u + 1,
                    difference: relative_difference(r, i),
                    floor,
                })
            })
            .collect();
        scenarios.push(ScenarioCheck {
            name: sc.name.into(),
            skipped: None,
            first_update,
            horizon,
        });
    }
    Ok(CheckReport {
        command: opts.command.clone(),
        against: opts.against,
        implementation,
        scenarios,
    })
}
