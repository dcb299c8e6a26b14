//! What twinnet writes as JSON and reads back: the result of one run (schema in the README),
//! the record of an experiment, and the version of that schema.
//!
//! Every file carries `schema_version` ([`SCHEMA_VERSION`]); every field a current file has is
//! required. Files from before the version was recorded (version 1: the same fields, no
//! `schema_version`) are read through [`upgrade`]; a file of a newer version is refused with
//! a message that says so.

use crate::data::DataRecord;
use crate::error::{Error, Result};
use crate::settings::RunConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;
use twinnet_core::{ClassMetrics, Confusion, Divergence, EpochRecord};

/// The version of the JSON schema this build writes.
pub const SCHEMA_VERSION: u32 = 2;

/// One run's result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Every option actually used.
    pub config: RunConfig,
    /// Where and with what it ran.
    pub environment: Environment,
    /// [`crate::sweep::config_hash`] of `config`: what `twinnet collect` checks a result against
    /// its plan by.
    pub config_hash: String,
    /// The data it trained and was tested on.
    pub data: DataRecord,
    /// Where the starting parameters came from.
    pub initial: Initial,
    /// `completed`, or `diverged` (then `divergence` says where, and `test` is absent).
    pub status: Status,
    /// Where the loss stopped being finite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub divergence: Option<Divergence>,
    /// Parameter updates per epoch (1 for full-batch, ⌈n/B⌉ for minibatch).
    pub updates_per_epoch: usize,
    /// The training curve: every `log_every` epochs and the last.
    pub history: Vec<EpochRecord>,
    /// The test-set evaluation (absent for a diverged run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<TestResult>,
    /// Wall-clock seconds.
    pub timing: Timing,
}

/// The parameters a run started from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initial {
    /// `twinnet's generator, …`, `libtorch's generator, …` or `file …`.
    pub source: String,
    /// [`twinnet_core::Params::fingerprint`] of the starting parameters, 16 hex digits.
    pub fingerprint: String,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Trained for every epoch and evaluated.
    Completed,
    /// Stopped at a NaN or infinite loss; no accuracy is reported for the broken model.
    Diverged,
}

/// Where and with what a run ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// twinnet's version.
    pub twinnet: String,
    /// The backend's library and version, e.g. `ndarray 0.17` or `tch 0.26 / libtorch 2.13.0`
    /// followed by which MKL kernels libtorch runs (see `twinnet_tch::mkl`).
    pub backend_library: String,
    /// The device computed on (`cpu`, `cuda:0`).
    pub device: String,
    /// CPU model.
    pub cpu: String,
    /// The CPU features that decide which code runs, among `avx2 fma avx512f`.
    pub cpu_features: String,
    /// What decides the backend's bits here: ndarray's kernel set and that its sum order is
    /// pinned; tch's code path (`pinned` or `native`), ATen's CPU capability and MKL's
    /// reproducibility branch (see the README, "Reproducing our numbers on your machine").
    pub numerics: std::collections::BTreeMap<String, String>,
    /// Compute threads used.
    pub threads: usize,
    /// Operating system and architecture.
    pub os: String,
}

impl Environment {
    /// This machine and process, computing with the backend `info` describes on `threads`.
    pub fn here(info: twinnet_core::BackendInfo, threads: usize) -> Self {
        Self {
            twinnet: env!("CARGO_PKG_VERSION").into(),
            backend_library: info.library,
            device: info.device,
            cpu: twinnet_core::system::cpu_model(),
            cpu_features: twinnet_core::system::cpu_features(),
            numerics: info.numerics,
            threads,
            os: format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        }
    }
}

/// Test-set metrics, as scikit-learn computes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestResult {
    /// Fraction of test images classified correctly.
    pub accuracy: f64,
    /// Mean test loss under the run's head (non-finite for a broken model: see [`crate::num`]).
    #[serde(with = "crate::num")]
    pub loss: f64,
    /// 10×10, rows = true digit, columns = predicted.
    pub confusion: Confusion,
    /// Precision, recall, F1 and support of digits 0–9.
    pub per_class: Vec<ClassMetrics>,
    /// Unweighted mean over digits.
    pub macro_avg: ClassMetrics,
    /// Mean over digits weighted by support.
    pub weighted_avg: ClassMetrics,
    /// Digits never predicted (precision 0 by zero_division=0).
    pub collapsed: Vec<u8>,
    /// `sklearn.metrics.classification_report(digits=2)`, verbatim layout.
    #[serde(rename = "report")]
    pub classification_report: String,
}

