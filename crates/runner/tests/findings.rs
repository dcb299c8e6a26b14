//! The findings say what the committed files say. `results/README.md` is under a census
//! (`census/mod.rs`): every number in it is either recomputed here from the committed results
//! and found as written, or allowed with a reason (a constant of the setup, the report's own
//! figures, a run kept only in the repository's history); a number added without either, or a
//! result regenerated without its text rewritten, fails. The drift tool's `summary.md` files are
//! checked to be what the tool writes from the committed records.

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

/// Asserts that `needle` is in `file`'s text.
fn says(file: &str, needle: &str) {
    assert!(text(file).contains(needle), "{file} does not say `{needle}`");
}

/// The committed drift record of `results/<name>/`.
fn drift_record(name: &str) -> twinnet_runner::drift::DriftRecord {
    let path = root().join(format!("results/{name}/drift.json"));
    twinnet_runner::schema::read_versioned(&path, "drift record").unwrap()
}

/// The project README's table of experiment times is the committed one.
#[test]
fn the_readme_times_are_the_committed_ones() {
    let report = json("results/report/experiment.json")["total_s"].as_f64().unwrap();
    says("README.md", &format!("| `report` | 2 | {report:.1} s |"));
    let fashion = json("results/fashion-report/experiment.json")["total_s"].as_f64().unwrap();
    says("README.md", &format!("| `fashion-report` | 2 | {fashion:.1} s |"));
}

mod census;
use census::{fixed, signed, thousands, Census};
#[path = "sections/optimizers.rs"]
mod optimizers_section;
use serde_json::Value;

/// Run `name` of experiment `exp`.
fn run(exp: &str, name: &str) -> Value {
    json(&format!("results/{exp}/{name}.json"))
}

/// A run's test accuracy in percent.
fn acc(v: &Value) -> f64 {
    100.0 * v["test"]["accuracy"].as_f64().unwrap()
}

/// A run's collapsed classes (never predicted on the test set).
fn collapsed(v: &Value) -> Vec<u64> {
    v["test"]["collapsed"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap()).collect()
}

/// `[5, 6, 9]` as the findings list it: `5, 6 and 9`.
fn and_list(d: &[u64]) -> String {
    let s: Vec<String> = d.iter().map(u64::to_string).collect();
    match s.len() {
        0 => "none".into(),
        1 => s[0].clone(),
        n => format!("{} and {}", s[..n - 1].join(", "), s[n - 1]),
    }
}

/// The runs of configuration `config` of experiment `exp`, one per seed.
fn seed_runs(exp: &str, config: &str) -> Vec<Value> {
    let r = json(&format!("results/{exp}/experiment.json"));
    let k = r["seeds"].as_array().unwrap().len().max(1);
    let i = r["configs"].as_array().unwrap().iter().position(|c| c == config).unwrap();
    r["runs"].as_array().unwrap()[i * k..(i + 1) * k]
        .iter()
        .map(|n| run(exp, n.as_str().unwrap()))
        .collect()
}

/// Mean, sample sd, lowest and highest of `v`.
fn stats(v: &[f64]) -> (f64, f64, f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let lo = v.iter().cloned().fold(f64::MAX, f64::min);
    let hi = v.iter().cloned().fold(f64::MIN, f64::max);
    (m, sd, lo, hi)
}

/// `85.37% ± 0.68` for the seeds of `config`.
fn mean_sd(exp: &str, config: &str) -> String {
    let (m, sd, _, _) = stats(&seed_runs(exp, config).iter().map(acc).collect::<Vec<_>>());
    format!("{m:.2}% ± {sd:.2}")
}

/// How many seeds of `config` collapse a class.
fn collapses(exp: &str, config: &str) -> usize {
    collapsing_seeds(exp, config).len()
}

fn s(x: impl ToString) -> String {
    x.to_string()
}

/// Every number of `results/README.md` is recomputed here from the committed results, or
/// allowed with a reason: the census of issue #34. Each section below follows the findings'
/// own order.
#[test]
fn every_number_in_the_findings_is_accounted_for() {
    let mut c = Census::new("results/README.md", &text("results/README.md"));
    setup_constants(&mut c);
    introduction(&mut c);
    report_table(&mut c);
    framework_section(&mut c);
    init_rng_section(&mut c);
    noise_floor_section(&mut c);
    frameworks_section(&mut c);
    ablation_section(&mut c);
    double_softmax_section(&mut c);
    longer_section(&mut c);
    corrected_section(&mut c);
    fashion_section(&mut c);
    nielsen_section(&mut c);
    optimizers_section::optimizers_section(&mut c);
    let (recomputed, allowed) = c.finish();
    let (claims, allowances) = c.counts();
    eprintln!(
        "census: {recomputed} numbers recomputed ({claims} claims), {allowed} allowed \
         ({allowances} allowances)"
    );
}

/// Numbers that are the setup itself, not results: each snippet with why no result file is
/// needed for it.
fn setup_constants(c: &mut Census) {
    let net = "the report's network, fixed by every experiment file (hidden = 10)";
    c.allow("784 → 10 → 10", net);
    c.allow("all 784 inputs", net);
    c.allow("lr 0.1 with only 10 hidden units", "the report's learning rate and width");
    let pixels = "a pixel range, a setting named in the experiment files";
    c.allow("[0, 1] pixels", pixels);
    c.allow("[0, 1]) |", pixels);
    c.allow("[0, 1] inputs", pixels);
    c.allow("[−1, 1] pixels", pixels);
    c.allow("[−1, 1] turns from 0 into −1", pixels);
    c.allow("pixel becomes −1", pixels);
    c.allow("U[−0.5, 0.5]", "the report's uniform init, a setting (`init = \"uniform\"`)");
    c.allow("mini-batch 64", "the report's batch size, a setting");
    c.allow("minibatch 64", "the report's batch size, a setting");
    c.allow("mini-batches of 64", "the report's batch size, a setting");
    c.allow("(mini-batch 64)", "the report's batch size, a setting");
    c.allow("`softmax(p)_y = e/(e+9)", "nine other classes: the formula's constant");
    c.allow("softmax(z) ∈ [0, 1]", "the range of a softmax: a definition");
    c.allow("can never approach 0", "a loss's lower bound: a definition");
    c.allow("torch.manual_seed(0)", "PyTorch's call the report's program makes (seed 0)");
    c.allow("seed 0", "the seed of the single runs, a setting (`seed = 0`)");
    c.allow("1 vs 2 threads", "the thread pairs' definition (the drift experiment files)");
    c.allow("on 1 and on 2 threads", "the thread pairs' definition (the drift experiment files)");
    c.allow("one weight + 1 ulp", "the nudge pairs' definition (the drift experiment files)");
    c.allow("(28×28 grey images, 10 classes, 60,000 + 10,000)", "both datasets' format");
    c.allow("images of 60,000", "MNIST's training set size");
    c.allow("image of 60,000", "MNIST's training set size");
    c.allow("95% CI", "`twinnet compare`'s interval level");
    c.allow("below 0.05", "the significance level the findings use");
    c.allow("p < 0.05", "the significance level the findings use");
    c.allow("2^29", "float64's 53 significand bits against float32's 24: a constant");
    c.allow("CI across 0", "zero, the value an interval is judged against");
    c.allow("the report's 83.41%", "the report's own figure (the report, not a result file)");
    c.allow("| 83.41% |", "the report's own figure (the report, not a result file)");
    c.allow("against 83.41%", "the report's own figure (the report, not a result file)");
    c.allow("85.27%, digit 9 never predicted", "the report's own figures");
    c.allow("(the report: 85.27%)", "the report's own figure");
    c.allow("report's 85.27%", "the report's own figure");
    c.allow("digit 9 was the report's draw", "the report's own figure");
    // The drift tool's factor, whose value the test checks.
    assert_eq!(twinnet_runner::drift::MEET_FACTOR, 2.0);
    for f in [
        "at most 2×",
        "more than 2×",
        "factor 2",
        "within 2×",
        "above 2×",
        "outside 2×",
        "at most 2 ×",
    ] {
        if census::squeeze(&text("results/README.md")).contains(f) {
            c.allow(f, "the drift tool's factor (twinnet_runner::drift::MEET_FACTOR, checked = 2)");
        }
    }
}

/// Total minutes of experiment `exp` (its `experiment.json` or `drift.json`).
fn minutes(exp: &str, file: &str) -> f64 {
    json(&format!("results/{exp}/{file}"))["total_s"].as_f64().unwrap() / 60.0
}

/// The lead paragraph: machine, times, the runs' lengths.
fn introduction(c: &mut Census) {
    let nf = drift_record("noise-floor");
    let fw = drift_record("frameworks");
    assert_eq!((nf.cpu.as_str(), nf.cores), ("AMD EPYC", Some(2)));
    assert_eq!((fw.cpu.as_str(), fw.cores), ("AMD EPYC", Some(2)));
    c.says("on a {}-core AMD EPYC", &[s(fw.cores.unwrap())]);
    // The first noise-floor run's time is in the history (results/noise-floor/drift.json
    // before commit f828efa: total_s 429.7); the seven experiments' in their records.
    const FIRST_NOISE_FLOOR_MIN: f64 = 429.68 / 60.0;
    c.allow("noise-floor 7.2 min", "the first noise-floor run (drift.json before f828efa)");
    c.allow("the first run took 7.2 min", "the first noise-floor run (drift.json before f828efa)");
    let mut sum = FIRST_NOISE_FLOOR_MIN;
    for (exp, decimals) in [
        ("report", 1),
        ("identical", 1),
        ("ablation", 1),
        ("longer", 1),
        ("init-rng", 1),
        ("fashion-report", 2),
        ("fashion-ablation", 1),
    ] {
        let m = minutes(exp, "experiment.json");
        sum += m;
        c.says(&format!("{exp} {{}} min"), &[fixed(m, decimals)]);
    }
    c.says("{} minutes for all but `frameworks`", &[fixed(sum, 0)]);
    c.says(
        "noise-floor {} min on a busy machine",
        &[fixed(minutes("noise-floor", "drift.json"), 1)],
    );
    c.says(
        "`frameworks` {} min on a busy machine",
        &[fixed(minutes("frameworks", "drift.json"), 1)],
    );
    c.says(
        "`nielsen` {} min and `nielsen-drift` {} min",
        &[
            fixed(minutes("nielsen", "experiment.json"), 1),
            fixed(minutes("nielsen-drift", "drift.json"), 1),
        ],
    );
    c.says("`optimizers` {} min", &[fixed(minutes("optimizers", "experiment.json"), 1)]);
    let nielsen_epochs = run("nielsen", "ch1-30-seed0")["config"]["epochs"].as_u64().unwrap();
    c.says("and Nielsen's networks' {} epochs (last section)", &[s(nielsen_epochs)]);
    // Epochs and updates, from the runs' own records.
    let (fb, mb) = (run("report", "numpy-model"), run("report", "pytorch-model"));
    let epochs = fb["config"]["epochs"].as_u64().unwrap();
    assert_eq!(mb["config"]["epochs"].as_u64().unwrap(), epochs);
    let mb_updates = mb["updates_per_epoch"].as_u64().unwrap() * epochs;
    let fb_updates = fb["updates_per_epoch"].as_u64().unwrap() * epochs;
    let longer = run("longer", "numpy-5000-seed0")["config"]["epochs"].as_u64().unwrap();
    c.says(
        "Every run trains for the report's {} epochs ({} full-batch updates or {} mini-batch \
         updates), except `longer`'s {} full-batch iterations",
        &[s(epochs), s(fb_updates), thousands(mb_updates), s(longer)],
    );
    // Every "469,000" of the text is this count, and every "500 epochs" these epochs.
    c.says("{}", &[thousands(mb_updates)]);
    c.says("{} epochs", &[s(epochs)]);
    c.says("{}-epoch", &[s(epochs)]);
    c.says("{} full-batch", &[s(fb_updates)]);
    c.says("{} updates", &[s(fb_updates)]);
    c.says("{} iterations", &[s(fb_updates)]);
}

