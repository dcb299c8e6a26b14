//! `twinnet check --command CMD`: is this implementation right?
//!
//! For each scenario (by default full-batch and mini-batch 64, each head: the report's NumPy
//! model with the softmax head, its PyTorch model with the double softmax; with model settings,
//! [`CheckModel`], that model full-batch and in mini-batches) the implementation and a reference
//! backend (`--against`, ndarray by default) start from the same weights and take the same
//! batches. Two things are compared, each against a floor measured on the spot:
//!
//! ```text
//! update 1, per tensor t:   d_t = ‖Δθ_t(impl) − Δθ_t(ref)‖ / ‖Δθ_t(ref)‖      (Δθ = θ₁ − θ₀)
//! then after each update u:  d(u) = ‖θ(impl, u) − θ(ref, u)‖ / ‖θ(ref, u)‖
//! floor = max( the reference from a start one f32 ulp away (every parameter),
//!              the report's model in float64, step by step (`twinnet_reference`),
//!              the reference on each batch's rows in reverse order (the same sums, added in
//!              another order) )
//! pass  ⇔  every d ≤ FACTOR × its floor
//! ```
//! Update 1 isolates one gradient, so a wrong formula shows at once, tensor by tensor; the
//! horizon catches what grows. The float64 model is part of the floor because computing in
//! float64 (as the report's NumPy program does) is correct, not wrong: the bound covers the
//! float32/float64 difference by measurement (of the model checked: any depth, activation and
//! head, `twinnet_reference`). The reversed rows are in it because summation
//! order alone moves float32 results, and an implementation's sums need not run in the
//! reference's order (measured: the report's PyTorch program against tch, full batch, double
//! softmax, differs in fc2.weight's first update by ~6e-6 relative, where the one-ulp start
//! and float64 move it by less than 1.2e-7 on an AMD EPYC). A scenario the implementation refuses at `init`
//! (a head, an activation or a depth it does not implement; a network its protocol version cannot
//! carry) is reported as skipped.

use crate::data;
use crate::error::Result;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use twinnet_core::train::BatchOrder;
use twinnet_core::trajectory::{one_ulp_everywhere, relative_difference};
use twinnet_core::{Backend, BackendKind, Device, Model, ModelConfig, Params, Regime, Threads};
use twinnet_data::DatasetName;
use twinnet_engine::Engine;

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
    /// The model to check; with no setting given, the report's four scenarios.
    pub model: CheckModel,
}

