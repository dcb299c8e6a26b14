//! `twinnet`: trains the report's 784 → 10 → 10 MNIST network on a from-scratch ndarray
//! backend and on libtorch (tch), under identical settings, and turns runs into JSON results,
//! figures and a summary.
//!
//! Modules: `cli` (clap's types), `config` (settings → complete → validated run), `experiment`
//! (experiment files), `run` (one run on either backend), `result` (the JSON), `summary`
//! (figures and summary.md), `staging` (output folders written whole), `progress` (bars).

// The doc comments of the clap types are `--help` text, rendered by clap: `<cache>` and
// `[default: …]` there are for the terminal, not rustdoc's HTML and links.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

mod cli;
mod compare;
mod config;
mod data;
mod drift;
mod eval;
mod experiment;
mod jobs;
mod progress;
mod result;
mod run;
mod staging;
mod summary;
mod sweep;
mod verify;

use anyhow::{bail, Context, Result};
use clap::Parser;
use cli::{Cli, Cmd, Common, DriftArgs, PlanArgs, RunArgs, SeedList, TrainArgs, VerifyArgs};
use config::Settings;
use experiment::Experiment;
use jobs::Limit;
use progress::Progress;
use result::{read_json, write_json, ExperimentRecord, RunResult, Status};
use staging::{check_writable, Staged};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use twinnet_data::DatasetName;

/// Raised by SIGINT/SIGTERM; the training loop stops after the current update.
static STOP: AtomicBool = AtomicBool::new(false);

