//! `twinnet compare A B`: whether two sets of runs differ, metric by metric, with the effect,
//! its spread and two tests (Welch's t, Mann–Whitney U; `twinnet_core::stats`).
//!
//! A side is a result JSON (one run), a results folder holding one configuration, or
//! `FOLDER:CONFIG` (one configuration's seeds inside an experiment folder). Metrics: test
//! accuracy, each class's recall, the updates needed to reach a train accuracy (`--target`,
//! MLPerf's "time to quality"; from the recorded history, so at its `log_every` resolution),
//! and training time.

use crate::bail;
use crate::error::{Context, Result};
use crate::layout::{ResultsDir, EXPERIMENT_JSON};
use crate::schema::{read_versioned, ExperimentRecord, RunResult};
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;
use twinnet_core::stats::{mann_whitney, mean_sd, welch};
use twinnet_core::CLASSES;

/// The runs of one side.
#[derive(Debug)]
pub struct Side {
    /// As given on the command line.
    pub label: String,
    /// The files it was read from.
    pub files: Vec<std::path::PathBuf>,
    /// Its runs (diverged ones included; metrics skip what they lack).
    pub runs: Vec<RunResult>,
}

/// Reads a side: `FILE.json`, `FOLDER` (one configuration) or `FOLDER:CONFIG`.
pub fn load_side(spec: &str) -> Result<Side> {
    let label = spec.to_string();
    let path = Path::new(spec);
    if path.is_file() {
        let runs = vec![read_versioned(path, "result")?];
        return Ok(Side { label, files: vec![path.to_path_buf()], runs });
    }
    let (dir, config) = match spec.rsplit_once(':') {
        Some((d, c)) if !path.exists() => (Path::new(d), Some(c)),
        _ => (path, None),
    };
    if !dir.is_dir() {
        bail!("{spec}: neither a result JSON, a results folder nor FOLDER:CONFIG");
    }
    let folder = ResultsDir::new(dir);
    let exp: ExperimentRecord = read_versioned(&folder.experiment_json(), "experiment record")?;
    let configs = exp.configurations();
    let names = || configs.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
    let range = match config {
        Some(c) => {
            configs.iter().find(|(n, _)| *n == c).map(|(_, r)| r.clone()).with_context(|| {
                format!("{spec}: no configuration `{c}` in {} (it has: {})", dir.display(), names())
            })?
        }
        None if configs.len() == 1 => {
            configs.iter().map(|c| c.1.clone()).next().unwrap_or_default()
        }
        None => bail!(
            "{spec}: the folder holds {} configurations ({}): name one as {}:CONFIG",
            configs.len(),
            names(),
            dir.display()
        ),
    };
    let run_names = exp.runs.get(range).with_context(|| {
        format!("{spec}: {} lists fewer runs than its configurations need", EXPERIMENT_JSON)
    })?;
    let runs = run_names
        .iter()
        .map(|n| read_versioned(&folder.run_json(n), "result"))
        .collect::<Result<Vec<RunResult>>>()?;
    let mut files = vec![folder.experiment_json()];
    files.extend(run_names.iter().map(|n| folder.run_json(n)));
    Ok(Side { label, files, runs })
}

/// One metric compared.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What is compared, e.g. `test accuracy (%)`.
    pub metric: String,
    /// Values on side A and side B (runs that have the metric).
    pub a: Vec<f64>,
    /// See `a`.
    pub b: Vec<f64>,
    /// Mean and sample sd of each side.
    pub mean_sd_a: Option<(f64, f64)>,
    /// See `mean_sd_a`.
    pub mean_sd_b: Option<(f64, f64)>,
    /// `mean(B) − mean(A)` and its 95% confidence interval (Welch).
    pub diff: Option<f64>,
    /// See `diff`.
    pub ci95: Option<(f64, f64)>,
    /// Welch's t-test, two-sided.
    pub welch_p: Option<f64>,
    /// Mann–Whitney U test, two-sided.
    pub mann_whitney_p: Option<f64>,
    /// One line: whether the data show a difference.
    pub verdict: String,
}

fn row(metric: String, a: Vec<f64>, b: Vec<f64>) -> Row {
    let ms = |v: &[f64]| (!v.is_empty()).then(|| mean_sd(v));
    let w = welch(&b, &a);
    let m = mann_whitney(&b, &a).filter(|_| a.len() >= 2 && b.len() >= 2);
    let (pw, pm) = (w.map(|w| w.p), m.map(|m| m.p));
    let verdict = match (pw, pm) {
        _ if a.len() < 2 || b.len() < 2 => {
            format!("too few runs to test ({} and {}; 2 or more each)", a.len(), b.len())
        }
        (Some(p), Some(q)) if p < 0.05 && q < 0.05 => "differ (both tests p < 0.05)".into(),
        (Some(p), Some(q)) if p < 0.05 || q < 0.05 => "weak evidence (one test p < 0.05)".into(),
        (None, _) => "identical values on both sides".into(),
        _ => "no evidence of a difference (p ≥ 0.05)".into(),
    };
    let mean_a = ms(&a);
    let mean_b = ms(&b);
    let diff = match (mean_a, mean_b) {
        (Some((x, _)), Some((y, _))) => Some(y - x),
        _ => None,
    };
    Row {
        metric,
        mean_sd_a: mean_a,
        mean_sd_b: mean_b,
        diff,
        ci95: w.map(|w| w.ci95),
        welch_p: pw,
        mann_whitney_p: pm,
        verdict,
        a,
        b,
    }
}

/// The first recorded update count at which the train accuracy reached `target`.
fn updates_to(r: &RunResult, target: f64) -> Option<f64> {
    r.history.iter().find(|h| h.train_accuracy >= target).map(|h| h.step as f64)
}