impl CheckOptions {
    /// `command` against ndarray with the defaults: 2,000 images, 100 mini-batch updates,
    /// 20 full-batch iterations, the report's scenarios.
    pub fn new(command: &str) -> Self {
        Self {
            command: command.into(),
            against: BackendKind::Ndarray,
            timeout: twinnet_process::DEFAULT_TIMEOUT,
            train_limit: 2000,
            updates: 100,
            iterations: 20,
            data_dir: None,
            model: CheckModel::default(),
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

mod measure;
mod report;
mod runs;
mod scenarios;

use measure::{measure, MIN_FLOOR};
pub use report::{CheckReport, Measured, ScenarioCheck};
use runs::{oracle_run, run_ahead, run_backend, start, Failed, Refused, REWIND_EVERY};
use scenarios::report_scenarios;
pub use scenarios::CheckModel;

/// The most updates or iterations a horizon may have (each keeps a copy of the parameters of
/// three runs).
pub const MAX_HORIZON: usize = 100_000;

/// The most images the check's evaluation uses (the first of the test set).
const EVAL_IMAGES: usize = 2000;

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
        let m = &self.model;
        if let Some(lr) = m.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            crate::bail!("--lr: must be a finite number > 0, got {lr}");
        }
        if let Some(b) = m.batch_size.filter(|b| !(1..=self.train_limit).contains(b)) {
            crate::bail!(
                "--batch-size: must be between 1 and the {} training images, got {b}",
                self.train_limit
            );
        }
        twinnet_core::Optimizer::from_settings(&m.optimizer)?;
        if let Some(h) = &m.hidden {
            let c = ModelConfig { hidden: h.clone(), ..ModelConfig::default() };
            twinnet_core::check_widths(&c.widths())?;
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

/// Checks `opts.command` in every scenario; `stop` ends it with [`crate::Error::Interrupted`].
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
    let scenarios_planned =
        if opts.model.is_empty() { report_scenarios() } else { opts.model.scenarios()? };
    for sc in scenarios_planned {
        let mut epochs: Vec<Vec<u32>> = vec![];
        let mut order = BatchOrder::new(train.len(), 0);
        while epochs.len() * train.len().div_ceil(sc.batch) < opts.updates {
            epochs.push(order.next_epoch(train.len()).to_vec());
        }
        let config = sc.config.clone();
        let model = Model::new(config.clone(), Params::init_widths(&config.widths(), sc.init, 0))?
            .with_optimizer(sc.optimizer);
        let batches: Vec<Option<Vec<u32>>> = match sc.regime {
            Regime::FullBatch => vec![None; opts.iterations],
            Regime::Minibatch => epochs
                .iter()
                .flat_map(|e| e.chunks(sc.batch).map(|c| Some(c.to_vec())))
                .take(opts.updates)
                .collect(),
        };
        let pspec = twinnet_process::ProcessSpec {
            ahead: 0,
            lr: sc.lr,
            regime: sc.regime,
            batch_size: sc.batch,
            seed: 0,
            dataset: DatasetName::Mnist,
            ..spec.clone()
        };
        let mut imp = match start(&pspec, &model, &train) {
            Ok(b) => b,
            Err(Refused(why)) => {
                scenarios.push(ScenarioCheck::skipped(&sc.name, why));
                continue;
            }
            Err(Failed(e)) => return Err(e),
        };
        implementation = imp.describe().library;
        rewinds |= imp.rewinds();
        let lr = sc.lr;
        let theirs = run_backend(&mut imp, &batches, lr, &eval, stop)?;
        drop(imp);
        let threads = Threads::ONE;
        let ours = run_backend(
            reference_engine.build(&model, &train, threads)?.as_mut(),
            &batches,
            lr,
            &eval,
            stop,
        )?;
        let nudged_model =
            Model::new(config, one_ulp_everywhere(model.params()))?.with_optimizer(sc.optimizer);
        let nudged = run_backend(
            reference_engine.build(&nudged_model, &train, threads)?.as_mut(),
            &batches,
            lr,
            &eval,
            stop,
        )?;
        let f64s = oracle_run(&model, &train, &batches, lr, &eval);
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
            lr,
            &eval,
            stop,
        )?;
        // twinnet's other float32 backend, where this build has it: the same mathematics in
        // another float32 implementation (another layout, other kernels).
        let other = match &other_engine {
            Some(e) => Some(run_backend(
                e.build(&model, &train, threads)?.as_mut(),
                &batches,
                lr,
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
        c.name = sc.name.clone();
        // Steps sent ahead and taken back must land where one step at a time lands: the
        // mini-batch softmax scenario again, `AHEAD` steps ahead, parameters read every
        // `REWIND_EVERY` updates (mid-epoch: the steps sent ahead are taken back).
        if sc.rewind && rewinds {
            let ahead = twinnet_process::ProcessSpec { ahead: twinnet_process::AHEAD, ..pspec };
            let mut imp = match start(&ahead, &model, &train) {
                Ok(b) => b,
                Err(Refused(why)) => {
                    crate::bail!("{}: refused the same model a second time: {why}", opts.command)
                }
                Err(Failed(e)) => return Err(e),
            };
            let ahead_run =
                run_ahead(&mut imp, &epochs, sc.batch, lr, opts.updates, REWIND_EVERY, stop)?;
            for (u, p) in ahead_run {
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
