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

/// `full-batch`, or `minibatch B`; then the optimizer when it is not plain SGD
/// (`minibatch 64 · adam β 0.9,0.999 ε 1e-8`).
pub(crate) fn regime_label(c: &RunConfig) -> String {
    let regime = match c.regime {
        twinnet_core::Regime::Minibatch => format!("minibatch {}", c.batch_size),
        twinnet_core::Regime::FullBatch => "full-batch".into(),
    };
    match twinnet_core::Optimizer::from_settings(&c.optimizer_settings()) {
        Ok(o) if !o.is_plain_sgd() => format!("{regime} · {o}"),
        _ => regime,
    }
}

/// The network, as its widths and hidden activation: `784-30-10 sigmoid`, `784-10` (no
/// hidden layer, so no activation).
pub(crate) fn network_label(m: &twinnet_core::ModelConfig) -> String {
    let widths: Vec<String> = m.widths().iter().map(|w| w.to_string()).collect();
    if m.hidden.widths().is_empty() {
        widths.join("-")
    } else {
        format!("{} {}", widths.join("-"), m.activation)
    }
}

/// The columns that say what a run trained, in every table of runs (`summary.md`'s, the seeds
/// table's, the page's): `(header, cell, numeric)`. A new setting shown beside a run is added
/// here, once.
pub(crate) fn setting_columns(c: &RunConfig) -> [(&'static str, String, bool); 6] {
    [
        ("regime", regime_label(c), false),
        ("network", network_label(&c.model_config()), false),
        ("head", c.head.to_string(), false),
        ("init", init_label(c), false),
        ("normalize", c.normalize.to_string(), false),
        ("epochs", c.epochs.to_string(), true),
    ]
}

/// The markdown header cells and alignment cells of [`setting_columns`] (`| a | b |` pieces,
/// without the outer bars).
pub(crate) fn setting_header() -> (String, String) {
    let cols = setting_columns(&crate::settings::Settings::default().resolve());
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let align: Vec<&str> = cols.iter().map(|c| if c.2 { "---:" } else { "---" }).collect();
    (names.join(" | "), align.join("|"))
}

/// The cells of [`setting_columns`] for `c`, joined as a markdown row's middle.
pub(crate) fn setting_cells(c: &RunConfig) -> String {
    setting_columns(c).map(|c| c.1).join(" | ")
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