/// `85.37% ± 0.68 (84.00–86.22)` for the seeds of `config`.
fn mean_sd_range(exp: &str, config: &str) -> String {
    let (m, sd, lo, hi) = stats(&seed_runs(exp, config).iter().map(acc).collect::<Vec<_>>());
    format!("{m:.2}% ± {sd:.2} ({lo:.2}–{hi:.2})")
}

/// Which seeds of `config` collapse a class.
fn collapsing_seeds(exp: &str, config: &str) -> Vec<usize> {
    seed_runs(exp, config)
        .iter()
        .enumerate()
        .filter(|(_, r)| !collapsed(r).is_empty())
        .map(|(i, _)| i)
        .collect()
}

/// The table of the report's numbers against twinnet's, and the paragraph after it.
fn report_table(c: &mut Census) {
    let (numpy, pytorch) = (run("report", "numpy-model"), run("report", "pytorch-model"));
    let seeds = json("results/ablation/experiment.json")["seeds"].as_array().unwrap().len();
    c.says("twinnet, {} seeds, ndarray", &[s(seeds)]);
    c.says("twinnet, {} seeds, tch", &[s(seeds)]);
    c.says("(The {}-seed columns", &[s(seeds)]);
    c.says(
        "softmax | 83.41% | {} | {} | {} |",
        &[
            format!("{:.2}%", acc(&numpy)),
            mean_sd_range("ablation", "numpy"),
            mean_sd_range("ablation", "numpy-tch"),
        ],
    );
    let (k, k_tch) =
        (collapsing_seeds("ablation", "pytorch"), collapsing_seeds("ablation", "pytorch-tch"));
    assert_eq!(k, k_tch, "the same seeds collapse on both backends");
    c.says(
        "| {}%, digits {} never predicted | {}; a digit collapsed in {} of {} seeds | {}; a digit \
         collapsed in the same {} of {} seeds |",
        &[
            fixed(acc(&pytorch), 2),
            and_list(&collapsed(&pytorch)),
            mean_sd_range("ablation", "pytorch"),
            s(k.len()),
            s(seeds),
            mean_sd_range("ablation", "pytorch-tch"),
            s(k.len()),
            s(seeds),
        ],
    );
    let numpy_accs: Vec<f64> = seed_runs("ablation", "numpy").iter().map(acc).collect();
    let (_, _, lo, hi) = stats(&numpy_accs);
    c.says("the NumPy model lands at {}–{}%", &[fixed(lo, 0), fixed(hi, 0)]);
    assert!(lo - 83.41 > 0.5 && lo - 83.41 < 0.7, "half a point under the lowest seed");
    c.says("half a point under the lowest of our {} seeds", &[s(seeds)]);
    let pt: Vec<f64> = seed_runs("ablation", "pytorch").iter().map(acc).collect();
    let (m, _, lo, hi) = stats(&pt);
    c.says(
        "the PyTorch model lands at {}–{}% over {} seeds, {}% on average",
        &[fixed(lo, 0), fixed(hi, 0), s(seeds), fixed(m, 2)],
    );
    c.says("**with a digit it never predicts** in {} of them", &[s(k.len())]);
    // Which digits collapse across seeds, each in one or two.
    let mut count = [0usize; 10];
    for r in seed_runs("ablation", "pytorch") {
        for d in collapsed(&r) {
            count[d as usize] += 1;
        }
    }
    let which: Vec<u64> = (0..10).filter(|&d| count[d] > 0).map(|d| d as u64).collect();
    assert!(count.iter().all(|&n| n <= 2));
    c.says("changes with the seed ({} all occur", &[and_list(&which)]);
    c.says(
        "trains {} epochs into a network that never predicts {} and scores {}%",
        &[
            s(pytorch["config"]["epochs"].as_u64().unwrap()),
            and_list(&collapsed(&pytorch)).replace(" and ", " or "),
            fixed(acc(&pytorch), 2),
        ],
    );
    assert!(pt.iter().all(|&a| a > acc(&pytorch)));
    c.says("below every one of the {} seeds of the ablation", &[s(seeds)]);
}

/// A run's last logged train accuracy in percent.
fn final_train(v: &Value) -> f64 {
    100.0 * v["history"].as_array().unwrap().last().unwrap()["train_accuracy"].as_f64().unwrap()
}

/// A run's recall of class `k` in percent.
fn recall(v: &Value, k: usize) -> f64 {
    100.0 * v["test"]["per_class"][k]["recall"].as_f64().unwrap()
}

/// `p` with `d` decimals as the findings write p-values.
fn pd(p: Option<f64>, d: usize) -> String {
    fixed(p.unwrap(), d)
}

/// "The framework is not what separates the two numbers".
fn framework_section(c: &mut Census) {
    let id = |n: &str| run("identical", n);
    let (nf, tf) = (id("ndarray-full-batch"), id("tch-full-batch"));
    assert_eq!(format!("{:.2}", final_train(&nf)), format!("{:.2}", final_train(&tf)));
    assert_eq!(acc(&nf), acc(&tf));
    c.says(
        "end at the same train accuracy ({}%) and the same test accuracy ({}%) after {} updates",
        &[
            fixed(final_train(&nf), 2),
            fixed(acc(&nf), 2),
            s(nf["history"].as_array().unwrap().last().unwrap()["step"].as_u64().unwrap()),
        ],
    );
    let (nm, tm) = (id("ndarray-minibatch"), id("tch-minibatch"));
    c.says(
        "in mini-batch after {} updates they end at {}% and {}% train accuracy and {}% vs {}% test \
         accuracy",
        &[
            thousands(nm["history"].as_array().unwrap().last().unwrap()["step"].as_u64().unwrap()),
            fixed(final_train(&nm), 2),
            fixed(final_train(&tm), 2),
            fixed(acc(&nm), 2),
            fixed(acc(&tm), 2),
        ],
    );
    // The parity test's horizon and tolerance, read from its source.
    let parity = text("crates/tch/tests/parity.rs");
    assert!(parity.contains("const TOL: f64 = 1e-4;"));
    assert!(parity.contains("if regime == Regime::Minibatch { 100 } else { 20 }"));
    c.says(
        "agree to {} after {} mini-batch steps and {} full-batch iterations",
        &[s("1e-4"), s(100), s(20)],
    );
    c.says(
        "horizon and tolerance from this floor: {} mini-batch updates and {} full-batch iterations",
        &[s(100), s(20)],
    );
    c.says("checked at {} per tensor", &[s("1e-4")]);
    let seeds = json("results/ablation/experiment.json")["seeds"].as_array().unwrap().len();
    c.says("The ablation says the same over {} seeds", &[s(seeds)]);
    let same = compare("ablation:numpy", "ablation:numpy-tch");
    assert!(same
        .rows
        .iter()
        .filter(|r| r.metric.starts_with("recall") || r.metric.starts_with("test"))
        .all(|r| r.a == r.b));
    let a = row(&same, "test accuracy (%)").mean_sd_a.unwrap();
    c.says("in every seed ({}% ± {} both;", &[fixed(a.0, 2), fixed(a.1, 2)]);
    let pt = compare("ablation:pytorch", "ablation:pytorch-tch");
    let r = row(&pt, "test accuracy (%)");
    let ci = r.ci95.unwrap();
    c.says(
        "differ by {} points after 469,000 updates (95% CI {} to {}; Welch p {}, Mann–Whitney p {})",
        &[
            signed(r.diff.unwrap(), 2),
            signed(ci.0, 2),
            signed(ci.1, 2),
            pd(r.welch_p, 3),
            pd(r.mann_whitney_p, 2),
        ],
    );
    let twin_gap = |a: &str, b: &str| -> Vec<f64> {
        seed_runs("ablation", a)
            .iter()
            .zip(seed_runs("ablation", b))
            .map(|(x, y)| (acc(x) - acc(&y)).abs())
            .collect()
    };
    let gaps = twin_gap("pytorch", "pytorch-tch");
    let most = gaps.iter().cloned().fold(0.0, f64::max);
    assert!(most <= 0.25 && most > 0.2, "{most}");
    c.says("every seed within {} points of its twin", &[s("0.25")]);
    assert_eq!(
        collapsing_seeds("ablation", "pytorch"),
        collapsing_seeds("ablation", "pytorch-tch")
    );
    // The corrected model's pairs: nine within 0.3, seed 9 apart.
    let gaps = twin_gap("pytorch-with-softmax", "pytorch-with-softmax-tch");
    let far: Vec<usize> = (0..gaps.len()).filter(|&i| gaps[i] > 0.3).collect();
    assert_eq!(far, [9]);
    assert!(gaps.iter().filter(|&&g| g <= 0.3).count() == 9);
    c.says(
        "nine seeds end within {} points of their twin, but in seed {} the two",
        &[s("0.3"), s(far[0])],
    );
    let (a, b) = (
        &seed_runs("ablation", "pytorch-with-softmax")[9],
        &seed_runs("ablation", "pytorch-with-softmax-tch")[9],
    );
    let first = |v: &Value| v["history"][0].clone();
    let epoch = first(a)["epoch"].as_u64().unwrap();
    c.says(
        "part within the first {} epochs (train accuracy at the first logged epoch, {}: {}% on \
         ndarray, {}% on tch) and end at {}% vs {}% test accuracy",
        &[
            s(epoch),
            s(epoch),
            fixed(100.0 * first(a)["train_accuracy"].as_f64().unwrap(), 1),
            fixed(100.0 * first(b)["train_accuracy"].as_f64().unwrap(), 1),
            fixed(acc(a), 2),
            fixed(acc(b), 2),
        ],
    );
    let (r2, r5, r8) = (recall(b, 2), recall(b, 5), recall(b, 8));
    let (lo, hi) = (r2.min(r5).min(r8), r2.max(r5).max(r8));
    c.says(
        "(tch recognizes {}% of the threes, {}–{}% of the twos, fives and eights)",
        &[fixed(recall(b, 3), 1), fixed(lo, 0), fixed(hi, 0)],
    );
    let fix = compare("ablation:pytorch-with-softmax", "ablation:pytorch-with-softmax-tch");
    let r = row(&fix, "test accuracy (%)");
    let ci = r.ci95.unwrap();
    c.says(
        "Over {} seeds that is {} points, 95% CI {} to {}, no evidence of a difference (p {} / {})",
        &[
            s(seeds),
            signed(r.diff.unwrap(), 2),
            signed(ci.0, 2),
            signed(ci.1, 2),
            pd(r.welch_p, 2),
            pd(r.mann_whitney_p, 2),
        ],
    );
}

