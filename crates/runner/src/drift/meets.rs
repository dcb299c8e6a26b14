//! When one pair's drift meets the floor's — and whether it **stays** there.
//!
//! A pair `x` (two implementations, say) is compared with a reference curve `r`: the **floor**,
//! the envelope of a setting's floor pairs (per sampled update, the largest of their drifts),
//! or another source. At update `u`, with factor `f`, `x` is *within*
//!
//! ```text
//! the floor:       x_u ≤ f · r_u                 (no larger than f times the floor; below is fine)
//! another source:  |ln(x_u / r_u)| ≤ ln f         (within a factor f of each other, either way)
//! ```
//!
//! and the [`Meeting`] records: the first such update; the update **from which it stays
//! within at every later sample** (`None`: never — the sentence "within 2× after N updates"
//! means this one); the largest ratio (`x/r`, or for a source the larger of `x/r` and `r/x`) at
//! or after the first update within; the share of samples outside; the ratio `x/r` at the last
//! sample. Samples where either drift is zero (identical bits) are left out.

use super::record::{Meeting, PairRecord, SettingRecord};
use std::collections::BTreeMap;

/// The name the floor's meeting carries.
pub const FLOOR: &str = "floor";

/// `x` against the curve `r` (update → drift), within `factor`: one-sided (`x ≤ f·r`) against
/// the floor ([`FLOOR`]), both ways against another source.
pub fn meeting(source: &str, x: &PairRecord, r: &BTreeMap<usize, f64>, factor: f64) -> Meeting {
    let logs: Vec<(usize, f64)> = x
        .drift
        .iter()
        .filter_map(|&(u, d)| r.get(&u).map(|&e| (u, d, e)))
        .filter(|&(_, d, e)| d > 0.0 && e > 0.0)
        .map(|(u, d, e)| (u, (d / e).ln()))
        .collect();
    let mut m = Meeting::named(source);
    m.ratio_at_end = logs.last().map_or(f64::NAN, |&(_, l)| l.exp());
    if logs.is_empty() {
        return m;
    }
    // How far outside: the log-ratio that must stay at most ln f.
    let off = |l: f64| if source == FLOOR { l } else { l.abs() };
    let within = |l: f64| off(l) <= factor.ln();
    m.first_within = logs.iter().find(|&&(_, l)| within(l)).map(|&(u, _)| u);
    // From the end backwards: the earliest sample of the final run of samples within.
    m.stays_from = logs.iter().rev().take_while(|&&(_, l)| within(l)).last().map(|&(u, _)| u);
    if let Some(u0) = m.first_within {
        m.largest_after = logs
            .iter()
            .filter(|&&(u, _)| u >= u0)
            .map(|&(_, l)| off(l).exp())
            .fold(f64::NEG_INFINITY, f64::max);
    }
    m.share_outside = logs.iter().filter(|&&(_, l)| !within(l)).count() as f64 / logs.len() as f64;
    m
}

/// The envelope of `pairs`' drifts: per update sampled by any, the largest drift and the
/// source that has it.
pub fn envelope(pairs: &[&PairRecord]) -> BTreeMap<usize, (f64, String)> {
    let mut out: BTreeMap<usize, (f64, String)> = BTreeMap::new();
    for p in pairs {
        for &(u, d) in &p.drift {
            let e = out.entry(u).or_insert((d, p.source.clone()));
            if d > e.0 {
                *e = (d, p.source.clone());
            }
        }
    }
    out
}

