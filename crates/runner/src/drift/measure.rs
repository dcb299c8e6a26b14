//! Training a drift experiment's runs and measuring how far each pair drifts apart.

use super::plan::{DriftExperiment, PairPlan};
use super::record::{Meeting, PairRecord, RunRecord, SettingRecord};
use super::{MEET_FACTOR, PER_DECADE};
use crate::data::Data;
use crate::error::{Context, Result};
use crate::execute::{self, Probe, Snapshot};
use crate::progress::Progress;
use crate::settings::RunConfig;
use std::sync::atomic::AtomicBool;
use twinnet_core::trajectory::{relative_difference, schedule};
use twinnet_core::Params;

/// One run of a setting, trained: its record, final parameters and snapshots.
struct Trained {
    record: RunRecord,
    params: Params,
    snapshots: Vec<Snapshot>,
}

/// Trains every run of `exp` and measures its pairs.
pub fn measure(
    exp: &DriftExperiment,
    data: &Data,
    progress: &Progress,
    stop: &AtomicBool,
) -> Result<Vec<SettingRecord>> {
    let n = |c: &RunConfig| c.train_limit.unwrap_or(data.splits.train.len());
    let valid = exp
        .settings
        .iter()
        .map(|s| {
            s.runs
                .iter()
                .map(|r| {
                    r.config.validate(n(&r.config)).with_context(|| format!("setting `{}`", s.name))
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect::<Result<Vec<_>>>()?;
    for (s, valid) in exp.settings.iter().zip(&valid) {
        check_snapshot_memory(&s.name, valid)?;
    }
    let bars: Vec<Vec<_>> = exp
        .settings
        .iter()
        .map(|s| s.runs.iter().map(|r| progress.add(&r.config.name, r.config.epochs)).collect())
        .collect();
    let mut out = vec![];
    for ((setting, valid), bars) in exp.settings.iter().zip(&valid).zip(&bars) {
        let mut runs = vec![];
        for ((planned, v), bar) in setting.runs.iter().zip(valid).zip(bars) {
            let plan = v.plan();
            let total = plan.updates_per_epoch() * plan.config().epochs;
            let probe = Probe {
                nudge: planned.nudge.clone(),
                snapshot_at: schedule(total, plan.updates_per_epoch(), PER_DECADE),
            };
            let (done, snapshots) = execute::execute_probed(v, data, bar, stop, &probe)
                .with_context(|| {
                    format!("setting `{}`, run `{}`", setting.name, v.config().name)
                })?;
            let record = RunRecord { result: done.result, nudge: planned.nudge.clone() };
            runs.push(Trained { record, params: done.params, snapshots });
        }
        // The plan's pair indices point into its runs (made so by `plan_setting`).
        let pairs: Vec<PairRecord> = setting
            .pairs
            .iter()
            .filter_map(|p| Some(pair(p, runs.get(p.a)?, runs.get(p.b)?)))
            .collect();
        let pairs: Vec<PairRecord> = pairs
            .into_iter()
            .zip(&setting.pairs)
            .map(|(p, plan)| PairRecord {
                meets: plan.meets.iter().map(|m| Meeting::named(m)).collect(),
                ..p
            })
            .collect();
        let mut record = SettingRecord {
            name: setting.name.clone(),
            runs: runs.into_iter().map(|r| r.record).collect(),
            pairs,
        };
        super::meets::refresh(&mut record, &exp.floor, MEET_FACTOR);
        out.push(record);
    }
    Ok(out)
}

/// Checks, before training, that a setting's snapshots (every run's parameters after each
/// update of its schedule, all kept until the pairs are measured) fit in available memory.
fn check_snapshot_memory(setting: &str, runs: &[crate::settings::ValidRun]) -> Result<()> {
    let mut bytes: u64 = 0;
    for v in runs {
        // Each epoch's end plus PER_DECADE a decade of at most 10¹³ updates: an upper bound
        // of the schedule's length.
        let snaps = v.plan().config().epochs as u64 + PER_DECADE as u64 * 14;
        let per = twinnet_core::Params::zeros_widths(&v.model().widths()).count() as u64 * 4;
        bytes = bytes.saturating_add(snaps.saturating_mul(per));
    }
    let available = twinnet_core::system::available_memory().unwrap_or(64 << 30);
    if bytes > available / 2 {
        return Err(crate::Error::Invalid(format!(
            "setting `{setting}`: its runs' snapshots (every epoch's parameters) would need about \
             {} MiB, more than half the {} MiB available: fewer epochs or a narrower network",
            bytes >> 20,
            available >> 20
        )));
    }
    Ok(())
}

/// How far the runs `a` and `b` of pair `p` drifted apart.
fn pair(p: &PairPlan, a: &Trained, b: &Trained) -> PairRecord {
    let drift = a
        .snapshots
        .iter()
        .zip(&b.snapshots)
        .take_while(|(x, y)| x.updates == y.updates)
        .map(|(x, y)| (x.updates, relative_difference(&x.params, &y.params)))
        .collect();
    let (ra, rb) = (&a.record.result, &b.record.result);
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
        identical: a.params == b.params && a.params.fingerprint() == b.params.fingerprint(),
        meets: vec![],
    }
}
