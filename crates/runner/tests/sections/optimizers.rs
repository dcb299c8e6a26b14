//! "Does a better optimizer rescue the double softmax?": every number recomputed from
//! `results/optimizers`, `results/comparisons.md`'s pairs and `results/bench/optim.json`.

use super::*;

use twinnet_runner::compare::Row;

/// `twinnet compare`'s test-accuracy row of `optimizers:{model}-{opt}` against the same model
/// under SGD (each pair compared once, then quoted from).
fn against_sgd(model: &str, opt: &str) -> Row {
    let a = format!("optimizers:{model}-sgd");
    row(&compare(&a, &format!("optimizers:{model}-{opt}")), "test accuracy (%)").clone()
}

/// `+2.33 [−2.91, +7.57], p 0.361` (or `p < 0.001`) for B − A of `r`.
fn change(r: &Row) -> String {
    let (lo, hi) = r.ci95.unwrap();
    let p = r.welch_p.unwrap();
    let p = if p < 0.001 { "p < 0.001".to_string() } else { format!("p {}", fixed(p, 3)) };
    format!("{} [{}, {}], {p}", signed(r.diff.unwrap(), 2), signed(lo, 2), signed(hi, 2))
}

/// The digits any seed of `config` never predicts.
fn digits(config: &str) -> String {
    let mut d: Vec<u64> = seed_runs("optimizers", config).iter().flat_map(collapsed).collect();
    d.sort_unstable();
    d.dedup();
    and_list(&d)
}

