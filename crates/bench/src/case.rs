//! One measurement as a value ([`Case`]): what is trained, on which backend (built by the
//! engine, like every run's), how, and against what; [`Case::measure`] times it through the
//! runner's training loop. The floor of each figure is computed from the shapes and measured on
//! the machine:
//! ```text
//! FLOPs per pass  = 4·n·784·h     (forward X·W1ᵀ and backward dZ1ᵀ·X: 2·n·784·h each)
//! floor           = max(FLOPs / sgemm rate, bytes of X read once / memory bandwidth)
//! ```

use crate::record::Measure;
use anyhow::Result;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::{
    train, Backend, BackendKind, Device, Head, Init, Model, ModelConfig, Normalize, Params, Regime,
    Threads, TrainConfig,
};
use twinnet_data::Splits;
use twinnet_engine::Engine;
use twinnet_ndarray::kernels::Kernels;

/// What is trained: the head, the pixels and the starting weights' distribution.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// As the tables name it.
    pub name: &'static str,
    /// Output head.
    pub head: Head,
    /// Pixels.
    pub normalize: Normalize,
    /// Starting weights.
    pub init: Init,
}

/// twinnet's defaults in the speed tables: softmax head, [0, 1] pixels, nn.Linear's init.
pub const OWN: Setting = Setting {
    name: "softmax, [0, 1], nn.Linear init",
    head: Head::Softmax,
    normalize: Normalize::Unit,
    init: Init::TorchDefault,
};
/// The report's NumPy model: softmax head, [0, 1] pixels, U[−0.5, 0.5] (trained full-batch).
pub const NUMPY_MODEL: Setting = Setting {
    name: "the report's NumPy model",
    head: Head::Softmax,
    normalize: Normalize::Unit,
    init: Init::Uniform,
};
/// The NumPy model on [−1, 1] pixels: no pixel is zero, so no border to skip.
pub const NUMPY_MODEL_SYMMETRIC: Setting = Setting {
    name: "the report's NumPy model on [−1, 1] pixels",
    normalize: Normalize::Symmetric,
    ..NUMPY_MODEL
};
/// The report's PyTorch model: double softmax, [−1, 1] pixels, nn.Linear's init (mini-batch).
pub const PYTORCH_MODEL: Setting = Setting {
    name: "the report's PyTorch model",
    head: Head::DoubleSoftmax,
    normalize: Normalize::Symmetric,
    init: Init::TorchDefault,
};

/// The machine's floor: its sgemm rate and memory bandwidth.
#[derive(Debug, Clone, Copy)]
pub struct Floor {
    /// GFLOP/s of a 2048² f32 matmul.
    pub sgemm: f64,
    /// GB/s of one sum over 188 MB.
    pub bandwidth: f64,
}

impl Floor {
    /// The floor of one pass over `n` images of a `hidden`-wide network, milliseconds.
    fn ms(&self, backend: BackendKind, n: usize, hidden: usize) -> f64 {
        let flops = 4.0 * n as f64 * 784.0 * hidden as f64;
        let bytes_per_px = if backend == BackendKind::Ndarray { 1.0 } else { 4.0 }; // u8 vs f32
        let bytes = n as f64 * 784.0 * bytes_per_px;
        1e3 * (flops / (self.sgemm * 1e9)).max(bytes / (self.bandwidth * 1e9))
    }
}

/// One measurement.
#[derive(Debug, Clone)]
pub struct Case {
    /// What is trained.
    pub setting: Setting,
    /// Which backend.
    pub backend: BackendKind,
    /// Full-batch iterations or mini-batch-64 epochs.
    pub regime: Regime,
    /// Training images (the first `n`).
    pub n: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Threads.
    pub threads: usize,
    /// The ndarray kernel set (default: the fastest).
    pub kernels: Option<Kernels>,
    /// The goal, milliseconds per iteration or epoch.
    pub target_ms: Option<f64>,
    /// What else was fixed, as the tables say it.
    pub variant: String,
    /// `BackendKind::Process`: the implementation's command.
    pub command: Option<String>,
    /// `BackendKind::Process`: the most steps sent ahead.
    pub ahead: usize,
}

