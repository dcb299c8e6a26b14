//! `twinnet run EXP`: every run of an experiment, then its record, summary and figures, by one
//! of three paths:
//!
//! - in this process, one run after the other, into a staged folder moved into place whole
//!   (`--jobs 1`, or the default when no two runs fit on the cores at once);
//! - as `run --index I` processes, as many at once as the cores allow or `--jobs N`, into a
//!   resumable `.<out>.partial` ([`crate::jobs`]);
//! - only the selected runs (`--index`, `--shard`), into a folder the sweep's tasks share.

use super::out_folder;
use crate::data::{self, Data};
use crate::error::{Context, Error, Result};
use crate::execute;
use crate::experiment::Experiment;
use crate::finish::{finish, write_run, Record};
use crate::jobs::{self, Limit};
use crate::layout::ResultsDir;
use crate::progress::Progress;
use crate::schema::{ExperimentRecord, SCHEMA_VERSION};
use crate::settings::{RunConfig, Settings, ValidRun};
use crate::staging::Staged;
use crate::sweep::{self, Plan, Selection};
use crate::{bail, ensure};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What `twinnet run` was asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The experiment, with the flags' overrides and seeds applied.
    pub experiment: Experiment,
    /// The flags' overrides (passed on to the processes of a parallel run).
    pub overrides: Settings,
    /// The seeds given by flag (passed on likewise).
    pub seeds: Option<Vec<u64>>,
    /// `--out` (default: `results/<experiment>`).
    pub out: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// No progress output.
    pub quiet: bool,
    /// `--index`/`--shard`.
    pub selection: Option<Selection>,
    /// `--jobs`.
    pub jobs: Option<usize>,
    /// `--resume`.
    pub resume: bool,
    /// Report progress to a parent `run --jobs` (a child of one).
    pub progress_to_parent: bool,
    /// `--native-kernels` (passed on to the processes of a parallel run).
    pub native_kernels: bool,
    /// The `twinnet` executable that runs a run as a process of its own.
    pub exe: Option<PathBuf>,
}

impl RunOptions {
    /// `experiment`'s runs with every default: in-process or parallel as the cores allow,
    /// into `results/<experiment>`.
    pub fn new(experiment: Experiment) -> Self {
        Self {
            experiment,
            overrides: Settings::default(),
            seeds: None,
            out: None,
            data_dir: None,
            quiet: false,
            selection: None,
            jobs: None,
            resume: false,
            progress_to_parent: false,
            native_kernels: false,
            exe: None,
        }
    }
}

/// What a run of an experiment produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunDone {
    /// A complete results folder; its summary.
    Folder {
        /// `summary.md`.
        summary: PathBuf,
    },
    /// Selected runs in a shared folder.
    Selected {
        /// The folder.
        out: PathBuf,
        /// Runs already there, skipped: `(index, name)`.
        skipped: Vec<(usize, String)>,
    },
}

/// Runs `opts.experiment` by the path its options choose; `stop` (SIGINT, SIGTERM) ends it
/// with [`Error::Interrupted`], leaving what was there before intact.
pub fn run(opts: &RunOptions, stop: &AtomicBool) -> Result<RunDone> {
    let start = Instant::now();
    let exp = &opts.experiment;
    if let Some(sel) = opts.selection {
        ensure!(
            opts.jobs.is_none() && !opts.resume,
            "--jobs/--resume run a whole experiment: not with --index/--shard (a rerun of a task resumes by itself)"
        );
        return run_selected(opts, sel, stop);
    }
    ensure!(!opts.progress_to_parent, "--progress-to-parent: only with --index/--shard");
    let limit = match opts.jobs {
        Some(0) => bail!("--jobs: must be at least 1"),
        Some(1) if !opts.resume => None,
        Some(n) => Some(Limit::Runs(n)),
        None => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let limit = Limit::Cores(cores);
            // MNIST and Fashion-MNIST both train on 60,000 images.
            let busy: Vec<usize> = exp.runs.iter().map(|r| r.cores_busy(60_000)).collect();
            (opts.resume || limit.fits_two(&busy)).then_some(limit)
        }
    };
    match limit {
        Some(limit) => run_parallel(opts, limit, start, stop),
        None => run_in_process(opts, start, stop),
    }
}

/// The command's inputs, none of which may lie inside the folder it replaces: the experiment
/// file, every run's starting-weights file, the data folder.
fn check_inputs_outside(opts: &RunOptions, out: &Path) -> Result<()> {
    let exp = &opts.experiment;
    let mut inputs: Vec<(&str, &Path)> = vec![("experiment file", &exp.path)];
    inputs.extend(
        exp.runs.iter().filter_map(|r| r.init_from.as_deref()).map(|p| ("init-from file", p)),
    );
    if let Some(d) = &opts.data_dir {
        inputs.push(("data folder", d));
    }
    crate::staging::check_outside(out, &inputs)
}

