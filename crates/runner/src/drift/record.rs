//! The record of a drift experiment (`drift.json`): every run and how far each pair drifted.

use crate::schema::RunResult;
use serde::{Deserialize, Serialize};
use twinnet_core::trajectory::Nudge;

/// The committed record of a drift experiment (`drift.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DriftRecord {
    /// [`crate::schema::SCHEMA_VERSION`].
    pub schema_version: u32,
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
}