impl Case {
    /// `backend` in `regime` on all 60,000 images, hidden 10, one thread, twinnet's defaults.
    pub fn new(backend: BackendKind, regime: Regime) -> Self {
        Self {
            setting: OWN,
            backend,
            regime,
            n: 60_000,
            hidden: 10,
            threads: 1,
            kernels: None,
            target_ms: None,
            variant: String::new(),
            command: None,
            ahead: twinnet_process::AHEAD,
        }
    }

    /// The backend, built by the engine as a run's is.
    fn backend(&self, splits: &Splits) -> Result<Box<dyn Backend>> {
        let train = splits.train.take(self.n)?;
        let s = self.setting;
        let config = ModelConfig::report(self.hidden, s.head, s.normalize);
        let model = Model::new(config, Params::init(self.hidden, s.init, 0)?)?;
        let engine = match (&self.command, self.backend) {
            (Some(command), BackendKind::Process) => {
                let spec =
                    twinnet_process::ProcessSpec::parse(command, twinnet_process::DEFAULT_TIMEOUT)?;
                Engine::Process(Box::new(twinnet_process::ProcessSpec {
                    ahead: self.ahead,
                    regime: self.regime,
                    ..spec
                }))
            }
            _ => match (Engine::resolve(self.backend, Device::Cpu)?, self.kernels) {
                (Engine::Ndarray { .. }, Some(kernels)) => Engine::Ndarray { kernels },
                (e, _) => e,
            },
        };
        Ok(engine.build(&model, &train, Threads::new(self.threads)?)?)
    }

    /// Times the case (15 full-batch iterations or 5 mini-batch epochs after warm-up).
    pub fn measure(&self, splits: &Splits, floor: &Floor) -> Result<Measure> {
        let reps = match self.regime {
            Regime::FullBatch => 15,
            Regime::Minibatch => 5,
        };
        let mut secs = time_backend(self.backend(splits)?.as_mut(), self.regime, 64, 0.1, reps)?;
        let (med, min, max) = median_min_max(&mut secs);
        let m = Measure {
            setting: self.setting.name.into(),
            backend: self.backend,
            regime: self.regime,
            n_train: self.n,
            hidden: self.hidden,
            threads: self.threads,
            per: if self.regime == Regime::FullBatch { "iteration" } else { "epoch" }.into(),
            variant: self.variant.clone(),
            median_ms: med * 1e3,
            min_ms: min * 1e3,
            max_ms: max * 1e3,
            samples: reps,
            floor_ms: floor.ms(self.backend, self.n, self.hidden),
            target_ms: self.target_ms,
        };
        eprintln!(
            "{:>7} {:>10} n={:>5} h={:>3} t={}: {:>8.1} ms/{} (floor {:.1})",
            m.backend.to_string(),
            m.regime.to_string(),
            m.n_train,
            m.hidden,
            m.threads,
            m.median_ms,
            m.per,
            m.floor_ms
        );
        Ok(m)
    }
}

/// The median, min and max of `xs` (sorted in place).
pub fn median_min_max(xs: &mut [f64]) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// Seconds per full-batch iteration or mini-batch epoch (batches of `batch_size`, learning
/// rate `lr`), timed through the training loop the runner uses (`twinnet_core::train`, one
/// epoch per sample, a fresh batch order each), after two warm-up epochs, `reps` times.
pub fn time_backend(
    b: &mut dyn Backend,
    regime: Regime,
    batch_size: usize,
    lr: f32,
    reps: usize,
) -> Result<Vec<f64>> {
    for seed in 0..2 {
        time_epoch(b, regime, batch_size, lr, seed)?;
    }
    (0..reps).map(|r| time_epoch(b, regime, batch_size, lr, 2 + r as u64)).collect()
}

/// Seconds of one epoch of `b` (its batch order from `seed`), through the runner's loop.
pub fn time_epoch(
    b: &mut dyn Backend,
    regime: Regime,
    batch_size: usize,
    lr: f32,
    seed: u64,
) -> Result<f64> {
    let stop = AtomicBool::new(false);
    let cfg = TrainConfig { regime, batch_size, lr, epochs: 1, seed, log_every: 1 };
    let plan = cfg.validate(b.train_len())?;
    let t = Instant::now();
    let out = train(b, &plan, &stop, &mut |_| {})?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(out.divergence.is_none(), "diverged while benchmarking");
    Ok(secs)
}
