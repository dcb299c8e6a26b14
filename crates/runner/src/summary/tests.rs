//! The summaries' tables and figures on a made-up sweep.

use super::seeds::{groups, summary as summary_seeds};
use super::*;
use crate::fixtures::run;
use crate::layout::SEEDS;
use twinnet_core::stats::mean_sd;
use twinnet_core::CLASSES;

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
        schema_version: crate::schema::SCHEMA_VERSION,
        name: "sweep".into(),
        description: "a test sweep".into(),
        runs: runs.iter().map(|r| r.config.name.clone()).collect(),
        configs: vec!["good".into(), "broken".into()],
        seeds: vec![0, 1],
        total_s: 4.0,
        cpu: "test".into(),
        cores: None,
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
    render(&crate::layout::ResultsDir::new(dir.path()), &exp, &runs).unwrap();
    for name in [CURVES, SEEDS, CONFUSION] {
        for ext in ["png", "svg"] {
            let f = dir.path().join(format!("{name}.{ext}"));
            assert!(std::fs::metadata(&f).unwrap().len() > 1000, "{}", f.display());
        }
    }
    let md = std::fs::read_to_string(dir.path().join(crate::layout::SUMMARY)).unwrap();
    assert!(md.starts_with("# sweep"), "{md}");
}
