//! A results folder's figures and `summary.md`, drawn from its JSON alone.

use crate::config::RunConfig;
use crate::result::{read_json, ExperimentRecord, RunResult, Status};
use anyhow::{Context, Result};
use std::fmt::Write;
use std::path::Path;
use twinnet_core::stats::mean_sd;
use twinnet_core::{Confusion, CLASSES};
use twinnet_data::DatasetName;
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
    exp.configurations()
        .into_iter()
        .filter(|(_, r)| r.start < runs.len())
        .map(|(name, r)| Group {
            name,
            runs: runs[r.start..r.end.min(runs.len())].iter().collect(),
        })
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
    let classes = dataset_of(runs).class_names();
    draw_confusions(&views, &exp.name, &classes, &dir.join(CONFUSION))?;
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
    match (&c.init_from, c.init_rng) {
        (Some(p), _) => format!("file `{}`", p.display()),
        (None, Some(twinnet_core::InitRng::Torch)) => format!("{} (torch rng)", c.init),
        (None, _) => c.init.to_string(),
    }
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
    let data = dataset_of(runs);
    data_line(&mut s, runs);
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
                format!("**collapsed**: never predicts {}", class_list(data, &t.collapsed))
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
                let _ = write!(s, "```text\n{}```\n", t.report);
            }
            None => s.push_str("Diverged: no test evaluation of a broken model.\n"),
        }
    }
    s
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
        &dataset_of(runs).class_names(),
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
    let data = dataset_of(gs.iter().flat_map(|g| g.runs.first().copied()));
    data_line(&mut s, gs.iter().flat_map(|g| g.runs.first().copied()));
    let noun = data.class_noun();
    let _ = writeln!(s, "| configuration | backend | regime | head | init | normalize | epochs | test accuracy mean ± sd | min – max | seeds with a collapsed {noun} | {} collapsed (seeds) | diverged | train time (mean) |", if noun == "digit" { "digits" } else { "classes" });
    s.push_str("|---|---|---|---|---|---|---:|---:|---:|---:|---|---:|---:|\n");
    for g in gs {
        let c = &g.runs[0].config;
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
                per_digit[k as usize] += 1;
            }
        }
        let digits: Vec<String> = per_digit
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(k, n)| format!("{} ({n})", data.class_names()[k]))
            .collect();
        let regime = regime_label(c);
        let train_s = g.runs.iter().map(|r| r.timing.train_s).sum::<f64>() / g.runs.len() as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {regime} | {} | {} | {} | {} | {acc_cell} | {range_cell} | {collapsed_runs} / {} | {} | {diverged} | {train_s:.1} s |",
            g.name,
            c.backend,
            c.head,
            init_label(c),
            c.normalize,
            c.epochs,
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

/// The dataset of the results (MNIST for results made before it was recorded).
fn dataset_of<'a>(runs: impl IntoIterator<Item = &'a RunResult>) -> DatasetName {
    runs.into_iter().next().and_then(|r| r.config.dataset).unwrap_or_default()
}

/// Names of classes `ks`: `5, 6, 9` for MNIST, `Coat, Shirt` for Fashion-MNIST.
fn class_list(data: DatasetName, ks: &[u8]) -> String {
    let names = data.class_names();
    ks.iter().map(|&k| names[k as usize]).collect::<Vec<_>>().join(", ")
}

