//! A results folder's figures and `summary.md`, drawn from its JSON alone.

use crate::config::RunConfig;
use crate::result::{read_json, ExperimentRecord, RunResult, Status};
use anyhow::{Context, Result};
use std::fmt::Write;
use std::path::Path;
use twinnet_core::{Confusion, CLASSES};
use twinnet_plot::{
    draw_confusions, draw_curves, draw_seed_curves, draw_seed_strip, GroupView, RunView,
};

/// File names of the figures (each also as `.svg`) and the summary.
pub const CURVES: &str = "curves";
/// See [`CURVES`].
pub const CONFUSION: &str = "confusion";
/// See [`CURVES`].
pub const SUMMARY: &str = "summary.md";
/// The experiment's own JSON.
pub const EXPERIMENT_JSON: &str = "experiment.json";
/// The per-seed test accuracy strip (experiments with seeds).
pub const SEEDS: &str = "seeds";

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

/// One configuration's runs over the seeds.
struct Group<'a> {
    name: &'a str,
    runs: Vec<&'a RunResult>,
}

fn groups<'a>(exp: &'a ExperimentRecord, runs: &'a [RunResult]) -> Vec<Group<'a>> {
    let k = exp.seeds.len().max(1);
    exp.configs
        .iter()
        .zip(runs.chunks(k))
        .map(|(name, rs)| Group { name, runs: rs.iter().collect() })
        .collect()
}

/// Draws the figures and writes `summary.md` into `dir`.
pub fn render(dir: &Path, exp: &ExperimentRecord, runs: &[RunResult]) -> Result<()> {
    if !exp.seeds.is_empty() {
        return render_seeds(dir, exp, runs);
    }
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
    twinnet_core::file::write_atomic(&dir.join(SUMMARY), md.as_bytes())
        .with_context(|| format!("{}: cannot write", dir.join(SUMMARY).display()))
}

/// `full-batch`, or `minibatch B`.
fn regime_label(c: &RunConfig) -> String {
    match c.regime {
        twinnet_core::Regime::Minibatch => format!("minibatch {}", c.batch_size),
        twinnet_core::Regime::FullBatch => "full-batch".into(),
    }
}

/// The init, or the parameter file the run started from.
fn init_label(c: &RunConfig) -> String {
    c.init_from.as_ref().map_or(c.init.to_string(), |p| format!("file `{}`", p.display()))
}

fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// The text of `summary.md`.
pub fn summary(exp: &ExperimentRecord, runs: &[RunResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n\n{}\n", exp.name, exp.description.trim());
    let _ = writeln!(
        s,
        "Produced by `{}` on {} in {:.1} s in all.\n",
        exp.command, exp.cpu, exp.total_s
    );
    s.push_str("| run | backend | regime | head | init | normalize | epochs | updates | final train acc | test acc | train time | threads | status |\n");
    s.push_str("|---|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for r in runs {
        let c = &r.config;
        let last = r.history.last();
        let regime = regime_label(c);
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
            "| {} | {} | {regime} | {} | {} | {} | {} | {steps} | {} | {} | {:.1} s | {} | {status} |",
            c.name,
            c.backend,
            c.head,
            init_label(c),
            c.normalize,
            c.epochs,
            last.map_or("–".into(), |h| pct(h.train_accuracy)),
            r.test.as_ref().map_or("–".into(), |t| pct(t.accuracy)),
            r.timing.train_s,
            r.environment.threads,
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

/// Mean and (sample) standard deviation.
fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Figures and summary of an experiment repeated over seeds: per configuration, the mean curve
/// with its band, every seed's test accuracy, the pooled confusion matrix, and the statistics.
fn render_seeds(dir: &Path, exp: &ExperimentRecord, runs: &[RunResult]) -> Result<()> {
    let gs = groups(exp, runs);
    let views: Vec<GroupView<'_>> = gs
        .iter()
        .map(|g| GroupView {
            label: g.name,
            histories: g.runs.iter().map(|r| r.history.as_slice()).collect(),
            test_accuracies: g.runs.iter().map(|r| r.test.as_ref().map(|t| t.accuracy)).collect(),
        })
        .collect();
    draw_seed_curves(&views, &exp.name, &dir.join(CURVES))?;
    draw_seed_strip(&views, &exp.name, &dir.join(SEEDS))?;
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
        .map(|(g, c)| RunView { label: g.name, history: &g.runs[0].history, confusion: c.as_ref() })
        .collect();
    draw_confusions(
        &rv,
        &format!("{} (pooled over {} seeds)", exp.name, exp.seeds.len()),
        &dir.join(CONFUSION),
    )?;
    let md = summary_seeds(exp, &gs);
    twinnet_core::file::write_atomic(&dir.join(SUMMARY), md.as_bytes())
        .with_context(|| format!("{}: cannot write", dir.join(SUMMARY).display()))
}

fn summary_seeds(exp: &ExperimentRecord, gs: &[Group<'_>]) -> String {
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
    s.push_str("| configuration | backend | regime | head | init | normalize | epochs | test accuracy mean ± sd | min – max | seeds with a collapsed digit | digits collapsed (seeds) | diverged | train time (mean) |\n");
    s.push_str("|---|---|---|---|---|---|---:|---:|---:|---:|---|---:|---:|\n");
    for g in gs {
        let c = &g.runs[0].config;
        let accs: Vec<f64> =
            g.runs.iter().filter_map(|r| r.test.as_ref().map(|t| t.accuracy)).collect();
        let diverged = g.runs.iter().filter(|r| r.test.is_none()).count();
        let (mean, sd) = if accs.is_empty() { (f64::NAN, f64::NAN) } else { mean_sd(&accs) };
        let (lo, hi) = accs.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        let collapsed_runs = g
            .runs
            .iter()
            .filter(|r| r.test.as_ref().is_some_and(|t| !t.collapsed.is_empty()))
            .count();
        let mut per_digit = [0usize; CLASSES];
        for r in &g.runs {
            for &k in r.test.as_ref().map_or(&[][..], |t| &t.collapsed[..]) {
                per_digit[k as usize] += 1;
            }
        }
        let digits: Vec<String> = per_digit
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(k, n)| format!("{k} ({n})"))
            .collect();
        let regime = regime_label(c);
        let train_s = g.runs.iter().map(|r| r.timing.train_s).sum::<f64>() / g.runs.len() as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {regime} | {} | {} | {} | {} | {:.2}% ± {:.2} | {:.2}% – {:.2}% | {collapsed_runs} / {} | {} | {diverged} | {train_s:.1} s |",
            g.name,
            c.backend,
            c.head,
            init_label(c),
            c.normalize,
            c.epochs,
            100.0 * mean,
            100.0 * sd,
            100.0 * lo,
            100.0 * hi,
            g.runs.len(),
            if digits.is_empty() { "–".to_string() } else { digits.join(", ") },
        );
    }
    s.push_str("\n## Per-digit test recall, mean ± sd over seeds (%)\n\n| configuration |");
    for k in 0..CLASSES {
        let _ = write!(s, " {k} |");
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
                .filter_map(|r| r.test.as_ref().map(|t| t.per_class[k].recall))
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
    let _ = write!(
        s,
        "\n## Figures\n\nMean train accuracy over seeds (band: min–max), against epoch and against updates:\n\n![curves]({CURVES}.png)\n\nTest accuracy of every seed:\n\n![seeds]({SEEDS}.png)\n\nConfusion matrices pooled over the seeds:\n\n![confusion]({CONFUSION}.png)\n\nEach run's JSON (`<configuration>-seed<S>.json`) holds its own classification report.\n"
    );
    s
}
