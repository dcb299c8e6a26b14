//! A results folder's figures and `summary.md`, drawn from its JSON alone.

use crate::result::{read_json, ExperimentRecord, RunResult, Status};
use anyhow::{Context, Result};
use std::fmt::Write;
use std::path::Path;
use twinnet_plot::{draw_confusions, draw_curves, RunView};

/// File names of the figures (each also as `.svg`) and the summary.
pub const CURVES: &str = "curves";
/// See [`CURVES`].
pub const CONFUSION: &str = "confusion";
/// See [`CURVES`].
pub const SUMMARY: &str = "summary.md";
/// The experiment's own JSON.
pub const EXPERIMENT_JSON: &str = "experiment.json";

/// Reads `dir/experiment.json` and every run's JSON, in order.
pub fn load(dir: &Path) -> Result<(ExperimentRecord, Vec<RunResult>)> {
    let exp: ExperimentRecord = read_json(&dir.join(EXPERIMENT_JSON))?;
    let runs = exp
        .runs
        .iter()
        .map(|n| read_json(&dir.join(format!("{n}.json"))))
        .collect::<Result<Vec<RunResult>>>()?;
    Ok((exp, runs))
}

/// Draws the figures and writes `summary.md` into `dir`.
pub fn render(dir: &Path, exp: &ExperimentRecord, runs: &[RunResult]) -> Result<()> {
    let views: Vec<RunView<'_>> = runs
        .iter()
        .map(|r| RunView {
            label: &r.config.name,
            history: &r.history,
            confusion: r.test.as_ref().map(|t| &t.confusion),
        })
        .collect();
    draw_curves(&views, &exp.name, &dir.join(CURVES))?;
    draw_confusions(&views, &exp.name, &dir.join(CONFUSION))?;
    let md = summary(exp, runs);
    twinnet_core::fsx::write_atomic(&dir.join(SUMMARY), md.as_bytes())
        .with_context(|| format!("{}: cannot write", dir.join(SUMMARY).display()))
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The text of `summary.md`.
pub fn summary(exp: &ExperimentRecord, runs: &[RunResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n\n{}\n", exp.name, exp.description.trim());
    let threads = runs.first().map_or(0, |r| r.environment.threads);
    let _ = writeln!(
        s,
        "Produced by `{}` on {} ({threads} threads) in {:.1} s in all.\n",
        exp.command, exp.cpu, exp.total_s
    );
    s.push_str("| run | backend | regime | head | init | normalize | epochs | updates | final train acc | test acc | train time | status |\n");
    s.push_str("|---|---|---|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for r in runs {
        let c = &r.config;
        let last = r.history.last();
        let regime = match c.regime {
            twinnet_core::Regime::Minibatch => format!("minibatch {}", c.batch_size),
            twinnet_core::Regime::FullBatch => "full-batch".into(),
        };
        let steps = last.map_or(0, |h| h.step);
        let status = match (&r.status, &r.divergence, &r.test) {
            (Status::Diverged, Some(d), _) => {
                format!("**diverged** at epoch {}, step {}", d.epoch, d.step)
            }
            (_, _, Some(t)) if !t.collapsed.is_empty() => {
                let ks: Vec<String> = t.collapsed.iter().map(|k| k.to_string()).collect();
                format!("**collapsed**: never predicts {}", ks.join(", "))
            }
            _ => "ok".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {regime} | {} | {} | {} | {} | {steps} | {} | {} | {:.1} s | {status} |",
            c.name,
            c.backend,
            c.head,
            c.init_from.as_ref().map_or(c.init.to_string(), |p| format!("file `{}`", p.display())),
            c.normalize,
            c.epochs,
            last.map_or("–".into(), |h| pct(h.train_accuracy)),
            r.test.as_ref().map_or("–".into(), |t| pct(t.accuracy)),
            r.timing.train_s,
        );
    }
    let collapsed: Vec<String> = runs
        .iter()
        .filter_map(|r| r.test.as_ref().filter(|t| !t.collapsed.is_empty()).map(|t| (r, t)))
        .map(|(r, t)| format!("- `{}` never predicts digit(s) {:?}: their precision is 0 (zero_division=0) and recall 0.", r.config.name, t.collapsed))
        .collect();
    s.push_str("\n## Collapsed classes\n\n");
    if collapsed.is_empty() {
        s.push_str("None: every run predicts every digit.\n");
    } else {
        s.push_str(&collapsed.join("\n"));
        s.push('\n');
    }
    let _ = write!(
        s,
        "\n## Figures\n\nTrain accuracy (forward pass before each update) against epoch, wall-clock time and number of updates:\n\n![training curves]({CURVES}.png)\n\nTest confusion matrices:\n\n![confusion matrices]({CONFUSION}.png)\n\n(SVG versions: [{CURVES}.svg]({CURVES}.svg), [{CONFUSION}.svg]({CONFUSION}.svg).)\n"
    );
    s.push_str("\n## Classification reports (test set)\n");
    for r in runs {
        let _ = write!(s, "\n### {}\n\n", r.config.name);
        match &r.test {
            Some(t) => {
                let _ = write!(s, "```text\n{}```\n", t.report);
            }
            None => s.push_str("Diverged: no test evaluation of a broken model.\n"),
        }
    }
    s
}