pub(super) fn optimizers_section(c: &mut Census) {
    let seeds = seed_runs("optimizers", "pytorch-sgd").len();
    let n = s(seeds);
    assert_eq!(seeds, 10);
    c.allow(
        "10 seeds each on ndarray (whose",
        "the experiment's seeds (`seeds = \"0..10\"`), checked above",
    );
    for cfg in json("results/optimizers/experiment.json")["configs"].as_array().unwrap() {
        for r in seed_runs("optimizers", cfg.as_str().unwrap()) {
            assert_eq!(r["config"]["epochs"], 500, "every run is the report's 500 epochs");
        }
    }
    // The settings, as the experiment file gives them (checked against the runs).
    let cfg = |name: &str| run("optimizers", &format!("{name}-seed0"))["config"].clone();
    assert_eq!(cfg("pytorch-sgd")["lr"].as_f64(), Some(0.1));
    assert_eq!(cfg("pytorch-momentum")["momentum"].as_f64(), Some(0.9));
    assert_eq!(cfg("pytorch-nesterov")["nesterov"], true);
    assert_eq!(cfg("pytorch-adam")["optimizer"], "adam");
    assert_eq!(cfg("pytorch-adamw")["optimizer"], "adamw");
    assert_eq!(cfg("pytorch-adam")["lr"].as_f64(), Some(0.001));
    let settings = "a setting of experiments/optimizers.toml, checked against the runs' configs";
    for snippet in [
        "SGD at lr 0.1",
        "SGD, lr 0.1 (the report's)",
        "| momentum 0.9 |",
        "| Nesterov momentum 0.9 |",
        "| Adam, lr 0.001 |",
        "| AdamW, lr 0.001, weight decay 0.01 |",
        "With momentum 0.9",
        "Momentum at lr 0.1",
        "(mini-batch 64)",
    ] {
        c.allow(snippet, settings);
    }
    c.allow("95% CI and Welch p", "`twinnet compare`'s interval level and test");
    c.allow("about ten times", "μ = 0.9: a constant gradient's steps sum to 1/(1 − μ) = 10 lr");
    c.allow(
        "0/10 under plain SGD",
        "the ablation's pytorch-with-softmax, quoted in the ablation table",
    );
    let rows = [
        ("SGD, lr 0.1 (the report's)", "sgd"),
        ("momentum 0.9", "momentum"),
        ("Nesterov momentum 0.9", "nesterov"),
        ("Adam, lr 0.001", "adam"),
        ("AdamW, lr 0.001, weight decay 0.01", "adamw"),
    ];
    let others = ["momentum", "nesterov", "adam", "adamw"];
    let changes: std::collections::HashMap<(&str, &str), Row> = ["pytorch", "numpy"]
        .into_iter()
        .flat_map(|model| others.map(|opt| ((model, opt), against_sgd(model, opt))))
        .collect();
    for (model, bold) in [("pytorch", true), ("numpy", false)] {
        for (label, opt) in rows {
            let config = format!("{model}-{opt}");
            let delta =
                if opt == "sgd" { "–".to_string() } else { change(&changes[&(model, opt)]) };
            let k = collapses("optimizers", &config);
            let k = if bold && k == 9 { format!("**{k}/{n}**") } else { format!("{k}/{n}") };
            let mut row = format!("| {label} | {{}} | {{}} | {{}} |");
            let mut values = vec![mean_sd_range("optimizers", &config), delta, k];
            if model == "pytorch" {
                row.push_str(" {} |");
                values.push(digits(&config));
            }
            c.says(&row, &values);
        }
    }
    // The prose, from the same comparisons.
    let (mom, nes) = (&changes[&("pytorch", "momentum")], &changes[&("pytorch", "nesterov")]);
    let (adam, adamw) = (&changes[&("pytorch", "adam")], &changes[&("pytorch", "adamw")]);
    c.says(
        "nine seeds of ten lose a digit (several lose two or three) and the mean falls {} points",
        &[fixed(-mom.diff.unwrap(), 2)],
    );
    assert_eq!(collapses("optimizers", "pytorch-momentum"), 9);
    c.says(
        "does not change that ({}/{}, {})",
        &[s(collapses("optimizers", "pytorch-nesterov")), n.clone(), signed(nes.diff.unwrap(), 2)],
    );
    c.says(
        "{} and {} seeds of {} still never",
        &[
            s(collapses("optimizers", "pytorch-adam")),
            s(collapses("optimizers", "pytorch-adamw")),
            n.clone(),
        ],
    );
    c.says(
        "the mean's rise ({} and {} points)",
        &[signed(adam.diff.unwrap(), 2), signed(adamw.diff.unwrap(), 2)],
    );
    let least = adam.welch_p.unwrap().min(adamw.welch_p.unwrap());
    assert!(least > 0.18);
    c.allow("both Welch p above 0.18", "asserted just above from the two comparisons");
    let nd = |opt: &str| {
        let r = &changes[&("numpy", opt)];
        assert!(r.welch_p.unwrap() < 0.001);
        signed(r.diff.unwrap(), 2)
    };
    c.allow("all p < 0.001)", "asserted for each comparison just above");
    c.says(
        "(momentum {}, Nesterov {}, Adam {} points, all p",
        &[nd("momentum"), nd("nesterov"), nd("adam")],
    );
    for opt in ["sgd", "momentum", "nesterov", "adam", "adamw"] {
        assert_eq!(collapses("optimizers", &format!("numpy-{opt}")), 0);
    }
    // The bench's ratios.
    let bench = json("results/bench/optim.json");
    let ms = |name: &str| {
        bench["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["optimizer"] == name)
            .map(|r| r["median_ms"].as_f64().unwrap())
            .unwrap()
    };
    let sgd = ms("sgd");
    let x = |name: &str| format!("{:.2}×", ms(name) / sgd);
    let momentum = x("sgd momentum 0.9");
    assert_eq!(momentum, x("sgd momentum 0.9 nesterov"));
    c.says(
        "momentum and Nesterov take {} plain SGD's time, Adam {} and AdamW {}",
        &[momentum, x("adam β 0.9,0.999 ε 1e-8"), x("adamw β 0.9,0.999 ε 1e-8 decay 0.01")],
    );
}