/// `--native-kernels` was given (passed on to the processes of `run --jobs`).
static NATIVE_KERNELS: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let cli = Cli::parse();
    NATIVE_KERNELS.store(cli.native_kernels, Ordering::Relaxed);
    // libtorch's code path is process-wide and read once: chosen here, before any thread
    // (the signal handler's) starts and before anything runs libtorch.
    #[cfg(feature = "tch")]
    twinnet_tch::code_path::select(if cli.native_kernels {
        twinnet_tch::CodePath::Native
    } else {
        twinnet_tch::CodePath::Pinned
    });
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
        Cmd::Plot { dir } if dir.join(drift::DRIFT_JSON).is_file() => {
            let record: drift::DriftRecord = read_json(&dir.join(drift::DRIFT_JSON))?;
            drift::render(&dir, &record)?;
            println!("{}", dir.join(summary::SUMMARY).display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Drift(a) => drift_experiment(a),
        Cmd::Plan(a) => plan(a),
        Cmd::Collect { dir } => {
            sweep::collect(&dir)?;
            println!("{}", dir.join(summary::SUMMARY).display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Plot { dir } => {
            let (exp, runs) = summary::load(&dir)?;
            summary::render(&dir, &exp, &runs)?;
            println!("{}", dir.join(summary::SUMMARY).display());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Verify(a) => verify_experiment(a),
        Cmd::Compare(a) => {
            if !(a.target > 0.0 && a.target <= 1.0) {
                bail!("--target: must be a train accuracy in (0, 1], got {}", a.target);
            }
            if let Some(j) = &a.json {
                check_writable(j, "json")?;
            }
            let (x, y) = (compare::load_side(&a.a)?, compare::load_side(&a.b)?);
            // Class names from side A's dataset; results on different data are compared
            // only with a warning (the same class index names another thing).
            let dataset = |s: &compare::Side| {
                s.runs.first().and_then(|r| r.config.dataset).unwrap_or_default()
            };
            let (dx, dy) = (dataset(&x), dataset(&y));
            if dx != dy {
                eprintln!(
                    "twinnet: warning: {} ran on {dx} and {} on {dy}: the metrics below compare \
                     different data",
                    a.a, a.b
                );
            }
            let names: Vec<String> =
                (0..twinnet_core::CLASSES).map(|k| dx.class_label(k)).collect();
            let rows = compare::compare(&x, &y, a.target, &names);
            print!("{}", compare::render(&x, &y, a.target, &rows));
            if let Some(j) = &a.json {
                let out =
                    serde_json::json!({ "a": a.a, "b": a.b, "target": a.target, "rows": rows });
                write_json(j, &out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Eval(a) => {
            if let Some(out) = &a.out {
                check_writable(out, "out")?;
            }
            let data = load_data(&a.common, a.dataset)?;
            let r = eval::eval(&a, &data)?;
            println!(
                "{}: test accuracy {:.2}% ({} backend)\n",
                a.params.display(),
                100.0 * r.test.accuracy,
                r.backend
            );
            print!("{}", r.test.report);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Init(a) => {
            check_writable(&a.out, "out")?;
            // Exactly what `train` starts from with these settings: the same function draws.
            let settings = Settings {
                hidden: Some(a.hidden),
                init: Some(a.init),
                init_rng: Some(a.init_rng),
                seed: Some(a.seed),
                ..Settings::default()
            };
            let (params, _) = run::initial_params(&settings.resolve())?;
            params.save(&a.out)?;
            println!("{}", a.out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Reruns `a.experiment` into a temporary folder (removed afterwards) and compares it with the
/// committed results.
fn verify_experiment(a: VerifyArgs) -> Result<ExitCode> {
    let name = a
        .experiment
        .file_stem()
        .with_context(|| format!("{}: not an experiment file", a.experiment.display()))?
        .to_string_lossy()
        .into_owned();
    let committed = a.against.clone().unwrap_or_else(|| Path::new("results").join(&name));
    let record: result::ExperimentRecord = read_json(&committed.join(summary::EXPERIMENT_JSON))
        .with_context(|| format!("--against {}: no committed results", committed.display()))?;
    let tmp = tempfile::Builder::new().prefix("twinnet-verify-").tempdir()?;
    let fresh = tmp.path().join(&name);
    run_experiment(RunArgs {
        experiment: a.experiment.clone(),
        out: Some(fresh.clone()),
        common: a.common,
        seeds: (!record.seeds.is_empty()).then(|| SeedList(record.seeds.clone())),
        index: None,
        shard: None,
        jobs: None,
        resume: false,
        progress_to_parent: false,
        settings: Settings::default(),
    })?;
    verify::report(&name, &fresh, &committed)?;
    Ok(ExitCode::SUCCESS)
}

/// `--out`, else `results/<name>` (creating `results/`).
fn out_folder(out: Option<&Path>, name: &str) -> Result<std::path::PathBuf> {
    match out {
        Some(o) => Ok(o.to_path_buf()),
        None => {
            std::fs::create_dir_all("results").context("results: cannot create the folder")?;
            Ok(Path::new("results").join(name))
        }
    }
}

fn load_data(common: &Common, dataset: DatasetName) -> Result<data::Data> {
    data::load(common.data_dir.as_deref(), dataset)
}

/// The one dataset every run of `configs` reads (an experiment reads its data once).
fn one_dataset<'a>(
    file: &Path,
    configs: impl IntoIterator<Item = &'a config::RunConfig>,
) -> Result<DatasetName> {
    let mut seen: Option<(DatasetName, &str)> = None;
    for c in configs {
        let d = c.dataset.unwrap_or_default();
        match seen {
            Some((s, first)) if s != d => bail!(
                "{}: run `{first}` reads {s} but run `{}` reads {d}: one experiment, one dataset",
                file.display(),
                c.name
            ),
            None => seen = Some((d, &c.name)),
            _ => {}
        }
    }
    Ok(seen.map_or(DatasetName::default(), |s| s.0))
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
    let data = load_data(&a.common, cfg.dataset.unwrap_or_default())?;
    let run = cfg.validate(data.mnist.train.len())?;
    let progress = Progress::new(a.common.quiet);
    let bar = progress.add(&cfg.name, cfg.epochs);
    let done = run::execute(&run, &data, &bar, &STOP)?;
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
            if !data.record.verified {
                println!(
                    "(data: not {}'s pinned files (data/{}.sha256): recorded as unverified)\n",
                    data.name(),
                    data.name()
                );
            }
            print!("{}", t.report);
            if !t.collapsed.is_empty() {
                let d = cfg.dataset.unwrap_or_default();
                let names: Vec<String> =
                    t.collapsed.iter().map(|&k| d.class_label(k as usize)).collect();
                println!("\ncollapsed: {} never predicted", names.join(", "));
            }
        }
        _ => unreachable!("a completed run has a test result"),
    }
    Ok(ExitCode::SUCCESS)
}

fn drift_experiment(a: DriftArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let exp = drift::DriftExperiment::load(&a.experiment, &a.settings)?;
    let out = out_folder(a.out.as_deref(), &exp.name)?;
    let staged = Staged::new(&out)?;
    let runs = exp.settings.iter().flat_map(|s| s.runs.iter().map(|r| &r.0));
    let data = load_data(&a.common, one_dataset(&a.experiment, runs)?)?;
    let progress = Progress::new(a.common.quiet);
    let settings = drift::measure(&exp, &data, &progress, &STOP)
        .with_context(|| a.experiment.display().to_string())?;
    let dir = staged.dir();
    let record = drift::DriftRecord {
        name: exp.name.clone(),
        description: exp.description.clone(),
        command: format!("twinnet drift {}", a.experiment.display()),
        cpu: twinnet_core::system::cpu_model(),
        total_s: start.elapsed().as_secs_f64(),
        settings,
    };
    twinnet_core::file::write_atomic(&dir.join("experiment.toml"), exp.source.as_bytes())?;
    write_json(&dir.join(drift::DRIFT_JSON), &record)?;
    drift::render(dir, &record)?;
    if STOP.load(Ordering::Relaxed) {
        bail!(run::Interrupted);
    }
    staged.commit()?;
    println!("{}", out.join(summary::SUMMARY).display());
    Ok(ExitCode::SUCCESS)
}

fn plan(a: PlanArgs) -> Result<ExitCode> {
    let exp = Experiment::load(&a.experiment, &a.settings, a.seeds.map(|s| s.0))?;
    let plan = sweep::Plan::of(&exp);
    if a.count {
        println!("{}", plan.runs.len());
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        print!("{}", plan.table());
    }
    Ok(ExitCode::SUCCESS)
}

/// `run --index/--shard`: the selected runs of the plan, into the shared `--out` folder, each
/// result written as it finishes; runs already there (same config) are skipped.
fn run_selected(a: &RunArgs, exp: &Experiment, sel: sweep::Selection) -> Result<ExitCode> {
    let Some(out) = &a.out else {
        bail!("--index/--shard: give --out DIR, the results folder every task of the sweep shares")
    };
    let plan = sweep::Plan::of(exp);
    let indices = sel.indices(plan.runs.len())?;
    sweep::claim(out, &plan)?;
    let mut todo = vec![];
    for i in indices {
        if sweep::done(out, &plan.runs[i])? {
            println!("run {i} `{}`: already done, skipped", plan.runs[i].name);
        } else {
            todo.push(i);
        }
    }
    if todo.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let data = load_data(&a.common, one_dataset(&a.experiment, &exp.runs)?)?;
    let runs = todo
        .iter()
        .map(|&i| {
            let r = &exp.runs[i];
            r.validate(data.mnist.train.len())
                .with_context(|| format!("{}: run {i} `{}`", a.experiment.display(), r.name))
        })
        .collect::<Result<Vec<_>>>()?;
    let progress =
        if a.progress_to_parent { Progress::to_parent() } else { Progress::new(a.common.quiet) };
    let bars: Vec<_> =
        todo.iter().map(|&i| progress.add(&exp.runs[i].name, exp.runs[i].epochs)).collect();
    for ((i, run), bar) in todo.iter().zip(&runs).zip(&bars) {
        let name = &run.config().name;
        let done =
            run::execute(run, &data, bar, &STOP).with_context(|| format!("run {i} `{name}`"))?;
        // Parameters first, the JSON last: a result on disk is a finished run.
        done.params.save(&out.join(format!("{name}.safetensors")))?;
        write_json(&out.join(format!("{name}.json")), &done.result)?;
    }
    println!("{}", out.display());
    Ok(ExitCode::SUCCESS)
}

/// `run --jobs N` / `--resume` / the default when two runs fit at once: the plan's runs as
/// `run --index I` processes, as many at once as `limit` allows, into `.<out>.partial` (kept if
/// anything stops them, so `--resume` finishes it), then checked as `collect` checks,
/// summarized and moved into place as a whole.
fn run_parallel(a: &RunArgs, exp: &Experiment, limit: Limit, start: Instant) -> Result<ExitCode> {
    let out = out_folder(a.out.as_deref(), &exp.name)?;
    let (staged, existed) = Staged::resumable(&out)?;
    let work = staged.dir().to_path_buf();
    if existed && !a.resume {
        bail!(
            "{}: holds an unfinished run of this experiment: rerun with --resume to finish it, or remove the folder",
            work.display()
        );
    }
    let plan = sweep::Plan::of(exp);
    sweep::claim(&work, &plan)?;
    // The data and every run's settings are checked here, before any process starts.
    let data = load_data(&a.common, one_dataset(&a.experiment, &exp.runs)?)?;
    let n_train = data.mnist.train.len();
    for (i, r) in exp.runs.iter().enumerate() {
        r.validate(n_train)
            .with_context(|| format!("{}: run {i} `{}`", a.experiment.display(), r.name))?;
    }
    drop(data);
    let progress = Progress::new(a.common.quiet);
    let mut todo = vec![];
    for r in &plan.runs {
        if sweep::done(&work, r)? {
            progress.println(&format!("run {} `{}`: already done, kept", r.index, r.name));
        } else {
            todo.push(r.index);
        }
    }
    let child_args = |i: usize| {
        let mut args: Vec<String> = vec![];
        if NATIVE_KERNELS.load(Ordering::Relaxed) {
            args.push("--native-kernels".into());
        }
        args.extend(["run".into(), a.experiment.to_string_lossy().into_owned()]);
        args.extend(["--index".into(), i.to_string(), "--progress-to-parent".into()]);
        args.extend(["--out".into(), work.to_string_lossy().into_owned()]);
        if let Some(s) = &a.seeds {
            let s: Vec<String> = s.0.iter().map(|x| x.to_string()).collect();
            args.extend(["--seeds".into(), s.join(",")]);
        }
        if let Some(d) = &a.common.data_dir {
            args.extend(["--data-dir".into(), d.to_string_lossy().into_owned()]);
        }
        args.extend(a.settings.to_args());
        args
    };
    let jobs: Vec<jobs::Job> = todo
        .iter()
        .map(|&i| {
            let r = &exp.runs[i];
            jobs::Job {
                index: i,
                name: r.name.clone(),
                cores: r.cores_busy(n_train),
                args: child_args(i),
                bar: progress.add(&r.name, r.epochs),
            }
        })
        .collect();
    let exe = std::env::current_exe().context("cannot find twinnet's own executable")?;
    let failures = jobs::run_all(&exe, &jobs, limit, &progress, &STOP);
    if STOP.load(Ordering::Relaxed) {
        bail!(run::Interrupted);
    }
    if let Some(first) = failures.first() {
        bail!(
            "{first}
(finished runs are kept in {}: rerun with --resume)",
            work.display()
        );
    }
    let (plan, results) = sweep::check_complete(&work)?;
    sweep::write_summary(
        &work,
        &plan,
        &results,
        start.elapsed().as_secs_f64(),
        twinnet_core::system::cpu_model(),
        format!("twinnet run {}", a.experiment.display()),
    )?;
    std::fs::remove_file(work.join(sweep::PLAN_JSON))
        .with_context(|| work.join(sweep::PLAN_JSON).display().to_string())?;
    staged.commit()?;
    println!("{}", out.join(summary::SUMMARY).display());
    Ok(ExitCode::SUCCESS)
}

/// The cores each run of `exp` keeps busy ([`config::RunConfig::cores_busy`]), before any data
/// is read: MNIST and Fashion-MNIST both train on 60,000 images.
fn cores_busy(exp: &Experiment) -> Vec<usize> {
    exp.runs.iter().map(|r| r.cores_busy(60_000)).collect()
}

fn run_experiment(a: RunArgs) -> Result<ExitCode> {
    let start = Instant::now();
    let exp = Experiment::load(&a.experiment, &a.settings, a.seeds.clone().map(|s| s.0))?;
    if let Some(sel) = sweep::Selection::parse(a.index.as_deref(), a.shard.as_deref())? {
        if a.jobs.is_some() || a.resume {
            bail!("--jobs/--resume run a whole experiment: not with --index/--shard (a rerun of a task resumes by itself)");
        }
        return run_selected(&a, &exp, sel);
    }
    if a.progress_to_parent {
        bail!("--progress-to-parent: only with --index/--shard");
    }
    let limit = match a.jobs {
        Some(0) => bail!("--jobs: must be at least 1"),
        Some(1) if !a.resume => None,
        Some(n) => Some(Limit::Runs(n)),
        None => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let limit = Limit::Cores(cores);
            (a.resume || limit.fits_two(&cores_busy(&exp))).then_some(limit)
        }
    };
    if let Some(limit) = limit {
        return run_parallel(&a, &exp, limit, start);
    }
    let out = out_folder(a.out.as_deref(), &exp.name)?;
    // The results are built beside `out` and renamed into place: its folder must be writable,
    // which this checks before any data is read (the folder is removed again on any error).
    let staged = Staged::new(&out)?;
    let data = load_data(&a.common, one_dataset(&a.experiment, &exp.runs)?)?;
    let runs = exp
        .runs
        .iter()
        .map(|r| {
            r.validate(data.mnist.train.len())
                .with_context(|| format!("{}: run `{}`", a.experiment.display(), r.name))
        })
        .collect::<Result<Vec<_>>>()?;
    let dir = staged.dir();

    let progress = Progress::new(a.common.quiet);
    let bars: Vec<_> = exp.runs.iter().map(|r| progress.add(&r.name, r.epochs)).collect();
    let mut results = vec![];
    for (run, bar) in runs.iter().zip(&bars) {
        let name = &run.config().name;
        let done = run::execute(run, &data, bar, &STOP).with_context(|| format!("run `{name}`"))?;
        write_json(&dir.join(format!("{name}.json")), &done.result)?;
        done.params.save(&dir.join(format!("{name}.safetensors")))?;
        if let Some(d) = &done.result.divergence {
            progress.println(&format!(
                "run `{name}` diverged at epoch {}, step {}; continuing",
                d.epoch, d.step
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
    twinnet_core::file::write_atomic(&dir.join("experiment.toml"), exp.source.as_bytes())?;
    record.total_s = start.elapsed().as_secs_f64();
    write_json(&dir.join(summary::EXPERIMENT_JSON), &record)?;
    summary::render(dir, &record, &results)?;
    if STOP.load(Ordering::Relaxed) {
        bail!(run::Interrupted);
    }
    staged.commit()?;
    println!("{}", out.join(summary::SUMMARY).display());
    Ok(ExitCode::SUCCESS)
}
