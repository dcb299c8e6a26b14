//! `make bench`'s Rust peers: the report's 784 → 10 → 10 network (softmax head, [0, 1] pixels,
//! nn.Linear init from twinnet's seed 0, lr 0.1) written with candle (`candle-nn`'s `Linear`
//! and `SGD`) and with burn on its ndarray backend (`burn::nn::Linear`, `Autodiff<NdArray>`,
//! `SgdConfig`), trained on the same batches in the same order (twinnet's batch order for
//! seed 0, handed in as index lists) from the same starting weights, and timed next to twinnet's
//! ndarray backend in the same process.
//!
//! Every program is a `twinnet_core::Backend` (twinnet's own built by the engine, as a run's
//! is), and every figure is taken through one loop, the runner's (`twinnet_core::train`).
//!
//! Before a peer is timed, its correctness is checked: the mean train loss of one mini-batch
//! epoch (the forward passes before each update, as twinnet's history records it) must be
//! within [`LOSS_TOLERANCE`] (relative) of twinnet's from the same weights and batches. The
//! noise floor (`results/noise-floor`) puts rounding-level drift after 938 updates near 5e-7 of
//! the parameters, so 1e-4 is a framework-level difference, far below what a wrong gradient
//! gives; a peer outside it is reported, not timed.
//!
//! Threads: each figure is taken in a process of its own (`--child PEER REGIME THREADS`) with
//! `RAYON_NUM_THREADS` set (candle's and burn-ndarray's CPU parallelism both follow rayon) and
//! twinnet's `--threads` equivalent; rows at 1 and 2 threads. Writes `results/bench/peers.md`
//! and `peers.json`. Run by `make bench`; never by `make test` (this crate is outside the
//! workspace, so building twinnet does not compile candle or burn).

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::{
    train, Backend, BackendError, BackendInfo, Batch, BackendKind, Device, Evaluation, Head, Init,
    Model, ModelConfig, Normalize, Params, Regime, StepStats, Threads, TrainConfig,
};
use twinnet_data::{Dataset, Splits};

/// Largest relative difference between a peer's and twinnet's one-epoch mean train loss.
const LOSS_TOLERANCE: f64 = 1e-4;
/// Samples per figure (after two warm-up epochs or iterations).
const SAMPLES: usize = 5;
const LR: f32 = 0.1;
const BATCH: usize = 64;

/// A peer's own error, as a backend's.
fn failed(e: impl std::fmt::Display) -> BackendError {
    BackendError::Failed(e.to_string().into())
}

/// How many of `predictions` equal `labels`.
fn count_correct(predictions: &[u8], labels: &[u8]) -> usize {
    predictions.iter().zip(labels).filter(|(p, l)| p == l).count()
}

mod peer_burn;
mod peer_candle;

// ---------------------------------------------------------------- every program

fn params() -> Result<Params> {
    Ok(Params::init(10, Init::TorchDefault, 0)?)
}

/// The program `peer` as a backend from the shared start `p`: twinnet's ndarray backend built
/// by the engine (as a run's is), or a peer.
fn make(peer: &str, p: &Params, train: &Dataset, threads: usize) -> Result<Box<dyn Backend>> {
    Ok(match peer {
        "twinnet-ndarray" => {
            let config =
                ModelConfig::report(p.hidden(), Head::Softmax, Normalize::Unit);
            let model = Model::new(config, p.clone())?;
            let engine = twinnet_engine::Engine::resolve(BackendKind::Ndarray, Device::Cpu)?;
            engine.build(&model, train, Threads::new(threads)?)?
        }
        "candle" => Box::new(peer_candle::CandleNet::new(p, train)?),
        "burn-ndarray" => Box::new(peer_burn::BurnNet::new(p, train)?),
        other => anyhow::bail!("unknown peer `{other}`"),
    })
}

/// Trains `b` for `epochs` epochs in `regime` with the runner's loop (twinnet's batch order
/// for `seed`); returns the last epoch's mean train loss.
fn train_epochs(b: &mut dyn Backend, regime: Regime, epochs: usize, seed: u64) -> Result<f64> {
    let cfg = TrainConfig { regime, batch_size: BATCH, lr: LR, epochs, seed, log_every: 1 };
    let out = train(b, &cfg.validate(b.train_len())?, &AtomicBool::new(false), &mut |_| {})?;
    ensure!(out.divergence.is_none(), "diverged");
    Ok(out.history.last().context("no epoch")?.train_loss)
}