/// "Does whose generator draws the weights matter?"
fn init_rng_section(c: &mut Census) {
    let cmp = compare("init-rng:twinnet-rng", "init-rng:torch-rng");
    let seeds = json("results/init-rng/experiment.json")["seeds"].as_array().unwrap().len();
    c.says("one backend and {} seeds per generator", &[s(seeds)]);
    let r = row(&cmp, "test accuracy (%)");
    let (a, b) = (r.mean_sd_a.unwrap(), r.mean_sd_b.unwrap());
    let ci = r.ci95.unwrap();
    c.says(
        "{}% ± {} (twinnet's) against {}% ± {} (libtorch's, exactly PyTorch's draws), a \
         difference of {} points, 95% CI {} to {}, Welch p {}, Mann–Whitney p {}",
        &[
            fixed(a.0, 2),
            fixed(a.1, 2),
            fixed(b.0, 2),
            fixed(b.1, 2),
            signed(r.diff.unwrap(), 2),
            signed(ci.0, 2),
            signed(ci.1, 2),
            pd(r.welch_p, 2),
            pd(r.mann_whitney_p, 2),
        ],
    );
    let worst = seed_runs("init-rng", "torch-rng").iter().map(acc).fold(f64::MAX, f64::min);
    c.says("one poor seed ({}%)", &[fixed(worst, 2)]);
    // Which metrics have a test below 0.05: exactly the two the text names, with their p.
    let below: Vec<&str> = cmp
        .rows
        .iter()
        .filter(|r| r.welch_p.unwrap_or(1.0) < 0.05 || r.mann_whitney_p.unwrap_or(1.0) < 0.05)
        .map(|r| r.metric.as_str())
        .collect();
    assert_eq!(below, ["recall of digit 2 (%)", "recall of digit 4 (%)"]);
    let n = cmp.rows.iter().filter(|r| r.welch_p.is_some()).count();
    c.says("of the {} metrics compared, two have a test", &[s(n)]);
    let d4 = row(&cmp, "recall of digit 4 (%)");
    c.says(
        "digit {}'s recall ({} points, Welch p {}, Mann–Whitney p {})",
        &[s(4), signed(d4.diff.unwrap(), 2), pd(d4.welch_p, 3), pd(d4.mann_whitney_p, 3)],
    );
    let d2 = row(&cmp, "recall of digit 2 (%)");
    c.says(
        "digit {}'s ({} points, Mann–Whitney p {} but Welch p {})",
        &[s(2), signed(d2.diff.unwrap(), 2), pd(d2.mann_whitney_p, 3), pd(d2.welch_p, 3)],
    );
    c.says(
        "about what {} metrics × {} tests at that level produce by chance ({} expected)",
        &[s(n), s(2), fixed(n as f64 * 2.0 * 0.05, 1)],
    );
}

/// `x` as the drift tables write it: `1.5e-7`, and `1.4` for drifts of order one.
fn sci(x: f64) -> String {
    if (1.0..10.0).contains(&x) {
        format!("{x:.1}")
    } else {
        format!("{x:.1e}")
    }
}

/// A pair of setting `setting` of a drift record, by source.
fn pair<'a>(
    d: &'a twinnet_runner::drift::DriftRecord,
    setting: usize,
    source: &str,
) -> &'a twinnet_runner::drift::PairRecord {
    d.settings[setting].pairs.iter().find(|p| p.source == source).unwrap()
}

/// The first sampled update at which `p`'s drift is past `x`.
fn first_past(p: &twinnet_runner::drift::PairRecord, x: f64) -> usize {
    p.drift.iter().find(|&&(_, d)| d > x).unwrap().0
}

/// The largest train-accuracy difference of a pair in any epoch, in points.
fn largest_train_gap(p: &twinnet_runner::drift::PairRecord) -> f64 {
    p.train_accuracy_difference.iter().map(|t| (100.0 * t.2).abs()).fold(0.0, f64::max)
}

/// The largest change of a class's recall, in points.
fn largest_recall_change(p: &twinnet_runner::drift::PairRecord) -> f64 {
    p.recall_difference.iter().map(|r| (100.0 * r).abs()).fold(0.0, f64::max)
}

