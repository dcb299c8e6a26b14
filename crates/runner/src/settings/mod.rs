//! Run settings in three stages, as ripgrep turns low-level into high-level arguments: the
//! partial form that flags and experiment files give ([`Settings`]), the complete form recorded
//! in every result ([`RunConfig`], the report's [`defaults`] filling what is unset), and the
//! validated form every run is executed from ([`ValidRun`], made only by
//! [`RunConfig::validate`]).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use twinnet_core::{
    defaults, Activation, BackendKind, Betas, ConfigError, DecayScope, Device, Head, Hidden, Init,
    InitRng, ModelConfig, Normalize, Optimizer, OptimizerKind, OptimizerSettings, Regime, Threads,
    TrainConfig, TrainPlan,
};
use twinnet_data::DatasetName;
use twinnet_engine::Engine;

#[macro_use]
mod macros;

pub use macros::choice;
use macros::ArgValue;

settings! {
    required {
    /// Name of the run (file name of its result in an experiment) [default: <backend>-<regime>]
    // `<backend>` is `--help`'s placeholder, not HTML.
    #[allow(rustdoc::invalid_html_tags)]
    #[arg(long)]
    name: String = String::new(),
    /// Which implementation trains [default: ndarray]
    #[arg(long, value_parser = choice::<BackendKind>())]
    backend: BackendKind = defaults::BACKEND,
    /// full-batch gradient descent, or mini-batch SGD [default: full-batch]
    #[arg(long, value_parser = choice::<Regime>())]
    regime: Regime = defaults::REGIME,
    /// Mini-batch size (minibatch regime) [default: 64]
    #[arg(long)]
    batch_size: usize = defaults::BATCH_SIZE,
    /// Learning rate α > 0 [default: 0.1]
    #[arg(long, allow_negative_numbers = true)]
    lr: f32 = defaults::LR,
    /// Passes over the training set (full-batch: one update each) [default: 500]
    #[arg(long)]
    epochs: usize = defaults::EPOCHS,
    /// uniform = U[−0.5, 0.5] (report's NumPy model); torch-default = nn.Linear's U[±1/√fan_in]; normal = N(0, 1) (Nielsen's network.py); normal-scaled = weights N(0, 1/fan_in), biases N(0, 1) (network2.py) [default: uniform]
    #[arg(long, value_parser = choice::<Init>())]
    init: Init = defaults::INIT,
    /// unit = x/255 (NumPy model); symmetric = (x/255 − 0.5)/0.5 (torchvision, PyTorch model) [default: unit]
    #[arg(long, value_parser = choice::<Normalize>())]
    normalize: Normalize = defaults::NORMALIZE,
    /// softmax = logits to cross-entropy; double-softmax = the report's PyTorch model; sigmoid-quadratic = σ outputs, ½‖a − y‖² (Nielsen's QuadraticCost); sigmoid-cross-entropy = σ outputs, binary cross-entropy summed over the 10 (Nielsen's CrossEntropyCost) [default: softmax]
    #[arg(long, value_parser = choice::<Head>())]
    head: Head = defaults::HEAD,
    /// Hidden widths: 30, 128,64 (two layers) or none (softmax regression); input 784 and output 10 come from the data [default: 10]
    #[arg(long, value_name = "WIDTHS")]
    hidden: Hidden = Hidden::default(),
    /// Seed of the initial parameters and the batch order [default: 0]
    #[arg(long)]
    seed: u64 = defaults::SEED,
    /// Device of the tch backend (cpu, cuda, auto) [default: cpu]
    #[arg(long, value_parser = choice::<Device>())]
    device: Device = defaults::DEVICE,
    /// Compute threads [default: ndarray: every core, up to the 2 it can use (its results do not depend on the count); tch: 2 full-batch, 1 minibatch (fixed, as its sums depend on the count)]
    #[arg(long)]
    threads: usize = default_threads(defaults::BACKEND, defaults::REGIME),
    /// Record the training curve every K epochs (and at the last) [default: 1]
    #[arg(long, value_name = "K")]
    log_every: usize = defaults::LOG_EVERY,
    /// Which data: mnist (the report's) or fashion-mnist (Zalando's, same format; `make data` installs both) [default: mnist]
    #[arg(long, value_parser = choice::<DatasetName>())]
    dataset: DatasetName = DatasetName::default(),
    /// Whose generator draws --init: twinnet = the same weights on both backends, no libtorch needed; torch = what torch.manual_seed(seed) then one nn.Linear per layer draw in PyTorch (needs the tch feature) [default: twinnet]
    #[arg(long, value_parser = choice::<InitRng>())]
    init_rng: InitRng = defaults::INIT_RNG,
    }
    optional {
    /// Start from this safetensors file (fc1.weight, fc1.bias, …, fcL.bias, or an nn.Sequential's 0.weight, 0.bias, 2.weight, …) instead of --init
    #[arg(long, value_name = "FILE.safetensors")]
    init_from: PathBuf,
    /// Train on the first N training images only (quick runs) [default: all 60000]
    #[arg(long, value_name = "N")]
    train_limit: usize,
    }
    recorded_if_set {
    /// Activation of every hidden layer: relu, sigmoid or tanh [default: relu]
    #[arg(long, value_parser = choice::<Activation>())]
    activation: Activation,
    /// Evaluate on the test set every K epochs (and after the last): test accuracy and loss in the history and the curves, as Nielsen's figures show them per epoch [default: only at the end]
    #[arg(long, value_name = "K")]
    eval_every: usize,
    /// The update rule, as torch.optim defines it: sgd, adam or adamw [default: sgd]
    #[arg(long, value_parser = choice::<OptimizerKind>())]
    optimizer: OptimizerKind,
    /// SGD's momentum μ; its buffer starts at the first gradient, as torch.optim.SGD's [default: 0]
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    momentum: f64,
    /// SGD's dampening τ of the momentum buffer, b ← μb + (1 − τ)g [default: 0]
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    dampening: f64,
    /// SGD with Nesterov momentum (needs --momentum, no --dampening)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    nesterov: bool,
    /// Weight decay λ: added to the gradient as λp (sgd, adam) or decoupled, p ← p(1 − ηλ) (adamw) [default: 0; adamw 0.01]
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    weight_decay: f64,
    /// Which parameters --weight-decay applies to: all (torch.optim with one parameter group) or weights (Nielsen's network2.py: (1 − ηλ/n)·w, so λ = his λ/n) [default: all]
    #[arg(long, value_parser = choice::<DecayScope>())]
    decay: DecayScope,
    /// Adam's β₁,β₂ [default: 0.9,0.999]
    #[arg(long, value_name = "B1,B2")]
    betas: Betas,
    /// Adam's ε, added after the bias-corrected square root [default: 1e-8]
    #[arg(long, value_name = "E", allow_negative_numbers = true)]
    eps: f64,
    /// --backend process: the implementation's command, split as a shell would (no shell), e.g. "python3 my_net.py" (docs/protocol.md)
    #[arg(long, value_name = "CMD")]
    command: String,
    /// --backend process: seconds to wait for each reply before the implementation is killed [default: 600]
    #[arg(long, value_name = "SECONDS")]
    process_timeout: f64,
    }
}