/// Every metric of `a` against `b`.
pub fn compare(a: &Side, b: &Side, target: f64, class_names: &[String]) -> Vec<Row> {
    let pick = |s: &Side, f: &dyn Fn(&RunResult) -> Option<f64>| -> Vec<f64> {
        s.runs.iter().filter_map(f).collect()
    };
    let mut rows = vec![row(
        "test accuracy (%)".into(),
        pick(a, &|r| r.test.as_ref().map(|t| 100.0 * t.accuracy)),
        pick(b, &|r| r.test.as_ref().map(|t| 100.0 * t.accuracy)),
    )];
    for (k, name) in class_names.iter().enumerate().take(CLASSES) {
        let recall = move |r: &RunResult| {
            r.test.as_ref().and_then(|t| t.per_class.get(k)).map(|m| 100.0 * m.recall)
        };
        rows.push(row(format!("recall of {name} (%)"), pick(a, &recall), pick(b, &recall)));
    }
    let reach = move |r: &RunResult| updates_to(r, target);
    rows.push(row(
        format!("updates to {:.0}% train accuracy", 100.0 * target),
        pick(a, &reach),
        pick(b, &reach),
    ));
    rows.push(row(
        "train time (s)".into(),
        pick(a, &|r| Some(r.timing.train_s)),
        pick(b, &|r| Some(r.timing.train_s)),
    ));
    rows
}

/// The comparison as text: one line per metric.
pub fn render(a: &Side, b: &Side, target: f64, rows: &[Row]) -> String {
    let mut s = String::new();
    let reached =
        |side: &Side| side.runs.iter().filter(|r| updates_to(r, target).is_some()).count();
    for (tag, side) in [("A", a), ("B", b)] {
        let diverged = side.runs.iter().filter(|r| r.test.is_none()).count();
        let _ = writeln!(
            s,
            "{tag}: {} ({} run(s), {diverged} diverged, {} reached {:.0}% train accuracy)",
            side.label,
            side.runs.len(),
            reached(side),
            100.0 * target
        );
        // What the side trained (its first run's settings; a side is one configuration).
        if let Some(c) = side.runs.first().map(|r| &r.config) {
            let cols = crate::summary::setting_columns(c).map(|(h, v, _)| format!("{h} {v}"));
            let _ = writeln!(s, "   {}: {}", c.backend, cols.join(", "));
        }
    }
    let f = |v: Option<f64>| match v {
        None => "–".into(),
        Some(p) if p < 0.001 => "< 0.001".into(),
        Some(p) => format!("{p:.3}"),
    };
    let m = |v: Option<(f64, f64)>| v.map_or("–".into(), |(m, sd)| format!("{m:.2} ± {sd:.2}"));
    let _ = writeln!(
        s,
        "\n| metric | A mean ± sd | B mean ± sd | B − A [95% CI] | Welch p | Mann–Whitney p | verdict |\n|---|---:|---:|---:|---:|---:|---|"
    );
    for r in rows {
        let diff = match (r.diff, r.ci95) {
            (Some(d), Some((lo, hi))) => format!("{d:+.2} [{lo:+.2}, {hi:+.2}]"),
            (Some(d), None) => format!("{d:+.2}"),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {diff} | {} | {} | {} |",
            r.metric,
            m(r.mean_sd_a),
            m(r.mean_sd_b),
            f(r.welch_p),
            f(r.mann_whitney_p),
            r.verdict
        );
    }
    s
}

/// Two sides compared: every metric's row, and a warning when they ran on different data.
#[derive(Debug)]
pub struct Comparison {
    /// Side A.
    pub a: Side,
    /// Side B.
    pub b: Side,
    /// The train accuracy whose first reaching is compared.
    pub target: f64,
    /// One row per metric.
    pub rows: Vec<Row>,
    /// Set when the two sides ran on different datasets (the same class index names another
    /// thing on each side).
    pub warning: Option<String>,
}

/// Reads sides `a` and `b` (see [`load_side`]) and compares them metric by metric; `target`
/// is a train accuracy in (0, 1]. Class names are those of side A's dataset.
pub fn compare_sides(a: &str, b: &str, target: f64) -> Result<Comparison> {
    if !(target > 0.0 && target <= 1.0) {
        crate::bail!("--target: must be a train accuracy in (0, 1], got {target}");
    }
    let (x, y) = (load_side(a)?, load_side(b)?);
    let dataset = |s: &Side| s.runs.first().map(|r| r.config.dataset).unwrap_or_default();
    let (dx, dy) = (dataset(&x), dataset(&y));
    let warning = (dx != dy).then(|| {
        format!("{a} ran on {dx} and {b} on {dy}: the metrics below compare different data")
    });
    let names: Vec<String> = (0..CLASSES).map(|k| dx.class_label(k)).collect();
    let rows = compare(&x, &y, target, &names);
    Ok(Comparison { a: x, b: y, target, rows, warning })
}

impl Comparison {
    /// The comparison as text ([`render`]).
    pub fn text(&self) -> String {
        render(&self.a, &self.b, self.target, &self.rows)
    }

    /// Fails when `path` is one of the files the comparison was read from (`--json` there
    /// would destroy an input).
    pub fn check_output(&self, path: &Path) -> Result<()> {
        let inputs: Vec<(&str, &Path)> = (self.a.files.iter().map(|f| ("a", f.as_path())))
            .chain(self.b.files.iter().map(|f| ("b", f.as_path())))
            .collect();
        crate::staging::check_not_an_input(path, "json", &inputs)
    }

    /// The comparison as JSON: both sides as given, the target and the rows.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "a": self.a.label, "b": self.b.label, "target": self.target, "rows": self.rows
        })
    }
}