/// "How big must a difference be?": the noise-floor table and its bullets.
fn noise_floor_section(c: &mut Census) {
    use twinnet_runner::drift::meets;
    let d = drift_record("noise-floor");
    c.says(
        "`twinnet drift experiments/noise-floor.toml`, {} min on a 2-core AMD EPYC",
        &[fixed(d.total_s / 60.0, 1)],
    );
    let params =
        twinnet_core::INPUTS * 10 + 10 + 10 * twinnet_core::CLASSES + twinnet_core::CLASSES;
    c.says(
        "over all {} parameters; {} samples per decade",
        &[thousands(params as u64), s(twinnet_runner::drift::PER_DECADE)],
    );
    // The table: columns, then each row.
    c.says(
        "| after N updates: drift | {} | {} | {} | {} / {} | {} | {} | {} |",
        &[
            s(1),
            s(10),
            s(100),
            s(500),
            thousands(1000),
            thousands(10_000),
            thousands(100_000),
            thousands(469_000),
        ],
    );
    let at = |p: &twinnet_runner::drift::PairRecord, u: usize| sci(p.drift_at(u).unwrap());
    let full = [1, 10, 100, 500];
    let mini = [1, 10, 100, 1000, 10_000, 100_000, 469_000];
    for (setting, updates, model, tail) in
        [(0, &full[..], "NumPy model", " (500) | | | |"), (1, &mini[..], "PyTorch model", " |")]
    {
        let first =
            if setting == 0 { "NumPy model (full-batch)" } else { "PyTorch model (mini-batch 64)" };
        for (source, label) in [
            ("framework", format!("{first}: ndarray vs tch")),
            ("tch-threads", format!("{model}: tch on 1 vs 2 threads")),
            ("seed", format!("{model}: another seed")),
        ] {
            let p = pair(&d, setting, source);
            let cells: Vec<String> = updates.iter().map(|&u| at(p, u)).collect();
            c.says(&format!("| {label} | {}{tail}", vec!["{}"; cells.len()].join(" | ")), &cells);
        }
        let (un, ut) = (pair(&d, setting, "ulp-ndarray"), pair(&d, setting, "ulp-tch"));
        let cells: Vec<String> =
            updates.iter().map(|&u| format!("{} / {}", at(un, u), at(ut, u))).collect();
        c.says(
            &format!(
                "| {model}: one weight + 1 ulp (ndarray / tch) | {}{tail}",
                vec!["{}"; cells.len()].join(" | ")
            ),
            &cells,
        );
        let nt = pair(&d, setting, "ndarray-threads");
        assert!(nt.identical && nt.drift.iter().all(|&(_, x)| x == 0.0));
    }
    c.says("in both settings (drift {})", &[s(0)]);
    // The full-batch columns' last count.
    c.says("({}) |", &[s(d.settings[0].runs[0].result.config.epochs)]);
    // The framework against the floor and each source.
    let framework = |setting: usize| pair(&d, setting, "framework").clone();
    let meeting =
        |s: usize, src: &str| framework(s).meets.into_iter().find(|m| m.source == src).unwrap();
    let (fm, mm) = (meeting(0, meets::FLOOR), meeting(1, meets::FLOOR));
    assert_eq!((fm.stays_from, mm.stays_from), (Some(1), Some(1)));
    c.says(
        "(at most {}× in full-batch, {}× in mini-batch; at the end {}× and {}×)",
        &[
            fixed(fm.largest_after, 2),
            fixed(mm.largest_after, 2),
            fixed(fm.ratio_at_end, 2),
            fixed(mm.ratio_at_end, 2),
        ],
    );
    let others = ["tch-threads", "ulp-ndarray", "ulp-tch"];
    let shares: Vec<f64> = others.iter().map(|s| 100.0 * meeting(1, s).share_outside).collect();
    let (lo, hi) = (
        shares.iter().cloned().fold(f64::MAX, f64::min),
        shares.iter().cloned().fold(0.0, f64::max),
    );
    c.says(
        "outside a factor 2 (either way) at {}–{}% of the samples",
        &[fixed(lo, 0), fixed(hi, 0)],
    );
    let curves: Vec<std::collections::BTreeMap<usize, f64>> =
        others.iter().map(|s| pair(&d, 1, s).drift.iter().copied().collect()).collect();
    const AFTER: usize = 9;
    let ratios: Vec<(usize, f64)> = framework(1)
        .drift
        .iter()
        .filter(|&&(u, _)| u > AFTER && curves.iter().all(|o| o.contains_key(&u)))
        .map(|&(u, x)| (u, x / curves.iter().map(|o| o[&u]).fold(0.0, f64::max)))
        .collect();
    let below = ratios.iter().filter(|r| r.1 < 0.5).count();
    let least = ratios.iter().map(|r| r.1).fold(f64::MAX, f64::min);
    let deep: Vec<usize> = ratios.iter().filter(|r| r.1 < 1e-3).map(|r| r.0).collect();
    let round_k = |u: usize| thousands(((u as f64 / 1000.0).round() * 1000.0) as u64);
    c.says(
        "after update {} it sits more than 2× below the largest of the other three at {} of the \
         {} samples, down to {}/{} of it between about {} and {} updates",
        &[
            s(AFTER),
            s(below),
            s(ratios.len()),
            s(1),
            thousands(((1.0 / least / 1000.0).round() * 1000.0) as u64),
            round_k(deep[0]),
            round_k(*deep.last().unwrap()),
        ],
    );
    let f1 = pair(&d, 0, "framework").drift_at(1).unwrap();
    let nudges = [
        pair(&d, 0, "ulp-ndarray").drift_at(1).unwrap(),
        pair(&d, 0, "ulp-tch").drift_at(1).unwrap(),
    ];
    c.says(
        "In full-batch it starts {}–{}× above a one-ulp nudge",
        &[fixed(f1 / nudges[1].max(nudges[0]), 0), fixed(f1 / nudges[0].min(nudges[1]), 0)],
    );
    let (a, b) = (meeting(0, "ulp-ndarray"), meeting(0, "ulp-tch"));
    c.says(
        "within a factor 2 of the ndarray nudge from iteration {} on, of the tch nudge from \
         iteration {} on (first at {}; up to {}× apart in between)",
        &[
            s(a.stays_from.unwrap()),
            s(b.stays_from.unwrap()),
            s(b.first_within.unwrap()),
            fixed(b.largest_after, 2),
        ],
    );
    assert!(fm.set_by.len() == 1 && fm.set_by[0].0 == "tch-threads", "{:?}", fm.set_by);
    // Rounding differences grow slowly, then jump.
    let rounding = ["framework", "tch-threads", "ulp-ndarray", "ulp-tch"];
    let before: f64 = rounding
        .iter()
        .flat_map(|s| pair(&d, 1, s).drift.iter().filter(|&&(u, _)| u <= 10_000).map(|&(_, x)| x))
        .fold(0.0, f64::max);
    c.allow(
        "Up to about 10⁴ mini-batch updates",
        "the horizon the sentence chooses; the drift up to it is recomputed",
    );
    c.says("grows smoothly to ~{};", &[format!("{before:.0e}")]);
    let past: Vec<usize> = rounding.iter().map(|s| first_past(pair(&d, 1, s), 1e-4)).collect();
    let (lo, hi) = (*past.iter().min().unwrap(), *past.iter().max().unwrap());
    c.says(
        "between {}·{} and {}·{} updates each pair jumps",
        &[fixed(lo as f64 / 1e4, 1), s("10⁴"), fixed(hi as f64 / 1e4, 1), s("10⁴")],
    );
    c.says(
        "(first past {} at {} updates for the tch one-ulp pair, {} for the ndarray one-ulp and the \
         tch-threads pairs, {} for ndarray vs tch)",
        &[s("1e-4"), thousands(past[3] as u64), thousands(past[2] as u64), thousands(past[0] as u64)],
    );
    assert_eq!(past[1], past[2]);
    let ends: Vec<f64> = rounding.iter().map(|s| pair(&d, 1, s).drift.last().unwrap().1).collect();
    c.says(
        "ending {} to {} apart",
        &[
            format!("{:.0e}", ends.iter().cloned().fold(f64::MAX, f64::min)),
            format!("{:.0e}", ends.iter().cloned().fold(0.0, f64::max)),
        ],
    );
    let fb_most: f64 = rounding
        .iter()
        .flat_map(|s| pair(&d, 0, s).drift.iter().map(|&(_, x)| x))
        .fold(0.0, f64::max);
    c.says("never get there (about {} at most)", &[format!("{fb_most:.0e}")]);
    // A seed.
    let seed: Vec<f64> =
        (0..2).flat_map(|s| pair(&d, s, "seed").drift.iter().map(|&(_, x)| x)).collect();
    c.says(
        "A seed's drift is {}–{} from the first update",
        &[
            fixed(seed.iter().cloned().fold(f64::MAX, f64::min), 1),
            fixed(seed.iter().cloned().fold(0.0, f64::max), 1),
        ],
    );
    let end_ratio = |s: usize| {
        pair(&d, s, "framework").drift.last().unwrap().1
            / pair(&d, s, "seed").drift.last().unwrap().1
    };
    c.says(
        "At the end the framework's drift is {}× (full-batch) and {}× (mini-batch) of it",
        &[format!("{:.0e}", end_ratio(0)), fixed(end_ratio(1), 2)],
    );
    // What it does to the numbers a reader compares.
    let acc_b = |s: usize, src: &str| 100.0 * pair(&d, s, src).test_accuracy.1.unwrap();
    let acc_a = |s: usize, src: &str| 100.0 * pair(&d, s, src).test_accuracy.0.unwrap();
    for src in rounding {
        let p = pair(&d, 0, src);
        assert_eq!(p.test_accuracy.0, p.test_accuracy.1);
        assert!(p.recall_difference.iter().all(|&r| r == 0.0));
    }
    let gap: f64 = rounding.iter().map(|s| largest_train_gap(pair(&d, 0, s))).fold(0.0, f64::max);
    assert_eq!((gap / 100.0 * 60_000.0).round(), 2.0, "two images");
    c.says(
        "every rounding-level pair ends at the same test accuracy ({}%) with every recall equal, \
         train accuracies at most two images of 60,000 ({} points)",
        &[fixed(acc_a(0, "framework"), 2), fixed(gap, 3)],
    );
    let sp = pair(&d, 0, "seed");
    let worst_recall = sp.recall_difference.iter().map(|r| 100.0 * r).fold(0.0, |m: f64, r| {
        if r.abs() > m.abs() {
            r
        } else {
            m
        }
    });
    c.says(
        "another seed: {}% ({} points), a class's recall {} points, train accuracy up to {} points",
        &[
            fixed(acc_b(0, "seed"), 2),
            signed(acc_b(0, "seed") - acc_a(0, "seed"), 2),
            signed(worst_recall, 1).replace('+', ""),
            fixed(largest_train_gap(sp), 1),
        ],
    );
    let gaps: Vec<f64> = rounding.iter().map(|s| (acc_b(1, s) - acc_a(1, s)).abs()).collect();
    let accs: Vec<f64> = rounding.iter().flat_map(|s| [acc_a(1, s), acc_b(1, s)]).collect();
    let recall_most =
        rounding.iter().map(|s| largest_recall_change(pair(&d, 1, s))).fold(0.0, f64::max);
    let train_most = rounding.iter().map(|s| largest_train_gap(pair(&d, 1, s))).fold(0.0, f64::max);
    let collapsed_all: Vec<Vec<u64>> = d.settings[1]
        .runs
        .iter()
        .map(|r| r.result.test.as_ref().unwrap().collapsed.iter().map(|&k| k as u64).collect())
        .collect();
    let seed_run = &d.settings[1].runs[pair(&d, 1, "seed").b];
    let seed_collapsed: Vec<u64> =
        seed_run.result.test.as_ref().unwrap().collapsed.iter().map(|&k| k as u64).collect();
    let common = collapsed_all[pair(&d, 1, "framework").a].clone();
    assert!(d.settings[1]
        .runs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != pair(&d, 1, "seed").b)
        .all(|(i, _)| collapsed_all[i] == common));
    c.says(
        "Mini-batch, 500 epochs: the rounding-level pairs end {}–{} points of test accuracy apart \
         ({}–{}%), a class's recall at most {} points apart, train accuracy at most {} images ({} \
         points) apart in any epoch, and all collapse the same digits ({}); another seed ends {} \
         points higher ({}%) collapsing other digits ({})",
        &[
            fixed(gaps.iter().cloned().fold(f64::MAX, f64::min), 2),
            fixed(gaps.iter().cloned().fold(0.0, f64::max), 2),
            fixed(accs.iter().cloned().fold(f64::MAX, f64::min), 2),
            fixed(accs.iter().cloned().fold(0.0, f64::max), 2),
            fixed(recall_most, 2),
            fixed((train_most / 100.0 * 60_000.0).round(), 0),
            fixed(train_most, 2),
            and_list(&common),
            fixed(acc_b(1, "seed") - acc_a(1, "seed"), 1),
            fixed(acc_b(1, "seed"), 2),
            and_list(&seed_collapsed),
        ],
    );
    // The rule of thumb drawn from it: bounds above what the floor pairs moved.
    let acc_most = gaps.iter().cloned().fold(0.0, f64::max);
    assert!(acc_most <= 0.1 && recall_most <= 1.0);
    c.says("a test-accuracy difference below about {} point, or a per-class recall difference below about {} point", &[s("0.1"), s(1)]);
    // The ablation's twins.
    let mut twins = vec![];
    for (a, b) in [
        ("numpy", "numpy-tch"),
        ("pytorch", "pytorch-tch"),
        ("pytorch-with-softmax", "pytorch-with-softmax-tch"),
    ] {
        for (x, y) in seed_runs("ablation", a).iter().zip(seed_runs("ablation", b)) {
            twins.push((acc(x) - acc(&y)).abs());
        }
    }
    let close = twins.iter().filter(|&&g| g <= 0.3).count();
    let far = twins.iter().cloned().fold(0.0, f64::max);
    let far_seed = twins.iter().position(|&g| g == far).unwrap() % 10;
    c.says(
        "Among the ablation's {} ndarray/tch twins (same start, same batches, 500 epochs), {} end \
         within {} points of each other, but one (`pytorch-with-softmax`, seed {}: [−1, 1] pixels, \
         a model that kills hidden units early) ends {} points apart",
        &[s(twins.len()), s(close), s("0.3"), s(far_seed), fixed(far, 1)],
    );
    // Seeds against the floor.
    let numpy: Vec<f64> = seed_runs("ablation", "numpy").iter().map(acc).collect();
    let (_, sd, lo, hi) = stats(&numpy);
    let seeds = numpy.len();
    c.says(
        "over the ablation's {} seeds the NumPy model's test accuracy has a standard deviation of {} \
         points and a range of {} points, {}–{}× the floor's ~{} point",
        &[s(seeds), fixed(sd, 2), fixed(hi - lo, 2), fixed(sd / 0.1, 0), fixed((hi - lo) / 0.1, 0), s("0.1")],
    );
    let pt: Vec<f64> = seed_runs("ablation", "pytorch").iter().map(acc).collect();
    let (_, sd, lo, hi) = stats(&pt);
    c.says(
        "the PyTorch model's {} and {} points, {}–{}× it",
        &[fixed(sd, 2), fixed(hi - lo, 2), fixed(sd / 0.1, 0), fixed((hi - lo) / 0.1, 0)],
    );
    // The parity test's floor: at its horizon, the largest rounding drifts.
    let at20: Vec<f64> =
        ["framework", "tch-threads"].iter().map(|s| pair(&d, 0, s).drift_at(20).unwrap()).collect();
    let at100 = rounding.iter().map(|s| pair(&d, 1, s).drift_at(100).unwrap()).fold(0.0, f64::max);
    c.says(
        "where the floor is {}–{} to {}",
        &[format!("{:.0}", at20[1] * 1e8), format!("{:.0e}", at20[0]), sci(at100)],
    );
}

