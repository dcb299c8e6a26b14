//! `twinnet`: trains the report's 784 → 10 → 10 MNIST network on a from-scratch ndarray
//! backend and on libtorch (tch), under identical settings, and turns runs into JSON results,
//! figures and a summary.

mod config;
mod experiment;
mod progress;
mod result;
mod run;
mod summary;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use config::{choice, Settings};
use experiment::Experiment;
use progress::Progress;
use result::{read_json, write_json, ExperimentRecord, RunResult, Status};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use twinnet_core::{Init, Params};
use twinnet_data::Mnist;

/// Raised by SIGINT/SIGTERM; the training loop stops after the current update.
static STOP: AtomicBool = AtomicBool::new(false);

#[derive(Debug, Parser)]
#[command(name = "twinnet", version, about, propagate_version = true)]
/// Reproduce the report's NumPy-vs-PyTorch MNIST comparison on two backends.
///
/// The ndarray backend is the report's NumPy model written from scratch (hand-derived
/// gradients); the tch backend is its PyTorch model on libtorch (autograd, SGD). Defaults are
/// the report's: 784 → 10 (ReLU) → 10, lr 0.1, 500 epochs.
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Train one network, evaluate it on the test set, optionally write its JSON result
    Train(TrainArgs),
    /// Run every run of an experiment file, then draw its figures and summary.md
    Run(RunArgs),
    /// Redraw the figures and summary.md of a results folder from its JSON alone
    Plot {
        /// A folder written by `twinnet run`
        dir: PathBuf,
    },
    /// Write initial parameters to a safetensors file (for --init-from)
    Init(InitArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// Folder holding the four MNIST files, raw or .gz [default: <cache>/mnist, where `make data` puts them]
    #[arg(long, env = "TWINNET_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// No progress output
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct TrainArgs {
    #[command(flatten)]
    settings: Settings,
    #[command(flatten)]
    common: Common,
    /// Re-run the `config` of a result JSON (flags given here still win)
    #[arg(long, value_name = "RESULT.json")]
    config_from: Option<PathBuf>,
    /// Write the run's JSON result here
    #[arg(long, value_name = "FILE.json")]
    out: Option<PathBuf>,
    /// Write the trained parameters here (safetensors, PyTorch's names and layout)
    #[arg(long, value_name = "FILE.safetensors")]
    save_params: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The experiment file (TOML), e.g. experiments/report.toml
    experiment: PathBuf,
    /// Output folder, replaced as a whole [default: results/<experiment>]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    common: Common,
    /// Repeat every run over these seeds: A..B (B excluded) or A,B,C; overrides the file's `seeds`
    #[arg(long, value_name = "SEEDS", value_parser = |s: &str| experiment::parse_seeds(s).map(SeedList))]
    seeds: Option<SeedList>,
    /// Settings that override every run of the file (e.g. --epochs 5 for a quick look)
    #[command(flatten)]
    settings: Settings,
}

/// A list of seeds (one clap value, not many).
#[derive(Debug, Clone)]
struct SeedList(Vec<u64>);

#[derive(Debug, Args)]
struct InitArgs {
    /// Hidden width
    #[arg(long, default_value_t = 10)]
    hidden: usize,
    /// uniform = U[−0.5, 0.5]; torch-default = U[±1/√fan_in]
    #[arg(long, value_parser = choice::<Init>(), default_value = "uniform")]
    init: Init,
    /// Seed
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the safetensors file
    #[arg(long, value_name = "FILE.safetensors")]
    out: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed));
    match dispatch(cli.cmd) {
        Ok(code) => code,
        Err(e) if e.is::<run::Interrupted>() => {
            eprintln!("twinnet: {e:#}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("twinnet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Train(a) => train(a),
        Cmd::Run(a) => run_experiment(a),
        Cmd::Plot { dir } => {
            let (exp, runs) = summary::load(&dir)?;
            summary::render(&dir, &exp, &runs)?;
            println!("{}", dir.join(summary::SUMMARY).display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Init(a) => {
            check_writable(&a.out, "out")?;
            Params::init(a.hidden, a.init, a.seed)?.save(&a.out)?;
            println!("{}", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The folder `path` lives in (`.` for a bare name).
fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Fails early, before any training, when nothing can be created in the folder of `path`
/// (the output of `--flag`): the folder must exist and be writable.
fn check_folder(path: &Path, flag: &str) -> Result<()> {
    let dir = parent_of(path);
    if !dir.is_dir() {
        bail!("--{flag} {}: folder {} does not exist", path.display(), dir.display());
    }
    let probe = dir.join(format!(".twinnet-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").with_context(|| {
        format!("--{flag} {}: folder {} is not writable", path.display(), dir.display())
    })?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

/// Fails early when the file `path` could not be written.
fn check_writable(path: &Path, flag: &str) -> Result<()> {
    if path.is_dir() {
        bail!("--{flag} {}: is a folder, expected a file path", path.display());
    }
    check_folder(path, flag)
}

fn load_data(common: &Common) -> Result<Mnist> {
    let dir = common.data_dir.clone().unwrap_or_else(twinnet_data::default_data_dir);
    Ok(Mnist::load(&dir)?)
}

fn train(a: TrainArgs) -> Result<ExitCode> {
    let base = match &a.config_from {
        Some(p) => Settings::from_config(&read_json::<RunResult>(p)?.config),
        None => Settings::default(),
    };
    let mut cfg = a.settings.or(&base).resolve();
    cfg.name = cfg.display_name();
    for (p, flag) in [(&a.out, "out"), (&a.save_params, "save-params")] {
        if let Some(p) = p {
            check_writable(p, flag)?;
        }
    }
    let mnist = load_data(&a.common)?;
    cfg.validate(mnist.train.len())?;
    let progress = Progress::new(a.common.quiet);
    let bar = progress.add(&cfg.name, cfg.epochs);
    let done = run::execute(&cfg, &mnist, &bar, &STOP)?;
    if let Some(p) = &a.out {
        write_json(p, &done.result)?;
    }
    if let Some(p) = &a.save_params {
        done.params.save(p)?;
    }
    let r = &done.result;
    match (&r.status, &r.test, &r.divergence) {
        (Status::Diverged, _, Some(d)) => {
            bail!(
                "diverged: loss became {} at epoch {}, step {} (try a smaller --lr)",
                d.loss,
                d.epoch,
                d.step
            )
        }
        (_, Some(t), _) => {
            println!(
                "{}: test accuracy {:.2}% (train {:.1} s)\n",
                cfg.name,
                100.0 * t.accuracy,
                r.timing.train_s
            );
            print!("{}", t.report);
            if !t.collapsed.is_empty() {
                println!("\ncollapsed: digit(s) {:?} never predicted", t.collapsed);
            }
        }
        _ => unreachable!("a completed run has a test result"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes a temporary results folder unless it was moved into place.
struct TempDir(Option<PathBuf>);

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_dir_all(p);
        }
    }
}

fn run_experiment(a: RunArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let exp = Experiment::load(&a.experiment, &a.settings, a.seeds.clone().map(|s| s.0))?;
    let out = match &a.out {
        Some(o) => o.clone(),
        None => {
            std::fs::create_dir_all("results").context("results: cannot create the folder")?;
            Path::new("results").join(&exp.name)
        }
    };
    // The results are built beside `out` and renamed into place: its folder must be writable.
    if out.exists() && !out.is_dir() {
        bail!("--out {}: is a file, expected a folder", out.display());
    }
    check_folder(&out, "out")?;
    let mnist = load_data(&a.common)?;
    for r in &exp.runs {
        r.validate(mnist.train.len())
            .with_context(|| format!("{}: run `{}`", a.experiment.display(), r.name))?;
    }
    let parent = parent_of(&out);
    let leaf = out.file_name().context("--out must name a folder")?.to_string_lossy().into_owned();
    let mut tmp = TempDir(Some(parent.join(format!(".{leaf}.tmp-{}", std::process::id()))));
    let tmp_dir = tmp.0.clone().expect("set above");
    std::fs::create_dir_all(&tmp_dir)
        .with_context(|| format!("{}: cannot create", tmp_dir.display()))?;

    let progress = Progress::new(a.common.quiet);
    let bars: Vec<_> = exp.runs.iter().map(|r| progress.add(&r.name, r.epochs)).collect();
    let mut results = vec![];
    for (cfg, bar) in exp.runs.iter().zip(&bars) {
        let done =
            run::execute(cfg, &mnist, bar, &STOP).with_context(|| format!("run `{}`", cfg.name))?;
        write_json(&tmp_dir.join(format!("{}.json", cfg.name)), &done.result)?;
        done.params.save(&tmp_dir.join(format!("{}.safetensors", cfg.name)))?;
        if let Some(d) = &done.result.divergence {
            progress.println(&format!(
                "run `{}` diverged at epoch {}, step {}; continuing",
                cfg.name, d.epoch, d.step
            ));
        }
        results.push(done.result);
    }
    let command = format!("twinnet run {}", a.experiment.display());
    let mut record = ExperimentRecord {
        name: exp.name.clone(),
        description: exp.description.clone(),
        runs: exp.runs.iter().map(|r| r.name.clone()).collect(),
        configs: exp.configs.iter().map(|r| r.name.clone()).collect(),
        seeds: exp.seeds.clone(),
        total_s: 0.0,
        cpu: twinnet_core::system::cpu_model(),
        command,
    };
    twinnet_core::fsx::write_atomic(&tmp_dir.join("experiment.toml"), exp.source.as_bytes())?;
    record.total_s = start.elapsed().as_secs_f64();
    write_json(&tmp_dir.join(summary::EXPERIMENT_JSON), &record)?;
    summary::render(&tmp_dir, &record, &results)?;
    if STOP.load(Ordering::Relaxed) {
        bail!(run::Interrupted);
    }
    // Replace the old folder as a whole: old → .old, new → place, drop .old.
    let old = parent.join(format!(".{leaf}.old-{}", std::process::id()));
    if out.exists() {
        std::fs::rename(&out, &old).with_context(|| {
            format!("{}: cannot move the previous results aside", out.display())
        })?;
    }
    std::fs::rename(&tmp_dir, &out)
        .with_context(|| format!("{}: cannot move the new results into place", out.display()))?;
    tmp.0 = None;
    let _ = std::fs::remove_dir_all(&old);
    println!("{}", out.join(summary::SUMMARY).display());
    Ok(ExitCode::SUCCESS)
}