/// The default thread count of a run: its backend's policy
/// ([`twinnet_engine::Policy::default_threads`]).
pub fn default_threads(backend: BackendKind, regime: Regime) -> usize {
    twinnet_engine::Policy::of(backend).default_threads(regime)
}

impl Settings {
    /// The complete config, with the report's defaults for what is unset and the run's
    /// default thread count ([`default_threads`]) unless one was given.
    pub fn resolve(self) -> RunConfig {
        let auto_threads = self.threads.is_none();
        let mut c = self.resolve_defaults();
        if auto_threads {
            c.threads = default_threads(c.backend, c.regime);
        }
        c
    }
}

/// A run whose every setting was checked: made only by [`RunConfig::validate`], taken by
/// [`crate::execute::execute`], never checked again.
#[derive(Debug, Clone)]
pub struct ValidRun {
    config: RunConfig,
    engine: Engine,
    model: ModelConfig,
    optimizer: Optimizer,
    plan: TrainPlan,
    threads: Threads,
}

impl ValidRun {
    /// The settings as recorded in the result.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }
    /// The backend, resolved for this machine (what builds it).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
    /// The network (its widths are at least 1).
    pub fn model(&self) -> &ModelConfig {
        &self.model
    }
    /// How it is trained.
    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
    }
    /// The training loop's checked settings, for the (possibly limited) training set.
    pub fn plan(&self) -> &TrainPlan {
        &self.plan
    }
    /// Compute threads.
    pub fn threads(&self) -> Threads {
        self.threads
    }
}

