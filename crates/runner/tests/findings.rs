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
        ("longer", "longer 3.2 min"),
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

/// The committed drift record of `results/<name>/`.
fn drift_record(name: &str) -> twinnet_runner::drift::DriftRecord {
    let path = root().join(format!("results/{name}/drift.json"));
    twinnet_runner::schema::read_versioned(&path, "drift record").unwrap()
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
        let (ulp, ub) = frameworks_pair(setting, "ndarray, one weight +1 ulp");
        let (ulp_tch, tb) = frameworks_pair(setting, "tch, one weight +1 ulp");
        let (threads, hb) = frameworks_pair(setting, "tch, 1 vs 2 threads");
        let floor: Vec<String> = updates
            .iter()
            .map(|&u| {
                format!(
                    "{} / {} / {}",
                    drift_at(&ulp, u),
                    drift_at(&ulp_tch, u),
                    drift_at(&threads, u)
                )
            })
            .collect();
        let accs: Vec<String> = [ub, tb, hb]
            .iter()
            .map(|b| format!("{:.2}%", 100.0 * b["test"]["accuracy"].as_f64().unwrap()))
            .collect();
        let gap = if last.is_empty() { "" } else { " | |" };
        says(
            findings,
            &format!(
                "{model}, floor: ndarray one weight + 1 ulp / tch one weight + 1 ulp / tch 1 vs 2 \
                 threads | {}{last}{gap} | {} |",
                floor.join(" | "),
                accs.join(" / ")
            ),
        );
    }
}

/// The frameworks' meetings with the floor, as the findings quote them, from the committed
/// record (kept up to date by `twinnet plot` with the drift tool's own function).
#[test]
fn the_frameworks_meetings_are_the_committed_ones() {
    use twinnet_runner::drift::meets;
    let f = "results/README.md";
    let d = drift_record("frameworks");
    let floor = |setting: usize, source: &str| {
        let p = d.settings[setting].pairs.iter().find(|p| p.source == source).unwrap();
        p.meets.iter().find(|m| m.source == meets::FLOOR).unwrap().clone()
    };
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    // Full-batch.
    let (t, p, n) = (floor(0, "tch"), floor(0, "pytorch-reference"), floor(0, "numpy-reference"));
    assert_eq!((t.stays_from, p.stays_from), (Some(1), Some(1)));
    says(
        f,
        &format!(
            "up to\n  {:.2}× and {:.2}× of it, and end at {:.2}× and {:.2}×",
            t.largest_after, p.largest_after, t.ratio_at_end, p.ratio_at_end
        ),
    );
    says(f, &format!("above 2× the\n  floor at {} of the samples, up to {:.2}×, and at most 2× from iteration {} on, ending at\n  {:.2}×", pct(n.share_outside), n.largest_after, n.stays_from.unwrap(), n.ratio_at_end));
    assert!(d.settings[0].pairs[0].meets[0].set_by.iter().all(|(s, _)| s == "tch-threads"));
    // Mini-batch.
    let (t, n, p, pt) = (
        floor(1, "tch"),
        floor(1, "numpy-reference"),
        floor(1, "pytorch-reference"),
        floor(1, "pytorch-reference-tch"),
    );
    says(f, &format!("{:.2}× the floor (tch), {:.2}× (the NumPy program) and {:.2}× (the PyTorch program; {:.2}× from\n  tch)", t.ratio_at_end, n.ratio_at_end, p.ratio_at_end, pt.ratio_at_end));
    assert_eq!(t.stays_from, Some(1));
    says(f, &format!("floor from the first update to the last (up to {:.2}×)", t.largest_after));
    says(
        f,
        &format!(
            "only from update {} on (up to\n  {:.2}× before, outside 2× at {} of the samples)",
            fmt_thousands(n.stays_from.unwrap()),
            n.largest_after,
            pct(n.share_outside)
        ),
    );
    says(f, &format!("up to {:.0}× the floor around 10,000 updates, and is at most 2× the floor from update\n  {} on (outside at {} of the samples)", p.largest_after, fmt_thousands(p.stays_from.unwrap()), pct(p.share_outside)));
}

/// `12345` as the findings write it: `12,345`.
fn fmt_thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

/// The noise floor's meetings as quoted: read from the committed record (which `twinnet plot`
/// keeps up to date with the drift tool's own function) and recomputed for the framework's
/// place against the other rounding sources.
#[test]
fn the_noise_floor_meetings_are_the_committed_ones() {
    use twinnet_runner::drift::meets;
    let f = "results/README.md";
    let d = drift_record("noise-floor");
    let framework = |setting: usize| {
        d.settings[setting].pairs.iter().find(|p| p.source == "framework").unwrap().clone()
    };
    let curve = |setting: usize, source: &str| -> std::collections::BTreeMap<usize, f64> {
        let p = d.settings[setting].pairs.iter().find(|p| p.source == source).unwrap();
        p.drift.iter().copied().collect()
    };
    let meeting =
        |s: usize, src: &str| framework(s).meets.into_iter().find(|m| m.source == src).unwrap();
    let (full, mini) = (meeting(0, meets::FLOOR), meeting(1, meets::FLOOR));
    assert_eq!((full.stays_from, mini.stays_from), (Some(1), Some(1)));
    says(
        f,
        &format!(
            "(at most {:.2}× in full-batch,\n  {:.2}× in mini-batch; at the end {:.2}× and {:.2}×)",
            full.largest_after, mini.largest_after, full.ratio_at_end, mini.ratio_at_end
        ),
    );
    let others = ["tch-threads", "ulp-ndarray", "ulp-tch"];
    let shares: Vec<f64> = others.iter().map(|s| 100.0 * meeting(1, s).share_outside).collect();
    let (lo, hi) = (
        shares.iter().cloned().fold(f64::MAX, f64::min),
        shares.iter().cloned().fold(0.0, f64::max),
    );
    says(f, &format!("outside a factor 2 (either way) at {lo:.0}–{hi:.0}% of the samples"));
    let curves = others.map(|s| curve(1, s));
    let ratios: Vec<f64> = framework(1)
        .drift
        .iter()
        .filter(|&&(u, _)| u > 9 && curves.iter().all(|o| o.contains_key(&u)))
        .map(|&(u, x)| x / curves.iter().map(|o| o[&u]).fold(0.0, f64::max))
        .collect();
    let below = ratios.iter().filter(|&&r| r < 0.5).count();
    says(f, &format!("at {below} of the {} samples", ratios.len()));
    let least = ratios.iter().cloned().fold(f64::MAX, f64::min);
    assert!((1.0 / least / 2000.0 - 1.0).abs() < 0.1, "1/{:.0}", 1.0 / least);
    let (a, b) = (meeting(0, "ulp-ndarray"), meeting(0, "ulp-tch"));
    says(
        f,
        &format!(
            "within a factor 2 of the ndarray nudge from iteration {} on,\n  of the tch nudge from iteration {} on (first at {}; up to {:.2}× apart in between)",
            a.stays_from.unwrap(),
            b.stays_from.unwrap(),
            b.first_within.unwrap(),
            b.largest_after
        ),
    );
    let set_by = &full.set_by;
    assert!(set_by.len() == 1 && set_by[0].0 == "tch-threads", "{set_by:?}");
}
