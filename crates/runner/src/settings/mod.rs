//! Run settings in three stages, as ripgrep turns low-level into high-level arguments: the
//! partial form that flags and experiment files give ([`Settings`]), the complete form recorded
//! in every result ([`RunConfig`], the report's [`defaults`] filling what is unset), and the
//! validated form every run is executed from ([`ValidRun`], made only by
//! [`RunConfig::validate`]).

use clap::builder::{PossibleValuesParser, TypedValueParser};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use twinnet_core::{
    defaults, Activation, BackendKind, Choice, ConfigError, Device, Head, Hidden, Init, InitRng,
    ModelConfig, Normalize, Regime, Threads, TrainConfig, TrainPlan,
};
use twinnet_data::DatasetName;
use twinnet_engine::Engine;

/// A clap parser that accepts exactly the names of a [`Choice`] and lists them in `--help`.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.as_str()))
        .map(|s| T::parse_choice(&s).expect("clap only passes possible values"))
}

/// A setting's value as a command-line argument (its `Display`, paths as given).
trait ArgValue {
    fn arg(&self) -> String;
}

macro_rules! arg_by_display {
    ($($t:ty),+) => { $(impl ArgValue for $t { fn arg(&self) -> String { self.to_string() } })+ };
}
arg_by_display!(
    String,
    usize,
    u64,
    f32,
    f64,
    BackendKind,
    Regime,
    Init,
    Normalize,
    Head,
    Device,
    InitRng,
    DatasetName,
    Hidden,
    Activation
);

impl ArgValue for PathBuf {
    fn arg(&self) -> String {
        self.to_string_lossy().into_owned()
    }
}

macro_rules! settings {
    (
        required { $($(#[$m:meta])* $field:ident : $ty:ty = $default:expr,)+ }
        optional { $($(#[$om:meta])* $ofield:ident : $oty:ty,)+ }
        recorded_if_set { $($(#[$sm:meta])* $sfield:ident : $sty:ty,)+ }
    ) => {
        /// Settings of a run, every one optional: from command-line flags, an experiment's
        /// `[defaults]` table or one of its `[[run]]` tables (same names, kebab-case).
        #[derive(Debug, Clone, Default, PartialEq, clap::Args, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct Settings {
            $($(#[$m])* pub $field: Option<$ty>,)+
            $($(#[$om])* pub $ofield: Option<$oty>,)+
            $($(#[$sm])* pub $sfield: Option<$sty>,)+
        }

        impl Settings {
            /// Each setting from `self`, else from `base`.
            pub fn or(self, base: &Settings) -> Settings {
                Settings {
                    $($field: self.$field.or_else(|| base.$field.clone()),)+
                    $($ofield: self.$ofield.or_else(|| base.$ofield.clone()),)+
                    $($sfield: self.$sfield.or_else(|| base.$sfield.clone()),)+
                }
            }

            /// The command-line flags that give these settings (`--lr 0.1 …`), for a child
            /// process that must plan the same runs.
            pub fn to_args(&self) -> Vec<String> {
                let mut args = vec![];
                $(if let Some(v) = &self.$field {
                    args.push(format!("--{}", stringify!($field).replace('_', "-")));
                    args.push(ArgValue::arg(v));
                })+
                $(if let Some(v) = &self.$ofield {
                    args.push(format!("--{}", stringify!($ofield).replace('_', "-")));
                    args.push(ArgValue::arg(v));
                })+
                $(if let Some(v) = &self.$sfield {
                    args.push(format!("--{}", stringify!($sfield).replace('_', "-")));
                    args.push(ArgValue::arg(v));
                })+
                args
            }

            /// Every setting of a complete config (for `--config-from`).
            pub fn from_config(c: &RunConfig) -> Settings {
                Settings {
                    $($field: Some(c.$field.clone()),)+
                    $($ofield: c.$ofield.clone(),)+
                    $($sfield: c.$sfield.clone(),)+
                }
            }

            /// The complete config, with the report's defaults for what is unset (threads:
            /// see [`Settings::resolve`]).
            fn resolve_defaults(self) -> RunConfig {
                RunConfig {
                    $($field: self.$field.unwrap_or_else(|| $default),)+
                    $($ofield: self.$ofield,)+
                    $($sfield: self.$sfield,)+
                }
            }
        }

        /// Every option of one run, as used and as recorded in its result's `config`.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RunConfig {
            $(#[allow(missing_docs)] pub $field: $ty,)+
            $(#[allow(missing_docs)] pub $ofield: Option<$oty>,)+
            // Absent from the JSON when unset, so that results of the other backends read
            // and hash as before these settings existed.
            $(#[allow(missing_docs)]
              #[serde(default, skip_serializing_if = "Option::is_none")]
              pub $sfield: Option<$sty>,)+
        }
    };
}

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
        Ok(ValidRun { config: self.clone(), engine, model, plan, threads })
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