/// What a child process reports: the loss check and the timing of one (peer, regime, threads).
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    peer: String,
    regime: String,
    threads: usize,
    /// One mini-batch epoch's mean train loss from the shared start (the correctness check).
    epoch_loss: f64,
    /// That of twinnet's ndarray backend on the same batches.
    twinnet_epoch_loss: f64,
    /// Relative difference of the two.
    loss_rel_diff: f64,
    /// Whether it passed ([`LOSS_TOLERANCE`]); a failing peer is not timed.
    correct: bool,
    median_ms: Option<f64>,
    min_ms: Option<f64>,
    max_ms: Option<f64>,
    samples: usize,
}

fn child(mnist: &Splits, peer: &str, regime: &str, threads: usize) -> Result<Row> {
    let p = params()?;
    let set = &mnist.train;
    // The check: one mini-batch epoch from the shared start, on twinnet's batches for seed 0,
    // against twinnet's ndarray backend on one thread, both through the runner's loop.
    let reference = train_epochs(make("twinnet-ndarray", &p, set, 1)?.as_mut(), Regime::Minibatch, 1, 0)?;
    let epoch_loss = train_epochs(make(peer, &p, set, threads)?.as_mut(), Regime::Minibatch, 1, 0)?;
    let loss_rel_diff = (epoch_loss - reference).abs() / reference.abs();
    let correct = loss_rel_diff <= LOSS_TOLERANCE;
    let mut row = Row {
        peer: peer.into(),
        regime: regime.into(),
        threads,
        epoch_loss,
        twinnet_epoch_loss: reference,
        loss_rel_diff,
        correct,
        median_ms: None,
        min_ms: None,
        max_ms: None,
        samples: 0,
    };
    if !correct {
        return Ok(row);
    }
    // Every program through the same loop: one full-batch iteration or one mini-batch epoch
    // per sample, a fresh batch order each, after two warm-ups.
    let regime = if regime == "full-batch" { Regime::FullBatch } else { Regime::Minibatch };
    let mut b = make(peer, &p, set, threads)?;
    for seed in 0..2 {
        train_epochs(b.as_mut(), regime, 1, seed)?;
    }
    let mut secs = (0..SAMPLES)
        .map(|k| {
            let s = Instant::now();
            train_epochs(b.as_mut(), regime, 1, 2 + k as u64)?;
            Ok(s.elapsed().as_secs_f64())
        })
        .collect::<Result<Vec<f64>>>()?;
    secs.sort_by(f64::total_cmp);
    row.median_ms = Some(1e3 * secs[secs.len() / 2]);
    row.min_ms = Some(1e3 * secs[0]);
    row.max_ms = Some(1e3 * secs[secs.len() - 1]);
    row.samples = secs.len();
    Ok(row)
}

