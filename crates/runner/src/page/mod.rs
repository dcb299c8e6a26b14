//! A results folder as its interactive page (`index.html`, [`twinnet_page`]), and the index of
//! every folder under a results root (`results/index.html`).

use crate::error::{Error, Result};
use crate::layout::ResultsDir;
use crate::schema::{ExperimentRecord, RunResult, Status};
use serde_json::{json, Value};
use twinnet_core::stats::mean_sd;
use twinnet_core::CLASSES;
use twinnet_page::{colour, dash, Heatmap, Page, SeedStrip, StripRow, Table};

/// The page's file name in a results folder.
pub const INDEX_HTML: &str = "index.html";

/// `x` to `d` significant digits (the page's JSON stays small); non-finite as `null`.
fn sig(x: f64, d: i32) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    if x == 0.0 {
        return json!(0.0);
    }
    let p = 10f64.powi(d - 1 - x.abs().log10().floor() as i32);
    json!((x * p).round() / p)
}

/// The page's line on where it came from: the command, the CPU and the time it took.
fn produced(command: &str, cpu: &str, cores: Option<usize>, total_s: f64) -> String {
    let cores = cores.map_or(String::new(), |n| format!(" ({n} cores)"));
    format!("Produced by `{command}` on {cpu}{cores} in {total_s:.1} s in all.")
}

