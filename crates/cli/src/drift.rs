//! `twinnet drift EXP.toml`: the noise floor. Pairs of runs that start from identical weights
//! and see the same batches, differing in one thing only (the framework, the thread count, one
//! weight moved by one ulp, the seed), trained side by side; how far their parameters drift
//! apart after each update, how their train accuracy differs per epoch, and where they end.
//!
//! ```toml
//! description = "what the experiment shows"     # required
//! [[setting]]                                   # one or more: any settings of `twinnet train`
//! name = "numpy-model"
//! regime = "full-batch"
//! [[source]]                                    # one or more: a pair of runs per setting
//! name = "framework"                            # required, unique
//! a = { backend = "ndarray" }                   # settings over the setting's, side a
//! b = { backend = "tch" }                       # side b
//! nudge = { tensor = "fc1.weight", index = [0, 406] }   # optional: b starts one ulp off there
//! ```
//! Both sides of a pair must make the same updates (regime, batch size, epochs), so that their
//! parameters are compared after the same number of updates. A run that several pairs share
//! (same settings, same nudge) is trained once.

use crate::config::{RunConfig, Settings};
use crate::data::Data;
use crate::progress::Progress;
use crate::result::RunResult;
use crate::run::{self, Probe};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use twinnet_core::drift::{relative_difference, schedule, Nudge};
use twinnet_core::Params;

/// The record's file name in a drift results folder.
pub const DRIFT_JSON: &str = "drift.json";

/// Snapshots per decade of updates (besides one at each epoch's end).
pub const PER_DECADE: usize = 20;

/// Two drifts within this factor of each other are "as large as" each other.
pub const MEET_FACTOR: f64 = 2.0;

/// The horizons (updates) at which summary tables show the drift.
const HORIZONS: [usize; 7] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    #[serde(default)]
    setting: Vec<Settings>,
    #[serde(default)]
    source: Vec<SourceSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSpec {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    a: Settings,
    #[serde(default)]
    b: Settings,
    #[serde(default)]
    nudge: Option<Nudge>,
    /// Sources whose drift this one's is compared with: after how many updates the two are
    /// within [`MEET_FACTOR`] of each other.
    #[serde(default)]
    meets: Vec<String>,
}

/// A parsed drift experiment.
#[derive(Debug, Clone)]
pub struct DriftExperiment {
    /// The file's stem.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The file's text.
    pub source: String,
    /// Every setting with its pairs.
    pub settings: Vec<SettingPlan>,
}

/// One setting: the distinct runs it needs and its pairs of them.
#[derive(Debug, Clone)]
pub struct SettingPlan {
    /// The setting's name.
    pub name: String,
    /// Distinct runs: settings and nudge.
    pub runs: Vec<(RunConfig, Option<Nudge>)>,
    /// The pairs, in file order.
    pub pairs: Vec<PairPlan>,
}

/// One source of difference in one setting.
#[derive(Debug, Clone)]
pub struct PairPlan {
    /// The source's name.
    pub source: String,
    /// Its legend text.
    pub label: String,
    /// Index of side a in [`SettingPlan::runs`].
    pub a: usize,
    /// Index of side b.
    pub b: usize,
    /// Sources to compare this one's drift with.
    pub meets: Vec<String>,
}

impl DriftExperiment {
    /// Reads `path`; `overrides` (flags) win over every run's settings.
    pub fn load(path: &Path, overrides: &Settings) -> Result<Self> {
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        Self::parse(path, &source, overrides)
    }

