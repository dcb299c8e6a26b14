//! The findings say what the committed files say: every number below is recomputed from the
//! committed JSON (`results/`) and must appear, as written, in `results/README.md` or the
//! project README. A result regenerated without its text rewritten fails here.

use std::path::{Path, PathBuf};
use twinnet_runner::compare::{compare_sides, Comparison, Row};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(file: &str) -> String {
    std::fs::read_to_string(root().join(file)).unwrap()
}

fn json(file: &str) -> serde_json::Value {
    serde_json::from_str(&text(file)).unwrap()
}

fn compare(a: &str, b: &str) -> Comparison {
    let r = root();
    let side = |s: &str| format!("{}/results/{s}", r.display());
    compare_sides(&side(a), &side(b), 0.8).unwrap()
}

fn row<'a>(c: &'a Comparison, metric: &str) -> &'a Row {
    c.rows.iter().find(|r| r.metric == metric).unwrap()
}

/// `p` as the findings write it: three decimals.
fn p3(p: Option<f64>) -> String {
    format!("{:.3}", p.unwrap())
}

/// Asserts that `needle` is in `file`'s text.
fn says(file: &str, needle: &str) {
    assert!(text(file).contains(needle), "{file} does not say `{needle}`");
}

#[test]
fn experiment_times_are_the_committed_ones() {
    let findings = "results/README.md";
    for (exp, written) in [
        ("report", "report 1.3 min"),
        ("identical", "identical 1.7 min"),
        ("ablation", "ablation 30.0 min"),
        ("longer", "longer 3.2\nmin"),
        ("init-rng", "init-rng 6.8 min"),
        ("fashion-report", "fashion-report 1.35 min"),
        ("fashion-ablation", "fashion-ablation 14.6 min"),
    ] {
        let minutes =
            json(&format!("results/{exp}/experiment.json"))["total_s"].as_f64().unwrap() / 60.0;
        let number: String = written.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
        let decimals = number.split('.').nth(1).map_or(0, str::len);
        assert_eq!(format!("{minutes:.decimals$}"), number, "{exp}: {minutes} min");
        says(findings, written);
    }
    let drift = json("results/noise-floor/drift.json")["total_s"].as_f64().unwrap() / 60.0;
    says(findings, &format!("noise-floor {drift:.1} min"));
    let report = json("results/report/experiment.json")["total_s"].as_f64().unwrap();
    says("README.md", &format!("| `report` | 2 | {report:.1} s |"));
    let fashion = json("results/fashion-report/experiment.json")["total_s"].as_f64().unwrap();
    says("README.md", &format!("| `fashion-report` | 2 | {fashion:.1} s |"));
}

#[test]
fn the_init_rng_comparison_is_quoted_exactly() {
    let c = compare("init-rng:twinnet-rng", "init-rng:torch-rng");
    let findings = "results/README.md";
    let acc = row(&c, "test accuracy (%)");
    let (a, b) = (acc.mean_sd_a.unwrap(), acc.mean_sd_b.unwrap());
    says(
        findings,
        &format!("{:.2}% ± {:.2} (twinnet's) against {:.2}% ± {:.2}", a.0, a.1, b.0, b.1),
    );
    says(
        findings,
        &format!(
            "Welch p {:.2}, Mann–Whitney p {:.2}",
            acc.welch_p.unwrap(),
            acc.mann_whitney_p.unwrap()
        ),
    );
    // Which metrics have a test below 0.05: exactly the two the text names, with their p.
    let below: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.welch_p.unwrap_or(1.0) < 0.05 || r.mann_whitney_p.unwrap_or(1.0) < 0.05)
        .collect();
    let names: Vec<&str> = below.iter().map(|r| r.metric.as_str()).collect();
    assert_eq!(names, ["recall of digit 2 (%)", "recall of digit 4 (%)"]);
    says(findings, "of\nthe 13 metrics compared, two have a test below 0.05");
    let d4 = row(&c, "recall of digit 4 (%)");
    says(
        findings,
        &format!(
            "digit 4's recall ({:+.2} points, Welch p\n{}, Mann–Whitney p {})",
            d4.diff.unwrap(),
            p3(d4.welch_p),
            p3(d4.mann_whitney_p)
        )
        .replace("+-", "−")
        .replace("(-", "(−"),
    );
    let d2 = row(&c, "recall of digit 2 (%)");
    says(
        findings,
        &format!(
            "digit 2's ({:+.2} points, Mann–Whitney p {} but Welch p {})",
            d2.diff.unwrap(),
            p3(d2.mann_whitney_p),
            p3(d2.welch_p)
        ),
    );
}

