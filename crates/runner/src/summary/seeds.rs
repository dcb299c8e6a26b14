//! Figures and `summary.md` of an experiment repeated over seeds: per configuration, the mean
//! curve with its band, every seed's test accuracy, the pooled confusion matrix, and the
//! statistics.

use super::{data_line, dataset_of, setting_cells, setting_header};
use crate::error::Result;
use crate::layout::{ResultsDir, CONFUSION, CURVES, SEEDS};
use crate::schema::{ExperimentRecord, RunResult};
use std::fmt::Write;
use twinnet_core::stats::mean_sd;
use twinnet_core::{Confusion, CLASSES};
use twinnet_plot::{draw_confusions, draw_seed_curves, draw_seed_strip, GroupView, RunView};

/// One configuration's runs over the seeds.
pub(super) struct Group<'a> {
    pub(super) name: &'a str,
    pub(super) runs: Vec<&'a RunResult>,
}

pub(super) fn groups<'a>(exp: &'a ExperimentRecord, runs: &'a [RunResult]) -> Vec<Group<'a>> {
    exp.configurations()
        .into_iter()
        .filter_map(|(name, r)| Some(Group { name, runs: runs.get(r)?.iter().collect() }))
        .filter(|g| !g.runs.is_empty())
        .collect()
}

/// Figures and summary of an experiment repeated over seeds: per configuration, the mean curve
/// with its band, every seed's test accuracy, the pooled confusion matrix, and the statistics.
pub(super) fn render(dir: &ResultsDir, exp: &ExperimentRecord, runs: &[RunResult]) -> Result<()> {
    let gs = groups(exp, runs);
    let views: Vec<GroupView<'_>> = gs
        .iter()
        .map(|g| GroupView {
            label: g.name,
            histories: g.runs.iter().map(|r| r.history.as_slice()).collect(),
            test_accuracies: g.runs.iter().map(|r| r.test.as_ref().map(|t| t.accuracy)).collect(),
        })
        .collect();
    draw_seed_curves(&views, &exp.name, &dir.figure(CURVES))?;
    draw_seed_strip(&views, &exp.name, &dir.figure(SEEDS))?;
    let pooled: Vec<Option<Confusion>> = gs
        .iter()
        .map(|g| {
            let tests: Vec<&Confusion> =
                g.runs.iter().filter_map(|r| r.test.as_ref().map(|t| &t.confusion)).collect();
            (!tests.is_empty()).then(|| {
                let mut c = [[0u64; CLASSES]; CLASSES];
                for t in tests {
                    for (row, trow) in c.iter_mut().zip(&t.0) {
                        for (x, y) in row.iter_mut().zip(trow) {
                            *x += y;
                        }
                    }
                }
                Confusion(c)
            })
        })
        .collect();
    let rv: Vec<RunView<'_>> = gs
        .iter()
        .zip(&pooled)
        .map(|(g, c)| RunView {
            label: g.name,
            history: g.runs.first().map_or(&[][..], |r| &r.history[..]),
            confusion: c.as_ref(),
        })
        .collect();
    draw_confusions(
        &rv,
        &format!("{} (pooled over {} seeds)", exp.name, exp.seeds.len()),
        &dataset_of(runs).class_names(),
        &dir.figure(CONFUSION),
    )?;
    super::write_summary(dir, &summary(exp, &gs))
}

