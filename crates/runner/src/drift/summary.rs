//! A drift experiment's `summary.md` and figure, from its record alone.

use super::meets::FLOOR;
use super::record::DriftRecord;
use super::record::{Meeting, SettingRecord};
use super::MEET_FACTOR;
use crate::error::Result;
use crate::layout::ResultsDir;

/// The horizons (updates) at which summary tables show the drift.
const HORIZONS: [usize; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/// Writes `summary.md` and the figure into `dir`.
pub fn render(dir: &ResultsDir, record: &DriftRecord) -> Result<()> {
    draw(dir, record)?;
    let path = dir.summary();
    twinnet_core::file::write_atomic(&path, summary(record).as_bytes())
        .map_err(|e| crate::Error::io(&path, "cannot write", e))
}

/// One pair's two lines as figure points: drift against updates, and the train-accuracy
/// difference against updates.
struct PairLines {
    drift: Vec<(f64, f64)>,
    accuracy: Vec<(f64, f64)>,
}

/// Draws `drift.png`/`.svg` into `dir`.
fn draw(dir: &ResultsDir, record: &DriftRecord) -> Result<()> {
    let lines: Vec<Vec<PairLines>> = record
        .settings
        .iter()
        .map(|s| {
            s.pairs
                .iter()
                .map(|p| PairLines {
                    drift: p.drift.iter().map(|&(u, d)| (u as f64, d)).collect(),
                    accuracy: p
                        .train_accuracy_difference
                        .iter()
                        .map(|&(_, u, d)| (u as f64, d))
                        .collect(),
                })
                .collect()
        })
        .collect();
    let panels: Vec<twinnet_plot::DriftPanel> = record
        .settings
        .iter()
        .zip(&lines)
        .map(|(s, ls)| twinnet_plot::DriftPanel {
            title: &s.name,
            lines: s
                .pairs
                .iter()
                .zip(ls)
                .map(|(p, l)| twinnet_plot::DriftLine {
                    label: &p.label,
                    drift: &l.drift,
                    accuracy: &l.accuracy,
                })
                .collect(),
        })
        .collect();
    twinnet_plot::draw_drift(
        &panels,
        &format!("{}: how far identical starts drift apart", record.name),
        &dir.figure(crate::layout::DRIFT),
    )?;
    Ok(())
}

fn sci(x: f64) -> String {
    if x == 0.0 {
        "0".into()
    } else {
        format!("{x:.1e}")
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or("diverged".into(), |v| format!("{:.2}%", 100.0 * v))
}

/// `summary.md` of a drift experiment.
pub fn summary(record: &DriftRecord) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n\n{}\n", record.name, record.description.trim());
    let _ = writeln!(
        s,
        "Produced by `{}` on {}{} in {:.1} s in all.\n",
        record.command,
        record.cpu,
        record.cores.map_or(String::new(), |n| format!(" ({n} cores)")),
        record.total_s
    );
    let _ = writeln!(
        s,
        "Drift is `‖θa − θb‖ / ‖θa‖` over all parameters after the same number of updates; \
         each pair starts from identical weights (or weights one ulp apart) and sees the same \
         batches unless its seed differs.\n\n![drift](drift.png)\n"
    );
    for set in &record.settings {
        let _ = writeln!(s, "## {}\n", set.name);
        // A checked record has runs in every setting and pairs inside them.
        let Some(first) = set.runs.first() else { continue };
        let c = &first.result.config;
        let _ = writeln!(
            s,
            "{} network, {}, {} head, {} pixels, {} init (drawn by {}'s generator), lr {}, {} \
             epochs of {} update(s).\n",
            crate::summary::network_label(&c.model_config()),
            c.regime,
            c.head,
            c.normalize,
            c.init,
            c.init_rng,
            c.lr,
            c.epochs,
            first.result.updates_per_epoch
        );
        let total = set.pairs.iter().flat_map(|p| p.drift.last()).map(|d| d.0).max().unwrap_or(0);
        let horizons: Vec<usize> =
            HORIZONS.iter().copied().filter(|&h| h < total).chain([total]).collect();
        let _ = write!(s, "| source | a | b |");
        for h in &horizons {
            let _ = write!(s, " drift after {h} |");
        }
        let _ = writeln!(s, " largest train-acc difference | test acc a | test acc b | largest recall change | identical bits |");
        let _ =
            writeln!(s, "|---|---|---|{}---:|---:|---:|---:|---|", "---:|".repeat(horizons.len()));
        let describe = |i: usize| {
            let Some(r) = set.runs.get(i) else { return "–".to_string() };
            let c = &r.result.config;
            let mut d = format!("{} {}t seed {}", c.backend, c.threads, c.seed);
            if let Some(n) = &r.nudge {
                let _ = write!(d, ", {n}");
            }
            d
        };
        for p in &set.pairs {
            let _ = write!(s, "| {} | {} | {} |", p.label, describe(p.a), describe(p.b));
            for &h in &horizons {
                let _ = write!(s, " {} |", p.drift_at(h).map_or("–".into(), sci));
            }
            let largest = p
                .recall_difference
                .iter()
                .enumerate()
                .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
                .map_or("–".into(), |(k, &d)| {
                    if d == 0.0 {
                        "0".into()
                    } else {
                        format!("{:+.2} pt (class {k})", 100.0 * d)
                    }
                });
            let train = p
                .train_accuracy_difference
                .iter()
                .max_by(|x, y| x.2.abs().total_cmp(&y.2.abs()))
                .map_or("–".into(), |&(e, _, d)| {
                    if d == 0.0 {
                        "0".into()
                    } else {
                        format!("{:+.3} pt (epoch {e})", 100.0 * d)
                    }
                });
            let _ = writeln!(
                s,
                " {train} | {} | {} | {largest} | {} |",
                pct(p.test_accuracy.0),
                pct(p.test_accuracy.1),
                if p.identical { "yes" } else { "no" }
            );
        }
        let _ = writeln!(s);
        for p in set.pairs.iter().filter(|p| !p.meets.is_empty()) {
            let _ = writeln!(
                s,
                "Is the drift of *{}* at most {MEET_FACTOR}× the floor, and within a factor \
                 {MEET_FACTOR} of each source (either way); from when on does it stay so?\n",
                p.label
            );
            for m in &p.meets {
                let _ = writeln!(s, "- {}", meeting_line(set, m, total));
            }
            let _ = writeln!(s);
        }
    }
    s
}

/// One meeting, in words: from when it stays within, when it first came within, the largest
/// ratio after, the share of samples outside, the ratio at the end.
fn meeting_line(set: &SettingRecord, m: &Meeting, total: usize) -> String {
    let who = if m.source == FLOOR {
        let set_by: Vec<String> =
            m.set_by.iter().map(|(src, n)| format!("*{}* at {n}", set.label_of(src))).collect();
        format!(
            "*the floor* (at each update the largest of the floor pairs; samples where each \
             sets it: {})",
            set_by.join(", ")
        )
    } else {
        format!("*{}*", set.label_of(&m.source))
    };
    let stays = match (m.stays_from, m.first_within) {
        (Some(u), Some(f)) if u == f => format!("within from update {u} on"),
        (Some(u), Some(f)) => format!(
            "first within at update {f}, but within **from update {u} on** only (largest ratio \
             after update {f}: {}; outside the factor at {:.0}% of the samples)",
            ratio(m.largest_after),
            100.0 * m.share_outside
        ),
        (None, Some(f)) => format!(
            "first within at update {f}, **not within at the end** (largest ratio after: {}; \
             outside at {:.0}% of the samples)",
            ratio(m.largest_after),
            100.0 * m.share_outside
        ),
        _ => format!("never within the {total} updates"),
    };
    format!("{who}: {stays}; at the end {} of it.", ratio(m.ratio_at_end))
}

fn ratio(r: f64) -> String {
    if r.is_nan() {
        "no comparison (one drift is zero throughout)".into()
    } else if r >= 0.1 {
        format!("{r:.2}×")
    } else {
        format!("{r:.1e}×")
    }
}
