//! `twinnet verify`: reruns an experiment into a temporary folder and compares it with the
//! committed results, run by run: the parameters by [`Params::fingerprint`] (a hash of their
//! bits), the JSON apart from timings and environment. Each difference names the field (as a
//! JSON path) and the two values; any difference is an error.
//!
//! The thread count of a backend whose bits do not depend on it (ndarray,
//! [`twinnet_engine::Policy::threads_change_bits`]) is not compared: its default follows the
//! machine's cores. Everything else must be equal: a result that moved without being
//! regenerated, or a machine that computes other bits, fails.

use crate::bail;
use crate::error::Result;
use crate::layout::ResultsDir;
use crate::schema::{read_versioned, ExperimentRecord, RunResult};
use serde_json::Value;
use twinnet_core::Params;

/// The most differences listed per run.
const MAX_LISTED: usize = 12;

/// What differs between the runs of `fresh` and those of `committed` (both experiment
/// folders), as lines naming the run, the field and both values; empty when they agree.
pub fn differences(fresh: &ResultsDir, committed: &ResultsDir) -> Result<Vec<String>> {
    let what = "experiment record";
    let a: ExperimentRecord = read_versioned(&fresh.experiment_json(), what)?;
    let b: ExperimentRecord = read_versioned(&committed.experiment_json(), what)?;
    let mut out = vec![];
    if a.runs != b.runs {
        out.push(format!("runs: {:?} here, {:?} committed", a.runs, b.runs));
        return Ok(out);
    }
    for name in &a.runs {
        let (x, y): (RunResult, RunResult) = (
            read_versioned(&fresh.run_json(name), "result")?,
            read_versioned(&committed.run_json(name), "result")?,
        );
        out.extend(json_differences(&x, &y).into_iter().map(|d| format!("{name}: {d}")));
        let (p, q) = (
            Params::load(&fresh.run_params(name), None)?,
            Params::load(&committed.run_params(name), None)?,
        );
        if p.fingerprint() != q.fingerprint() {
            out.push(format!(
                "{name}: parameters {:016x} here, {:016x} committed",
                p.fingerprint(),
                q.fingerprint()
            ));
        }
    }
    Ok(out)
}

/// A result as JSON without what may legitimately differ: `timing`, each epoch's
/// `elapsed_s`, `environment`, and the thread count where it changes no bit.
fn comparable(r: &RunResult) -> Value {
    let mut v = serde_json::to_value(r).expect("results serialize");
    if let Some(o) = v.as_object_mut() {
        o.remove("timing");
        o.remove("environment");
        if !twinnet_engine::Policy::of(r.config.backend).threads_change_bits() {
            if let Some(c) = o.get_mut("config").and_then(Value::as_object_mut) {
                c.remove("threads");
            }
            // The config hash leaves it out already.
        }
        if let Some(h) = o.get_mut("history").and_then(Value::as_array_mut) {
            for e in h.iter_mut().filter_map(Value::as_object_mut) {
                e.remove("elapsed_s");
            }
        }
    }
    v
}

/// The fields of two results that differ (apart from [`comparable`]'s), each as
/// `path: value here, value committed`, at most [`MAX_LISTED`] and a count of the rest.
fn json_differences(x: &RunResult, y: &RunResult) -> Vec<String> {
    let mut d = vec![];
    diff("", &comparable(x), &comparable(y), &mut d);
    if d.len() > MAX_LISTED {
        let more = d.len() - MAX_LISTED;
        d.truncate(MAX_LISTED);
        d.push(format!("… and {more} more difference(s)"));
    }
    d
}

/// Appends every leaf of `a` and `b` that differs, by JSON path.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff(&p, u, v, out),
                    (u, v) => out.push(format!("{p}: {} here, {} committed", show(u), show(v))),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), u, v, out);
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            out.push(format!("{path}: {} items here, {} committed", x.len(), y.len()))
        }
        _ if a != b => out.push(format!("{path}: {a} here, {b} committed")),
        _ => {}
    }
}

fn show(v: Option<&Value>) -> String {
    v.map_or("absent".into(), Value::to_string)
}

/// Fails with every difference listed, or says that `fresh` reproduces `committed`.
pub fn check(experiment: &str, fresh: &ResultsDir, committed: &ResultsDir) -> Result<String> {
    let diffs = differences(fresh, committed)?;
    if diffs.is_empty() {
        return Ok(format!(
            "{experiment}: reproduced: parameters bit-identical, JSON equal apart from timings and environment ({})",
            committed.path().display()
        ));
    }
    bail!(
        "{experiment}: {} difference(s) from {}:\n  {}",
        diffs.len(),
        committed.path().display(),
        diffs.join("\n  ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::run;

    #[test]
    fn differences_name_the_field_and_both_values() {
        let a = run("a", 0, Some(0.8));
        let mut b = a.clone();
        assert!(json_differences(&a, &b).is_empty());
        b.timing.train_s += 1.0;
        b.history[1].elapsed_s += 1.0;
        b.environment.cpu = "other".into();
        assert!(json_differences(&a, &b).is_empty(), "timings and environment are not compared");
        b.history[2].train_loss = 0.25;
        b.config.lr = 0.5;
        let d = json_differences(&a, &b);
        assert!(
            d.iter().any(|l| l.starts_with("config.lr: 0.1") && l.contains("0.5 committed")),
            "{d:?}"
        );
        assert!(
            d.iter().any(|l| l == "history[2].train_loss: 0.3333333333333333 here, 0.25 committed"),
            "{d:?}"
        );
        for l in &d {
            let (here, committed) = l.split_once(" here, ").unwrap();
            assert_ne!(here.rsplit(": ").next(), committed.strip_suffix(" committed"), "{l}");
        }
    }

    #[test]
    fn ndarray_threads_are_not_compared() {
        let a = run("a", 0, Some(0.8));
        let mut b = a.clone();
        b.config.threads = 7;
        assert!(json_differences(&a, &b).is_empty());
    }
}