/// Every run checked against the training set of `data`, naming the file and run.
fn validate_all(exp: &Experiment, data: &Data) -> Result<Vec<ValidRun>> {
    exp.runs
        .iter()
        .map(|r| {
            r.validate(data.splits.train.len())
                .with_context(|| format!("{}: run `{}`", exp.path.display(), r.name))
        })
        .collect()
}

/// The experiment's record, with the time since `start`.
fn record(exp: &Experiment, start: Instant) -> ExperimentRecord {
    ExperimentRecord {
        schema_version: SCHEMA_VERSION,
        name: exp.name.clone(),
        description: exp.description.clone(),
        runs: exp.runs.iter().map(|r| r.name.clone()).collect(),
        configs: exp.configs.iter().map(|r| r.name.clone()).collect(),
        seeds: exp.seeds.clone(),
        total_s: start.elapsed().as_secs_f64(),
        cpu: twinnet_core::system::cpu_model(),
        cores: Some(twinnet_core::system::cores()),
        command: format!("twinnet run {}", exp.path.display()),
    }
}

/// One run after the other in this process, into a staged folder moved into place whole.
fn run_in_process(opts: &RunOptions, start: Instant, stop: &AtomicBool) -> Result<RunDone> {
    let exp = &opts.experiment;
    let out = out_folder(opts.out.as_deref(), &exp.name)?;
    check_inputs_outside(opts, &out)?;
    // The results are built beside `out` and renamed into place: its folder must be writable,
    // which this checks before any data is read (the folder is removed again on any error).
    let staged = Staged::new(&out)?;
    let data = data::load(opts.data_dir.as_deref(), exp.dataset()?)?;
    let runs = validate_all(exp, &data)?;
    let dir = ResultsDir::new(staged.dir());
    let progress = Progress::new(opts.quiet);
    let bars: Vec<_> = exp.runs.iter().map(|r| progress.add(&r.name, r.epochs)).collect();
    let mut results = vec![];
    for (run, bar) in runs.iter().zip(&bars) {
        let name = &run.config().name;
        let done =
            execute::execute(run, &data, bar, stop).with_context(|| format!("run `{name}`"))?;
        write_run(&dir, &done.params, &done.result)?;
        if let Some(d) = &done.result.divergence {
            progress.println(&format!(
                "run `{name}` diverged at epoch {}, step {}; continuing",
                d.epoch, d.step
            ));
        }
        results.push(done.result);
    }
    let record = record(exp, start);
    finish(&dir, &exp.source, Record::Experiment { record: &record, results: &results })?;
    if stop.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    staged.commit()?;
    Ok(RunDone::Folder { summary: ResultsDir::new(&out).summary() })
}

/// `run --index/--shard`: the selected runs of the plan, into the shared `--out` folder, each
/// result written as it finishes; runs already there (same config) are skipped.
fn run_selected(opts: &RunOptions, sel: Selection, stop: &AtomicBool) -> Result<RunDone> {
    let exp = &opts.experiment;
    let Some(out) = &opts.out else {
        bail!("--index/--shard: give --out DIR, the results folder every task of the sweep shares")
    };
    let dir = ResultsDir::new(out);
    let plan = Plan::of(exp);
    let indices = sel.indices(plan.runs.len())?;
    sweep::claim(&dir, &plan)?;
    // `indices` are inside the plan (`Selection::indices` checked them), whose runs are the
    // experiment's, one for one.
    let (mut todo, mut skipped) = (vec![], vec![]);
    for (i, planned) in indices.into_iter().filter_map(|i| Some((i, plan.runs.get(i)?))) {
        if sweep::done(&dir, planned)? {
            skipped.push((i, planned.name.clone()));
        } else {
            todo.push(i);
        }
    }
    let todo: Vec<(usize, &RunConfig)> =
        todo.into_iter().filter_map(|i| Some((i, exp.runs.get(i)?))).collect();
    if todo.is_empty() {
        return Ok(RunDone::Selected { out: out.clone(), skipped });
    }
    let data = data::load(opts.data_dir.as_deref(), exp.dataset()?)?;
    let runs = todo
        .iter()
        .map(|&(i, r)| {
            r.validate(data.splits.train.len())
                .with_context(|| format!("{}: run {i} `{}`", exp.path.display(), r.name))
        })
        .collect::<Result<Vec<_>>>()?;
    let progress =
        if opts.progress_to_parent { Progress::to_parent() } else { Progress::new(opts.quiet) };
    let bars: Vec<_> = todo.iter().map(|&(_, r)| progress.add(&r.name, r.epochs)).collect();
    for (((i, _), run), bar) in todo.iter().zip(&runs).zip(&bars) {
        let name = &run.config().name;
        let done =
            execute::execute(run, &data, bar, stop).with_context(|| format!("run {i} `{name}`"))?;
        write_run(&dir, &done.params, &done.result)?;
    }
    Ok(RunDone::Selected { out: out.clone(), skipped })
}

