//! The command line: clap's types for every subcommand and its flags (parsing only; what each
//! command does is in `cmd/`, and the work in `twinnet_runner`).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use twinnet_core::{
    defaults, Activation, BackendKind, Betas, DecayScope, Device, Head, Hidden, Init, InitRng,
    Normalize, OptimizerKind, OptimizerSettings,
};
use twinnet_data::DatasetName;
use twinnet_runner::experiment;
use twinnet_runner::settings::{choice, Settings};

#[derive(Debug, Parser)]
#[command(name = "twinnet", version, about, propagate_version = true)]
/// Reproduce the report's NumPy-vs-PyTorch MNIST comparison on two backends.
///
/// The ndarray backend is the report's NumPy model written from scratch (hand-derived
/// gradients); the tch backend is its PyTorch model on libtorch (autograd, SGD). Defaults are
/// the report's: 784 → 10 (ReLU) → 10, lr 0.1, 500 epochs.
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
    /// Let libtorch run this CPU's fastest code (AVX-512 where there is one) instead of the AVX2 path pinned by default (no faster in `make bench` on our AVX-512 machine), but the tch backend's bits then depend on the CPU. Recorded in each result (environment.numerics.code_path)
    #[arg(long, global = true)]
    pub native_kernels: bool,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Train one network, evaluate it on the test set, optionally write its JSON result
    Train(TrainArgs),
    /// Run every run of an experiment file, then draw its figures and summary.md
    Run(RunArgs),
    /// Redraw the figures and summary.md of a results folder from its JSON alone
    Plot(DirArgs),
    /// Write the parameters `train` starts from with the same --init, --init-rng, --hidden and --seed to a safetensors file (for --init-from)
    Init(InitArgs),
    /// Compare two sets of runs metric by metric: mean ± sd, the difference with its 95% CI, Welch's t and Mann–Whitney U tests
    Compare(CompareArgs),
    /// Evaluate a parameters file (twinnet's, or a PyTorch state_dict saved with safetensors) on the test set
    Eval(EvalArgs),
    /// Rerun an experiment into a temporary folder and check it reproduces the committed results (parameters bit for bit, JSON apart from timings and environment)
    Verify(VerifyArgs),
    /// List an experiment's runs by index (name, seed, config hash): what --index, --shard, Slurm array task ids and Kubernetes completion indices name
    Plan(PlanArgs),
    /// Write DIR/index.html: every results folder under DIR with its headline numbers, linking to its page (`make plots` runs it on results/)
    Index(DirArgs),
    /// Check that a folder filled by `run --index/--shard` holds every planned run, complete and of its planned config, then write the summary and figures
    Collect(DirArgs),
    /// The noise floor: train pairs of runs from identical starts that differ in one thing (framework, threads, one ulp, seed) and measure how far they drift apart
    Drift(DriftArgs),
    /// Is this implementation right? Your program (speaking docs/protocol.md, e.g. a Python class served by twinnet_backend) against a reference backend from the same start on the same batches: update 1 tensor by tensor, then the drift over a horizon, each against a floor measured on the spot; PASS (exit 0) or FAIL naming the first update and tensor over the bound (exit 1)
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The implementation's command, split as a shell would (no shell), e.g. "python3 my_net.py"
    #[arg(long, value_name = "CMD")]
    pub command: String,
    /// The reference backend
    #[arg(long, value_parser = choice::<BackendKind>(), default_value_t = BackendKind::Ndarray)]
    pub against: BackendKind,
    /// Training images used (the first N of MNIST)
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub train_limit: usize,
    /// Mini-batch updates of the horizon
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub updates: usize,
    /// Full-batch iterations of the horizon
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub iterations: usize,
    /// The model to check (as `train` takes it): hidden widths, e.g. 30 or 128,64 or none. Any model setting replaces the report's four scenarios with that model, full-batch and in mini-batches
    #[arg(
        long,
        value_name = "WIDTHS",
        help_heading = "Model to check [default: the report's scenarios]"
    )]
    pub hidden: Option<Hidden>,
    /// relu, sigmoid or tanh [default: relu]
    #[arg(long, value_parser = choice::<Activation>(), help_heading = "Model to check [default: the report's scenarios]")]
    pub activation: Option<Activation>,
    /// softmax, double-softmax, sigmoid-quadratic or sigmoid-cross-entropy [default: softmax]
    #[arg(long, value_parser = choice::<Head>(), help_heading = "Model to check [default: the report's scenarios]")]
    pub head: Option<Head>,
    /// uniform, torch-default, normal or normal-scaled [default: uniform]
    #[arg(long, value_parser = choice::<Init>(), help_heading = "Model to check [default: the report's scenarios]")]
    pub init: Option<Init>,
    /// Learning rate [default: 0.1]
    #[arg(
        long,
        allow_negative_numbers = true,
        help_heading = "Model to check [default: the report's scenarios]"
    )]
    pub lr: Option<f32>,
    /// Mini-batch size of the mini-batch scenario [default: 64]
    #[arg(long, help_heading = "Model to check [default: the report's scenarios]")]
    pub batch_size: Option<usize>,
    /// unit or symmetric [default: unit]
    #[arg(long, value_parser = choice::<Normalize>(), help_heading = "Model to check [default: the report's scenarios]")]
    pub normalize: Option<Normalize>,
    #[command(flatten)]
    pub optimizer: OptimizerArgs,
    /// Seconds to wait for each reply before the implementation is killed
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0)]
    pub process_timeout: f64,
    /// Also write the report as JSON here
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// The optimizer `check` checks (as `train` takes it; any of them checks that model with it).
#[derive(Debug, Args)]
#[command(next_help_heading = "Optimizer to check [default: plain SGD]")]
pub struct OptimizerArgs {
    /// sgd, adam or adamw, as torch.optim defines them
    #[arg(long, value_parser = choice::<OptimizerKind>())]
    pub optimizer: Option<OptimizerKind>,
    /// SGD's momentum μ (its buffer starts at the first gradient)
    #[arg(long, value_name = "M", allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// SGD's dampening τ
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub dampening: Option<f64>,
    /// SGD with Nesterov momentum
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub nesterov: Option<bool>,
    /// Weight decay λ [default: 0; adamw 0.01]
    #[arg(long, value_name = "W", allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// all or weights: which parameters --weight-decay applies to
    #[arg(long, value_parser = choice::<DecayScope>())]
    pub decay: Option<DecayScope>,
    /// Adam's β₁,β₂ [default: 0.9,0.999]
    #[arg(long, value_name = "B1,B2")]
    pub betas: Option<Betas>,
    /// Adam's ε [default: 1e-8]
    #[arg(long, value_name = "E", allow_negative_numbers = true)]
    pub eps: Option<f64>,
}

