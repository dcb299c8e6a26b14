//! `make bench --optim` (`cargo run -p twinnet-bench -- --optim`): what an optimizer with
//! state costs. The report's PyTorch model (10 hidden units, double softmax, [−1, 1] pixels,
//! nn.Linear's init, mini-batches of 64) on ndarray, one epoch on all 60,000 MNIST images,
//! under each optimizer of `experiments/optimizers.toml`, one epoch of each in turn (so that
//! the machine's drift falls on all alike), on one thread (a 64-row step never uses more:
//! `twinnet_ndarray::threads_used`); the goal: every optimizer with state at most [`GOAL`] ×
//! plain SGD's epoch. Writes `results/bench/optim.md` and `optim.json`.

use crate::case::{median_min_max, time_epoch};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::path::Path;
use twinnet_core::{
    BackendKind, Device, Head, Hidden, Init, Model, ModelConfig, Normalize, Optimizer,
    OptimizerKind, OptimizerSettings, Params, Regime, Threads,
};
use twinnet_data::Splits;
use twinnet_engine::Engine;

/// An optimizer with state may cost at most this many times plain SGD's epoch.
const GOAL: f64 = 1.3;
/// Samples of each figure (after two warm-up epochs).
const SAMPLES: usize = 15;

/// One optimizer's epoch.
#[derive(Debug, Serialize, Deserialize)]
pub struct OptimRow {
    pub optimizer: String,
    pub lr: f32,
    pub threads: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub samples: usize,
}

/// Everything `--optim` measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct OptimRecord {
    pub cpu: String,
    pub cores: usize,
    pub rows: Vec<OptimRow>,
}

/// The optimizers of `experiments/optimizers.toml`, with their learning rates.
fn optimizers() -> Vec<(Optimizer, f32)> {
    let sgd = OptimizerSettings::default();
    let momentum = OptimizerSettings { momentum: Some(0.9), ..sgd };
    [
        (sgd, 0.1),
        (momentum, 0.1),
        (OptimizerSettings { nesterov: Some(true), ..momentum }, 0.1),
        (OptimizerSettings { kind: Some(OptimizerKind::Adam), ..sgd }, 0.001),
        (OptimizerSettings { kind: Some(OptimizerKind::AdamW), ..sgd }, 0.001),
    ]
    .into_iter()
    .map(|(s, lr)| (Optimizer::from_settings(&s).expect("valid settings"), lr))
    .collect()
}

/// Measures every optimizer and writes `results/bench/optim.{md,json}`.
pub fn run(root: &Path, splits: &Splits) -> Result<OptimRecord> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let config = ModelConfig {
        hidden: Hidden::one(10),
        activation: twinnet_core::Activation::Relu,
        head: Head::DoubleSoftmax,
        normalize: Normalize::Symmetric,
    };
    let params = Params::init_widths(&config.widths(), Init::TorchDefault, 0);
    let engine = Engine::resolve(BackendKind::Ndarray, Device::Cpu)?;
    let mut runs = vec![];
    for (optimizer, lr) in optimizers() {
        let model = Model::new(config.clone(), params.clone())?.with_optimizer(optimizer);
        let mut b = engine.build(&model, &splits.train, Threads::ONE)?;
        for seed in 0..2 {
            time_epoch(b.as_mut(), Regime::Minibatch, 64, lr, seed)?;
        }
        runs.push((optimizer, lr, b, vec![]));
    }
    for rep in 0..SAMPLES {
        for (_, lr, b, secs) in &mut runs {
            secs.push(time_epoch(b.as_mut(), Regime::Minibatch, 64, *lr, 2 + rep as u64)?);
        }
    }
    let mut rows = vec![];
    for (optimizer, lr, _, mut secs) in runs {
        let (med, min, max) = median_min_max(&mut secs);
        eprintln!("{optimizer}: {:.1} ms", med * 1e3);
        rows.push(OptimRow {
            optimizer: optimizer.to_string(),
            lr,
            threads: 1,
            median_ms: med * 1e3,
            min_ms: min * 1e3,
            max_ms: max * 1e3,
            samples: SAMPLES,
        });
    }
    let record = OptimRecord { cpu: twinnet_core::system::cpu_model(), cores, rows };
    let dir = root.join("results/bench");
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(&record)? + "\n";
    twinnet_core::file::write_atomic(&dir.join("optim.json"), json.as_bytes())?;
    twinnet_core::file::write_atomic(&dir.join("optim.md"), markdown(&record).as_bytes())?;
    Ok(record)
}

/// `optim.md`.
pub fn markdown(r: &OptimRecord) -> String {
    use std::fmt::Write;
    let mut s = format!(
        "# Optimizers: what their state costs\n\nMade by `cargo run --release -p twinnet-bench \
         -- --optim` (`make bench`) on {} ({} cores). The report's PyTorch model (10 hidden \
         units, double softmax, [−1, 1] pixels, nn.Linear's init, mini-batches of 64) on \
         ndarray, one epoch on all 60,000 MNIST images on one thread (a 64-row step uses one), \
         one epoch of each optimizer in turn, median of {SAMPLES} samples after two warm-up \
         epochs (min–max beside it); goal: an optimizer with state at most {GOAL}× plain \
         SGD.\n\n| optimizer | lr | epoch | min–max | × plain SGD | goal |\n\
         |---|---:|---:|---:|---:|---|\n",
        r.cpu, r.cores
    );
    // One row per optimizer (each timed on one thread), plain SGD first.
    let Some(sgd) = r.rows.iter().find(|x| x.optimizer == "sgd") else { return s };
    for b in &r.rows {
        let x = b.median_ms / sgd.median_ms;
        let verdict = if b.optimizer == "sgd" {
            "–".to_string()
        } else if x <= GOAL {
            format!("≤ {GOAL}× met")
        } else {
            format!("≤ {GOAL}× **missed**")
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} ms | {:.1}–{:.1} ms | {x:.2}× | {verdict} |",
            b.optimizer, b.lr, b.median_ms, b.min_ms, b.max_ms
        );
    }
    s
}