    /// Parses an experiment's text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, source: &str, overrides: &Settings) -> Result<Self> {
        let p = path.display();
        let file: File = toml::from_str(source).map_err(|e| anyhow::anyhow!("{p}: {e}"))?;
        if file.setting.is_empty() || file.source.is_empty() {
            bail!("{p}: a drift experiment needs at least one [[setting]] and one [[source]]");
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let name_ok = |n: &str| {
            !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let mut seen = HashSet::new();
        for s in &file.source {
            if !name_ok(&s.name) {
                bail!("{p}: source name `{}` must be letters, digits, `-`, `_`, `.`", s.name);
            }
            if !seen.insert(&s.name) {
                bail!("{p}: two sources are named `{}`", s.name);
            }
        }
        for s in &file.source {
            if let Some(m) = s.meets.iter().find(|m| !seen.contains(m) || **m == s.name) {
                bail!("{p}: source `{}`: meets: `{m}` is not another source of the file", s.name);
            }
        }
        let mut settings = vec![];
        let mut seen = HashSet::new();
        for (i, setting) in file.setting.iter().enumerate() {
            let Some(sname) = setting.name.clone().filter(|n| name_ok(n)) else {
                bail!("{p}: setting #{} needs a `name` of letters, digits, `-`, `_`, `.`", i + 1);
            };
            if !seen.insert(sname.clone()) {
                bail!("{p}: two settings are named `{sname}`");
            }
            let mut plan = SettingPlan { name: sname.clone(), runs: vec![], pairs: vec![] };
            for src in &file.source {
                let side =
                    |s: &Settings, nudge: Option<&Nudge>| -> Result<(RunConfig, Option<Nudge>)> {
                        let mut c = overrides.clone().or(&s.clone().or(setting)).resolve();
                        c.name = String::new();
                        c.log_every = 1;
                        c.init_from = c.init_from.map(|f| {
                            if overrides.init_from.is_some() || f.is_absolute() {
                                f
                            } else {
                                base.join(f)
                            }
                        });
                        if let Some(n) = nudge {
                            n.apply(&mut Params::zeros(c.hidden))
                                .with_context(|| format!("{p}: source `{}`", src.name))?;
                        }
                        Ok((c, nudge.cloned()))
                    };
                let (a, b) = (side(&src.a, None)?, side(&src.b, src.nudge.as_ref())?);
                let same_updates = |x: &RunConfig, y: &RunConfig| {
                    x.regime == y.regime
                        && x.epochs == y.epochs
                        && x.train_limit == y.train_limit
                        && (x.regime == twinnet_core::Regime::FullBatch
                            || x.batch_size == y.batch_size)
                };
                if !same_updates(&a.0, &b.0) {
                    bail!(
                        "{p}: source `{}` in setting `{sname}`: its two runs make different updates \
                         (regime, batch size, epochs and train limit must agree)",
                        src.name
                    );
                }
                if a == b {
                    bail!(
                        "{p}: source `{}` in setting `{sname}`: its two runs are the same run",
                        src.name
                    );
                }
                // The same run (settings apart from its name, and nudge) is trained once.
                let same = |x: &(RunConfig, Option<Nudge>), y: &(RunConfig, Option<Nudge>)| {
                    x.1 == y.1 && RunConfig { name: String::new(), ..x.0.clone() } == y.0
                };
                let mut index = |r: (RunConfig, Option<Nudge>)| match plan
                    .runs
                    .iter()
                    .position(|x| same(x, &r))
                {
                    Some(i) => i,
                    None => {
                        plan.runs.push(r);
                        plan.runs.len() - 1
                    }
                };
                let (ia, ib) = (index(a), index(b));
                for k in 0..plan.runs.len() {
                    if plan.runs[k].0.name.is_empty() {
                        let (c, nudge) = &plan.runs[k];
                        let mut n = format!("{sname}/{}-{}t-seed{}", c.backend, c.threads, c.seed);
                        if nudge.is_some() {
                            n.push_str("-nudged");
                        }
                        if plan.runs.iter().any(|r| r.0.name == n) {
                            n = format!("{n}-{k}");
                        }
                        plan.runs[k].0.name = n;
                    }
                }
                plan.pairs.push(PairPlan {
                    source: src.name.clone(),
                    label: src.label.clone().unwrap_or_else(|| src.name.clone()),
                    a: ia,
                    b: ib,
                    meets: src.meets.clone(),
                });
            }
            settings.push(plan);
        }
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Self { name, description: file.description, source: source.to_string(), settings })
    }
}

/// The committed record of a drift experiment (`drift.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftRecord {
    /// The experiment's name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The command that made it.
    pub command: String,
    /// The CPU it ran on.
    pub cpu: String,
    /// Seconds, all runs.
    pub total_s: f64,
    /// One per setting.
    pub settings: Vec<SettingRecord>,
}

/// One setting's runs and pairs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SettingRecord {
    /// The setting's name.
    pub name: String,
    /// Its distinct runs, each with the nudge it started from (if any).
    pub runs: Vec<RunRecord>,
    /// Its pairs.
    pub pairs: Vec<PairRecord>,
}

/// One run of a setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's result (history every epoch).
    pub result: RunResult,
    /// The weight moved one ulp before training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nudge: Option<Nudge>,
}