impl OptimizerArgs {
    /// The settings as given.
    pub fn settings(&self) -> OptimizerSettings {
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
}

/// A results folder.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// The results folder (written by `twinnet run`, `drift`, or filled by `run --index/--shard`)
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct Common {
    /// Folder holding the dataset's four IDX files, raw or .gz [default: $TWINNET_DATA_DIR or <cache>/mnist for MNIST, $TWINNET_FASHION_MNIST_DIR or <cache>/fashion-mnist for Fashion-MNIST: where `make data` puts them]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// No progress output
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub settings: Settings,
    #[command(flatten)]
    pub common: Common,
    /// Re-run the `config` of a result JSON (flags given here still win)
    #[arg(long, value_name = "RESULT.json")]
    pub config_from: Option<PathBuf>,
    /// Write the run's JSON result here
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Write the trained parameters here (safetensors, PyTorch's names and layout)
    #[arg(long, value_name = "FILE.safetensors")]
    pub save_params: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment file (TOML), e.g. experiments/report.toml
    pub experiment: PathBuf,
    /// Output folder, replaced as a whole [default: results/<experiment>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Repeat every run over these seeds: A..B (B excluded) or A,B,C; overrides the file's `seeds`
    #[arg(long, value_name = "SEEDS", value_parser = |s: &str| experiment::parse_seeds(s).map(SeedList))]
    pub seeds: Option<SeedList>,
    /// Run only run I of the plan (`twinnet plan`), into the shared --out folder; `env` reads SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX. Finished runs already there are skipped
    #[arg(long, value_name = "I|env")]
    pub index: Option<String>,
    /// Run every N-th run from K (0 ≤ K < N) into the shared --out folder, as several runs per array task
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Run N runs at a time, each in a process of its own (results identical to --jobs 1); the work goes to .<out>.partial beside the output folder and is moved into place when complete. --jobs 1: one run after the other in this process [default: as many runs at once as the cores allow at each run's thread count; one after the other when no two fit]
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Finish an interrupted `run --jobs`/`--resume`: runs already in .<out>.partial (same config) are kept, the rest are run
    #[arg(long)]
    pub resume: bool,
    /// (--index/--shard) Report each epoch on stderr as a line of JSON, for the `run --jobs` that started this process
    #[arg(long, hide = true)]
    pub progress_to_parent: bool,
    /// Settings that override every run of the file (e.g. --epochs 5 for a quick look)
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The experiment file (TOML)
    pub experiment: PathBuf,
    /// Repeat every run over these seeds, as `run --seeds` would
    #[arg(long, value_name = "SEEDS", value_parser = |s: &str| experiment::parse_seeds(s).map(SeedList))]
    pub seeds: Option<SeedList>,
    /// Print the plan as JSON (what plan.json holds)
    #[arg(long, conflicts_with = "count")]
    pub json: bool,
    /// Print only the number of runs (for `--array=0-$((N-1))` and `completions: N`)
    #[arg(long)]
    pub count: bool,
    /// Settings that override every run of the file, as given to `run`
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// The drift experiment file (TOML), e.g. experiments/noise-floor.toml
    pub experiment: PathBuf,
    /// Output folder, replaced as a whole [default: results/<experiment>]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Settings that override every run of the file (e.g. --epochs 5 for a quick look)
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Side A: a result JSON, a results folder holding one configuration, or FOLDER:CONFIG
    pub a: String,
    /// Side B: as A
    pub b: String,
    /// The train accuracy whose first reaching (in parameter updates) is compared, in (0, 1]
    #[arg(long, default_value_t = 0.8)]
    pub target: f64,
    /// Also write the comparison as JSON here
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The parameters (safetensors: fc1.weight [h₁, 784], fc1.bias, …, fcL.weight [10, h], fcL.bias, any depth; or an nn.Sequential's 0.weight, 0.bias, 2.weight, …)
    #[arg(long, value_name = "FILE.safetensors")]
    pub params: PathBuf,
    /// Which implementation evaluates
    #[arg(long, value_parser = choice::<BackendKind>(), default_value_t = defaults::BACKEND)]
    pub backend: BackendKind,
    /// Pixel normalization the parameters were trained with
    #[arg(long, value_parser = choice::<Normalize>(), default_value_t = defaults::NORMALIZE)]
    pub normalize: Normalize,
    /// Head (decides the reported loss; predictions are the arg-max of the outputs either way)
    #[arg(long, value_parser = choice::<Head>(), default_value_t = defaults::HEAD)]
    pub head: Head,
    /// Activation of every hidden layer the parameters were trained with: relu, sigmoid or tanh [default: relu]
    #[arg(long, value_parser = choice::<Activation>())]
    pub activation: Option<Activation>,
    /// Device of the tch backend
    #[arg(long, value_parser = choice::<Device>(), default_value_t = defaults::DEVICE)]
    pub device: Device,
    /// --backend process: the implementation's command (docs/protocol.md)
    #[arg(long, value_name = "CMD")]
    pub command: Option<String>,
    /// --backend process: seconds to wait for each reply [default: 600]
    #[arg(long, value_name = "SECONDS")]
    pub process_timeout: Option<f64>,
    /// Compute threads [default: as for a full-batch run]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Which test set: mnist or fashion-mnist
    #[arg(long, value_parser = choice::<DatasetName>(), default_value_t = DatasetName::Mnist)]
    pub dataset: DatasetName,
    /// Write the result JSON here, and the confusion heatmap beside it (same stem, .png and .svg: refused when those are there and not from an earlier eval to this --out)
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The experiment file (TOML), e.g. experiments/report.toml
    pub experiment: PathBuf,
    /// The committed results to compare with [default: results/<experiment>]
    #[arg(long, value_name = "DIR")]
    pub against: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// A list of seeds (one clap value, not many).
#[derive(Debug, Clone)]
pub struct SeedList(pub Vec<u64>);

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Hidden widths: 30, 128,64 or none
    #[arg(long, value_name = "WIDTHS", default_value_t = Hidden::default())]
    pub hidden: Hidden,
    /// uniform = U[−0.5, 0.5]; torch-default = U[±1/√fan_in]; normal = N(0, 1); normal-scaled = weights N(0, 1/fan_in), biases N(0, 1)
    #[arg(long, value_parser = choice::<Init>(), default_value_t = defaults::INIT)]
    pub init: Init,
    /// Whose generator draws it: twinnet (both backends' default) or torch (PyTorch's nn.Linear draws after torch.manual_seed; needs the tch feature)
    #[arg(long, value_parser = choice::<InitRng>(), default_value_t = defaults::INIT_RNG)]
    pub init_rng: InitRng,
    /// Seed
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,
    /// Where to write the safetensors file
    #[arg(long, value_name = "FILE.safetensors")]
    pub out: PathBuf,
}
