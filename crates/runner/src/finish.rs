//! The one way a results folder is filled and completed, in one order everywhere (`run` in
//! one process or many, `run --index`, `collect`, `drift`):
//!
//! ```text
//! each run:     <run>.safetensors, then <run>.json     (a result on disk is a finished run)
//! the folder:   experiment.toml, then experiment.json or drift.json, then summary.md, figures
//!               and the page (index.html)
//! ```
//! Every file is written atomically; the folder itself is staged and moved into place by the
//! caller ([`crate::staging`]).

use crate::drift::DriftRecord;
use crate::error::{Error, Result};
use crate::layout::ResultsDir;
use crate::schema::{write_json, ExperimentRecord, RunResult};
use twinnet_core::Params;

/// What a folder records: an experiment and its runs' results, or a drift experiment.
#[derive(Debug, Clone, Copy)]
pub enum Record<'a> {
    /// `experiment.json` and the results it lists, in its order.
    Experiment {
        /// The record.
        record: &'a ExperimentRecord,
        /// Its runs' results.
        results: &'a [RunResult],
    },
    /// `drift.json`.
    Drift(&'a DriftRecord),
}

/// Writes one finished run into `dir`: its parameters, then its result.
pub fn write_run(dir: &ResultsDir, params: &Params, result: &RunResult) -> Result<()> {
    let name = &result.config.name;
    params.save(&dir.run_params(name))?;
    write_json(&dir.run_json(name), result)
}

/// Completes `dir`: the experiment file's text `source`, then the record, then the summary
/// and figures ([`render`]).
pub fn finish(dir: &ResultsDir, source: &str, record: Record<'_>) -> Result<()> {
    let toml = dir.experiment_toml();
    twinnet_core::file::write_atomic(&toml, source.as_bytes())
        .map_err(|e| Error::io(&toml, "cannot write", e))?;
    match record {
        Record::Experiment { record, .. } => write_json(&dir.experiment_json(), record)?,
        Record::Drift(d) => write_json(&dir.drift_json(), d)?,
    }
    render(dir, record)
}

/// The summary, figures and page (`index.html`) of `dir`, from its record alone (what
/// `twinnet plot` redraws).
pub fn render(dir: &ResultsDir, record: Record<'_>) -> Result<()> {
    match record {
        Record::Experiment { record, results } => {
            crate::summary::render(dir, record, results)?;
            crate::page::write(dir, &crate::page::experiment_page(record, results))
        }
        Record::Drift(d) => {
            crate::drift::render(dir, d)?;
            crate::page::write(dir, &crate::page::drift_page(d))
        }
    }
}