/// "The report's own programs, run inside the harness": the frameworks table and bullets.
fn frameworks_section(c: &mut Census) {
    use twinnet_runner::drift::meets;
    let d = drift_record("frameworks");
    c.says(
        "`twinnet drift experiments/frameworks.toml`, {} min on a 2-core AMD EPYC",
        &[fixed(d.total_s / 60.0, 1)],
    );
    for s in 0..2 {
        let nt = pair(&d, s, "ndarray-threads");
        assert!(nt.identical);
    }
    c.says("ndarray's thread pair is bit-identical, drift {})", &[s(0)]);
    c.says(
        "| after N updates: drift from ndarray | {} | {} | {} / {} | {} | {} | test accuracy",
        &[s(1), s(100), s(500), thousands(1000), thousands(10_000), thousands(469_000)],
    );
    let test_of = |setting: usize, run: usize| {
        d.settings[setting].runs[run].result.test.as_ref().unwrap().clone()
    };
    for (setting, model, updates, last) in [
        (0, "NumPy model", &[1, 100, 500][..], " (500) | | |"),
        (1, "PyTorch model", &[1, 100, 1000, 10_000, 469_000][..], " |"),
    ] {
        let first =
            if setting == 0 { "NumPy model (full-batch)" } else { "PyTorch model (mini-batch 64)" };
        for (source, label) in [
            ("tch", format!("{first}: tch")),
            ("numpy-reference", format!("{model}: the report's NumPy program (float64)")),
            ("pytorch-reference", format!("{model}: the report's PyTorch program")),
        ] {
            let p = pair(&d, setting, source);
            let mut cells: Vec<String> =
                updates.iter().map(|&u| sci(p.drift_at(u).unwrap())).collect();
            let t = test_of(setting, p.b);
            cells.push(format!("{:.2}%", 100.0 * t.accuracy));
            let col: Vec<u64> = t.collapsed.iter().map(|&k| k as u64).collect();
            let col = if col.is_empty() {
                "none".into()
            } else {
                col.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
            };
            cells.push(col);
            c.says(
                &format!(
                    "| {label} | {}{last} {} | {} |",
                    vec!["{}"; updates.len()].join(" | "),
                    "{}",
                    "{}"
                ),
                &cells,
            );
        }
        let floor = ["ulp-ndarray", "ulp-tch", "tch-threads"];
        let mut cells: Vec<String> = updates
            .iter()
            .map(|&u| {
                floor
                    .iter()
                    .map(|s| sci(pair(&d, setting, s).drift_at(u).unwrap()))
                    .collect::<Vec<_>>()
                    .join(" / ")
            })
            .collect();
        cells.push(
            floor
                .iter()
                .map(|s| {
                    format!("{:.2}%", 100.0 * test_of(setting, pair(&d, setting, s).b).accuracy)
                })
                .collect::<Vec<_>>()
                .join(" / "),
        );
        let cols: Vec<Vec<u8>> =
            floor.iter().map(|s| test_of(setting, pair(&d, setting, s).b).collapsed).collect();
        assert!(cols.iter().all(|c| *c == cols[0]));
        cells.push(if cols[0].is_empty() {
            "none".into()
        } else {
            cols[0].iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
        });
        c.says(
            &format!(
                "| {model}, floor: ndarray one weight + 1 ulp / tch one weight + 1 ulp / tch 1 vs 2 threads | {}{last} {} | {} |",
                vec!["{}"; updates.len()].join(" | "),
                "{}",
                "{}"
            ),
            &cells,
        );
    }
    let nd = |s: usize| test_of(s, pair(&d, s, "tch").a);
    let seed = |s: usize| test_of(s, pair(&d, s, "seed").b);
    let col = |t: &twinnet_runner::schema::TestResult| -> Vec<u64> {
        t.collapsed.iter().map(|&k| k as u64).collect()
    };
    c.says(
        "(ndarray itself: {}% and {}%, the same digits collapsed; another seed: {}% and {}%, \
         collapsing {} in the PyTorch model.)",
        &[
            fixed(100.0 * nd(0).accuracy, 2),
            fixed(100.0 * nd(1).accuracy, 2),
            fixed(100.0 * seed(0).accuracy, 2),
            fixed(100.0 * seed(1).accuracy, 2),
            and_list(&col(&seed(1))),
        ],
    );
    c.allow(
        "ran first on a 2-core Intel Xeon",
        "the first frameworks run, in the history (results/frameworks/drift.json before f70cb86)",
    );
    // Full-batch.
    let frameworks = ["tch", "numpy-reference", "pytorch-reference"];
    for f in frameworks {
        assert_eq!(test_of(0, pair(&d, 0, f).b).accuracy, nd(0).accuracy);
        assert!(pair(&d, 0, f).recall_difference.iter().all(|&r| r == 0.0));
    }
    let gap = frameworks.iter().map(|f| largest_train_gap(pair(&d, 0, f))).fold(0.0, f64::max);
    assert_eq!((gap / 100.0 * 60_000.0).round(), 1.0, "one image");
    c.says(
        "all four implementations end at {}% with every digit's recall equal",
        &[fixed(100.0 * nd(0).accuracy, 2)],
    );
    let floor = |setting: usize, source: &str| {
        pair(&d, setting, source).meets.iter().find(|m| m.source == meets::FLOOR).unwrap().clone()
    };
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    let (t, p, n) = (floor(0, "tch"), floor(0, "pytorch-reference"), floor(0, "numpy-reference"));
    assert_eq!((t.stays_from, p.stays_from), (Some(1), Some(1)));
    assert!(d.settings[0].pairs[0].meets[0].set_by.iter().all(|(s, _)| s == "tch-threads"));
    c.says(
        "up to {}× and {}× of it, and end at {}× and {}×",
        &[
            fixed(t.largest_after, 2),
            fixed(p.largest_after, 2),
            fixed(t.ratio_at_end, 2),
            fixed(p.ratio_at_end, 2),
        ],
    );
    c.says(
        "above 2× the floor at {} of the samples, up to {}×, and at most 2× from iteration {} on, \
         ending at {}×",
        &[
            pct(n.share_outside),
            fixed(n.largest_after, 2),
            s(n.stays_from.unwrap()),
            fixed(n.ratio_at_end, 2),
        ],
    );
    // Mini-batch.
    let ends: Vec<f64> = std::iter::once(nd(1).accuracy)
        .chain(frameworks.iter().map(|f| test_of(1, pair(&d, 1, f).b).accuracy))
        .map(|a| 100.0 * a)
        .collect();
    let floor_src = ["ulp-ndarray", "ulp-tch", "tch-threads"];
    let floor_ends: Vec<f64> =
        floor_src.iter().map(|f| 100.0 * test_of(1, pair(&d, 1, f).b).accuracy).collect();
    let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    let common = col(&nd(1));
    for f in frameworks {
        assert_eq!(col(&test_of(1, pair(&d, 1, f).b)), common);
    }
    let recall_of = |f: &str| largest_recall_change(pair(&d, 1, f));
    let between = {
        let (a, b) = (
            test_of(1, pair(&d, 1, "numpy-reference").b),
            test_of(1, pair(&d, 1, "pytorch-reference").b),
        );
        (0..10)
            .map(|k| (k, (100.0 * (a.per_class[k].recall - b.per_class[k].recall)).abs()))
            .fold((0, 0.0), |m, x| if x.1 > m.1 { x } else { m })
    };
    let train_most =
        frameworks.iter().map(|f| largest_train_gap(pair(&d, 1, f))).fold(0.0, f64::max);
    let train_floor: Vec<f64> =
        floor_src.iter().map(|f| largest_train_gap(pair(&d, 1, f))).collect();
    let recall_floor = floor_src.iter().map(|f| recall_of(f)).fold(0.0, f64::max);
    c.says(
        "Mini-batch, after 469,000 updates, all four end between {}% and {}% (the floor pairs' \
         second runs: {}–{}%) and all collapse digits {}; against ndarray a digit's recall moves at \
         most {} points (the PyTorch program; the NumPy program {}, tch {}), where the floor pairs \
         move one by up to {} points, and the report's two programs differ from each other by up \
         to {} points (digit {}); train accuracy moves at most {} points from ndarray's in any \
         epoch (the floor pairs: {}–{})",
        &[
            fixed(min(&ends), 2),
            fixed(max(&ends), 2),
            fixed(min(&floor_ends), 2),
            fixed(max(&floor_ends), 2),
            and_list(&common),
            fixed(recall_of("pytorch-reference"), 2),
            fixed(recall_of("numpy-reference"), 2),
            fixed(recall_of("tch"), 2),
            fixed(recall_floor, 2),
            fixed(between.1, 2),
            s(between.0),
            fixed(train_most, 3),
            fixed(min(&train_floor), 3),
            fixed(max(&train_floor), 3),
        ],
    );
    let (t, n, p, pt) = (
        floor(1, "tch"),
        floor(1, "numpy-reference"),
        floor(1, "pytorch-reference"),
        floor(1, "pytorch-reference-tch"),
    );
    c.says(
        "{}× the floor (tch), {}× (the NumPy program) and {}× (the PyTorch program; {}× from tch)",
        &[
            fixed(t.ratio_at_end, 2),
            fixed(n.ratio_at_end, 2),
            fixed(p.ratio_at_end, 2),
            fixed(pt.ratio_at_end, 2),
        ],
    );
    c.says(
        "A seed moves the test accuracy {} points",
        &[fixed(100.0 * (seed(1).accuracy - nd(1).accuracy), 1)],
    );
    assert_eq!(t.stays_from, Some(1));
    c.says("floor from the first update to the last (up to {}×)", &[fixed(t.largest_after, 2)]);
    let at10k = pair(&d, 1, "numpy-reference").drift_at(10_000).unwrap();
    let floors10k: Vec<f64> =
        floor_src.iter().map(|f| pair(&d, 1, f).drift_at(10_000).unwrap()).collect();
    c.says(
        "(after {} updates {}, {}–{}× their {}–{})",
        &[
            thousands(10_000),
            sci(at10k),
            fixed(at10k / max(&floors10k), 0),
            fixed(at10k / min(&floors10k), 0),
            fixed(min(&floors10k) * 1e6, 1),
            sci(max(&floors10k)),
        ],
    );
    c.says(
        "only from update {} on (up to {}× before, outside 2× at {} of the samples)",
        &[thousands(n.stays_from.unwrap() as u64), fixed(n.largest_after, 2), pct(n.share_outside)],
    );
    c.says("({} after one)", &[sci(pair(&d, 1, "pytorch-reference-tch").drift_at(1).unwrap())]);
    let past = |f: &str| thousands(first_past(pair(&d, 1, f), 1e-4) as u64);
    assert_eq!(past("numpy-reference"), past("ulp-tch"));
    assert_eq!(past("ulp-ndarray"), past("tch-threads"));
    c.says(
        "past {} after {} updates (the NumPy program and the tch one-ulp pair after {}, the other \
         floor pairs after {}, tch after {})",
        &[s("1e-4"), past("pytorch-reference"), past("ulp-tch"), past("ulp-ndarray"), past("tch")],
    );
    c.says(
        "up to {}× the floor around {} updates, and is at most 2× the floor from update {} on \
         (outside at {} of the samples)",
        &[
            fixed(p.largest_after, 0),
            thousands(10_000),
            thousands(p.stays_from.unwrap() as u64),
            pct(p.share_outside),
        ],
    );
    let latest = frameworks.iter().map(|f| floor(1, f).stays_from.unwrap()).max().unwrap();
    c.says(
        "from about {} updates on, every framework",
        &[thousands(((latest as f64 / 1000.0).round() * 1000.0) as u64)],
    );
}

/// Mean test accuracy of `config`'s seeds.
fn mean_of(exp: &str, config: &str) -> f64 {
    stats(&seed_runs(exp, config).iter().map(acc).collect::<Vec<_>>()).0
}