impl TestResult {
    /// Every metric of a confusion matrix; the report names `dataset`'s classes.
    pub fn new(confusion: Confusion, loss: f64, dataset: twinnet_data::DatasetName) -> Self {
        Self {
            accuracy: confusion.accuracy(),
            loss,
            per_class: confusion.per_class().to_vec(),
            macro_avg: confusion.macro_avg(),
            weighted_avg: confusion.weighted_avg(),
            collapsed: confusion.collapsed(),
            classification_report: confusion.classification_report(&dataset.class_names()),
            confusion,
        }
    }
}

/// Wall-clock seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Training, all epochs.
    pub train_s: f64,
    /// Training per epoch.
    pub per_epoch_s: f64,
    /// Evaluation on the test set.
    pub eval_s: f64,
}

/// The experiment's own file: what ran, in which order, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExperimentRecord {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Experiment name (its file's stem).
    pub name: String,
    /// Its description.
    pub description: String,
    /// Run names, in order; each has `<name>.json` beside this file.
    pub runs: Vec<String>,
    /// Configuration names; with seeds, run `i` belongs to configuration `i / seeds.len()`.
    pub configs: Vec<String>,
    /// Seeds every configuration was repeated over (empty: none).
    pub seeds: Vec<u64>,
    /// Seconds for the whole experiment (training, evaluation, figures).
    pub total_s: f64,
    /// CPU model of the machine.
    pub cpu: String,
    /// Its logical cores (absent in records written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<usize>,
    /// The command that produced the folder.
    pub command: String,
}

impl ExperimentRecord {
    /// The record of an experiment whose runs all ran on this machine, of `cores` cores.
    pub fn on_cores(self, cores: usize) -> Self {
        Self { cores: Some(cores), ..self }
    }

    /// Each configuration's name and the range of its runs in [`ExperimentRecord::runs`]:
    /// with `k` seeds configuration `i` owns runs `i·k..(i+1)·k`; without seeds every run is its
    /// own configuration.
    pub fn configurations(&self) -> Vec<(&str, std::ops::Range<usize>)> {
        let k = self.seeds.len().max(1);
        self.configs.iter().enumerate().map(|(i, n)| (n.as_str(), i * k..(i + 1) * k)).collect()
    }
}

/// A version-1 file (no `schema_version`: the same fields) brought to [`SCHEMA_VERSION`];
/// `Err` for a file of a version this build does not know. Applied to every object of a file
/// that carries a run result or a record (a drift record holds run results inside it).
pub fn upgrade(value: &mut serde_json::Value) -> Result<(), String> {
    let Some(obj) = value.as_object_mut() else { return Ok(()) };
    match obj.get("schema_version").map(|v| v.as_u64()) {
        None => {
            obj.insert("schema_version".into(), SCHEMA_VERSION.into());
        }
        Some(Some(v)) if v == SCHEMA_VERSION as u64 => {}
        Some(Some(v)) if v > SCHEMA_VERSION as u64 => {
            return Err(format!(
                "written by a newer twinnet (schema version {v}; this one reads up to \
                 {SCHEMA_VERSION}): update twinnet"
            ))
        }
        Some(v) => return Err(format!("schema_version {v:?} is not a known version")),
    }
    Ok(())
}

/// The largest JSON file read (a drift record of every sampled update is a few MiB).
pub const MAX_JSON: u64 = 1 << 30;

/// Reads and parses a JSON file holding `what` (`result`, `experiment record`, …), naming it in
/// errors.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path, what: &'static str) -> Result<T> {
    let text = twinnet_core::file::read_text_capped(path, MAX_JSON)
        .map_err(|e| Error::io(path, "cannot read", e))?;
    serde_json::from_str(&text).map_err(|source| Error::Json { path: path.into(), what, source })
}

/// What a record's type cannot rule out, checked as a whole once it is read, before anything
/// uses it: lengths, indices inside their lists, run names that are file names, finite numbers
/// where the schema wants them. `Err` says what is wrong (the caller names the file).
pub trait Check {
    /// Whether the record is consistent.
    fn check(&self) -> Result<(), String>;
}

