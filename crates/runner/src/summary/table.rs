//! `summary.md` of an experiment without seeds: one row per run, the collapsed classes, the
//! figures, and each run's classification report.

use super::{class_list, data_line, dataset_of, pct, setting_cells, setting_header};
use crate::layout::{CONFUSION, CURVES};
use crate::schema::{ExperimentRecord, RunResult, Status};
use std::fmt::Write;
use twinnet_data::DatasetName;

/// The text of `summary.md`.
pub fn summary(exp: &ExperimentRecord, runs: &[RunResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n\n{}\n", exp.name, exp.description.trim());
    let _ = writeln!(
        s,
        "Produced by `{}` on {} in {:.1} s in all.\n",
        exp.command, exp.cpu, exp.total_s
    );
    let data = dataset_of(runs);
    data_line(&mut s, runs);
    let (names, align) = setting_header();
    let _ = writeln!(s, "| run | backend | {names} | updates | final train acc | test acc | train time | threads | status |");
    let _ = writeln!(s, "|---|---|{align}|---:|---:|---:|---:|---:|---|");
    for r in runs {
        let c = &r.config;
        let last = r.history.last();
        let steps = last.map_or(0, |h| h.step);
        let status = match (&r.status, &r.divergence, &r.test) {
            (Status::Diverged, Some(d), _) => {
                format!("**diverged** at epoch {}, step {}", d.epoch, d.step)
            }
            (_, _, Some(t)) if !t.collapsed.is_empty() => {
                format!("**collapsed**: never predicts {}", class_list(data, &t.collapsed))
            }
            _ => "ok".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {steps} | {} | {} | {:.1} s | {} | {status} |",
            c.name,
            c.backend,
            setting_cells(c),
            last.map_or("–".into(), |h| pct(h.train_accuracy)),
            r.test.as_ref().map_or("–".into(), |t| pct(t.accuracy)),
            r.timing.train_s,
            r.environment.threads,
        );
    }
    let collapsed: Vec<String> = runs
        .iter()
        .filter_map(|r| r.test.as_ref().filter(|t| !t.collapsed.is_empty()).map(|t| (r, t)))
        .map(|(r, t)| match data {
            DatasetName::Mnist => format!("- `{}` never predicts digit(s) {:?}: their precision is 0 (zero_division=0) and recall 0.", r.config.name, t.collapsed),
            _ => format!("- `{}` never predicts {}: precision 0 (zero_division=0) and recall 0.", r.config.name, class_list(data, &t.collapsed)),
        })
        .collect();
    s.push_str("\n## Collapsed classes\n\n");
    if collapsed.is_empty() {
        let _ = writeln!(s, "None: every run predicts every {}.", data.class_noun());
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
                let _ = write!(s, "```text\n{}```\n", t.classification_report);
            }
            None => s.push_str("Diverged: no test evaluation of a broken model.\n"),
        }
    }
    s
}