fn pct(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// One run's curves, as the page's script draws them.
fn run_data(i: usize, r: &RunResult, group: Option<&str>) -> Value {
    let h = &r.history;
    json!({
        "name": r.config.name,
        "group": group,
        "color": colour(i),
        "dash": dash(i),
        "epoch": h.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        "step": h.iter().map(|e| e.step).collect::<Vec<_>>(),
        "seconds": h.iter().map(|e| sig(e.elapsed_s, 4)).collect::<Vec<_>>(),
        "acc": h.iter().map(|e| sig(e.train_accuracy, 5)).collect::<Vec<_>>(),
        "loss": h.iter().map(|e| sig(e.train_loss, 5)).collect::<Vec<_>>(),
    })
}

fn class_names(results: &[RunResult]) -> Vec<String> {
    let d = results.first().map(|r| r.config.dataset).unwrap_or_default();
    d.class_names().iter().map(|s| s.to_string()).collect()
}

fn confusion_rows(c: &twinnet_core::Confusion) -> Vec<Vec<u64>> {
    c.0.iter().map(|r| r.to_vec()).collect()
}

/// The runs table of an experiment.
fn runs_table(results: &[RunResult], classes: &[String]) -> Table {
    let settings = crate::summary::setting_columns(&crate::settings::Settings::default().resolve());
    let header = ["run", "backend"].into_iter().chain(settings.iter().map(|c| c.0)).chain([
        "updates",
        "final train acc",
        "test acc",
        "never predicts",
        "train s",
        "threads",
        "status",
    ]);
    let rows = results
        .iter()
        .map(|r| {
            let c = &r.config;
            let last = r.history.last();
            let collapsed = r.test.as_ref().map_or(String::new(), |t| {
                t.collapsed
                    .iter()
                    .filter_map(|&k| classes.get(k as usize).cloned())
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let backend = match (&c.command, c.backend) {
                (Some(cmd), _) => format!("process: {cmd}"),
                (None, b) => b.to_string(),
            };
            let settings = crate::summary::setting_columns(c).map(|col| col.1);
            [c.name.clone(), backend]
                .into_iter()
                .chain(settings)
                .chain([
                    last.map_or(0, |h| h.step).to_string(),
                    pct(last.map(|h| h.train_accuracy)),
                    pct(r.test.as_ref().map(|t| t.accuracy)),
                    collapsed,
                    format!("{:.1}", r.timing.train_s),
                    r.environment.threads.to_string(),
                    match (&r.status, &r.divergence) {
                        (Status::Diverged, Some(d)) => {
                            format!("diverged at epoch {}, step {}", d.epoch, d.step)
                        }
                        _ => "completed".into(),
                    },
                ])
                .collect()
        })
        .collect();
    Table { title: "Runs".into(), header: header.map(|s| s.to_string()).collect(), rows }
}

/// What computed the runs: one row per distinct environment.
fn environment_table(results: &[RunResult]) -> Table {
    let mut rows: Vec<Vec<String>> = vec![];
    for r in results {
        let e = &r.environment;
        let numerics: Vec<String> = e.numerics.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let row = vec![
            e.backend_library.clone(),
            e.device.clone(),
            e.cpu.clone(),
            e.cpu_features.clone(),
            numerics.join("; "),
            e.os.clone(),
            format!("twinnet {}", e.twinnet),
        ];
        if !rows.contains(&row) {
            rows.push(row);
        }
    }
    let header = ["library", "device", "CPU", "CPU features", "numerics", "OS", "version"];
    Table {
        title: "Environment".into(),
        header: header.iter().map(|s| s.to_string()).collect(),
        rows,
    }
}

/// The page of an experiment folder.
pub fn experiment_page(record: &ExperimentRecord, results: &[RunResult]) -> Page {
    let classes = class_names(results);
    let seeds = !record.seeds.is_empty();
    let configs = record.configurations();
    let group_of = |i: usize| configs.iter().find(|(_, r)| r.contains(&i)).map(|(n, _)| *n);
    let runs: Vec<Value> = results
        .iter()
        .enumerate()
        .map(|(i, r)| run_data(i, r, if seeds { group_of(i) } else { None }))
        .collect();
    let groups: Vec<Value> = if seeds {
        configs
            .iter()
            .enumerate()
            .map(|(g, (name, range))| {
                let members: Vec<usize> = range.clone().filter(|&i| i < results.len()).collect();
                json!({"name": name, "color": colour(g), "dash": dash(g), "runs": members})
            })
            .collect()
    } else {
        vec![]
    };
    let mut tables = vec![];
    let mut heatmaps = vec![];
    let mut strip = None;
    if seeds {
        tables.push(seeds_table(&configs, results, &classes));
        let mut rows = vec![];
        for (g, (name, range)) in configs.iter().enumerate() {
            let members: Vec<&RunResult> = range.clone().filter_map(|i| results.get(i)).collect();
            let mut pooled = vec![vec![0u64; CLASSES]; CLASSES];
            let mut any = false;
            for t in members.iter().filter_map(|r| r.test.as_ref()) {
                any = true;
                for (prow, trow) in pooled.iter_mut().zip(&t.confusion.0) {
                    for (p, x) in prow.iter_mut().zip(trow) {
                        *p += x;
                    }
                }
            }
            if any {
                heatmaps.push(Heatmap {
                    label: format!("{name} (pooled over {} seeds)", members.len()),
                    classes: classes.clone(),
                    counts: pooled,
                });
            }
            let seeds_of = members
                .iter()
                .map(|r| {
                    let collapsed = r.test.as_ref().map_or(vec![], |t| {
                        t.collapsed
                            .iter()
                            .filter_map(|&k| classes.get(k as usize).cloned())
                            .collect()
                    });
                    (r.config.seed, r.test.as_ref().map(|t| t.accuracy), collapsed)
                })
                .collect();
            rows.push(StripRow { name: name.to_string(), colour: colour(g), seeds: seeds_of });
        }
        strip = Some(SeedStrip { rows });
    } else {
        for r in results {
            if let Some(t) = &r.test {
                heatmaps.push(Heatmap {
                    label: r.config.name.clone(),
                    classes: classes.clone(),
                    counts: confusion_rows(&t.confusion),
                });
            }
        }
        for r in results {
            if let Some(t) = &r.test {
                let rows = t
                    .per_class
                    .iter()
                    .zip(&classes)
                    .map(|(m, name)| {
                        vec![
                            name.clone(),
                            format!("{:.2}", m.precision),
                            format!("{:.2}", m.recall),
                            format!("{:.2}", m.f1),
                            m.support.to_string(),
                        ]
                    })
                    .collect();
                let header = ["class", "precision", "recall", "f1-score", "support"];
                tables.push(Table {
                    title: format!(
                        "Classification report: {} (accuracy {:.2}%)",
                        r.config.name,
                        100.0 * t.accuracy
                    ),
                    header: header.iter().map(|s| s.to_string()).collect(),
                    rows,
                });
            }
        }
    }
    tables.insert(0, runs_table(results, &classes));
    tables.push(environment_table(results));
    Page {
        title: record.name.clone(),
        description: record.description.trim().to_string(),
        produced: produced(&record.command, &record.cpu, record.cores, record.total_s),
        data: json!({"kind": "experiment", "runs": runs, "groups": groups}),
        tables,
        heatmaps,
        strip,
    }
}

/// Per configuration over seeds: test accuracy mean ± sd, range, collapses; recall per class.
fn seeds_table(
    configs: &[(&str, std::ops::Range<usize>)],
    results: &[RunResult],
    classes: &[String],
) -> Table {
    let mut header: Vec<String> = [
        "configuration",
        "seeds",
        "test accuracy mean ± sd",
        "min – max",
        "seeds with a collapse",
        "diverged",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(classes.iter().map(|c| format!("recall {c}")));
    let rows = configs
        .iter()
        .map(|(name, range)| {
            let members: Vec<&RunResult> = range.clone().filter_map(|i| results.get(i)).collect();
            let accs: Vec<f64> =
                members.iter().filter_map(|r| r.test.as_ref().map(|t| t.accuracy)).collect();
            let (acc, span) = if accs.is_empty() {
                ("–".into(), "–".into())
            } else {
                let (m, sd) = mean_sd(&accs);
                let (lo, hi) =
                    accs.iter().fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
                (
                    format!("{:.2}% ± {:.2}", 100.0 * m, 100.0 * sd),
                    format!("{:.2}% – {:.2}%", 100.0 * lo, 100.0 * hi),
                )
            };
            let collapses = members
                .iter()
                .filter(|r| r.test.as_ref().is_some_and(|t| !t.collapsed.is_empty()))
                .count();
            let diverged = members.iter().filter(|r| r.test.is_none()).count();
            let mut row = vec![
                name.to_string(),
                members.len().to_string(),
                acc,
                span,
                collapses.to_string(),
                diverged.to_string(),
            ];
            for k in 0..classes.len() {
                let rs: Vec<f64> = members
                    .iter()
                    .filter_map(|r| {
                        r.test.as_ref().and_then(|t| t.per_class.get(k)).map(|m| m.recall)
                    })
                    .collect();
                row.push(if rs.is_empty() {
                    "–".into()
                } else {
                    let (m, sd) = mean_sd(&rs);
                    format!("{:.1} ± {:.1}", 100.0 * m, 100.0 * sd)
                });
            }
            row
        })
        .collect();
    Table { title: "Per configuration, over its seeds".into(), header, rows }
}

mod drift;
mod index;

pub use drift::drift_page;
pub use index::write_index;

/// Writes `page` as `dir/index.html`.
pub fn write(dir: &ResultsDir, page: &Page) -> Result<()> {
    let html = twinnet_page::render(page)?;
    let path = dir.file(INDEX_HTML);
    twinnet_core::file::write_atomic(&path, html.as_bytes())
        .map_err(|e| Error::io(&path, "cannot write", e))
}
