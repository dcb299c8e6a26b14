//! `twinnet plot DIR`: a results folder's summary and figures, redrawn from its JSON alone.

use crate::drift::DriftRecord;
use crate::error::Result;
use crate::finish::{render, Record};
use crate::layout::ResultsDir;
use crate::schema::read_versioned;
use std::path::PathBuf;

/// Redraws `dir`'s summary and figures (an experiment's or a drift experiment's); returns the
/// summary's path.
pub fn plot(dir: &ResultsDir) -> Result<PathBuf> {
    if dir.is_drift() {
        let record: DriftRecord = read_versioned(&dir.drift_json(), "drift record")?;
        render(dir, Record::Drift(&record))?;
    } else {
        let (record, results) = crate::summary::load(dir)?;
        render(dir, Record::Experiment { record: &record, results: &results })?;
    }
    Ok(dir.summary())
}
