//! `twinnet plot DIR`: a results folder's summary and figures, redrawn from its JSON alone.

use crate::drift::{DriftRecord, Meeting};
use crate::error::Result;
use crate::finish::{render, Record};
use crate::layout::ResultsDir;
use crate::schema::read_versioned;
use std::path::PathBuf;

/// Redraws `dir`'s summary and figures (an experiment's or a drift experiment's); returns the
/// summary's path.
pub fn plot(dir: &ResultsDir) -> Result<PathBuf> {
    if dir.is_drift() {
        let mut record: DriftRecord = read_versioned(&dir.drift_json(), "drift record")?;
        // What is derived from the curves (when each pair meets the floor) is brought up to
        // date, and written back when it changed; the curves themselves are never touched.
        let meetings = |r: &DriftRecord| {
            let all: Vec<Vec<&Vec<Meeting>>> =
                r.settings.iter().map(|s| s.pairs.iter().map(|p| &p.meets).collect()).collect();
            serde_json::to_string(&all).expect("meetings serialize")
        };
        let before = meetings(&record);
        for s in &mut record.settings {
            crate::drift::meets::refresh(s, &record.floor, crate::drift::MEET_FACTOR);
        }
        if meetings(&record) != before {
            crate::schema::write_json(&dir.drift_json(), &record)?;
        }
        render(dir, Record::Drift(&record))?;
    } else {
        let (record, results) = crate::summary::load(dir)?;
        render(dir, Record::Experiment { record: &record, results: &results })?;
    }
    Ok(dir.summary())
}