/// How far one pair drifted apart.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PairRecord {
    /// The source's name.
    pub source: String,
    /// Its legend text.
    pub label: String,
    /// Side a: index into the setting's runs.
    pub a: usize,
    /// Side b.
    pub b: usize,
    /// `[updates, ‖θa − θb‖ / ‖θa‖]` after each snapshot both runs reached.
    pub drift: Vec<(usize, f64)>,
    /// `[epoch, updates, train accuracy b − a]` per epoch both completed.
    pub train_accuracy_difference: Vec<(usize, usize, f64)>,
    /// Test accuracy of a and b (absent for a diverged side).
    pub test_accuracy: (Option<f64>, Option<f64>),
    /// Per-class recall of b − a on the test set (empty if a side diverged).
    pub recall_difference: Vec<f64>,
    /// Whether the two runs ended with bit-identical parameters.
    pub identical: bool,
    /// When this pair's drift meets other sources' ([`gap_closes`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meets: Vec<Meeting>,
}

/// When one pair's drift meets another's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meeting {
    /// The other source.
    pub source: String,
    /// The first update at which the two drifts are within [`MEET_FACTOR`] of each other or
    /// have crossed; `None`: not within the run.
    pub update: Option<usize>,
    /// This pair's drift over the other's at the last update both reached.
    pub ratio_at_end: f64,
}

impl PairRecord {
    /// The drift after exactly `updates` updates, if a snapshot was taken there.
    pub fn drift_at(&self, updates: usize) -> Option<f64> {
        self.drift.iter().find(|d| d.0 == updates).map(|d| d.1)
    }
}