/// One line naming the data and whether its files are the pinned ones (when recorded).
fn data_line<'a>(s: &mut String, runs: impl IntoIterator<Item = &'a RunResult>) {
    let records: Vec<_> = runs.into_iter().filter_map(|r| r.data.as_ref()).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::result::{Environment, TestResult, Timing};
    use twinnet_core::{Divergence, EpochRecord};

    /// A run of configuration `config`, seed `seed`: `Some(acc)` completed with that test
    /// accuracy, `None` diverged.
    fn run(config: &str, seed: u64, acc: Option<f64>) -> RunResult {
        let mut c = Settings::default().resolve();
        c.name = format!("{config}-seed{seed}");
        c.seed = seed;
        c.epochs = 3;
        let history: Vec<EpochRecord> = (1..=3)
            .map(|e| EpochRecord {
                epoch: e,
                step: e,
                train_loss: 1.0 / e as f64,
                train_accuracy: 0.5 + 0.1 * e as f64 + 0.01 * seed as f64,
                elapsed_s: e as f64,
            })
            .collect();
        let test = acc.map(|a| {
            // 100 test images, 10 per digit; `a · 100` of them right.
            let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
            let right = (a * 100.0).round() as usize;
            let preds: Vec<u8> = labels
                .iter()
                .enumerate()
                .map(|(i, &l)| {
                    if i < right {
                        l
                    } else if l == 9 {
                        0
                    } else {
                        (l + 1) % 9
                    }
                })
                .collect();
            TestResult::new(Confusion::new(&labels, &preds), 0.5, DatasetName::Mnist)
        });
        let divergence = acc.is_none().then(|| Divergence {
            epoch: 1,
            step: 1,
            loss: "NaN".into(),
            reason: "the loss is not a finite number".into(),
        });
        RunResult {
            config: c,
            environment: Environment {
                twinnet: "test".into(),
                backend_library: "test".into(),
                device: "cpu".into(),
                cpu: "test".into(),
                cpu_features: String::new(),
                numerics: Default::default(),
                threads: 1,
                os: "test".into(),
            },
            data: None,
            config_hash: None,
            initial: None,
            status: if acc.is_some() { Status::Completed } else { Status::Diverged },
            divergence,
            updates_per_epoch: 1,
            history,
            test,
            timing: Timing { train_s: 1.0, per_epoch_s: 1.0 / 3.0, eval_s: 0.1 },
        }
    }

    /// Two configurations over seeds 0, 1: `good` (80% and 90%) and `broken` (every seed
    /// diverged).
    fn sweep() -> (ExperimentRecord, Vec<RunResult>) {
        let runs = vec![
            run("good", 0, Some(0.8)),
            run("good", 1, Some(0.9)),
            run("broken", 0, None),
            run("broken", 1, None),
        ];
        let exp = ExperimentRecord {
            name: "sweep".into(),
            description: "a test sweep".into(),
            runs: runs.iter().map(|r| r.config.name.clone()).collect(),
            configs: vec!["good".into(), "broken".into()],
            seeds: vec![0, 1],
            total_s: 4.0,
            cpu: "test".into(),
            command: "twinnet run sweep.toml".into(),
        };
        (exp, runs)
    }

    #[test]
    fn mean_and_sample_sd() {
        // Python: statistics.mean([1, 2, 3, 4]), statistics.stdev([1, 2, 3, 4])
        let (m, sd) = mean_sd(&[1.0, 2.0, 3.0, 4.0]);
        assert!((m - 2.5).abs() < 1e-15 && (sd - 1.2909944487358056).abs() < 1e-15, "{m} {sd}");
        assert_eq!(mean_sd(&[0.7]), (0.7, 0.0), "one seed: sd 0");
    }

    #[test]
    fn runs_group_by_configuration_in_order() {
        let (exp, runs) = sweep();
        let gs = groups(&exp, &runs);
        let names: Vec<(&str, Vec<&str>)> = gs
            .iter()
            .map(|g| (g.name, g.runs.iter().map(|r| r.config.name.as_str()).collect()))
            .collect();
        assert_eq!(
            names,
            [
                ("good", vec!["good-seed0", "good-seed1"]),
                ("broken", vec!["broken-seed0", "broken-seed1"])
            ]
        );
    }

    #[test]
    fn seed_summary_statistics_and_all_diverged_configuration() {
        let (exp, runs) = sweep();
        let md = summary_seeds(&exp, &groups(&exp, &runs));
        // Python: statistics.stdev([0.8, 0.9]) = 0.0707…, so 85.00% ± 7.07.
        let good = md.lines().find(|l| l.starts_with("| good |")).unwrap();
        assert!(good.contains("| 85.00% ± 7.07 | 80.00% – 90.00% |"), "{good}");
        assert!(good.contains("| 0 / 2 | – | 0 |"), "no collapse, no divergence: {good}");
        let broken = md.lines().find(|l| l.starts_with("| broken |")).unwrap();
        assert!(broken.contains("| – | – | 0 / 2 | – | 2 |"), "{broken}");
        assert!(!md.contains("inf") && !md.contains("NaN"), "{md}");
        let recall = md.lines().filter(|l| l.starts_with("| broken |")).nth(1).unwrap();
        assert_eq!(recall, format!("| broken |{}", " – |".repeat(CLASSES)));
    }

    #[test]
    fn seed_figures_are_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let (exp, runs) = sweep();
        render(dir.path(), &exp, &runs).unwrap();
        for name in [CURVES, SEEDS, CONFUSION] {
            for ext in ["png", "svg"] {
                let f = dir.path().join(format!("{name}.{ext}"));
                assert!(std::fs::metadata(&f).unwrap().len() > 1000, "{}", f.display());
            }
        }
        let md = std::fs::read_to_string(dir.path().join(SUMMARY)).unwrap();
        assert!(md.starts_with("# sweep"), "{md}");
    }
}