/// "Which factor explains the accuracy gap": both tables and the bullets.
fn ablation_section(c: &mut Census) {
    let seeds = json("results/ablation/experiment.json")["seeds"].as_array().unwrap().len();
    for cfg in json("results/ablation/experiment.json")["configs"].as_array().unwrap() {
        for r in seed_runs("ablation", cfg.as_str().unwrap()) {
            assert_eq!(r["config"]["epochs"], 500, "every run is 500 epochs");
        }
    }
    c.says("One factor at a time, {} seeds each", &[s(seeds)]);
    let n = s(seeds);
    c.says("| starting from the NumPy model ({}) |", &[mean_sd("ablation", "numpy")]);
    let base = mean_of("ablation", "numpy");
    for (label, cfg, bold) in [
        ("+ mini-batch 64", "numpy-with-minibatch", true),
        ("+ [−1, 1] pixels", "numpy-with-symmetric", false),
        ("+ nn.Linear init", "numpy-with-torch-init", false),
        ("+ softmax twice", "numpy-with-double-softmax", false),
    ] {
        let delta = signed(mean_of("ablation", cfg) - base, 1);
        let delta = if bold { format!("**{delta}**") } else { delta };
        let k = collapses("ablation", cfg);
        let k = if k == seeds { format!("**{k}/{n}**") } else { format!("{k}/{n}") };
        c.says(&format!("| {label} | {{}} | {{}} | {{}} |"), &[mean_sd("ablation", cfg), delta, k]);
    }
    c.says(
        "| starting from the PyTorch model ({}, collapsed {}/{}) |",
        &[mean_sd("ablation", "pytorch"), s(collapses("ablation", "pytorch")), n.clone()],
    );
    let base = mean_of("ablation", "pytorch");
    let d = |cfg: &str| signed(mean_of("ablation", cfg) - base, 1);
    let k = |cfg: &str| format!("{}/{n}", collapses("ablation", cfg));
    c.says(
        "| − mini-batch (full-batch) | {} | {} | {} |",
        &[
            mean_sd("ablation", "pytorch-with-full-batch"),
            d("pytorch-with-full-batch"),
            k("pytorch-with-full-batch"),
        ],
    );
    let unit = compare("ablation:pytorch", "ablation:pytorch-with-unit");
    let u = row(&unit, "test accuracy (%)");
    c.says(
        "| − [−1, 1] pixels ([0, 1]) | {} | {} (weak: Welch p {}, Mann–Whitney p {}) | {} |",
        &[
            mean_sd("ablation", "pytorch-with-unit"),
            d("pytorch-with-unit"),
            pd(u.welch_p, 2),
            pd(u.mann_whitney_p, 2),
            k("pytorch-with-unit"),
        ],
    );
    c.says(
        "| − nn.Linear init (U[−0.5, 0.5]) | {} | {} | {} |",
        &[
            mean_sd("ablation", "pytorch-with-uniform-init"),
            d("pytorch-with-uniform-init"),
            k("pytorch-with-uniform-init"),
        ],
    );
    let tch_delta = signed(
        mean_of("ablation", "pytorch-with-softmax-tch") - mean_of("ablation", "pytorch-tch"),
        1,
    );
    c.says(
        "the fix | {} (tch: {}) | {} (tch {}) | **{}** (tch {}) |",
        &[
            mean_sd("ablation", "pytorch-with-softmax"),
            mean_sd("ablation", "pytorch-with-softmax-tch"),
            d("pytorch-with-softmax"),
            tch_delta,
            k("pytorch-with-softmax"),
            k("pytorch-with-softmax-tch"),
        ],
    );
    // The bullets.
    let mb = compare("ablation:numpy", "ablation:numpy-with-minibatch");
    let r = row(&mb, "test accuracy (%)");
    let ci = r.ci95.unwrap();
    let per_epoch =
        seed_runs("ablation", "numpy-with-minibatch")[0]["updates_per_epoch"].as_u64().unwrap();
    c.says(
        "adds {} points ({} updates per epoch instead of one; 95% CI {} to {}); taking mini-batches \
         away from the PyTorch model costs {}.",
        &[
            fixed(r.diff.unwrap(), 1),
            s(per_epoch),
            signed(ci.0, 1),
            signed(ci.1, 1),
            fixed(base - mean_of("ablation", "pytorch-with-full-batch"), 1),
        ],
    );
    let numpy_base = mean_of("ablation", "numpy");
    c.says(
        "pixels ({} points for the NumPy model; {} when the PyTorch model is given [0, 1] pixels \
         back, weak evidence only, with collapses in {} seeds instead of {};",
        &[
            signed(mean_of("ablation", "numpy-with-symmetric") - numpy_base, 1),
            d("pytorch-with-unit"),
            s(collapses("ablation", "pytorch-with-unit")),
            s(collapses("ablation", "pytorch")),
        ],
    );
    c.says(
        "helps a lot: {} for the NumPy model; taking it away from the PyTorch model costs {} points",
        &[
            signed(mean_of("ablation", "numpy-with-torch-init") - numpy_base, 1),
            fixed(base - mean_of("ablation", "pytorch-with-uniform-init"), 1),
        ],
    );
    // Removing the double softmax.
    let fix = compare("ablation:pytorch", "ablation:pytorch-with-softmax");
    let mut had = std::collections::BTreeSet::new();
    for r in seed_runs("ablation", "pytorch") {
        had.extend(collapsed(&r));
    }
    let had: Vec<u64> = had.into_iter().collect();
    let diffs: Vec<f64> =
        had.iter().map(|d| row(&fix, &format!("recall of digit {d} (%)")).diff.unwrap()).collect();
    for d in &had {
        let r = row(&fix, &format!("recall of digit {d} (%)"));
        assert!(!(r.welch_p.unwrap() < 0.05 && r.mann_whitney_p.unwrap() < 0.05), "digit {d}");
    }
    let weak = had
        .iter()
        .copied()
        .filter(|d| {
            row(&fix, &format!("recall of digit {d} (%)")).mann_whitney_p.unwrap() < 0.05
                || row(&fix, &format!("recall of digit {d} (%)")).welch_p.unwrap() < 0.05
        })
        .collect::<Vec<u64>>();
    assert_eq!(weak.len(), 1, "one digit with one test below 0.05");
    let d9 = row(&fix, &format!("recall of digit {} (%)", weak[0]));
    c.says(
        "It ends every collapse ({}/{} → {}/{}) and raises the mean recall of the digits that had \
         collapsed ({}: {} to {} points, none with both tests below 0.05 on {} seeds; digit {}'s \
         Mann–Whitney p is {}, its Welch p {}",
        &[
            s(collapses("ablation", "pytorch")),
            n.clone(),
            s(collapses("ablation", "pytorch-with-softmax")),
            n.clone(),
            had.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            signed(diffs.iter().cloned().fold(f64::MAX, f64::min), 1),
            signed(diffs.iter().cloned().fold(f64::MIN, f64::max), 1),
            n.clone(),
            s(weak[0]),
            pd(d9.mann_whitney_p, 3),
            pd(d9.welch_p, 3),
        ],
    );
    let lower: Vec<u64> = (0..10u64)
        .filter(|d| {
            let r = row(&fix, &format!("recall of digit {d} (%)"));
            r.diff.unwrap() < 0.0 && r.welch_p.unwrap() < 0.05 && r.mann_whitney_p.unwrap() < 0.05
        })
        .collect();
    c.says(
        "loses recall on other digits instead ({} all lower",
        &[lower.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")],
    );
    let r = row(&fix, "test accuracy (%)");
    let ci = r.ci95.unwrap();
    c.says(
        "its mean stays where it was ({}, CI {} to {})",
        &[signed(r.diff.unwrap(), 1), signed(ci.0, 1), signed(ci.1, 1)],
    );
    // Spreads.
    let range = |cfg: &str| {
        let (_, _, lo, hi) = stats(&seed_runs("ablation", cfg).iter().map(acc).collect::<Vec<_>>());
        hi - lo
    };
    let numpy_sd = stats(&seed_runs("ablation", "numpy").iter().map(acc).collect::<Vec<_>>()).1;
    // Every configuration with the double softmax or [−1, 1] pixels, from the runs' settings.
    let configs = json("results/ablation/experiment.json")["configs"].as_array().unwrap().clone();
    let unstable: Vec<String> = configs
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .filter(|cfg| cfg != "pytorch-with-softmax-tch")
        .filter(|cfg| {
            let r = &seed_runs("ablation", cfg)[0]["config"];
            r["head"] == "double-softmax" || r["normalize"] == "symmetric"
        })
        .collect();
    let ranges: Vec<f64> = unstable.iter().map(|c| range(c)).collect();
    c.says(
        "The NumPy model is stable (sd {} points); every configuration with the double softmax or \
         with [−1, 1] pixels spreads over {}–{} points between its lowest and highest seed ({} for \
         the corrected model on tch, with its seed {})",
        &[
            fixed(numpy_sd, 1),
            fixed(ranges.iter().cloned().fold(f64::MAX, f64::min), 0),
            fixed(ranges.iter().cloned().fold(0.0, f64::max), 0),
            fixed(range("pytorch-with-softmax-tch"), 0),
            s(seed_runs("ablation", "pytorch-with-softmax-tch")
                .iter()
                .map(acc)
                .enumerate()
                .fold((0, f64::MAX), |m, (i, a)| if a < m.1 { (i, a) } else { m })
                .0),
        ],
    );
}

/// "Why the double softmax collapses a class".
fn double_softmax_section(c: &mut Census) {
    let e = std::f64::consts::E;
    let best = e / (e + 9.0);
    c.says("e/(e+9) ≈ {}`, so the loss stays above {}", &[fixed(best, 2), fixed(-best.ln(), 2)]);
    let r = run("report", "pytorch-model");
    let last = r["history"].as_array().unwrap().last().unwrap()["train_loss"].as_f64().unwrap();
    c.says("train loss ends at {} in", &[fixed(last, 2)]);
    assert_eq!(collapsed(&r).len(), 3, "three digits collapsed");
    let n = json("results/ablation/experiment.json")["seeds"].as_array().unwrap().len();
    let per_seed: Vec<usize> = seed_runs("ablation", "numpy-with-double-softmax")
        .iter()
        .map(|r| collapsed(r).len())
        .collect();
    assert!(
        per_seed.iter().filter(|&&k| (2..=4).contains(&k)).count() > n / 2,
        "often two to four: {per_seed:?}"
    );
    c.says(
        "collapses at least one digit in **{} of {}** seeds (often two to four), the PyTorch model \
         collapses one in {} of {} (the same {} on tch), and removing the double softmax from the \
         PyTorch model brings collapses to **{} of {}** on both backends",
        &[
            s(collapses("ablation", "numpy-with-double-softmax")),
            s(n),
            s(collapses("ablation", "pytorch")),
            s(n),
            s(collapses("ablation", "pytorch-tch")),
            s(collapses("ablation", "pytorch-with-softmax") + collapses("ablation", "pytorch-with-softmax-tch")),
            s(n),
        ],
    );
}

/// A run's train accuracy (percent) at `epoch`.
fn train_at(v: &Value, epoch: u64) -> f64 {
    let h = v["history"].as_array().unwrap().iter().find(|h| h["epoch"] == epoch).unwrap();
    100.0 * h["train_accuracy"].as_f64().unwrap()
}

/// "Was full-batch gradient descent simply not run long enough?"
fn longer_section(c: &mut Census) {
    let runs = seed_runs("longer", "numpy-5000");
    let s0 = &runs[0];
    c.says("still rising at 500 iterations ({}% train accuracy)", &[fixed(train_at(s0, 500), 1)]);
    let (m, sd, lo, hi) = stats(&runs.iter().map(acc).collect::<Vec<_>>());
    c.says(
        "{} full-batch iterations over {} seeds and reaches **{}% ± {}** test accuracy ({}–{}), up \
         from {}% at {}",
        &[s(s0["config"]["epochs"].as_u64().unwrap()), s(runs.len()), fixed(m, 2), fixed(sd, 2), fixed(lo, 2), fixed(hi, 2), fixed(mean_of("ablation", "numpy"), 1), s(500)],
    );
    let steps = [500u64, 1000, 2000, 3000, 5000];
    let v: Vec<String> = steps.iter().flat_map(|&e| [fixed(train_at(s0, e), 1), s(e)]).collect();
    c.says(
        "train accuracy goes {}% ({} iterations) → {}% ({}) → {}% ({}) → {}% ({}) → {}% ({})",
        &v,
    );
    let epochs = s0["config"]["epochs"].as_u64().unwrap();
    c.says("given {}× the iterations", &[s(epochs / 500)]);
    c.says("{} passes over the data for {}%", &[s(epochs), fixed(m, 1)]);
    let accs: Vec<f64> = seed_runs("ablation", "numpy-with-minibatch")
        .iter()
        .map(|r| 100.0 * r["history"][0]["train_accuracy"].as_f64().unwrap())
        .collect();
    let first =
        seed_runs("ablation", "numpy-with-minibatch")[0]["history"][0]["epoch"].as_u64().unwrap();
    c.says(
        "is at {}% train accuracy after {} passes (the mean of its {} seeds; the first epoch it \
         logs), and ends at {}% test accuracy after {}",
        &[
            fixed(stats(&accs).0, 2),
            s(first),
            s(accs.len()),
            fixed(mean_of("ablation", "numpy-with-minibatch"), 2),
            s(seed_runs("ablation", "numpy-with-minibatch")[0]["config"]["epochs"]
                .as_u64()
                .unwrap()),
        ],
    );
}

/// "What a corrected PyTorch model reaches".
fn corrected_section(c: &mut Census) {
    let n = json("results/ablation/experiment.json")["seeds"].as_array().unwrap().len();
    c.says(
        "stops the collapses ({}/{} seeds on both backends) at {} (ndarray) and {} (tch)",
        &[
            s(collapses("ablation", "pytorch-with-softmax")
                + collapses("ablation", "pytorch-with-softmax-tch")),
            s(n),
            mean_sd("ablation", "pytorch-with-softmax"),
            mean_sd("ablation", "pytorch-with-softmax-tch"),
        ],
    );
    let best = mean_of("ablation", "numpy-with-minibatch");
    let (nm, tm) = (run("identical", "ndarray-minibatch"), run("identical", "tch-minibatch"));
    c.says(
        "network reaches **{}** (uniform init, 500 epochs, {} seeds, `numpy-with-minibatch`) and \
         {}% / {}% (nn.Linear init",
        &[
            mean_sd("ablation", "numpy-with-minibatch"),
            s(n),
            fixed(acc(&nm), 2),
            fixed(acc(&tm), 2),
        ],
    );
    let gain = (best - mean_of("ablation", "numpy")).min(best - mean_of("ablation", "pytorch"));
    c.says("about {} points above either of the report's models", &[fixed(gain, 0)]);
}

/// `+8.11 [+7.53, +8.69]`: a comparison's difference and interval.
fn diff_ci(r: &Row) -> String {
    let ci = r.ci95.unwrap();
    format!("{} [{}, {}]", signed(r.diff.unwrap(), 2), signed(ci.0, 2), signed(ci.1, 2))
}

/// How often each class collapses over the seeds of `config`.
fn collapse_counts(exp: &str, config: &str) -> [usize; 10] {
    let mut k = [0; 10];
    for r in seed_runs(exp, config) {
        for d in collapsed(&r) {
            k[d as usize] += 1;
        }
    }
    k
}

/// Mean recall (percent) of class `k` over the seeds of `config`.
fn mean_recall(exp: &str, config: &str, k: usize) -> f64 {
    stats(&seed_runs(exp, config).iter().map(|r| recall(r, k)).collect::<Vec<_>>()).0
}

/// "Do the findings hold on Fashion-MNIST?"
fn fashion_section(c: &mut Census) {
    c.says(
        "as `report.toml` does ({} min)",
        &[fixed(minutes("fashion-report", "experiment.json"), 2)],
    );
    let n = json("results/fashion-ablation/experiment.json")["seeds"].as_array().unwrap().len();
    c.says("over the same {} seeds and 500 epochs", &[s(n)]);
    c.says("| one factor at a time, {} seeds, 500 epochs |", &[s(n)]);
    c.says(
        "| NumPy model (test accuracy) | {} | {} |",
        &[mean_sd("ablation", "numpy"), mean_sd("fashion-ablation", "numpy")],
    );
    let both = |a: &str, b: &str| {
        (
            compare(&format!("ablation:{a}"), &format!("ablation:{b}")),
            compare(&format!("fashion-ablation:{a}"), &format!("fashion-ablation:{b}")),
        )
    };
    let acc_row = |c: &Comparison| row(c, "test accuracy (%)").clone();
    let (m, f) = both("numpy", "numpy-with-minibatch");
    c.says("| + mini-batch 64 | {} | {} | yes |", &[diff_ci(&acc_row(&m)), diff_ci(&acc_row(&f))]);
    let (m, f) = both("numpy", "numpy-with-symmetric");
    c.says(
        "| + [−1, 1] pixels | {} | {}, p {} |",
        &[diff_ci(&acc_row(&m)), diff_ci(&acc_row(&f)), pd(acc_row(&f).welch_p, 2)],
    );
    let (m, f) = both("numpy", "numpy-with-torch-init");
    c.says("| + nn.Linear init | {} | {} | yes |", &[diff_ci(&acc_row(&m)), diff_ci(&acc_row(&f))]);
    let (m, f) = both("numpy", "numpy-with-double-softmax");
    c.says(
        "| + double softmax | {}, a class collapsed in {}/{} seeds | {}, {}/{} | yes |",
        &[
            diff_ci(&acc_row(&m)),
            s(collapses("ablation", "numpy-with-double-softmax")),
            s(n),
            diff_ci(&acc_row(&f)),
            s(collapses("fashion-ablation", "numpy-with-double-softmax")),
            s(n),
        ],
    );
    c.says(
        "| PyTorch model | {}, collapsed in {}/{} | {}, collapsed in {}/{} |",
        &[
            mean_sd("ablation", "pytorch"),
            s(collapses("ablation", "pytorch")),
            s(n),
            mean_sd("fashion-ablation", "pytorch"),
            s(collapses("fashion-ablation", "pytorch")),
            s(n),
        ],
    );
    let (m, f) = both("pytorch", "pytorch-with-full-batch");
    c.says("| + full-batch | {} | {} | yes |", &[diff_ci(&acc_row(&m)), diff_ci(&acc_row(&f))]);
    let (m, f) = both("pytorch", "pytorch-with-unit");
    let (mr, fr) = (acc_row(&m), acc_row(&f));
    c.says(
        "| + [0, 1] pixels | {}, p {} / {} | {}, p {} |",
        &[
            diff_ci(&mr),
            pd(mr.welch_p, 2),
            pd(mr.mann_whitney_p, 2),
            diff_ci(&fr),
            pd(fr.welch_p, 2),
        ],
    );
    let (unit_m, unit_f) = (mr.diff.unwrap(), fr.diff.unwrap());
    let (m, f) = both("pytorch", "pytorch-with-uniform-init");
    c.says("| + uniform init | {} | {} | yes |", &[diff_ci(&acc_row(&m)), diff_ci(&acc_row(&f))]);
    let (m, f) = both("pytorch", "pytorch-with-softmax");
    let (mr, fr) = (acc_row(&m), acc_row(&f));
    let sd =
        |exp: &str, cfg: &str| stats(&seed_runs(exp, cfg).iter().map(acc).collect::<Vec<_>>()).1;
    let k = |exp: &str, cfg: &str| format!("{}/{n}", collapses(exp, cfg));
    c.says(
        "| + softmax head (the fix) | {}, collapses {} → {} | {}, p {}, collapses {} → {}, sd {} → {} |",
        &[
            diff_ci(&mr),
            k("ablation", "pytorch"),
            k("ablation", "pytorch-with-softmax"),
            diff_ci(&fr),
            pd(fr.welch_p, 2),
            k("fashion-ablation", "pytorch"),
            k("fashion-ablation", "pytorch-with-softmax"),
            fixed(sd("fashion-ablation", "pytorch"), 2),
            fixed(sd("fashion-ablation", "pytorch-with-softmax"), 2),
        ],
    );
    c.says(
        "narrows the spread between seeds four-fold (sd {} → {})",
        &[
            fixed(sd("fashion-ablation", "pytorch"), 2),
            fixed(sd("fashion-ablation", "pytorch-with-softmax"), 2),
        ],
    );
    let sym = both("numpy", "numpy-with-symmetric");
    c.says(
        "On MNIST they cost the NumPy model {} points with a wide spread; on Fashion-MNIST they \
         change nothing measurable ({}, CI across 0), nor does giving the PyTorch model [0, 1] \
         pixels back ({}, CI across 0; on MNIST {}, weak evidence)",
        &[
            fixed(-acc_row(&sym.0).diff.unwrap(), 1),
            signed(acc_row(&sym.1).diff.unwrap(), 1),
            signed(unit_f, 1),
            signed(unit_m, 1),
        ],
    );
    // Which classes collapse.
    let pt = collapse_counts("fashion-ablation", "pytorch");
    let most = (0..10).max_by_key(|&k| pt[k]).unwrap();
    let names = twinnet_data::DatasetName::FashionMnist.class_names();
    assert_eq!(names[most], "Shirt");
    let ones: Vec<&str> = (0..10).filter(|&k| pt[k] == 1).map(|k| names[k]).collect();
    let twos: Vec<&str> = (0..10).filter(|&k| pt[k] == 2).map(|k| names[k]).collect();
    assert_eq!(pt.iter().filter(|&&k| k > 0).count(), 1 + ones.len() + twos.len());
    let fb = collapse_counts("fashion-ablation", "pytorch-with-full-batch");
    let un = collapse_counts("fashion-ablation", "pytorch-with-unit");
    assert!((0..10).all(|k| fb[k] <= fb[6] && un[k] <= un[6]), "Shirt leads");
    c.says(
        "In the PyTorch model Shirt collapses most often ({} of {} seeds; {} {}, {} and {} {} each), \
         and Shirt again leads with full-batch ({} of {}) and with [0, 1] pixels ({} of {})",
        &[
            s(pt[6]),
            s(n),
            twos.join(", "),
            s(2),
            ones[..ones.len() - 1].join(", "),
            ones[ones.len() - 1].to_string(),
            s(1),
            s(fb[6]),
            s(n),
            s(un[6]),
            s(n),
        ],
    );
    c.says(
        "({}% recall in the NumPy model, {}% in the fixed one)",
        &[
            fixed(mean_recall("fashion-ablation", "numpy", 6), 1),
            fixed(mean_recall("fashion-ablation", "pytorch-with-softmax", 6), 1),
        ],
    );
    let (fnp, fpt) = (run("fashion-report", "numpy-model"), run("fashion-report", "pytorch-model"));
    assert_eq!(collapsed(&fpt), [6], "never predicts Shirt");
    c.says(
        "{} epochs, PyTorch's draw for seed 0) scores {}% and never predicts Shirt; the NumPy model \
         scores {}%",
        &[s(fpt["config"]["epochs"].as_u64().unwrap()), fixed(acc(&fpt), 2), fixed(acc(&fnp), 2)],
    );
    // Where the datasets differ.
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
    let fashion_configs: Vec<String> = json("results/fashion-ablation/experiment.json")["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(fashion_configs, configs, "the ten configurations");
    let mut drops: Vec<(f64, &str)> = configs
        .iter()
        .map(|c| (mean_of("ablation", c) - mean_of("fashion-ablation", c), *c))
        .collect();
    drops.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = (drops[4].0 + drops[5].0) / 2.0;
    let of = |c: &str| drops.iter().find(|d| d.1 == c).unwrap().0;
    let (report_pt, report_np) = (run("report", "pytorch-model"), run("report", "numpy-model"));
    c.says(
        "Over {} seeds the ten configurations score {}–{} points lower on Fashion-MNIST than on \
         MNIST (median {}: the NumPy model {} lower, the double softmax added to it {}, [0, 1] \
         pixels for the PyTorch model {}), while the report's single PyTorch-model run scores {} \
         points *higher* ({}% against {}%)",
        &[
            s(n),
            fixed(drops[0].0, 1),
            fixed(drops[9].0, 1),
            fixed(median, 1),
            fixed(of("numpy"), 1),
            fixed(of("numpy-with-double-softmax"), 1),
            fixed(of("pytorch-with-unit"), 1),
            fixed(acc(&fpt) - acc(&report_pt), 1),
            fixed(acc(&fpt), 2),
            fixed(acc(&report_pt), 2),
        ],
    );
    c.says(
        "(Shirt {}%, Trouser {}% in the NumPy model)",
        &[
            fixed(mean_recall("fashion-ablation", "numpy", 6), 1),
            fixed(mean_recall("fashion-ablation", "numpy", 1), 1),
        ],
    );
    c.says(
        "the PyTorch model ends ahead ({}% against {}%) despite losing Shirt, on MNIST behind ({}% \
         against {}%)",
        &[fixed(acc(&fpt), 2), fixed(acc(&fnp), 2), fixed(acc(&report_pt), 2), fixed(acc(&report_np), 2)],
    );
    assert_eq!(collapsed(&report_pt).len(), 3, "having lost three digits");
}

/// The drift tool's summaries are what it writes from the committed records, with the meetings
/// recomputed from the curves: every number in their sentences and tables comes from the
/// record, through the tool's own code.
#[test]
fn the_drift_summaries_are_what_the_tool_writes() {
    use twinnet_runner::drift::{meets, summary, MEET_FACTOR};
    for name in ["noise-floor", "frameworks", "nielsen-drift"] {
        let record = drift_record(name);
        let mut fresh = record.clone();
        for s in &mut fresh.settings {
            meets::refresh(s, &record.floor, MEET_FACTOR);
        }
        for (f, r) in fresh.settings.iter().zip(&record.settings) {
            for (fp, rp) in f.pairs.iter().zip(&r.pairs) {
                assert_eq!(
                    serde_json::to_value(&fp.meets).unwrap(),
                    serde_json::to_value(&rp.meets).unwrap(),
                    "{name}: {}'s meetings are its curve's own",
                    rp.label
                );
            }
        }
        assert_eq!(
            summary(&record),
            text(&format!("results/{name}/summary.md")),
            "results/{name}/summary.md is not what `twinnet plot` writes from drift.json"
        );
    }
}

/// A run's best test accuracy over its evaluated epochs, in percent (what Nielsen quotes).
fn peak(v: &Value) -> f64 {
    let h = v["history"].as_array().unwrap();
    100.0 * h.iter().filter_map(|e| e["test_accuracy"].as_f64()).fold(f64::MIN, f64::max)
}

/// A run's widths as the findings write them: `[784, 30, 10]`.
fn widths(v: &Value) -> String {
    let c = &v["config"];
    let hidden: Vec<u64> = match &c["hidden"] {
        Value::Number(n) => vec![n.as_u64().unwrap()],
        Value::Array(a) => a.iter().map(|w| w.as_u64().unwrap()).collect(),
        other => panic!("hidden {other}"),
    };
    let all: Vec<String> =
        std::iter::once(784).chain(hidden).chain([10]).map(|w| w.to_string()).collect();
    format!("[{}]", all.join(", "))
}

/// "Nielsen's network.py, reproduced".
fn nielsen_section(c: &mut Census) {
    use twinnet_runner::drift::meets;
    let book = "Nielsen's published figure (\"Neural Networks and Deep Learning\", ch. 1), not a \
                result file";
    c.allow("peak of 95.42% with 30 hidden neurons", book);
    c.allow("reports 96.59%", book);
    c.allow("book's 96.59%", book);
    c.allow("Chapter 1's 95.42%", book);
    c.allow("N(0, 1)", "the normal init's definition (`init = \"normal\"`), a setting");
    c.allow("chapter 1", "the book's chapter");
    c.allow("chapter 3", "the book's chapter");
    c.allow("Chapter 3", "the book's chapter");
    c.allow("Chapter 1", "the book's chapter");
    c.allow("10,000 test images", "MNIST's test set size");
    let ch1 = run("nielsen", "ch1-30-seed0");
    let cfg = &ch1["config"];
    let seeds = seed_runs("nielsen", "ch1-30").len();
    c.says(
        "layers {}, sigmoid neurons, the quadratic cost, every weight and bias from N(0, 1), \
         mini-batches of {}, η = {}, {} epochs on the first {} training images",
        &[
            widths(&ch1),
            s(cfg["batch_size"].as_u64().unwrap()),
            fixed(cfg["lr"].as_f64().unwrap(), 1),
            s(cfg["epochs"].as_u64().unwrap()),
            thousands(cfg["train_limit"].as_u64().unwrap()),
        ],
    );
    assert_eq!(cfg["eval_every"], 1);
    let h100 = run("nielsen", "ch1-100-seed0");
    c.says("the same with {} hidden neurons", &[s(h100["config"]["hidden"].as_u64().unwrap())]);
    c.says("With {} hidden neurons the book's", &[s(h100["config"]["hidden"].as_u64().unwrap())]);
    c.says("Over {} seeds tch's rows match ndarray's", &[s(seeds)]);
    let ch3 = run("nielsen", "ch3-30-seed0");
    c.says("with its scaled initialization (η = {})", &[s(ch3["config"]["lr"].as_f64().unwrap())]);
    c.says("Each runs over {} seeds", &[s(seeds)]);
    c.says("the two {}-neuron networks also on tch", &[s(cfg["hidden"].as_u64().unwrap())]);
    let relu = run("nielsen", "relu-128-64-seed0");
    c.says(
        "a deeper ReLU network {} (softmax head, nn.Linear's init, mini-batches of {}, η = {})",
        &[
            widths(&relu),
            s(relu["config"]["batch_size"].as_u64().unwrap()),
            s(relu["config"]["lr"].as_f64().unwrap()),
        ],
    );
    c.says("best test accuracy over its {} epochs", &[s(cfg["epochs"].as_u64().unwrap())]);
    for config in ["ch1-30", "ch1-30-tch", "ch1-100", "ch3-30", "ch3-30-tch", "relu-128-64"] {
        let runs = seed_runs("nielsen", config);
        let (pm, _, plo, phi) = stats(&runs.iter().map(peak).collect::<Vec<_>>());
        let n = runs.len();
        let lost = runs.iter().filter(|r| !collapsed(r).is_empty()).count();
        let label = match config {
            "ch1-30" | "ch3-30" => format!("`{config}` (ndarray)"),
            _ => format!("`{config}`"),
        };
        c.says(
            &format!("{label} | {{}}% ({{}}–{{}}) | {{}} | {{}} / {{}} |"),
            &[
                fixed(pm, 2),
                fixed(plo, 2),
                fixed(phi, 2),
                mean_sd("nielsen", config),
                s(lost),
                s(n),
            ],
        );
    }
    // Chapter 1, 30 neurons.
    let runs = seed_runs("nielsen", "ch1-30");
    let (good, bad): (Vec<&Value>, Vec<&Value>) =
        runs.iter().partition(|r| collapsed(r).is_empty());
    let (gm, _, glo, ghi) = stats(&good.iter().map(|r| peak(r)).collect::<Vec<_>>());
    let best = runs.iter().position(|r| peak(r) == ghi).unwrap();
    assert_eq!(bad.len(), 1);
    let worst = runs.iter().position(|r| !collapsed(r).is_empty()).unwrap();
    c.says(
        "Nine of twinnet's {} seeds peak between {}% and {}% (mean {}%), and seed {} reaches \
         exactly {}%; seed {} never predicts the digit {} and ends at {}%",
        &[
            s(runs.len()),
            fixed(glo, 2),
            fixed(ghi, 2),
            fixed(gm, 2),
            s(best),
            fixed(ghi, 2),
            s(worst),
            and_list(&collapsed(&runs[worst])),
            fixed(acc(&runs[worst]), 2),
        ],
    );
    assert_eq!(good.len(), 9);
    assert_eq!(fixed(ghi, 2), "95.42", "the book's figure, reached by one seed");
    // 100 neurons.
    let runs = seed_runs("nielsen", "ch1-100");
    let (hi, lo): (Vec<f64>, Vec<f64>) = runs.iter().map(peak).partition(|&p| p > 95.0);
    let lost = runs.iter().filter(|r| !collapsed(r).is_empty()).count();
    let min = |v: &[f64]| v.iter().cloned().fold(f64::MAX, f64::min);
    let max = |v: &[f64]| v.iter().cloned().fold(f64::MIN, f64::max);
    c.says(
        "Here {} of {} seeds peak at {}–{}% and the other {} at {}–{}%, {} of them never \
         predicting a digit",
        &[
            s(hi.len()),
            s(runs.len()),
            fixed(min(&hi), 2),
            fixed(max(&hi), 2),
            s(lo.len()),
            fixed(min(&lo), 2),
            fixed(max(&lo), 2),
            s(lost),
        ],
    );
    c.says(
        "with N(0, 1) weights the {} sigmoid units start saturated, and at η = {} some never",
        &[s(h100["config"]["hidden"].as_u64().unwrap()), fixed(cfg["lr"].as_f64().unwrap(), 1)],
    );
    // Chapter 3.
    let sd =
        |config: &str| stats(&seed_runs("nielsen", config).iter().map(acc).collect::<Vec<_>>()).1;
    c.says(
        "{} after {} epochs against chapter 1's ± {}, and no seed loses a digit",
        &[
            mean_sd("nielsen", "ch3-30"),
            s(ch3["config"]["epochs"].as_u64().unwrap()),
            fixed(sd("ch1-30"), 2),
        ],
    );
    assert_eq!(collapses("nielsen", "ch3-30"), 0);
    // The backends.
    let p = |a: &str, b: &str| {
        let r = compare(&format!("nielsen:{a}"), &format!("nielsen:{b}"));
        row(&r, "test accuracy (%)").welch_p.unwrap()
    };
    c.says(
        "(chapter 1: Welch p = {}; chapter 3: p = {}",
        &[fixed(p("ch1-30", "ch1-30-tch"), 3), fixed(p("ch3-30", "ch3-30-tch"), 3)],
    );
    let d = drift_record("nielsen-drift");
    let floor = |setting: usize| {
        pair(&d, setting, "framework")
            .meets
            .iter()
            .find(|m| m.source == meets::FLOOR)
            .unwrap()
            .clone()
    };
    let end = |setting: usize, source: &str| pair(&d, setting, source).drift.last().unwrap().1;
    let last = pair(&d, 0, "framework").drift.last().unwrap().0;
    let f0 = floor(0);
    c.says(
        "stays within 2× of the floor from update {} on and ends at {}× of it, after {} updates, \
         {} apart — as far as one weight moved by one ulp takes either backend ({} on ndarray, {} \
         on tch)",
        &[
            s(f0.stays_from.unwrap()),
            fixed(f0.ratio_at_end, 2),
            thousands(last as u64),
            fixed(end(0, "framework"), 2),
            fixed(end(0, "ulp-ndarray"), 2),
            fixed(end(0, "ulp-tch"), 2),
        ],
    );
    c.says("the quadratic cost at η = {} turns", &[fixed(cfg["lr"].as_f64().unwrap(), 1)]);
    let f1 = floor(1);
    assert_eq!(f1.stays_from, Some(1));
    c.says("from the first update and ends at {}× of it", &[fixed(f1.ratio_at_end, 2)]);
}