impl RunConfig {
    /// Checks every value that cannot work, naming the option; `n_train` is the size of the
    /// training set before `train_limit`.
    pub fn validate(&self, n_train: usize) -> Result<ValidRun, ConfigError> {
        let model = self.model_config();
        twinnet_core::check_widths(&model.widths())?;
        let optimizer = Optimizer::from_settings(&self.optimizer_settings())?;
        let threads = Threads::new(self.threads)?;
        if let Some(n) = self.train_limit {
            if n == 0 || n > n_train {
                return Err(ConfigError::new(
                    "train-limit",
                    format!("must be between 1 and {n_train} (the training images), got {n}"),
                ));
            }
        }
        let plan = self.train_config().validate(self.train_limit.unwrap_or(n_train))?;
        if let Some(k) = self.eval_every {
            if k == 0 || k > self.epochs {
                return Err(ConfigError::new(
                    "eval-every",
                    format!("must be between 1 and the {} epochs, got {k}", self.epochs),
                ));
            }
        }
        if self.init_rng == InitRng::Torch && !cfg!(feature = "tch") {
            return Err(ConfigError::new(
                "init-rng",
                "torch needs libtorch, which this build lacks (built without the `tch` feature)",
            ));
        }
        let engine = match self.backend {
            BackendKind::Process => self.process_engine()?,
            _ if self.command.is_some() => {
                return Err(ConfigError::new("command", "needs --backend process"))
            }
            _ => Engine::resolve(self.backend, self.device)?,
        };
        Ok(ValidRun { config: self.clone(), engine, model, optimizer, plan, threads })
    }

    /// The cores the run keeps busy on a training set of `n_train` images, which is what
    /// `run`'s default `--jobs` counts ([`twinnet_engine::Policy::cores_busy`]).
    pub fn cores_busy(&self, n_train: usize) -> usize {
        let n = self.train_limit.unwrap_or(n_train).min(n_train);
        let rows = match self.regime {
            Regime::FullBatch => n,
            Regime::Minibatch => self.batch_size.min(n),
        };
        twinnet_engine::Policy::of(self.backend).cores_busy(rows, self.threads)
    }

    /// The engine of a `process` run: its command split, its deadline, its run settings.
    fn process_engine(&self) -> Result<Engine, ConfigError> {
        let Some(command) = &self.command else {
            return Err(ConfigError::new(
                "command",
                "--backend process needs --command CMD (or `command = \"...\"` in the file)",
            ));
        };
        if self.device == Device::Cuda {
            return Err(ConfigError::new("device", "the implementation chooses its own device"));
        }
        let secs = self.process_timeout.unwrap_or(twinnet_process::DEFAULT_TIMEOUT.as_secs_f64());
        if !(secs.is_finite() && secs > 0.0 && secs <= 1e7) {
            return Err(ConfigError::new(
                "process-timeout",
                format!("must be seconds in (0, 1e7], got {secs}"),
            ));
        }
        let timeout = std::time::Duration::from_secs_f64(secs);
        let spec = twinnet_process::ProcessSpec::parse(command, timeout)
            .map_err(|e| ConfigError::new("command", e.to_string()))?;
        Ok(Engine::Process(Box::new(twinnet_process::ProcessSpec {
            lr: self.lr,
            regime: self.regime,
            batch_size: self.batch_size,
            seed: self.seed,
            dataset: self.dataset,
            ..spec
        })))
    }

    /// The network's settings.
    pub fn model_config(&self) -> ModelConfig {
        ModelConfig {
            hidden: self.hidden.clone(),
            activation: self.activation.unwrap_or(defaults::ACTIVATION),
            head: self.head,
            normalize: self.normalize,
        }
    }

    /// The optimizer settings as given (checked by [`Optimizer::from_settings`]).
    pub fn optimizer_settings(&self) -> OptimizerSettings {
        OptimizerSettings {
            kind: self.optimizer,
            momentum: self.momentum,
            dampening: self.dampening,
            nesterov: self.nesterov,
            weight_decay: self.weight_decay,
            decay: self.decay,
            betas: self.betas,
            eps: self.eps,
        }
    }

    /// The training loop's settings.
    fn train_config(&self) -> TrainConfig {
        TrainConfig {
            regime: self.regime,
            batch_size: self.batch_size,
            lr: self.lr,
            epochs: self.epochs,
            seed: self.seed,
            log_every: self.log_every,
        }
    }

    /// `name`, or `<backend>-<regime>` when it is empty.
    pub fn display_name(&self) -> String {
        if self.name.is_empty() {
            format!("{}-{}", self.backend, self.regime)
        } else {
            self.name.clone()
        }
    }
}

#[cfg(test)]
mod tests;
