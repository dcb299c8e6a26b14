//! `twinnet verify EXP`: the experiment rerun into a temporary folder (removed afterwards) and
//! compared with the committed results ([`crate::verify`]).

use super::run::{run, RunOptions};
use crate::error::{Context, Result};
use crate::experiment::Experiment;
use crate::layout::ResultsDir;
use crate::schema::{read_versioned, ExperimentRecord};
use crate::settings::Settings;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What `twinnet verify` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The experiment file.
    pub experiment: PathBuf,
    /// The committed results (default: `results/<experiment>`).
    pub against: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// No progress output.
    pub quiet: bool,
    /// `--native-kernels`.
    pub native_kernels: bool,
    /// The `twinnet` executable (for runs as processes of their own).
    pub exe: Option<PathBuf>,
}

/// Reruns and compares; `Ok` says it reproduced, `Err` lists every difference.
pub fn verify(opts: &VerifyOptions, stop: &AtomicBool) -> Result<String> {
    let name = opts
        .experiment
        .file_stem()
        .with_context(|| format!("{}: not an experiment file", opts.experiment.display()))?
        .to_string_lossy()
        .into_owned();
    if !opts.experiment.is_file() {
        crate::bail!(
            "{}: no such experiment file{}",
            opts.experiment.display(),
            if opts.experiment.exists() { " (not a file)" } else { "" }
        );
    }
    let committed =
        ResultsDir::new(opts.against.clone().unwrap_or_else(|| Path::new("results").join(&name)));
    let record: ExperimentRecord =
        read_versioned(&committed.experiment_json(), "experiment record").with_context(|| {
            format!("--against {}: no committed results", committed.path().display())
        })?;
    let seeds = (!record.seeds.is_empty()).then(|| record.seeds.clone());
    let exp = Experiment::load(&opts.experiment, &Settings::default(), seeds.clone())?;
    let tmp = tempfile::Builder::new()
        .prefix("twinnet-verify-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    let _removed_on_interrupt = crate::interrupt::register_folder(tmp.path());
    let fresh = tmp.path().join(&name);
    let run_opts = RunOptions {
        seeds,
        out: Some(fresh.clone()),
        data_dir: opts.data_dir.clone(),
        quiet: opts.quiet,
        native_kernels: opts.native_kernels,
        exe: opts.exe.clone(),
        ..RunOptions::new(exp)
    };
    run(&run_opts, stop).with_context(|| format!("rerunning {}", opts.experiment.display()))?;
    crate::verify::check(&name, &ResultsDir::new(fresh), &committed)
}
