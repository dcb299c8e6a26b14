//! `twinnet verify`: reruns an experiment into a temporary folder and compares it with the
//! committed results, run by run: the parameters by [`Params::fingerprint`] (a hash of their
//! bits), the JSON apart from timings and environment. What differs is printed; any
//! difference is an error.
//!
//! The ndarray backend's `threads` is not compared: its results do not depend on the count
//! (its default follows the machine's cores). Everything else must be equal: a result that
//! moved without being regenerated, or a machine that computes other bits, fails.

use crate::result::{read_json, ExperimentRecord, RunResult};
use crate::summary::EXPERIMENT_JSON;
use anyhow::{bail, Result};
use std::path::Path;
use twinnet_core::{BackendKind, Params};

/// What differs between the runs of `fresh` and those of `committed` (both experiment
/// folders), as lines naming the run and the field; empty when they agree.
pub fn differences(fresh: &Path, committed: &Path) -> Result<Vec<String>> {
    let a: ExperimentRecord = read_json(&fresh.join(EXPERIMENT_JSON))?;
    let b: ExperimentRecord = read_json(&committed.join(EXPERIMENT_JSON))?;
    let mut out = vec![];
    if a.runs != b.runs {
        out.push(format!("runs: {:?} here, {:?} committed", a.runs, b.runs));
        return Ok(out);
    }
    for name in &a.runs {
        let (x, y): (RunResult, RunResult) = (
            read_json(&fresh.join(format!("{name}.json")))?,
            read_json(&committed.join(format!("{name}.json")))?,
        );
        out.extend(json_differences(&x, &y).into_iter().map(|d| format!("{name}: {d}")));
        let file = format!("{name}.safetensors");
        let (p, q) =
            (Params::load(&fresh.join(&file), None)?, Params::load(&committed.join(&file), None)?);
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

/// The fields of two results that differ, apart from timings (`timing`, each epoch's
/// `elapsed_s`), `environment`, and the ndarray backend's `threads`.
fn json_differences(x: &RunResult, y: &RunResult) -> Vec<String> {
    let mut d = vec![];
    let (mut cx, mut cy) = (x.config.clone(), y.config.clone());
    // Results made before the dataset was recorded read MNIST.
    cx.dataset.get_or_insert_default();
    cy.dataset.get_or_insert_default();
    if cx.backend == BackendKind::Ndarray && cy.backend == BackendKind::Ndarray {
        cy.threads = cx.threads;
    }
    if cx != cy {
        d.push(format!("config {} here, {} committed", json(&x.config), json(&y.config)));
    }
    if x.status != y.status || x.divergence != y.divergence {
        d.push(format!(
            "status {:?} {:?} here, {:?} {:?} committed",
            x.status, x.divergence, y.status, y.divergence
        ));
    }
    if x.updates_per_epoch != y.updates_per_epoch {
        d.push(format!(
            "updates_per_epoch {} here, {} committed",
            x.updates_per_epoch, y.updates_per_epoch
        ));
    }
    let strip = |r: &RunResult| -> Vec<_> {
        r.history
            .iter()
            .map(|h| (h.epoch, h.step, h.train_loss.to_bits(), h.train_accuracy.to_bits()))
            .collect()
    };
    let (hx, hy) = (strip(x), strip(y));
    if hx != hy {
        match hx.iter().zip(&hy).position(|(a, b)| a != b) {
            Some(i) => d.push(format!(
                "history from epoch {}: train loss {} here, {} committed",
                x.history[i].epoch, x.history[i].train_loss, y.history[i].train_loss
            )),
            None => d.push(format!("history: {} records here, {} committed", hx.len(), hy.len())),
        }
    }
    if let (Some(a), Some(b)) = (&x.data, &y.data) {
        if a != b {
            d.push(format!("data {} here, {} committed", json(a), json(b)));
        }
    }
    if x.test != y.test {
        let acc = |r: &RunResult| r.test.as_ref().map(|t| t.accuracy);
        d.push(format!("test: accuracy {:?} here, {:?} committed", acc(x), acc(y)));
    }
    d
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Fails with every difference listed, or prints that `fresh` reproduces `committed`.
pub fn report(experiment: &str, fresh: &Path, committed: &Path) -> Result<()> {
    let diffs = differences(fresh, committed)?;
    if diffs.is_empty() {
        println!(
            "{experiment}: reproduced: parameters bit-identical, JSON equal apart from timings and environment ({})",
            committed.display()
        );
        return Ok(());
    }
    for d in &diffs {
        eprintln!("{experiment}: {d}");
    }
    bail!("{experiment}: {} difference(s) from {}", diffs.len(), committed.display())
}
