//! The JSON result of one run (schema in the README) and of an experiment.

use crate::config::RunConfig;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use twinnet_core::{ClassMetrics, Confusion, Divergence, EpochRecord};

/// One run's result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Every option actually used.
    pub config: RunConfig,
    /// Where and with what it ran.
    pub environment: Environment,
    /// [`crate::sweep::config_hash`] of `config`: what `twinnet collect` checks a result against
    /// its plan by (absent from results made before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
    /// The data it trained and was tested on (absent from results made before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<crate::data::DataRecord>,
    /// Where the starting parameters came from (absent from results made before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Initial>,
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
    #[serde(default)]
    pub cpu_features: String,
    /// What decides the backend's bits here: ndarray's kernel set and that its sum order is
    /// pinned; tch's code path (`pinned` or `native`), ATen's CPU capability and MKL's
    /// reproducibility branch (see the README, "Reproducing our numbers on your machine").
    #[serde(default)]
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
    /// Mean test loss under the run's head.
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
    pub report: String,
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
            report: confusion.report_named(&dataset.class_names()),
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
    /// Experiment name (its file's stem).
    pub name: String,
    /// Its description.
    pub description: String,
    /// Run names, in order; each has `<name>.json` beside this file.
    pub runs: Vec<String>,
    /// Configuration names; with seeds, run `i` belongs to configuration `i / seeds.len()`.
    #[serde(default)]
    pub configs: Vec<String>,
    /// Seeds every configuration was repeated over (empty: none).
    #[serde(default)]
    pub seeds: Vec<u64>,
    /// Seconds for the whole experiment (training, evaluation, figures).
    pub total_s: f64,
    /// CPU model of the machine.
    pub cpu: String,
    /// The command that produced the folder.
    pub command: String,
}

impl ExperimentRecord {
    /// Each configuration's name and the range of its runs in [`ExperimentRecord::runs`]:
    /// with `k` seeds configuration `i` owns runs `i·k..(i+1)·k`; without seeds every run is its
    /// own configuration (records older than `configs` list none: their runs are the
    /// configurations).
    pub fn configurations(&self) -> Vec<(&str, std::ops::Range<usize>)> {
        let names = if self.configs.is_empty() { &self.runs } else { &self.configs };
        let k = self.seeds.len().max(1);
        names.iter().enumerate().map(|(i, n)| (n.as_str(), i * k..(i + 1) * k)).collect()
    }
}

/// Reads and parses a JSON file, naming it in errors.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a valid twinnet result", path.display()))
}

/// Writes pretty JSON (with a final newline) atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("results serialize");
    text.push('\n');
    twinnet_core::file::write_atomic(path, text.as_bytes())
        .with_context(|| format!("{}: cannot write", path.display()))
}
