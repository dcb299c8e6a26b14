//! A results folder's figures and `summary.md`, drawn from its JSON alone: a table per run
//! (`table`), or per configuration over seeds (`seeds`).

mod seeds;
mod table;
#[cfg(test)]
mod tests;

pub use table::summary;

use crate::error::{Error, Result};
use crate::layout::{ResultsDir, CONFUSION, CURVES};
use crate::schema::{read_versioned, ExperimentRecord, RunResult};
use crate::settings::RunConfig;
use std::fmt::Write;
use twinnet_data::DatasetName;
use twinnet_plot::{draw_confusions, draw_curves, RunView};

/// Reads `experiment.json` and every run's JSON, in order.
pub fn load(dir: &ResultsDir) -> Result<(ExperimentRecord, Vec<RunResult>)> {
    let exp: ExperimentRecord = read_versioned(&dir.experiment_json(), "experiment record")?;
    let runs = exp
        .runs
        .iter()
        .map(|n| read_versioned(&dir.run_json(n), "result"))
        .collect::<Result<Vec<RunResult>>>()?;
    Ok((exp, runs))
}

/// Draws the figures and writes `summary.md` into `dir`.
pub fn render(dir: &ResultsDir, exp: &ExperimentRecord, runs: &[RunResult]) -> Result<()> {
    if !exp.seeds.is_empty() {
        return seeds::render(dir, exp, runs);
    }
    let views: Vec<RunView<'_>> = runs
        .iter()
        .map(|r| RunView {
            label: &r.config.name,
            history: &r.history,
            confusion: r.test.as_ref().map(|t| &t.confusion),
        })
        .collect();
    draw_curves(&views, &exp.name, &dir.figure(CURVES))?;
    let classes = dataset_of(runs).class_names();
    draw_confusions(&views, &exp.name, &classes, &dir.figure(CONFUSION))?;
    write_summary(dir, &table::summary(exp, runs))
}

/// Writes `summary.md` into `dir`.
fn write_summary(dir: &ResultsDir, md: &str) -> Result<()> {
    let path = dir.summary();
    twinnet_core::file::write_atomic(&path, md.as_bytes())
        .map_err(|e| Error::io(&path, "cannot write", e))
}

/// `full-batch`, or `minibatch B`.
pub(crate) fn regime_label(c: &RunConfig) -> String {
    match c.regime {
        twinnet_core::Regime::Minibatch => format!("minibatch {}", c.batch_size),
        twinnet_core::Regime::FullBatch => "full-batch".into(),
    }
}

/// The init, or the parameter file the run started from.
pub(crate) fn init_label(c: &RunConfig) -> String {
    match (&c.init_from, c.init_rng) {
        (Some(p), _) => format!("file `{}`", p.display()),
        (None, twinnet_core::InitRng::Torch) => format!("{} (torch rng)", c.init),
        (None, _) => c.init.to_string(),
    }
}

pub(crate) fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The dataset of the results (MNIST when there are none).
pub(crate) fn dataset_of<'a>(runs: impl IntoIterator<Item = &'a RunResult>) -> DatasetName {
    runs.into_iter().next().map(|r| r.config.dataset).unwrap_or_default()
}

/// Names of classes `ks`: `5, 6, 9` for MNIST, `Coat, Shirt` for Fashion-MNIST.
pub(crate) fn class_list(data: DatasetName, ks: &[u8]) -> String {
    let names = data.class_names();
    ks.iter().filter_map(|&k| names.get(k as usize).copied()).collect::<Vec<_>>().join(", ")
}

/// One line naming the data and whether its files are the pinned ones.
pub(crate) fn data_line<'a>(s: &mut String, runs: impl IntoIterator<Item = &'a RunResult>) {
    let records: Vec<_> = runs.into_iter().map(|r| &r.data).collect();
    let Some(first) = records.first() else { return };
    let same = records.iter().all(|r| r.sha256 == first.sha256);
    let _ = writeln!(
        s,
        "Data: {}, {}.\n",
        first.dataset,
        match (same, first.verified) {
            (true, true) => "the four files' sha256 match the pinned ones",
            (true, false) => "**unverified**: the files' sha256 are not the pinned ones (see each result's `data`)",
            (false, _) => "**runs read different files** (see each result's `data`)",
        }
    );
}