/// Trains every run of `exp` and measures its pairs.
pub fn measure(
    exp: &DriftExperiment,
    data: &Data,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Vec<SettingRecord>> {
    let n = |c: &RunConfig| c.train_limit.unwrap_or(data.mnist.train.len());
    let valid = exp
        .settings
        .iter()
        .map(|s| {
            s.runs
                .iter()
                .map(|(c, _)| c.validate(n(c)).with_context(|| format!("setting `{}`", s.name)))
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    let bars: Vec<Vec<_>> = exp
        .settings
        .iter()
        .map(|s| s.runs.iter().map(|(c, _)| progress.add(&c.name, c.epochs)).collect())
        .collect();
    let mut out = vec![];
    for ((setting, valid), bars) in exp.settings.iter().zip(&valid).zip(&bars) {
        let mut runs = vec![];
        let mut snapshots = vec![];
        for (((_, nudge), v), bar) in setting.runs.iter().zip(valid).zip(bars) {
            let plan = v.plan();
            let total = plan.updates_per_epoch() * plan.config().epochs;
            let probe = Probe {
                nudge: nudge.clone(),
                snapshot_at: schedule(total, plan.updates_per_epoch(), PER_DECADE),
            };
            let (done, snaps) =
                run::execute_probed(v, data, bar, stop, &probe).with_context(|| {
                    format!("setting `{}`, run `{}`", setting.name, v.config().name)
                })?;
            runs.push((RunRecord { result: done.result, nudge: nudge.clone() }, done.params));
            snapshots.push(snaps);
        }
        let mut pairs: Vec<PairRecord> = setting
            .pairs
            .iter()
            .map(|p| pair(p, (&runs[p.a], &runs[p.b]), (&snapshots[p.a], &snapshots[p.b])))
            .collect();
        for (i, plan) in setting.pairs.iter().enumerate() {
            let meets = plan
                .meets
                .iter()
                .filter_map(|m| pairs.iter().find(|p| p.source == *m))
                .map(|other| {
                    let (update, ratio_at_end) = gap_closes(&pairs[i], other, MEET_FACTOR);
                    Meeting { source: other.source.clone(), update, ratio_at_end }
                })
                .collect();
            pairs[i].meets = meets;
        }
        out.push(SettingRecord {
            name: setting.name.clone(),
            runs: runs.into_iter().map(|r| r.0).collect(),
            pairs,
        });
    }
    Ok(out)
}

type Ran = (RunRecord, Params);

/// A run's snapshots: `(updates, parameters)`.
type Snaps = [(usize, Params)];

/// Per pair, its drift line and its train-accuracy line, as figure points.
type Lines = (Vec<(f64, f64)>, Vec<(f64, f64)>);

fn pair(p: &PairPlan, (a, b): (&Ran, &Ran), (sa, sb): (&Snaps, &Snaps)) -> PairRecord {
    let drift = sa
        .iter()
        .zip(sb)
        .take_while(|(x, y)| x.0 == y.0)
        .map(|(x, y)| (x.0, relative_difference(&x.1, &y.1)))
        .collect();
    let (ra, rb) = (&a.0.result, &b.0.result);
    let train_accuracy_difference = ra
        .history
        .iter()
        .zip(&rb.history)
        .map(|(x, y)| (x.epoch, x.step, y.train_accuracy - x.train_accuracy))
        .collect();
    let (ta, tb) = (ra.test.as_ref(), rb.test.as_ref());
    let recall_difference = match (ta, tb) {
        (Some(x), Some(y)) => {
            x.per_class.iter().zip(&y.per_class).map(|(x, y)| y.recall - x.recall).collect()
        }
        _ => vec![],
    };
    PairRecord {
        source: p.source.clone(),
        label: p.label.clone(),
        a: p.a,
        b: p.b,
        drift,
        train_accuracy_difference,
        test_accuracy: (ta.map(|t| t.accuracy), tb.map(|t| t.accuracy)),
        recall_difference,
        identical: a.1 == b.1 && a.1.fingerprint() == b.1.fingerprint(),
        meets: vec![],
    }
}

/// Writes `summary.md` and the figure into `dir`.
pub fn render(dir: &Path, record: &DriftRecord) -> Result<()> {
    draw(dir, record)?;
    twinnet_core::file::write_atomic(
        &dir.join(crate::summary::SUMMARY),
        summary(record).as_bytes(),
    )
    .with_context(|| dir.join(crate::summary::SUMMARY).display().to_string())?;
    Ok(())
}

/// Draws `drift.png`/`.svg` into `dir`.
fn draw(dir: &Path, record: &DriftRecord) -> Result<()> {
    let series: Vec<Vec<Lines>> = record
        .settings
        .iter()
        .map(|s| {
            s.pairs
                .iter()
                .map(|p| {
                    (
                        p.drift.iter().map(|&(u, d)| (u as f64, d)).collect(),
                        p.train_accuracy_difference
                            .iter()
                            .map(|&(_, u, d)| (u as f64, d))
                            .collect(),
                    )
                })
                .collect()
        })
        .collect();
    let panels: Vec<twinnet_plot::DriftPanel> = record
        .settings
        .iter()
        .zip(&series)
        .map(|(s, ser)| twinnet_plot::DriftPanel {
            title: &s.name,
            lines: s
                .pairs
                .iter()
                .zip(ser)
                .map(|(p, (d, a))| twinnet_plot::DriftLine {
                    label: &p.label,
                    drift: d,
                    accuracy: a,
                })
                .collect(),
        })
        .collect();
    twinnet_plot::draw_drift(
        &panels,
        &format!("{}: how far identical starts drift apart", record.name),
        &dir.join("drift"),
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

/// When the gap between two drifts closes: the first update (both sampled, both non-zero) at
/// which `x`'s and `r`'s drift are within `factor` of each other or have crossed (whichever was
/// the smaller at the first such update is no longer below the other by more than `factor`),
/// and `x`'s over `r`'s at the last such update. `(None, ·)` if never; ratio NaN if they share
/// no non-zero point.
///
/// ```text
/// s = sign(ln(x₁ / r₁)),   first u with  s · ln(x_u / r_u) ≤ ln(factor)
/// ```
pub fn gap_closes(x: &PairRecord, r: &PairRecord, factor: f64) -> (Option<usize>, f64) {
    let rs: std::collections::HashMap<usize, f64> = r.drift.iter().copied().collect();
    let logs: Vec<(usize, f64)> = x
        .drift
        .iter()
        .filter_map(|&(u, d)| rs.get(&u).map(|&e| (u, d, e)))
        .filter(|&(_, d, e)| d > 0.0 && e > 0.0)
        .map(|(u, d, e)| (u, (d / e).ln()))
        .collect();
    let Some(&(_, first)) = logs.first() else { return (None, f64::NAN) };
    let s = first.signum();
    let update = logs.iter().find(|&&(_, l)| s * l <= factor.ln()).map(|&(u, _)| u);
    (update, logs.last().map_or(f64::NAN, |&(_, l)| l.exp()))
}

/// `summary.md` of a drift experiment.
pub fn summary(record: &DriftRecord) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n\n{}\n", record.name, record.description.trim());
    let _ = writeln!(
        s,
        "Produced by `{}` on {} in {:.1} s in all.\n",
        record.command, record.cpu, record.total_s
    );
    let _ = writeln!(
        s,
        "Drift is `‖θa − θb‖ / ‖θa‖` over all parameters after the same number of updates; \
         each pair starts from identical weights (or weights one ulp apart) and sees the same \
         batches unless its seed differs.\n\n![drift](drift.png)\n"
    );
    for set in &record.settings {
        let _ = writeln!(s, "## {}\n", set.name);
        let c = &set.runs[0].result.config;
        let _ = writeln!(
            s,
            "{}, {} head, {} pixels, {} init (drawn by {}'s generator), lr {}, {} epochs of {} \
             update(s).\n",
            c.regime,
            c.head,
            c.normalize,
            c.init,
            c.init_rng.map_or("twinnet".into(), |r| r.to_string()),
            c.lr,
            c.epochs,
            set.runs[0].result.updates_per_epoch
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
        let describe = |r: &RunRecord| {
            let c = &r.result.config;
            let mut d = format!("{} {}t seed {}", c.backend, c.threads, c.seed);
            if let Some(n) = &r.nudge {
                let _ = write!(d, ", {n}");
            }
            d
        };
        for p in &set.pairs {
            let _ = write!(
                s,
                "| {} | {} | {} |",
                p.label,
                describe(&set.runs[p.a]),
                describe(&set.runs[p.b])
            );
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
                "When is the drift of *{}* as large as the others' (within a factor \
                 {MEET_FACTOR})?\n",
                p.label
            );
            for m in &p.meets {
                let other = set.pairs.iter().find(|q| q.source == m.source);
                let label = other.map_or(m.source.as_str(), |q| q.label.as_str());
                let _ = match m.update {
                    Some(u) => writeln!(
                        s,
                        "- *{label}*: after {u} update(s); at the end {} of it.",
                        ratio(m.ratio_at_end)
                    ),
                    None => writeln!(
                        s,
                        "- *{label}*: not within the {total} updates; at the end {} of it.",
                        ratio(m.ratio_at_end)
                    ),
                };
            }
            let _ = writeln!(s);
        }
    }
    s
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(drift: &[(usize, f64)]) -> PairRecord {
        PairRecord {
            source: "x".into(),
            label: "x".into(),
            a: 0,
            b: 1,
            drift: drift.to_vec(),
            train_accuracy_difference: vec![],
            test_accuracy: (None, None),
            recall_difference: vec![],
            identical: false,
            meets: vec![],
        }
    }

    #[test]
    fn gaps_close_when_within_the_factor_or_crossed() {
        let x = pair(&[(1, 8e-9), (2, 4e-9), (3, 3e-9), (4, 1e-8)]);
        // From above: 8×, 4×, 1.5× → meets at update 3.
        let r = pair(&[(1, 1e-9), (2, 1e-9), (3, 2e-9), (4, 1e-7)]);
        let (u, end) = gap_closes(&x, &r, 2.0);
        assert!(u == Some(3) && (end - 0.1).abs() < 1e-12, "{u:?} {end}");
        // From below, crossing in one step (1/8 → 10×) counts as meeting.
        let r = pair(&[(1, 6.4e-8), (2, 6.4e-8), (3, 6.4e-8), (4, 1e-9)]);
        assert_eq!(gap_closes(&x, &r, 2.0).0, Some(4));
        // Never: a seed's drift stays far above.
        let r = pair(&[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)]);
        assert_eq!(gap_closes(&x, &r, 2.0).0, None);
        // Zeros (identical bits) are skipped; only zeros: no comparison.
        let r = pair(&[(1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)]);
        let (u, ratio) = gap_closes(&x, &r, 2.0);
        assert!(u.is_none() && ratio.is_nan());
    }

    #[test]
    fn shared_runs_are_trained_once() {
        let src = r#"
description = "d"
[[setting]]
name = "s"
epochs = 3
[[source]]
name = "f"
a = { backend = "ndarray" }
b = { backend = "tch" }
[[source]]
name = "u"
a = { backend = "ndarray" }
b = { backend = "ndarray" }
nudge = { tensor = "fc2.bias", index = [1] }
[[source]]
name = "s1"
b = { seed = 1 }
"#;
        let e = DriftExperiment::parse(Path::new("x/nf.toml"), src, &Settings::default()).unwrap();
        let s = &e.settings[0];
        // ndarray (shared by all three), tch, ndarray nudged, ndarray seed 1.
        assert_eq!(s.runs.len(), 4, "{:?}", s.runs);
        let ix: Vec<(usize, usize)> = s.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(ix, [(0, 1), (0, 2), (0, 3)]);
        assert!(s.runs.iter().all(|r| r.0.log_every == 1 && r.0.epochs == 3));
        assert_eq!(s.runs[2].1.as_ref().unwrap().tensor, "fc2.bias");
        assert!(s.runs[0].0.name.starts_with("s/ndarray-"), "{}", s.runs[0].0.name);
    }
}
