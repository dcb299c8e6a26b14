//! One training run, on either backend: build it, train it with the shared loop, evaluate it,
//! and describe it as a [`RunResult`]. The only place that names the concrete backends.

use crate::config::RunConfig;
use crate::progress::RunBar;
use crate::result::{Environment, RunResult, Status, TestResult, Timing};
use anyhow::{bail, Context, Result};
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::{train, Backend, BackendKind, Confusion, Params};
use twinnet_data::{Dataset, Mnist};
use twinnet_ndarray::NdarrayBackend;

/// A finished run: its result and its final parameters.
#[derive(Debug)]
pub struct Finished {
    /// What goes into the JSON.
    pub result: RunResult,
    /// The trained parameters (for `--save-params`).
    pub params: Params,
}

/// Raised when SIGINT or SIGTERM stops training: nothing of the run is written.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted: training stopped, nothing was written")
    }
}

impl std::error::Error for Interrupted {}

/// The parameters a run starts from when they come from a file or from twinnet's generator.
fn start_params(cfg: &RunConfig) -> Result<Params> {
    Ok(match &cfg.init_from {
        Some(path) => Params::load(path, Some(cfg.hidden))?,
        None => Params::init(cfg.hidden, cfg.init, cfg.seed)?,
    })
}

/// Trains and evaluates one run on `mnist`.
pub fn execute(
    cfg: &RunConfig,
    mnist: &Mnist,
    bar: &RunBar,
    stop: &AtomicBool,
) -> Result<Finished> {
    cfg.validate(mnist.train.len())?;
    let limited;
    let train_set = match cfg.train_limit {
        Some(n) => {
            limited = mnist.train.take(n)?;
            &limited
        }
        None => &mnist.train,
    };
    match cfg.backend {
        BackendKind::Ndarray => {
            let b = NdarrayBackend::new(cfg.model(), start_params(cfg)?, train_set, cfg.threads)?;
            let lib = "ndarray 0.17 (from scratch)".to_string();
            finish(b, cfg, train_set, &mnist.test, lib, "cpu".into(), bar, stop)
        }
        BackendKind::Tch => tch_run(cfg, train_set, &mnist.test, bar, stop),
    }
}

#[cfg(feature = "tch")]
fn tch_run(
    cfg: &RunConfig,
    train_set: &Dataset,
    test: &Dataset,
    bar: &RunBar,
    stop: &AtomicBool,
) -> Result<Finished> {
    use twinnet_tch::{Start, TchBackend, TORCH_VERSION};
    let start = match &cfg.init_from {
        Some(_) => Start::Params(start_params(cfg)?),
        None => Start::Init(cfg.init, cfg.seed),
    };
    let b = TchBackend::new(cfg.model(), start, train_set, cfg.device, cfg.threads)?;
    let device =
        format!("{:?}", b.device()).to_lowercase().replace("cuda(", "cuda:").replace(')', "");
    finish(
        b,
        cfg,
        train_set,
        test,
        format!(
            "tch 0.26 / libtorch {TORCH_VERSION} (MKL: {})",
            twinnet_tch::mkl::dispatch().describe()
        ),
        device,
        bar,
        stop,
    )
}

#[cfg(not(feature = "tch"))]
fn tch_run(
    _: &RunConfig,
    _: &Dataset,
    _: &Dataset,
    _: &RunBar,
    _: &AtomicBool,
) -> Result<Finished> {
    bail!("backend: tch is not in this build (built without the `tch` feature; rebuild with default features)")
}

fn finish<B: Backend>(
    mut b: B,
    cfg: &RunConfig,
    train_set: &Dataset,
    test: &Dataset,
    backend_library: String,
    device: String,
    bar: &RunBar,
    stop: &AtomicBool,
) -> Result<Finished> {
    let tc = cfg.train_config();
    let out = train(&mut b, &tc, stop, &mut |r| bar.epoch(r)).context("training failed")?;
    if out.interrupted {
        bar.finish("interrupted");
        bail!(Interrupted);
    }
    let t = Instant::now();
    let (status, test_result) = match &out.divergence {
        Some(d) => {
            bar.finish(&format!("DIVERGED at epoch {} step {} (loss {})", d.epoch, d.step, d.loss));
            (Status::Diverged, None)
        }
        None => {
            let eval = b.evaluate(test).context("evaluation failed")?;
            let r = TestResult::new(Confusion::new(test.labels(), &eval.predictions), eval.loss);
            bar.finish(&format!("test accuracy {:.2}%", 100.0 * r.accuracy));
            (Status::Completed, Some(r))
        }
    };
    let eval_s = t.elapsed().as_secs_f64();
    let params = b.params()?;
    let result = RunResult {
        config: cfg.clone(),
        environment: Environment {
            twinnet: env!("CARGO_PKG_VERSION").into(),
            backend_library,
            device,
            cpu: twinnet_core::system::cpu_model(),
            threads: cfg.threads,
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        },
        status,
        divergence: out.divergence.clone(),
        updates_per_epoch: tc.updates_per_epoch(train_set.len()),
        history: out.history,
        test: test_result,
        timing: Timing {
            train_s: out.train_s,
            per_epoch_s: out.train_s / out.epochs.max(1) as f64,
            eval_s,
        },
    };
    Ok(Finished { result, params })
}