fn markdown(rows: &[Row], cpu: &str) -> String {
    let mut s = String::from("# twinnet against its Rust peers\n\n");
    s.push_str(&format!(
        "{cpu}. Written by `make bench` (`crates/peers`, outside the workspace). The same 784 → 10 → 10 network (softmax head, [0, 1] pixels, nn.Linear init drawn by twinnet's generator with seed 0, lr {LR}), the same batches in the same order (twinnet's batch order for seed 0, passed in as index lists): twinnet's ndarray backend, candle {} (`candle-nn` `Linear`, cross-entropy, `SGD`) and burn {} on its ndarray backend (`nn::Linear`, `CrossEntropyLoss`, `Sgd`, `Autodiff<NdArray>`). Each figure in a process of its own at 1 and 2 threads (`RAYON_NUM_THREADS` for the peers, `--threads` for twinnet), median and min–max of {SAMPLES} samples after 2 warm-ups. A peer is timed only after its mean train loss over one mini-batch epoch from the shared start is within {LOSS_TOLERANCE:e} (relative) of twinnet's on the same batches. twinnet's tch backend is in `bench.md` (same settings, same machine).\n\n",
        "0.10.2", "0.19.1"
    ));
    s.push_str("| program | regime | per | threads | median ms | min–max ms | epoch loss (twinnet's) | check |\n|---|---|---|---:|---:|---:|---:|---|\n");
    for r in rows {
        let per = if r.regime == "full-batch" { "iteration" } else { "epoch" };
        let (med, range) = match (r.median_ms, r.min_ms, r.max_ms) {
            (Some(m), Some(a), Some(b)) => (format!("{m:.1}"), format!("{a:.1}–{b:.1}")),
            _ => ("not timed".into(), "–".into()),
        };
        s.push_str(&format!(
            "| {} | {} | {per} | {} | {med} | {range} | {:.6} ({:.6}) | {} |\n",
            r.peer,
            r.regime,
            r.threads,
            r.epoch_loss,
            r.twinnet_epoch_loss,
            if r.correct {
                format!("✓ {:.1e}", r.loss_rel_diff)
            } else {
                format!("✗ {:.1e} > {LOSS_TOLERANCE:e}", r.loss_rel_diff)
            }
        ));
    }
    s.push_str("\n| regime | twinnet ndarray, best | candle, best | burn-ndarray, best | twinnet ahead of both? |\n|---|---:|---:|---:|---|\n");
    for regime in ["minibatch", "full-batch"] {
        let best = |peer: &str| {
            rows.iter()
                .filter(|r| r.peer == peer && r.regime == regime)
                .filter_map(|r| r.median_ms.map(|m| (m, r.threads)))
                .min_by(|a, b| a.0.total_cmp(&b.0))
        };
        let cell = |b: Option<(f64, usize)>| {
            b.map_or("not timed".into(), |(m, t)| format!("{m:.1} ms ({t} thr.)"))
        };
        let (ours, c, b) = (best("twinnet-ndarray"), best("candle"), best("burn-ndarray"));
        let ahead = match ours {
            Some((o, _)) => {
                let peers: Vec<f64> = [c, b].iter().flatten().map(|x| x.0).collect();
                if peers.iter().all(|&p| o < p) {
                    format!(
                        "yes ({:.1}× and {:.1}×)",
                        c.map_or(f64::NAN, |x| x.0 / o),
                        b.map_or(f64::NAN, |x| x.0 / o)
                    )
                } else {
                    "**no**".into()
                }
            }
            None => "–".into(),
        };
        s.push_str(&format!(
            "| {regime} | {} | {} | {} | {ahead} |\n",
            cell(ours),
            cell(c),
            cell(b)
        ));
    }
    s
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mnist = Splits::load(&twinnet_data::default_data_dir())?;
    if args.first().map(String::as_str) == Some("--child") {
        ensure!(args.len() == 4, "usage: twinnet-peers --child PEER REGIME THREADS");
        let row = child(&mnist, &args[1], &args[2], args[3].parse()?)?;
        println!("{}", serde_json::to_string(&row)?);
        return Ok(());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1];
    if cores >= 2 {
        threads.push(2);
    }
    let mut rows = vec![];
    for regime in ["minibatch", "full-batch"] {
        for peer in ["twinnet-ndarray", "candle", "burn-ndarray"] {
            for &t in &threads {
                let out = Command::new(std::env::current_exe()?)
                    .args(["--child", peer, regime, &t.to_string()])
                    .env("RAYON_NUM_THREADS", t.to_string())
                    .output()?;
                ensure!(
                    out.status.success(),
                    "{peer} {regime} {t}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let row: Row = serde_json::from_slice(&out.stdout)?;
                eprintln!(
                    "{peer:>16} {regime:>10} t={t}: {} ms (loss {:.6}, twinnet {:.6})",
                    row.median_ms.map_or("not timed".into(), |m| format!("{m:.1}")),
                    row.epoch_loss,
                    row.twinnet_epoch_loss
                );
                rows.push(row);
            }
        }
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let dir = root.join("results/bench");
    write(&dir.join("peers.md"), &markdown(&rows, &format!("{cpu} ({cores} cores)")))?;
    write(&dir.join("peers.json"), &(serde_json::to_string_pretty(&rows)? + "\n"))?;
    println!("{}", dir.join("peers.md").display());
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<()> {
    twinnet_core::file::write_atomic(path, text.as_bytes())
        .with_context(|| path.display().to_string())
}