impl Check for serde_json::Value {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// `Err(what)` unless `ok`.
pub(crate) fn require(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// Whether `x` is a finite fraction in [0, 1].
pub(crate) fn fraction(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

impl Check for RunResult {
    fn check(&self) -> Result<(), String> {
        require(self.updates_per_epoch >= 1, || "updates_per_epoch must be at least 1".into())?;
        let mut last = (0, 0);
        for (i, h) in self.history.iter().enumerate() {
            require((h.epoch, h.step) > last && h.epoch >= 1, || {
                format!(
                    "history[{i}]: epochs and updates must increase (epoch {}, step {})",
                    h.epoch, h.step
                )
            })?;
            require(
                fraction(h.train_accuracy) && h.train_loss.is_finite() && h.elapsed_s.is_finite(),
                || {
                    format!(
                        "history[{i}]: train accuracy must be in [0, 1] and loss and time finite"
                    )
                },
            )?;
            last = (h.epoch, h.step);
        }
        match (self.status, &self.test, &self.divergence) {
            (Status::Completed, Some(t), None) => t.check(),
            (Status::Diverged, None, Some(_)) => Ok(()),
            _ => Err(format!(
                "status {:?}: a completed run has `test` and no `divergence`, a diverged one the reverse",
                self.status
            )),
        }?;
        let t = &self.timing;
        require(
            [t.train_s, t.per_epoch_s, t.eval_s].iter().all(|x| x.is_finite() && *x >= 0.0),
            || "timing: seconds must be finite and not negative".into(),
        )
    }
}

impl Check for TestResult {
    fn check(&self) -> Result<(), String> {
        use twinnet_core::CLASSES;
        require(fraction(self.accuracy), || {
            format!("test.accuracy {} is not in [0, 1]", self.accuracy)
        })?;
        require(self.per_class.len() == CLASSES, || {
            format!("test.per_class holds {} classes, expected {CLASSES}", self.per_class.len())
        })?;
        let all = self.per_class.iter().chain([&self.macro_avg, &self.weighted_avg]);
        require(
            all.into_iter().all(|m| fraction(m.precision) && fraction(m.recall) && fraction(m.f1)),
            || "test: precision, recall and f1 must be in [0, 1]".into(),
        )?;
        require(self.collapsed.iter().all(|&k| (k as usize) < CLASSES), || {
            format!("test.collapsed {:?}: a class index is not below {CLASSES}", self.collapsed)
        })?;
        require(self.collapsed.windows(2).all(|w| matches!(w, [a, b] if a < b)), || {
            format!("test.collapsed {:?} must be increasing, without repeats", self.collapsed)
        })
    }
}

impl Check for ExperimentRecord {
    fn check(&self) -> Result<(), String> {
        let k = self.seeds.len().max(1);
        require(!self.configs.is_empty(), || "configs: an experiment has at least one".into())?;
        require(self.configs.len().checked_mul(k) == Some(self.runs.len()), || {
            format!(
                "{} runs for {} configuration(s) × {k} seed(s)",
                self.runs.len(),
                self.configs.len()
            )
        })?;
        for r in &self.runs {
            crate::layout::check_run_name(r)?;
        }
        let mut seeds = self.seeds.clone();
        seeds.sort_unstable();
        seeds.dedup();
        require(seeds.len() == self.seeds.len(), || format!("seeds {:?} repeat", self.seeds))?;
        require(self.total_s.is_finite(), || "total_s must be finite".into())
    }
}

/// Reads a file that carries `schema_version` (a run result, an experiment or drift record),
/// upgrading an older version ([`upgrade`]) first, and checks it as a whole ([`Check`]).
pub fn read_versioned<T: for<'de> Deserialize<'de> + Check>(
    path: &Path,
    what: &'static str,
) -> Result<T> {
    let mut v: serde_json::Value = read_json(path, what)?;
    upgrade(&mut v).map_err(|m| Error::Invalid(format!("{}: {m}", path.display())))?;
    if let Some(settings) = v.get_mut("settings").and_then(|s| s.as_array_mut()) {
        for run in settings.iter_mut().flat_map(|s| s["runs"].as_array_mut().into_iter().flatten())
        {
            upgrade(&mut run["result"])
                .map_err(|m| Error::Invalid(format!("{}: {m}", path.display())))?;
        }
    }
    let t: T = serde_json::from_value(v).map_err(|source| Error::Json {
        path: path.into(),
        what,
        source,
    })?;
    t.check().map_err(|m| {
        Error::Invalid(format!("{}: not a valid twinnet {what}: {m}", path.display()))
    })?;
    Ok(t)
}

/// Writes pretty JSON (with a final newline) atomically: a file of twinnet's own.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("results serialize");
    text.push('\n');
    twinnet_core::file::write_atomic(path, text.as_bytes())
        .map_err(|e| Error::io(path, "cannot write", e))
}

/// Writes pretty JSON to an output the user named (`--out`, `--json`): `-` is standard output,
/// a device or FIFO is written in place, anything else atomically
/// ([`twinnet_core::file::write_output`]).
pub fn write_output_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("results serialize");
    text.push('\n');
    twinnet_core::file::write_output(path, text.as_bytes())
        .map_err(|e| Error::io(path, "cannot write", e))
}

#[cfg(test)]
mod tests;