#[test]
fn the_double_softmax_fix_is_quoted_exactly() {
    let c = compare("ablation:pytorch", "ablation:pytorch-with-softmax");
    let findings = "results/README.md";
    let collapsed = ["3", "4", "6", "7", "9"];
    let diffs: Vec<f64> = collapsed
        .iter()
        .map(|d| row(&c, &format!("recall of digit {d} (%)")).diff.unwrap())
        .collect();
    let (lo, hi) = diffs.iter().fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
    says(findings, &format!("{lo:+.1} to\n  {hi:+.1} points"));
    // None has both tests below 0.05; the one test below it is digit 9's Mann–Whitney.
    for d in collapsed {
        let r = row(&c, &format!("recall of digit {d} (%)"));
        assert!(!(r.welch_p.unwrap() < 0.05 && r.mann_whitney_p.unwrap() < 0.05), "digit {d}");
    }
    let d9 = row(&c, "recall of digit 9 (%)");
    says(
        findings,
        &format!(
            "digit 9's Mann–Whitney p is {},\n  its Welch p {}",
            p3(d9.mann_whitney_p),
            p3(d9.welch_p)
        ),
    );
}

#[test]
fn minibatch_after_ten_passes_is_the_committed_mean() {
    let accs: Vec<f64> = (0..10)
        .map(|s| {
            json(&format!("results/ablation/numpy-with-minibatch-seed{s}.json"))["history"][0]
                ["train_accuracy"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let h = json("results/ablation/numpy-with-minibatch-seed0.json");
    assert_eq!(h["history"][0]["epoch"], 10, "the first epoch it logs");
    let mean = accs.iter().sum::<f64>() / 10.0;
    says(
        "results/README.md",
        &format!("{:.2}% train accuracy after 10 passes (the mean of its 10 seeds", 100.0 * mean),
    );
}

/// One pair of `results/frameworks/drift.json`'s setting `setting`, by its label.
fn frameworks_pair(setting: &str, label: &str) -> (serde_json::Value, serde_json::Value) {
    let d = json("results/frameworks/drift.json");
    let s = d["settings"].as_array().unwrap().iter().find(|s| s["name"] == setting).unwrap();
    let p = s["pairs"].as_array().unwrap().iter().find(|p| p["label"] == label).unwrap();
    let b = &s["runs"][p["b"].as_u64().unwrap() as usize]["result"];
    (p.clone(), b.clone())
}

/// The pair's drift after exactly `update` updates, as the findings write it.
fn drift_at(pair: &serde_json::Value, update: u64) -> String {
    let d = pair["drift"].as_array().unwrap().iter().find(|d| d[0] == update).unwrap();
    format!("{:.1e}", d[1].as_f64().unwrap())
}

#[test]
fn the_frameworks_table_is_the_committed_drift() {
    let findings = "results/README.md";
    let minutes = json("results/frameworks/drift.json")["total_s"].as_f64().unwrap() / 60.0;
    says(findings, &format!("`twinnet drift experiments/frameworks.toml`, {minutes:.1} min"));
    for (setting, model, updates, last) in [
        ("numpy-model", "NumPy model", &[1, 100, 500][..], " (500)"),
        ("pytorch-model", "PyTorch model", &[1, 100, 1000, 10_000, 469_000][..], ""),
    ] {
        for (label, row) in [
            ("tch vs ndarray", "tch"),
            ("report's NumPy (float64) vs ndarray", "the report's NumPy program (float64)"),
            ("report's PyTorch vs ndarray", "the report's PyTorch program"),
        ] {
            let (pair, b) = frameworks_pair(setting, label);
            let drifts: Vec<String> = updates.iter().map(|&u| drift_at(&pair, u)).collect();
            let acc = 100.0 * b["test"]["accuracy"].as_f64().unwrap();
            let collapsed: Vec<String> =
                b["test"]["collapsed"].as_array().unwrap().iter().map(|d| d.to_string()).collect();
            let collapsed = if collapsed.is_empty() { "none".into() } else { collapsed.join(", ") };
            let drifts = drifts.join(" | ");
            let gap = if last.is_empty() { "" } else { " | |" };
            says(findings, &format!("{row} | {drifts}{last}{gap} | {acc:.2}% | {collapsed} |"));
        }
        let (ulp, _) = frameworks_pair(setting, "ndarray, one weight +1 ulp");
        let (threads, _) = frameworks_pair(setting, "tch, 1 vs 2 threads");
        let floor: Vec<String> = updates
            .iter()
            .map(|&u| format!("{} / {}", drift_at(&ulp, u), drift_at(&threads, u)))
            .collect();
        says(
            findings,
            &format!(
                "{model}, floor: ndarray one weight + 1 ulp / tch 1 vs 2 threads | {}{last}",
                floor.join(" | ")
            ),
        );
    }
}

/// Test accuracies (percent) of configuration `config` of experiment `exp`, one per seed.
fn seed_accuracies(exp: &str, config: &str) -> Vec<f64> {
    let r = json(&format!("results/{exp}/experiment.json"));
    let k = r["seeds"].as_array().unwrap().len().max(1);
    let i = r["configs"].as_array().unwrap().iter().position(|c| c == config).unwrap();
    r["runs"].as_array().unwrap()[i * k..(i + 1) * k]
        .iter()
        .map(|n| {
            let j = json(&format!("results/{exp}/{}.json", n.as_str().unwrap()));
            100.0 * j["test"]["accuracy"].as_f64().unwrap()
        })
        .collect()
}

fn mean_sd_range(v: &[f64]) -> (f64, f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let range =
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min);
    (m, sd, range)
}

/// The seeds-against-floor sentence and the Fashion-MNIST drops are the committed numbers.
#[test]
fn seed_spreads_and_dataset_drops_are_the_committed_ones() {
    let f = "results/README.md";
    let (_, sd, range) = mean_sd_range(&seed_accuracies("ablation", "numpy"));
    says(f, &format!("standard deviation of {sd:.2} points and a range of {range:.2} points"));
    let (lo, hi) = (sd / 0.1, range / 0.1);
    says(f, &format!("{lo:.0}–{hi:.0}× the floor's ~0.1 point"));
    let (_, sd, range) = mean_sd_range(&seed_accuracies("ablation", "pytorch"));
    says(f, &format!("the PyTorch model's {sd:.2} and {range:.2} points"));
    // Each of the ten configurations on both datasets.
    let configs = [
        "numpy",
        "numpy-with-minibatch",
        "numpy-with-symmetric",
        "numpy-with-torch-init",
        "numpy-with-double-softmax",
        "pytorch",
        "pytorch-with-full-batch",
        "pytorch-with-unit",
        "pytorch-with-uniform-init",
        "pytorch-with-softmax",
    ];
    let mut drops: Vec<(f64, &str)> = configs
        .iter()
        .map(|c| {
            let m = mean_sd_range(&seed_accuracies("ablation", c)).0;
            let fm = mean_sd_range(&seed_accuracies("fashion-ablation", c)).0;
            (m - fm, *c)
        })
        .collect();
    drops.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = (drops[4].0 + drops[5].0) / 2.0;
    says(f, &format!("score {:.1}–{:.1} points\n  lower on Fashion-MNIST", drops[0].0, drops[9].0));
    says(f, &format!("(median {median:.1}: the NumPy model"));
    let of = |c: &str| drops.iter().find(|d| d.1 == c).unwrap().0;
    says(f, &format!("NumPy model {:.1} lower", of("numpy")));
    says(f, &format!("the double\n  softmax added to it {:.1}", of("numpy-with-double-softmax")));
    says(f, &format!("[0, 1] pixels for the PyTorch model {:.1}", of("pytorch-with-unit")));
    let up = 100.0
        * json("results/fashion-report/pytorch-model.json")["test"]["accuracy"].as_f64().unwrap()
        - 100.0 * json("results/report/pytorch-model.json")["test"]["accuracy"].as_f64().unwrap();
    says(f, &format!("PyTorch-model run scores {up:.1} points *higher*"));
}

/// The noise floor's meetings as quoted: recomputed from the committed curves by the drift
/// tool's own function, and the framework's place against the other rounding sources.
#[test]
fn the_noise_floor_meetings_are_the_committed_ones() {
    use twinnet_runner::drift::{meets, DriftRecord};
    let f = "results/README.md";
    let d: DriftRecord = twinnet_runner::schema::read_versioned(
        &root().join("results/noise-floor/drift.json"),
        "drift record",
    )
    .unwrap();
    let framework = |setting: usize| {
        d.settings[setting].pairs.iter().find(|p| p.source == "framework").unwrap().clone()
    };
    let curve = |setting: usize, source: &str| -> std::collections::BTreeMap<usize, f64> {
        let p = d.settings[setting].pairs.iter().find(|p| p.source == source).unwrap();
        p.drift.iter().copied().collect()
    };
    // Mini-batch (the PyTorch model).
    let fw = framework(1);
    let stays = |s: usize, src: &str| meets::meeting(src, &framework(s), &curve(s, src), 2.0);
    assert_eq!(stays(1, "tch-threads").stays_from, Some(1));
    let (t, n) =
        (stays(1, "ulp-tch").stays_from.unwrap(), stays(1, "ulp-ndarray").stays_from.unwrap());
    says(f, &format!("from update {t} (tch) and {n} (ndarray) on"));
    let others = ["tch-threads", "ulp-ndarray", "ulp-tch"].map(|s| curve(1, s));
    let ratios: Vec<f64> = fw
        .drift
        .iter()
        .filter(|&&(u, _)| u > 9 && others.iter().all(|o| o.contains_key(&u)))
        .map(|&(u, x)| x / others.iter().map(|o| o[&u]).fold(0.0, f64::max))
        .collect();
    let below = ratios.iter().filter(|&&r| r < 0.5).count();
    says(f, &format!("at {below} of the {} samples", ratios.len()));
    let least = ratios.iter().cloned().fold(f64::MAX, f64::min);
    assert!((1.0 / least / 2000.0 - 1.0).abs() < 0.1, "1/{:.0}", 1.0 / least);
    // Full-batch (the NumPy model).
    let (a, b) = (stays(0, "ulp-ndarray"), stays(0, "ulp-tch"));
    assert_eq!(a.first_within, a.stays_from);
    says(f, &format!("comes within 2× at iteration {} and stays", a.stays_from.unwrap()));
    says(
        f,
        &format!(
            "first at iteration {} but stays\n  only from iteration {} on (up to {:.2}× in between, outside 2× at {:.0}% of all samples)",
            b.first_within.unwrap(),
            b.stays_from.unwrap(),
            b.largest_after,
            100.0 * b.share_outside
        ),
    );
}
