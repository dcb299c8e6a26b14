//! `make bench`'s Rust peers: the report's 784 → 10 → 10 network (softmax head, [0, 1] pixels,
//! nn.Linear init from twinnet's seed 0, lr 0.1) written with candle (`candle-nn`'s `Linear`
//! and `SGD`) and with burn on its ndarray backend (`burn::nn::Linear`, `Autodiff<NdArray>`,
//! `SgdConfig`), trained on the same batches in the same order (twinnet's batch order for
//! seed 0, handed in as index lists) from the same starting weights, and timed next to twinnet's
//! ndarray backend in the same process.
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
use twinnet_core::train::BatchOrder;
use twinnet_core::{
    train, Backend, Head, Init, Model, ModelConfig, Normalize, Params, Regime, Threads, TrainConfig,
};
use twinnet_data::{Dataset, Mnist};
use twinnet_ndarray::NdarrayBackend;

/// Largest relative difference between a peer's and twinnet's one-epoch mean train loss.
const LOSS_TOLERANCE: f64 = 1e-4;
/// Samples per figure (after two warm-up epochs or iterations).
const SAMPLES: usize = 5;
const LR: f32 = 0.1;
const BATCH: usize = 64;

/// One training implementation: a step on a batch of training-set indices (`None`: all of
/// them, full-batch), returning the batch's mean loss before the update.
trait Trainer {
    fn step(&mut self, batch: Option<&[u32]>) -> Result<f32>;
}

/// The mini-batches of epoch `e` (from 0) for `n` examples: twinnet's batch order for seed 0.
fn epoch_batches(n: usize, epochs: usize) -> Vec<Vec<Vec<u32>>> {
    let mut order = BatchOrder::new(n, 0);
    (0..epochs).map(|_| order.next_epoch(n).chunks(BATCH).map(|c| c.to_vec()).collect()).collect()
}

/// Mean loss over an epoch's batches, weighted by batch size (twinnet's `train_loss`).
fn run_epoch(t: &mut dyn Trainer, batches: &[Vec<u32>]) -> Result<f64> {
    let (mut sum, mut seen) = (0f64, 0usize);
    for b in batches {
        sum += t.step(Some(b))? as f64 * b.len() as f64;
        seen += b.len();
    }
    Ok(sum / seen as f64)
}

// ---------------------------------------------------------------- candle

mod peer_candle {
    use super::*;
    use candle_core::{DType, Device, Tensor, Var};
    use candle_nn::{loss, Linear, Module, Optimizer, SGD};

    pub struct CandleNet {
        w1: Var,
        b1: Var,
        w2: Var,
        b2: Var,
        x: Tensor,
        y: Tensor,
        opt: SGD,
    }

    impl CandleNet {
        pub fn new(p: &Params, train: &Dataset) -> Result<Self> {
            let dev = Device::Cpu;
            let h = p.hidden;
            let var = |v: &[f32], shape: &[usize]| Var::from_slice(v, shape, &dev);
            let (w1, b1) = (var(&p.w1, &[h, 784])?, var(&p.b1, &[h])?);
            let (w2, b2) = (var(&p.w2, &[10, h])?, var(&p.b2, &[10])?);
            let x = Tensor::from_vec(train.features(Normalize::Unit), (train.len(), 784), &dev)?;
            let labels: Vec<u32> = train.labels().iter().map(|&l| l as u32).collect();
            let y = Tensor::from_vec(labels, train.len(), &dev)?;
            let opt = SGD::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], LR as f64)?;
            Ok(Self { w1, b1, w2, b2, x, y, opt })
        }
    }

    impl Trainer for CandleNet {
        fn step(&mut self, batch: Option<&[u32]>) -> Result<f32> {
            let (xb, yb) = match batch {
                Some(ix) => {
                    let ix = Tensor::from_slice(ix, ix.len(), &Device::Cpu)?;
                    (self.x.index_select(&ix, 0)?, self.y.index_select(&ix, 0)?)
                }
                None => (self.x.clone(), self.y.clone()),
            };
            let fc1 = Linear::new(self.w1.as_tensor().clone(), Some(self.b1.as_tensor().clone()));
            let fc2 = Linear::new(self.w2.as_tensor().clone(), Some(self.b2.as_tensor().clone()));
            let logits = fc2.forward(&fc1.forward(&xb)?.relu()?)?;
            let l = loss::cross_entropy(&logits, &yb)?;
            self.opt.backward_step(&l)?;
            Ok(l.to_dtype(DType::F32)?.to_scalar::<f32>()?)
        }
    }
}

// ---------------------------------------------------------------- burn (ndarray backend)

mod peer_burn {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::{Module, Param};
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::nn::Linear;
    use burn::optim::adaptor::OptimizerAdaptor;
    use burn::optim::{GradientsParams, Optimizer, Sgd, SgdConfig};
    use burn::tensor::{Int, Tensor, TensorData};

    type AD = Autodiff<NdArray<f32>>;
    type Device = <NdArray<f32> as burn::tensor::backend::Backend>::Device;

    #[derive(Module, Debug)]
    // The derive names the backend parameter `B`.
    pub struct Net<B: burn::tensor::backend::Backend> {
        fc1: Linear<B>,
        fc2: Linear<B>,
    }

    pub struct BurnNet {
        net: Option<Net<AD>>,
        opt: OptimizerAdaptor<Sgd<NdArray<f32>>, Net<AD>, AD>,
        x: Tensor<AD, 2>,
        y: Tensor<AD, 1, Int>,
        dev: Device,
    }

    /// `W` `[out, in]` (PyTorch's layout) as burn's row-layout weight `[in, out]`.
    fn transposed(w: &[f32], out: usize, inp: usize) -> Vec<f32> {
        let mut t = vec![0f32; w.len()];
        for o in 0..out {
            for i in 0..inp {
                t[i * out + o] = w[o * inp + i];
            }
        }
        t
    }

