//! The two-sample statistics against SciPy on fixed inputs. The expected values are the output
//! of `stats_expected.py` beside this file (run with the venv's Python and scipy installed):
//! scipy 1.17.1.

use twinnet_core::stats::{mann_whitney, mean_sd, welch};

type Case = (&'static str, &'static [f64], &'static [f64], f64, f64, f64, (f64, f64), f64, f64);

/// (name, x, y, Welch t, Welch df, Welch p, 95% CI of x̄ − ȳ, Mann–Whitney U, its p).
#[rustfmt::skip]
const CASES: &[Case] = &[
    ("textbook", &[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.0, 10.0], -2.2514363231593695, 5.520787746170677, 0.06913359319239237, (-7.385368080514045, 0.3853680805140449), 3.0, 0.1083608161727848),
    ("ten seeds", &[0.8537, 0.8601, 0.8455, 0.8622, 0.84, 0.8573, 0.8499, 0.861, 0.8588, 0.8526], &[0.8449, 0.8512, 0.8388, 0.8584, 0.8402, 0.8471, 0.843, 0.8505, 0.8461, 0.842], 2.6667227526167445, 17.27935678034045, 0.01610652700799781, (0.0016553932721417464, 0.01412460672785838), 80.0, 0.025748080821108063),
    ("ties", &[0.91, 0.92, 0.92, 0.93, 0.95, 0.95], &[0.9, 0.92, 0.93, 0.93, 0.94, 0.96, 0.97], -0.5071831293409708, 10.67476048420655, 0.6223396063236619, (-0.03060464260199826, 0.019176071173426918), 17.0, 0.6126472149466085),
    ("small exact", &[3.1, 4.2, 5.0], &[1.0, 2.5, 2.7, 3.0], 2.541352348809064, 4.257099002302381, 0.06020394095595078, (-0.12054847686253023, 3.7205484768625317), 12.0, 0.05714285714285714),
    ("separated", &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 6.971370023173351, 16.0, 3.1502992439929747e-06, (6.263214026859743, 11.736785973140258), 81.0, 0.00041229480206169127),
];

/// Relative agreement: the statistics are closed-form (t, df, U) or a few library calls (p,
/// CI: statrs' t and normal distributions against SciPy's), so 1e-9 relative is far above
/// either side's rounding yet fails any wrong formula.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

#[test]
fn welch_and_mann_whitney_match_scipy() {
    for &(name, x, y, t, df, p, (lo, hi), u, up) in CASES {
        let w = welch(x, y).unwrap();
        assert!(close(w.t, t) && close(w.df, df), "{name}: {w:?}");
        assert!(close(w.p, p), "{name}: Welch p {} vs SciPy {p}", w.p);
        assert!(
            close(w.ci95.0, lo) && close(w.ci95.1, hi),
            "{name}: CI {:?} vs ({lo}, {hi})",
            w.ci95
        );
        let m = mann_whitney(x, y).unwrap();
        assert!(close(m.u, u), "{name}: U {} vs {u}", m.u);
        assert!(close(m.p, up), "{name}: Mann-Whitney p {} vs SciPy {up}", m.p);
    }
}

#[test]
fn degenerate_samples() {
    assert!(welch(&[1.0], &[2.0, 3.0]).is_none(), "one value: no variance");
    assert!(welch(&[1.0, 1.0], &[1.0, 1.0]).is_none(), "no spread at all");
    assert!(mann_whitney(&[], &[1.0]).is_none());
    assert_eq!(mean_sd(&[2.0]), (2.0, 0.0));
    // Identical samples: no evidence of a difference.
    let m = mann_whitney(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap();
    assert!(m.p > 0.9, "{m:?}");
}