/// Recomputes every pair's meetings in `setting` from the stored curves: for each pair that
/// names sources to meet, first the floor's — the envelope of the `floor` sources, with how
/// many samples each of them sets it at (most first) — then one per source it names. Derived
/// data only: the curves are unchanged.
pub fn refresh(setting: &mut SettingRecord, floor: &[String], factor: f64) {
    let pairs = setting.pairs.clone();
    let floor_pairs: Vec<&PairRecord> =
        floor.iter().filter_map(|n| pairs.iter().find(|q| q.source == *n)).collect();
    let env = envelope(&floor_pairs);
    let curve: BTreeMap<usize, f64> = env.iter().map(|(&u, (d, _))| (u, *d)).collect();
    for p in &mut setting.pairs {
        if p.meets.is_empty() {
            continue;
        }
        let named: Vec<String> =
            p.meets.iter().map(|m| m.source.clone()).filter(|s| s != FLOOR).collect();
        let mut meets = vec![];
        if !floor_pairs.is_empty() && !floor.contains(&p.source) {
            let mut m = meeting(FLOOR, p, &curve, factor);
            let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
            for (&u, (d, s)) in &env {
                if *d > 0.0 && p.drift.iter().any(|&(v, x)| v == u && x > 0.0) {
                    *counts.entry(s.as_str()).or_default() += 1;
                }
            }
            let mut set_by: Vec<(String, usize)> =
                counts.into_iter().map(|(s, n)| (s.to_string(), n)).collect();
            set_by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            m.set_by = set_by;
            meets.push(m);
        }
        for n in named {
            if let Some(o) = pairs.iter().find(|q| q.source == n) {
                meets.push(meeting(&o.source, p, &o.drift.iter().copied().collect(), factor));
            }
        }
        p.meets = meets;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::pair;

    fn curve(p: &PairRecord) -> BTreeMap<usize, f64> {
        p.drift.iter().copied().collect()
    }

    #[test]
    fn a_drift_that_crosses_and_crosses_back_stays_only_from_its_last_crossing() {
        // Against the floor: ratios 8, 1.5 (within), 5 (out again), 1.9, 1.2, 0.01 (below:
        // within).
        let x = pair("x", &[(1, 8.0), (2, 1.5), (3, 5.0), (4, 1.9), (5, 1.2), (6, 0.01)]);
        let r = pair("r", &[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 1.0), (6, 1.0)]);
        let m = meeting(FLOOR, &x, &curve(&r), 2.0);
        assert_eq!(m.first_within, Some(2));
        assert_eq!(m.stays_from, Some(4), "not from update 2: it left again at 3");
        assert!((m.largest_after - 5.0).abs() < 1e-12, "{}", m.largest_after);
        assert!((m.share_outside - 2.0 / 6.0).abs() < 1e-12);
        assert!((m.ratio_at_end - 0.01).abs() < 1e-12);
        // Against another source, far below is outside too: never within at the end.
        let m = meeting("r", &x, &curve(&r), 2.0);
        assert_eq!((m.first_within, m.stays_from), (Some(2), None));
        assert!((m.largest_after - 100.0).abs() < 1e-9, "{}", m.largest_after);
    }

    #[test]
    fn a_drift_that_ends_outside_never_stays() {
        let x = pair("x", &[(1, 8.0), (2, 1.0), (3, 1.0), (4, 3.0)]);
        let r = pair("r", &[(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)]);
        let m = meeting(FLOOR, &x, &curve(&r), 2.0);
        assert_eq!((m.first_within, m.stays_from), (Some(2), None));
        assert!((m.share_outside - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_drift_starting_below_the_floor_that_rises_above_it_is_outside() {
        // Just below at first, 300× above later, back within at the end.
        let x = pair("x", &[(1, 0.9), (2, 300.0), (3, 1.5)]);
        let r = pair("r", &[(1, 1.0), (2, 1.0), (3, 1.0)]);
        let m = meeting(FLOOR, &x, &curve(&r), 2.0);
        assert_eq!((m.first_within, m.stays_from), (Some(1), Some(3)));
        assert!((m.largest_after - 300.0).abs() < 1e-9);
    }

    #[test]
    fn from_below_a_source_is_met_when_within_either_way_and_zeros_are_skipped() {
        // x starts 1/8 of r: within once x ≥ r/2, and no longer when x > 2r.
        let x = pair("x", &[(1, 1.0), (2, 0.0), (3, 4.0), (4, 100.0)]);
        let r = pair("r", &[(1, 8.0), (2, 8.0), (3, 8.0), (4, 8.0)]);
        let m = meeting("r", &x, &curve(&r), 2.0);
        assert_eq!((m.first_within, m.stays_from), (Some(3), None));
        assert!((m.share_outside - 2.0 / 3.0).abs() < 1e-12, "the zero sample is left out");
        let never = meeting("r", &x, &BTreeMap::new(), 2.0);
        assert!(never.stays_from.is_none() && never.ratio_at_end.is_nan());
    }

    #[test]
    fn the_floor_is_the_envelope_and_names_who_sets_it() {
        let a = pair("a", &[(1, 1.0), (2, 1.0), (3, 4.0)]);
        let b = pair("b", &[(1, 3.0), (2, 0.5), (3, 0.5)]);
        let env = envelope(&[&a, &b]);
        assert_eq!(env[&1], (3.0, "b".to_string()));
        assert_eq!(env[&3], (4.0, "a".to_string()));
        let mut x = pair("x", &[(1, 12.0), (2, 1.5), (3, 6.0)]);
        x.meets = vec![Meeting::named("b")];
        let mut s = SettingRecord { name: "s".into(), runs: vec![], pairs: vec![x, a, b] };
        refresh(&mut s, &["a".to_string(), "b".to_string()], 2.0);
        let m = &s.pairs[0].meets;
        assert_eq!(m.len(), 2, "the floor's, then b's");
        assert_eq!(m[0].source, FLOOR);
        // Against the envelope 3, 1, 4: ratios 4, 1.5, 1.5 → stays from update 2.
        assert_eq!(m[0].stays_from, Some(2));
        assert_eq!(m[0].set_by, vec![("a".to_string(), 2), ("b".to_string(), 1)]);
        // Against b alone: 4, 3, 12 → never within.
        assert_eq!(m[1].first_within, None);
        assert!(s.pairs[1].meets.is_empty(), "a pair that names no source is left alone");
    }
}