    impl BurnNet {
        pub fn new(p: &Params, train: &Dataset) -> Result<Self> {
            let dev = Device::default();
            let h = p.hidden;
            let lin = |w: &[f32], b: &[f32], out: usize, inp: usize| Linear::<AD> {
                weight: Param::from_tensor(Tensor::from_data(
                    TensorData::new(transposed(w, out, inp), [inp, out]),
                    &dev,
                )),
                bias: Some(Param::from_tensor(Tensor::from_data(
                    TensorData::new(b.to_vec(), [out]),
                    &dev,
                ))),
            };
            let net = Net { fc1: lin(&p.w1, &p.b1, h, 784), fc2: lin(&p.w2, &p.b2, 10, h) };
            let x = Tensor::from_data(
                TensorData::new(train.features(Normalize::Unit), [train.len(), 784]),
                &dev,
            );
            let labels: Vec<i64> = train.labels().iter().map(|&l| l as i64).collect();
            let y = Tensor::from_data(TensorData::new(labels, [train.len()]), &dev);
            Ok(Self { net: Some(net), opt: SgdConfig::new().init(), x, y, dev })
        }
    }

    impl Trainer for BurnNet {
        fn step(&mut self, batch: Option<&[u32]>) -> Result<f32> {
            let (xb, yb) = match batch {
                Some(ix) => {
                    let ix: Vec<i64> = ix.iter().map(|&i| i as i64).collect();
                    let n = ix.len();
                    let ix = Tensor::<AD, 1, Int>::from_data(TensorData::new(ix, [n]), &self.dev);
                    (self.x.clone().select(0, ix.clone()), self.y.clone().select(0, ix))
                }
                None => (self.x.clone(), self.y.clone()),
            };
            let net = self.net.take().context("the network is being updated")?;
            let logits = net.fc2.forward(burn::tensor::activation::relu(net.fc1.forward(xb)));
            let l = CrossEntropyLossConfig::new().init(&self.dev).forward(logits, yb);
            let value: f32 = l.clone().into_scalar();
            let grads = GradientsParams::from_grads::<AD, Net<AD>>(l.backward(), &net);
            let net = self.opt.step(LR as f64, net, grads);
            self.net = Some(net);
            Ok(value)
        }
    }
}

// ---------------------------------------------------------------- twinnet

/// twinnet's ndarray backend driven by the same index lists (through its own training loop for
/// the loss check, and step by step for timing).
struct Twinnet(NdarrayBackend);

impl Trainer for Twinnet {
    fn step(&mut self, batch: Option<&[u32]>) -> Result<f32> {
        let b = match batch {
            Some(ix) => twinnet_core::Batch::Indices(ix),
            None => twinnet_core::Batch::All,
        };
        Ok(self.0.step(b, LR)?.loss)
    }
}

fn params() -> Result<Params> {
    Ok(Params::init(10, Init::TorchDefault, 0)?)
}

fn make(peer: &str, p: &Params, train: &Dataset, threads: usize) -> Result<Box<dyn Trainer>> {
    Ok(match peer {
        "twinnet-ndarray" => {
            let config =
                ModelConfig { hidden: p.hidden, head: Head::Softmax, normalize: Normalize::Unit };
            let model = Model::new(config, p.clone())?;
            Box::new(Twinnet(NdarrayBackend::new(&model, train, Threads::new(threads)?)))
        }
        "candle" => Box::new(peer_candle::CandleNet::new(p, train)?),
        "burn-ndarray" => Box::new(peer_burn::BurnNet::new(p, train)?),
        other => anyhow::bail!("unknown peer `{other}`"),
    })
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

fn child(mnist: &Mnist, peer: &str, regime: &str, threads: usize) -> Result<Row> {
    let p = params()?;
    let set = &mnist.train;
    let n = set.len();
    // The check: one epoch from the shared start, on twinnet's batches, against twinnet's own
    // training loop (the same loop every twinnet run uses).
    let batches = epoch_batches(n, 1).remove(0);
    let reference = {
        let config = ModelConfig { hidden: 10, head: Head::Softmax, normalize: Normalize::Unit };
        let mut b = NdarrayBackend::new(&Model::new(config, p.clone())?, set, Threads::ONE);
        let cfg = TrainConfig {
            regime: Regime::Minibatch,
            batch_size: BATCH,
            lr: LR,
            epochs: 1,
            seed: 0,
            log_every: 1,
        };
        let out = train(&mut b, &cfg.validate(n)?, &AtomicBool::new(false), &mut |_| {})
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        out.history[0].train_loss
    };
    let mut t = make(peer, &p, set, threads)?;
    let epoch_loss = run_epoch(t.as_mut(), &batches)?;
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
    let mut t = make(peer, &p, set, threads)?;
    let mut secs: Vec<f64> = match regime {
        "full-batch" => {
            for _ in 0..2 {
                t.step(None)?;
            }
            (0..SAMPLES)
                .map(|_| {
                    let s = Instant::now();
                    t.step(None)?;
                    Ok(s.elapsed().as_secs_f64())
                })
                .collect::<Result<_>>()?
        }
        _ => {
            let epochs = epoch_batches(n, 2 + SAMPLES);
            for e in &epochs[..2] {
                run_epoch(t.as_mut(), e)?;
            }
            epochs[2..]
                .iter()
                .map(|e| {
                    let s = Instant::now();
                    run_epoch(t.as_mut(), e)?;
                    Ok(s.elapsed().as_secs_f64())
                })
                .collect::<Result<_>>()?
        }
    };
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
    let mnist = Mnist::load(&twinnet_data::default_data_dir())?;
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
