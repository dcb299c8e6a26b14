//! `twinnet drift EXP`: the noise-floor experiment, measured into a staged folder.

use super::out_folder;
use crate::data;
use crate::drift::{measure, DriftExperiment, DriftRecord};
use crate::error::{Context, Error, Result};
use crate::finish::{finish, Record};
use crate::layout::ResultsDir;
use crate::progress::Progress;
use crate::schema::SCHEMA_VERSION;
use crate::settings::Settings;
use crate::staging::Staged;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What `twinnet drift` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct DriftOptions {
    /// The drift experiment file.
    pub experiment: PathBuf,
    /// Settings that override every run's.
    pub overrides: Settings,
    /// `--out` (default: `results/<experiment>`).
    pub out: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// No progress output.
    pub quiet: bool,
}

/// Measures the experiment and writes its folder; returns the summary's path.
pub fn drift(opts: &DriftOptions, stop: &AtomicBool) -> Result<PathBuf> {
    let start = Instant::now();
    let exp = DriftExperiment::load(&opts.experiment, &opts.overrides)?;
    let out = out_folder(opts.out.as_deref(), &exp.name)?;
    let mut inputs: Vec<(&str, &Path)> = vec![("experiment file", &opts.experiment)];
    let starts = exp.settings.iter().flat_map(|s| s.runs.iter());
    inputs.extend(
        starts.filter_map(|r| r.config.init_from.as_deref()).map(|p| ("init-from file", p)),
    );
    if let Some(d) = &opts.data_dir {
        inputs.push(("data folder", d));
    }
    crate::staging::check_outside(&out, &inputs)?;
    let staged = Staged::new(&out)?;
    let data = data::load(opts.data_dir.as_deref(), dataset(&opts.experiment, &exp)?)?;
    let progress = Progress::new(opts.quiet);
    let settings = measure(&exp, &data, &progress, stop)
        .with_context(|| opts.experiment.display().to_string())?;
    let record = DriftRecord {
        schema_version: SCHEMA_VERSION,
        name: exp.name.clone(),
        description: exp.description.clone(),
        command: format!("twinnet drift {}", opts.experiment.display()),
        cpu: twinnet_core::system::cpu_model(),
        cores: Some(twinnet_core::system::cores()),
        floor: exp.floor.clone(),
        total_s: start.elapsed().as_secs_f64(),
        settings,
    };
    finish(&ResultsDir::new(staged.dir()), &exp.source, Record::Drift(&record))?;
    if stop.load(Ordering::Relaxed) {
        return Err(Error::Interrupted);
    }
    staged.commit()?;
    Ok(ResultsDir::new(out).summary())
}

/// The one dataset every run of the experiment reads.
fn dataset(file: &Path, exp: &DriftExperiment) -> Result<twinnet_data::DatasetName> {
    let mut runs = exp.settings.iter().flat_map(|s| s.runs.iter().map(|r| &r.config));
    let Some(first) = runs.next() else { return Ok(Default::default()) };
    match runs.find(|c| c.dataset != first.dataset) {
        Some(other) => Err(Error::Invalid(format!(
            "{}: run `{}` reads {} but run `{}` reads {}: one experiment, one dataset",
            file.display(),
            first.name,
            first.dataset,
            other.name,
            other.dataset
        ))),
        None => Ok(first.dataset),
    }
}