pub(super) fn summary(exp: &ExperimentRecord, gs: &[Group<'_>]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# {}

{}
",
        exp.name,
        exp.description.trim()
    );
    let seeds: Vec<String> = exp.seeds.iter().map(|x| x.to_string()).collect();
    let _ = writeln!(
        s,
        "Every configuration ran once per seed ({}: {}). Produced by `{}` on {} in {:.1} s in all.\n",
        exp.seeds.len(),
        seeds.join(", "),
        exp.command,
        exp.cpu,
        exp.total_s
    );
    let data = dataset_of(gs.iter().flat_map(|g| g.runs.first().copied()));
    data_line(&mut s, gs.iter().flat_map(|g| g.runs.first().copied()));
    let noun = data.class_noun();
    let (names, align) = setting_header();
    let _ = writeln!(s, "| configuration | backend | {names} | test accuracy mean ± sd | min – max | seeds with a collapsed {noun} | {} collapsed (seeds) | diverged | train time (mean) |", if noun == "digit" { "digits" } else { "classes" });
    let _ = writeln!(s, "|---|---|{align}|---:|---:|---:|---|---:|---:|");
    for g in gs {
        // Groups hold at least one run (`groups` drops empty ones).
        let Some(c) = g.runs.first().map(|r| &r.config) else { continue };
        let accs: Vec<f64> =
            g.runs.iter().filter_map(|r| r.test.as_ref().map(|t| t.accuracy)).collect();
        let diverged = g.runs.iter().filter(|r| r.test.is_none()).count();
        // A configuration whose every seed diverged has no test accuracy: dashes, not NaN/inf.
        let (acc_cell, range_cell) = if accs.is_empty() {
            ("–".to_string(), "–".to_string())
        } else {
            let (mean, sd) = mean_sd(&accs);
            let (lo, hi) =
                accs.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            (
                format!("{:.2}% ± {:.2}", 100.0 * mean, 100.0 * sd),
                format!("{:.2}% – {:.2}%", 100.0 * lo, 100.0 * hi),
            )
        };
        let collapsed_runs = g
            .runs
            .iter()
            .filter(|r| r.test.as_ref().is_some_and(|t| !t.collapsed.is_empty()))
            .count();
        let mut per_digit = [0usize; CLASSES];
        for r in &g.runs {
            for &k in r.test.as_ref().map_or(&[][..], |t| &t.collapsed[..]) {
                if let Some(n) = per_digit.get_mut(k as usize) {
                    *n += 1;
                }
            }
        }
        let digits: Vec<String> = per_digit
            .iter()
            .zip(data.class_names())
            .filter(|(&n, _)| n > 0)
            .map(|(n, name)| format!("{name} ({n})"))
            .collect();
        let train_s = g.runs.iter().map(|r| r.timing.train_s).sum::<f64>() / g.runs.len() as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {acc_cell} | {range_cell} | {collapsed_runs} / {} | {} | {diverged} | {train_s:.1} s |",
            g.name,
            c.backend,
            setting_cells(c),
            g.runs.len(),
            if digits.is_empty() { "–".to_string() } else { digits.join(", ") },
        );
    }
    let _ = write!(s, "\n## Per-{noun} test recall, mean ± sd over seeds (%)\n\n| configuration |");
    for name in data.class_names() {
        let _ = write!(s, " {name} |");
    }
    s.push_str("\n|---|");
    s.push_str(&"---:|".repeat(CLASSES));
    s.push('\n');
    for g in gs {
        let _ = write!(s, "| {} |", g.name);
        for k in 0..CLASSES {
            let rs: Vec<f64> = g
                .runs
                .iter()
                .filter_map(|r| r.test.as_ref().and_then(|t| t.per_class.get(k)).map(|m| m.recall))
                .collect();
            if rs.is_empty() {
                s.push_str(" – |");
            } else {
                let (m, sd) = mean_sd(&rs);
                let _ = write!(s, " {:.1} ± {:.1} |", 100.0 * m, 100.0 * sd);
            }
        }
        s.push('\n');
    }
    // Runs that evaluated during training (--eval-every) add the mean test accuracy, dashed.
    let tested = gs
        .iter()
        .flat_map(|g| &g.runs)
        .any(|r| r.history.iter().any(|h| h.test_accuracy.is_some()));
    let curves = if tested {
        "Mean train accuracy over seeds (band: min–max) and mean test accuracy (dashed, the epochs evaluated)"
    } else {
        "Mean train accuracy over seeds (band: min–max)"
    };
    let _ = write!(
        s,
        "\n## Figures\n\n{curves}, against epoch and against updates:\n\n![curves]({CURVES}.png)\n\nTest accuracy of every seed:\n\n![seeds]({SEEDS}.png)\n\nConfusion matrices pooled over the seeds:\n\n![confusion]({CONFUSION}.png)\n\nEach run's JSON (`<configuration>-seed<S>.json`) holds its own classification report.\n"
    );
    s
}
