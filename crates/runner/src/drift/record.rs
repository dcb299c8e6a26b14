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
    /// Its logical cores (absent in records written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores: Option<usize>,
    /// Seconds, all runs.
    pub total_s: f64,
    /// One per setting.
    /// The sources whose drifts make the floor (per update, the largest of them); empty in
    /// records written before the floor was an envelope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub floor: Vec<String>,
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
    #[serde(with = "crate::num::pairs")]
    pub drift: Vec<(usize, f64)>,
    /// `[epoch, updates, train accuracy b − a]` per epoch both completed.
    pub train_accuracy_difference: Vec<(usize, usize, f64)>,
    /// Test accuracy of a and b (absent for a diverged side).
    pub test_accuracy: (Option<f64>, Option<f64>),
    /// Per-class recall of b − a on the test set (empty if a side diverged).
    pub recall_difference: Vec<f64>,
    /// Whether the two runs ended with bit-identical parameters.
    pub identical: bool,
    /// When this pair's drift meets the floor's and each named source's ([`super::meets`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub meets: Vec<Meeting>,
}

/// When one pair's drift meets another's, or the floor's ([`super::meets`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meeting {
    /// The other source, or [`super::meets::FLOOR`]: the envelope of the sources named.
    pub source: String,
    /// The first sampled update at which this drift is within [`super::MEET_FACTOR`] of the
    /// other (or has crossed it); `None`: never. (Records before this field was named carry it
    /// as `update`.)
    #[serde(alias = "update")]
    pub first_within: Option<usize>,
    /// The update from which it stays within the factor at every later sample; `None`: never.
    #[serde(default)]
    pub stays_from: Option<usize>,
    /// The largest ratio (this over the other, as seen from the side it started on) at or
    /// after `first_within`.
    #[serde(with = "crate::num", default = "nan")]
    pub largest_after: f64,
    /// The share of samples at which it is outside the factor.
    #[serde(with = "crate::num", default = "nan")]
    pub share_outside: f64,
    /// This pair's drift over the other's at the last update both reached.
    #[serde(with = "crate::num")]
    pub ratio_at_end: f64,
    /// For the floor: each floor source and at how many samples it is the largest (most first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set_by: Vec<(String, usize)>,
}

fn nan() -> f64 {
    f64::NAN
}

impl Meeting {
    /// A meeting with `source` not yet measured ([`super::meets::refresh`] fills it in).
    pub fn named(source: &str) -> Self {
        Self {
            source: source.into(),
            first_within: None,
            stays_from: None,
            largest_after: f64::NAN,
            share_outside: f64::NAN,
            ratio_at_end: f64::NAN,
            set_by: vec![],
        }
    }
}

impl SettingRecord {
    /// The legend text of the pair of `source` (the name itself when no pair has it).
    pub fn label_of<'a>(&'a self, source: &'a str) -> &'a str {
        self.pairs.iter().find(|q| q.source == source).map_or(source, |q| q.label.as_str())
    }
}

impl PairRecord {
    /// The drift after exactly `updates` updates, if a snapshot was taken there.
    pub fn drift_at(&self, updates: usize) -> Option<f64> {
        self.drift.iter().find(|d| d.0 == updates).map(|d| d.1)
    }
}

impl crate::schema::Check for DriftRecord {
    fn check(&self) -> Result<(), String> {
        use crate::schema::{fraction, require};
        require(!self.settings.is_empty(), || "settings: a drift record has at least one".into())?;
        for s in &self.settings {
            let n = s.runs.len();
            for (i, r) in s.runs.iter().enumerate() {
                r.result.check().map_err(|m| format!("setting `{}`, run {i}: {m}", s.name))?;
            }
            for p in &s.pairs {
                let at = |m: String| format!("setting `{}`, pair `{}`: {m}", s.name, p.source);
                require(p.a < n && p.b < n, || {
                    at(format!("runs {} and {} are not both among its {n} runs", p.a, p.b))
                })?;
                require(p.recall_difference.is_empty() || p.recall_difference.len() == 10, || {
                    at(format!(
                        "{} recall differences, expected 0 or 10",
                        p.recall_difference.len()
                    ))
                })?;
                let accs = [p.test_accuracy.0, p.test_accuracy.1];
                require(accs.iter().flatten().all(|&a| fraction(a)), || {
                    at("a test accuracy is not in [0, 1]".into())
                })?;
                require(p.drift.windows(2).all(|w| matches!(w, [x, y] if x.0 < y.0)), || {
                    at("drift: updates must increase".into())
                })?;
                require(p.train_accuracy_difference.iter().all(|d| d.2.is_finite()), || {
                    at("a train-accuracy difference is not finite".into())
                })?;
                for m in &p.meets {
                    let known = m.source == super::meets::FLOOR
                        || s.pairs.iter().any(|q| q.source == m.source);
                    require(known, || {
                        at(format!("meets `{}`, which is no source of the setting", m.source))
                    })?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `drift` writes, `plot` reads: non-finite drifts and ratios (written as text), the
    /// runs' results, the pairs.
    #[test]
    fn drift_records_round_trip_with_non_finite_numbers() {
        use crate::schema::{read_versioned, write_json, SCHEMA_VERSION};
        let r = crate::fixtures::run("a", 0, Some(0.8));
        let mut p = crate::fixtures::pair("x", &[(1, 0.0), (2, f64::INFINITY), (3, 1e-7)]);
        p.meets = vec![Meeting::named("x")];
        p.test_accuracy = (Some(0.8), None);
        let record = DriftRecord {
            schema_version: SCHEMA_VERSION,
            name: "nf".into(),
            description: "d".into(),
            command: "twinnet drift nf.toml".into(),
            cpu: "test".into(),
            cores: None,
            floor: vec![],
            total_s: 1.0,
            settings: vec![SettingRecord {
                name: "s".into(),
                runs: vec![RunRecord { result: r.clone(), nudge: None }; 2],
                pairs: vec![p],
            }],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("drift.json");
        write_json(&path, &record).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"Infinity\"") && text.contains("\"NaN\""), "{text}");
        assert!(!text.contains("null,") || !text.contains("ratio_at_end\": null"), "{text}");
        let back: DriftRecord = read_versioned(&path, "drift record").unwrap();
        let q = &back.settings[0].pairs[0];
        assert_eq!(q.drift[1].1, f64::INFINITY);
        assert!(q.meets[0].ratio_at_end.is_nan());
        assert_eq!(back.settings[0].runs[0].result, r);
    }

    /// `twinnet plot` rewrites `drift.json` (its derived meetings): every stored number must
    /// read back bit for bit, which serde_json does only with its `float_roundtrip` feature
    /// (without it, 2.979217106115039e-8 came back one ulp off).
    #[test]
    fn numbers_read_back_bit_for_bit() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut values = vec![2.979_217_106_115_039e-8, 3.654_585_269_088_872_4e-8];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                values.push(v);
            }
        }
        let text = serde_json::to_string(&values).unwrap();
        let back: Vec<f64> = serde_json::from_str(&text).unwrap();
        for (a, b) in values.iter().zip(&back) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a:e} read back as {b:e}");
        }
    }
}
