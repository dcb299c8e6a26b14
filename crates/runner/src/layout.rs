//! A results folder: every file name it holds, defined once.
//!
//! ```text
//! <dir>/experiment.toml        the experiment file that ran (its text)
//! <dir>/experiment.json        the experiment's record (runs, seeds, command, time)
//! <dir>/drift.json             a drift experiment's record, instead of experiment.json
//! <dir>/plan.json              a sweep's plan, while its runs are being filled in
//! <dir>/<run>.safetensors      a run's final parameters, written first
//! <dir>/<run>.json             its result, written last: a result on disk is a finished run
//! <dir>/summary.md             the summary
//! <dir>/{curves,confusion,seeds,drift}.{png,svg}   the figures
//! <dir>/index.html           the interactive page (self-contained, offline)
//! <dir>/logs/                  a Slurm sweep's job logs (scripts/slurm/submit.sh), kept
//! ```

use std::path::{Path, PathBuf};

/// The experiment's record.
pub const EXPERIMENT_JSON: &str = "experiment.json";
/// The experiment file's text, as run.
pub const EXPERIMENT_TOML: &str = "experiment.toml";
/// A drift experiment's record.
pub const DRIFT_JSON: &str = "drift.json";
/// A sweep's plan.
pub const PLAN_JSON: &str = "plan.json";
/// The summary.
pub const SUMMARY: &str = "summary.md";
/// Figure stems (each drawn as `.png` and `.svg`): the training curves.
pub const CURVES: &str = "curves";
/// The confusion heatmaps.
pub const CONFUSION: &str = "confusion";
/// The per-seed test accuracy strip (experiments with seeds).
pub const SEEDS: &str = "seeds";
/// The drift figure.
pub const DRIFT: &str = "drift";
/// The lock file of a resumable run's folder, held while a run works in it.
pub const LOCK: &str = ".lock";
/// The folder of a Slurm sweep's job logs (`scripts/slurm/submit.sh` makes it before any task
/// runs, so a sweep's folder may hold it before its plan).
pub const LOGS: &str = "logs";

/// Names a run may not take: its `<run>.json` would be one of the folder's own files.
pub const RESERVED: [&str; 8] =
    ["experiment", "drift", "plan", "summary", "curves", "confusion", "seeds", "index"];

/// A results folder (it need not exist yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResultsDir {
    path: PathBuf,
}

impl ResultsDir {
    /// The folder at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file of the folder by name.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// `<run>.json`.
    pub fn run_json(&self, run: &str) -> PathBuf {
        self.path.join(format!("{run}.json"))
    }

    /// `<run>.safetensors`.
    pub fn run_params(&self, run: &str) -> PathBuf {
        self.path.join(format!("{run}.safetensors"))
    }

    /// `experiment.json`.
    pub fn experiment_json(&self) -> PathBuf {
        self.file(EXPERIMENT_JSON)
    }

    /// `experiment.toml`.
    pub fn experiment_toml(&self) -> PathBuf {
        self.file(EXPERIMENT_TOML)
    }

    /// `drift.json`.
    pub fn drift_json(&self) -> PathBuf {
        self.file(DRIFT_JSON)
    }

    /// `plan.json`.
    pub fn plan_json(&self) -> PathBuf {
        self.file(PLAN_JSON)
    }

    /// `summary.md`.
    pub fn summary(&self) -> PathBuf {
        self.file(SUMMARY)
    }

    /// A figure's path without its extension (`curves`, …), for the plotting functions.
    pub fn figure(&self, stem: &str) -> PathBuf {
        self.path.join(stem)
    }

    /// Whether it holds a drift experiment's record.
    pub fn is_drift(&self) -> bool {
        self.drift_json().is_file()
    }
}

/// Whether `name` may name a run: letters, digits, `-`, `_` and `.`, not starting with `.`,
/// and not one of the folder's own files ([`RESERVED`]). `Err` says why not.
pub fn check_run_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a run name cannot be empty".into());
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || name.starts_with('.')
    {
        return Err(format!(
            "run name `{name}` must use only letters, digits, `-`, `_` and `.`, and not start with `.`"
        ));
    }
    if RESERVED.contains(&name) {
        return Err(format!(
            "run name `{name}` is taken by the results folder's own files ({}): choose another",
            RESERVED.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_defined_once() {
        let d = ResultsDir::new("r");
        assert_eq!(d.run_json("a"), Path::new("r/a.json"));
        assert_eq!(d.run_params("a"), Path::new("r/a.safetensors"));
        assert_eq!(d.experiment_json(), Path::new("r/experiment.json"));
        assert_eq!(d.figure(CURVES), Path::new("r/curves"));
    }

    #[test]
    fn run_names() {
        assert!(check_run_name("numpy-model_2.b").is_ok());
        for bad in ["", ".hidden", "a/b", "a b", "experiment", "plan", "summary"] {
            assert!(check_run_name(bad).is_err(), "{bad}");
        }
    }
}