/// The arguments of `twinnet` that run run `i` of `opts` into `work` as a child of a
/// parallel run.
fn child_args(opts: &RunOptions, i: usize, work: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec![];
    if opts.native_kernels {
        args.push("--native-kernels".into());
    }
    args.extend(["run".into(), opts.experiment.path.to_string_lossy().into_owned()]);
    args.extend(["--index".into(), i.to_string(), "--progress-to-parent".into()]);
    args.extend(["--out".into(), work.to_string_lossy().into_owned()]);
    if let Some(s) = &opts.seeds {
        let s: Vec<String> = s.iter().map(|x| x.to_string()).collect();
        args.extend(["--seeds".into(), s.join(",")]);
    }
    if let Some(d) = &opts.data_dir {
        args.extend(["--data-dir".into(), d.to_string_lossy().into_owned()]);
    }
    args.extend(opts.overrides.to_args());
    args
}

/// `run --jobs N` / `--resume` / the default when two runs fit at once: the plan's runs as
/// `run --index I` processes, as many at once as `limit` allows, into `.<out>.partial` (kept if
/// anything stops them, so `--resume` finishes it), then checked as `collect` checks,
/// completed and moved into place as a whole.
fn run_parallel(
    opts: &RunOptions,
    limit: Limit,
    start: Instant,
    stop: &AtomicBool,
) -> Result<RunDone> {
    let exp = &opts.experiment;
    let out = out_folder(opts.out.as_deref(), &exp.name)?;
    crate::staging::check_replaceable(&out)?;
    crate::staging::check_folder(&out, "out")?;
    check_inputs_outside(opts, &out)?;
    // The data and every run's settings are checked first, before any folder is made or any
    // process starts: a mistake leaves nothing behind that blocks the corrected rerun.
    let data = data::load(opts.data_dir.as_deref(), exp.dataset()?)?;
    validate_all(exp, &data)?;
    let n_train = data.splits.train.len();
    drop(data);
    let (staged, existed) = Staged::resumable(&out)?;
    let work = ResultsDir::new(staged.dir());
    if existed && !opts.resume {
        bail!(
            "{}: holds an unfinished run of this experiment: rerun with --resume to finish it, or remove the folder",
            work.path().display()
        );
    }
    let plan = Plan::of(exp);
    sweep::claim(&work, &plan)?;
    let progress = Progress::new(opts.quiet);
    let mut todo = vec![];
    for r in &plan.runs {
        if sweep::done(&work, r)? {
            progress.println(&format!("run {} `{}`: already done, kept", r.index, r.name));
        } else {
            todo.push(r.index);
        }
    }
    let jobs: Vec<jobs::Job> = todo
        .iter()
        .filter_map(|&i| Some((i, exp.runs.get(i)?)))
        .map(|(i, r)| jobs::Job {
            index: i,
            name: r.name.clone(),
            cores: r.cores_busy(n_train),
            args: child_args(opts, i, work.path()),
            bar: progress.add(&r.name, r.epochs),
        })
        .collect();
    let exe = match &opts.exe {
        Some(e) => e.clone(),
        None => std::env::current_exe().context("cannot find twinnet's own executable")?,
    };
    let failures = jobs::run_all(&exe, &jobs, limit, &progress, stop);
    if stop.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    if let Some(first) = failures.first() {
        bail!(
            "{first}\n(finished runs are kept in {}: rerun with --resume)",
            work.path().display()
        );
    }
    let (plan, results) = sweep::check_complete(&work)?;
    let command = format!("twinnet run {}", exp.path.display());
    let record = plan
        .record(start.elapsed().as_secs_f64(), twinnet_core::system::cpu_model(), command)
        .on_cores(twinnet_core::system::cores());
    finish(&work, &plan.source, Record::Experiment { record: &record, results: &results })?;
    let plan_json = work.plan_json();
    std::fs::remove_file(&plan_json).map_err(|e| Error::io(&plan_json, "cannot remove", e))?;
    staged.commit()?;
    Ok(RunDone::Folder { summary: ResultsDir::new(&out).summary() })
}
