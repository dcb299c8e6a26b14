//! `make bench --mlp` (`cargo run -p twinnet-bench -- --mlp`): multilayer perceptrons other
//! than the report's, the same work side by side, each side at its best of 1 and 2 threads.
//!
//! - Nielsen's chapter-1 network (`[784, 30, 10]`, sigmoid, quadratic cost, mini-batches of 10,
//!   η = 3.0) and a deeper ReLU network (`[784, 128, 64, 10]`, softmax, mini-batches of 64,
//!   η = 0.1): one epoch on the first 50,000 images, on ndarray (the general path), tch, a
//!   tight PyTorch eager loop, and (Nielsen's network) his own `network.py` loop
//!   (`mlp_loops.py`);
//! - a full-batch iteration of each on all 60,000 images (ndarray's general path) against the
//!   floor of its dense products at the machine's sgemm rate:
//! ```text
//! FLOPs = 2·n·(Σₗ nₗ₋₁nₗ   forward Z = A·Wᵀ
//!            + Σₗ nₗ₋₁nₗ   weight gradients δᵀ·A
//!            + Σₗ₍ₗ>₁₎ nₗ₋₁nₗ)   the error passed back δ·W
//! floor = FLOPs / sgemm rate  (a 2048² libtorch matmul on the native code path, 2 threads)
//! ```
//! Writes `results/bench/mlp.md` and `mlp.json`.

use crate::case::{median_min_max, time_backend};
use crate::record::Timed;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Command;
use twinnet_core::{
    Activation, BackendKind, Device, Head, Hidden, Init, Model, ModelConfig, Normalize, Params,
    Regime, Threads,
};
use twinnet_data::Splits;
use twinnet_engine::Engine;

/// One network of the comparison.
#[derive(Debug, Clone, Copy)]
struct Net {
    name: &'static str,
    hidden: &'static [usize],
    activation: Activation,
    head: Head,
    init: Init,
    batch: usize,
    lr: f32,
}

const NIELSEN: Net = Net {
    name: "Nielsen's [784, 30, 10], sigmoid, quadratic cost, mini-batch 10",
    hidden: &[30],
    activation: Activation::Sigmoid,
    head: Head::SigmoidQuadratic,
    init: Init::Normal,
    batch: 10,
    lr: 3.0,
};
const DEEP: Net = Net {
    name: "[784, 128, 64, 10], relu, softmax, mini-batch 64",
    hidden: &[128, 64],
    activation: Activation::Relu,
    head: Head::Softmax,
    init: Init::TorchDefault,
    batch: 64,
    lr: 0.1,
};

/// Images of an epoch (Nielsen's training set).
const N_EPOCH: usize = 50_000;
/// Samples of each figure (after two warm-up epochs or iterations).
const SAMPLES: usize = 5;

impl Net {
    fn config(&self) -> ModelConfig {
        ModelConfig {
            hidden: Hidden::new(self.hidden.to_vec()),
            activation: self.activation,
            head: self.head,
            normalize: Normalize::Unit,
        }
    }

    /// Multiply-add FLOPs of a full-batch iteration on `n` images (the module's formula).
    fn flops(&self, n: usize) -> f64 {
        let w = self.config().widths();
        let products: Vec<f64> = w.windows(2).map(|p| (p[0] * p[1]) as f64).collect();
        let back: f64 = products.iter().skip(1).sum();
        2.0 * n as f64 * (2.0 * products.iter().sum::<f64>() + back)
    }
}

/// One timed figure of twinnet's backends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MlpRow {
    pub network: String,
    pub backend: BackendKind,
    pub regime: Regime,
    pub n_train: usize,
    pub threads: usize,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub samples: usize,
    /// Full-batch rows: the floor of the dense products.
    pub floor_ms: Option<f64>,
}

/// The Python loops at one thread count (`mlp_loops.py`'s output).
#[derive(Debug, Serialize, Deserialize)]
pub struct PythonLoops {
    pub threads: usize,
    #[serde(rename = "torch-nielsen")]
    pub torch_nielsen: Timed,
    #[serde(rename = "torch-deep")]
    pub torch_deep: Timed,
    #[serde(rename = "network.py")]
    pub network_py: Timed,
    /// NumPy's gather of every mini-batch of 64 of an epoch (absent from records made before
    /// it was measured).
    #[serde(rename = "numpy-gather", default)]
    pub numpy_gather: Option<Gather>,
    pub torch: String,
}

/// An epoch of NumPy's batch gather (`mlp_loops.py`), and its number of steps.
#[derive(Debug, Serialize, Deserialize)]
pub struct Gather {
    #[serde(flatten)]
    pub timed: Timed,
    pub steps: usize,
}

/// The goals of the any-MLP issue: ndarray at least this many times a tight PyTorch eager
/// loop on Nielsen's shape and on the deeper network; the general path's full-batch
/// iteration within this factor of its products' floor; the process protocol's overhead per
/// mini-batch step at most this many microseconds (`bench.md` measures it).
const GOAL_NIELSEN: f64 = 10.0;
const GOAL_DEEP: f64 = 2.0;
const GOAL_FLOOR: f64 = 1.5;
const GOAL_PROTOCOL_US: f64 = 20.0;

/// Everything `--mlp` measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct MlpRecord {
    pub cpu: String,
    pub cores: usize,
    pub sgemm_gflops: f64,
    pub rows: Vec<MlpRow>,
    pub python: Vec<PythonLoops>,
}

/// Times `net` on `backend`: epochs of mini-batches on the first `n` images, or full-batch
/// iterations.
fn time(
    splits: &Splits,
    net: &Net,
    backend: BackendKind,
    regime: Regime,
    n: usize,
    threads: usize,
) -> Result<MlpRow> {
    let config = net.config();
    let model = Model::new(config.clone(), Params::init_widths(&config.widths(), net.init, 0))?;
    let train_set = splits.train.take(n)?;
    let engine = Engine::resolve(backend, Device::Cpu)?;
    let mut b = engine.build(&model, &train_set, Threads::new(threads)?)?;
    // `SAMPLES` epochs (or iterations) after two warm-up ones, as every bench figure.
    let mut secs = time_backend(b.as_mut(), regime, net.batch, net.lr, SAMPLES)?;
    let (med, min, max) = median_min_max(&mut secs);
    let row = MlpRow {
        network: net.name.into(),
        backend,
        regime,
        n_train: n,
        threads,
        median_ms: med * 1e3,
        min_ms: min * 1e3,
        max_ms: max * 1e3,
        samples: SAMPLES,
        floor_ms: None,
    };
    eprintln!("{} {backend} {regime} t={threads}: {:.1} ms", net.name, row.median_ms);
    Ok(row)
}

/// The Python loops on `threads` threads, with the `python3` on PATH (the venv's).
fn python_loops(root: &Path, data: &Path, threads: usize) -> Result<PythonLoops> {
    let t = threads.to_string();
    let out = Command::new("python3")
        .arg(root.join("crates/bench/mlp_loops.py"))
        .arg(data)
        .arg(&t)
        .arg(SAMPLES.to_string())
        .envs(["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"].map(|k| (k, &t)))
        .output()
        .context("python3 crates/bench/mlp_loops.py")?;
    anyhow::ensure!(
        out.status.success(),
        "mlp_loops.py: {}",
        String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Measures everything and writes `results/bench/mlp.{md,json}`; `sgemm` is the machine's
/// rate (GFLOP/s), measured by the caller on the native code path.
pub fn run(root: &Path, splits: &Splits, sgemm: f64) -> Result<MlpRecord> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let counts: std::collections::BTreeSet<usize> = [1, cores.min(2)].into_iter().collect();
    let mut rows = vec![];
    for net in [NIELSEN, DEEP] {
        for backend in [BackendKind::Ndarray, BackendKind::Tch] {
            for &t in &counts {
                rows.push(time(splits, &net, backend, Regime::Minibatch, N_EPOCH, t)?);
            }
        }
        let n = splits.train.len();
        for &t in &counts {
            let mut full = time(splits, &net, BackendKind::Ndarray, Regime::FullBatch, n, t)?;
            full.floor_ms = Some(1e3 * net.flops(n) / (sgemm * 1e9));
            rows.push(full);
        }
    }
    let data = twinnet_data::default_data_dir();
    let python = counts.iter().map(|&t| python_loops(root, &data, t)).collect::<Result<_>>()?;
    let record = MlpRecord {
        cpu: twinnet_core::system::cpu_model(),
        cores,
        sgemm_gflops: sgemm,
        rows,
        python,
    };
    let dir = root.join("results/bench");
    std::fs::create_dir_all(&dir)?;
    let json = serde_json::to_string_pretty(&record)? + "\n";
    twinnet_core::file::write_atomic(&dir.join("mlp.json"), json.as_bytes())?;
    twinnet_core::file::write_atomic(&dir.join("mlp.md"), markdown(&record).as_bytes())?;
    Ok(record)
}

/// The best (lowest) median of `rows` matching `keep`, in seconds.
fn best(rows: &[MlpRow], keep: impl Fn(&MlpRow) -> bool) -> Option<(f64, usize)> {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| (r.median_ms / 1e3, r.threads))
        .min_by(|a, b| a.0.total_cmp(&b.0))
}

/// `mlp.md`.
pub fn markdown(r: &MlpRecord) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Multilayer perceptrons: the same work side by side\n\nMade by `cargo run --release -p \
         twinnet-bench -- --mlp` (`make bench`) on {} ({} cores; sgemm floor {:.0} GFLOP/s). \
         Seconds per epoch on the first 50,000 MNIST images, median of {} samples after \
         warm-up, each program at the better of 1 and 2 threads (the count in brackets). \
         Speed-up = the other program's time / ndarray's.\n",
        r.cpu, r.cores, r.sgemm_gflops, SAMPLES
    );
    s.push_str("| network | ndarray | tch | PyTorch eager (tight loop) | Nielsen's network.py | ndarray vs PyTorch eager | ndarray vs network.py |\n|---|---:|---:|---:|---:|---:|---:|\n");
    let py = |f: &dyn Fn(&PythonLoops) -> f64| {
        r.python.iter().map(|p| (f(p), p.threads)).min_by(|a, b| a.0.total_cmp(&b.0))
    };
    for (net, torch) in [
        (NIELSEN, py(&|p: &PythonLoops| p.torch_nielsen.median_s)),
        (DEEP, py(&|p: &PythonLoops| p.torch_deep.median_s)),
    ] {
        let of = |b: BackendKind| {
            best(&r.rows, |x| {
                x.network == net.name && x.backend == b && x.regime == Regime::Minibatch
            })
        };
        let nielsen_py = if net.name == NIELSEN.name {
            py(&|p: &PythonLoops| p.network_py.median_s)
        } else {
            None
        };
        let cell =
            |v: Option<(f64, usize)>| v.map_or("–".into(), |(s, t)| format!("{s:.3} s ({t})"));
        let ratio = |other: Option<(f64, usize)>| match (other, of(BackendKind::Ndarray)) {
            (Some((o, _)), Some((n, _))) => format!("{:.1}×", o / n),
            _ => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            net.name,
            cell(of(BackendKind::Ndarray)),
            cell(of(BackendKind::Tch)),
            cell(torch),
            cell(nielsen_py),
            ratio(torch),
            ratio(nielsen_py),
        );
    }
    s.push_str("\nA full-batch iteration on all 60,000 images (ndarray's general path) against the floor of its dense products (FLOPs / the sgemm rate, which is libtorch's: fused multiply-adds on both cores), at 1 and 2 threads:\n\n| network | threads | iteration | floor | × the floor | GFLOP/s |\n|---|---:|---:|---:|---:|---:|\n");
    let full: Vec<&MlpRow> = r.rows.iter().filter(|x| x.regime == Regime::FullBatch).collect();
    for x in &full {
        let floor = x.floor_ms.unwrap_or(f64::NAN);
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} ms | {:.1} ms | {:.1}× | {:.0} |",
            x.network,
            x.threads,
            x.median_ms,
            floor,
            x.median_ms / floor,
            r.sgemm_gflops * floor / x.median_ms
        );
    }
    // The goals, each on its best figure.
    let ratio = |net: &Net, other: Option<(f64, usize)>| {
        let nd = best(&r.rows, |x| {
            x.network == net.name
                && x.backend == BackendKind::Ndarray
                && x.regime == Regime::Minibatch
        });
        other.zip(nd).map(|((o, _), (n, _))| o / n)
    };
    let verdict = |met: Option<bool>| match met {
        Some(true) => "met",
        Some(false) => "**missed**",
        None => "–",
    };
    s.push_str("\n| goal | measured | verdict |\n|---|---:|---|\n");
    for (net, goal) in [(NIELSEN, GOAL_NIELSEN), (DEEP, GOAL_DEEP)] {
        let torch = py(&|p: &PythonLoops| {
            if net.name == NIELSEN.name {
                p.torch_nielsen.median_s
            } else {
                p.torch_deep.median_s
            }
        });
        let x = ratio(&net, torch);
        let _ = writeln!(
            s,
            "| {}: ndarray ≥ {goal}× PyTorch eager | {} | {} |",
            net.name,
            x.map_or("–".into(), |x| format!("{x:.1}×")),
            verdict(x.map(|x| x >= goal))
        );
    }
    for net in [NIELSEN, DEEP] {
        let x = full
            .iter()
            .filter(|x| x.network == net.name)
            .map(|x| x.median_ms / x.floor_ms.unwrap_or(f64::NAN))
            .min_by(f64::total_cmp);
        let _ = writeln!(
            s,
            "| {}: full-batch iteration ≤ {GOAL_FLOOR}× the floor | {} | {} |",
            net.name,
            x.map_or("–".into(), |x| format!("{x:.1}×")),
            verdict(x.map(|x| x <= GOAL_FLOOR))
        );
    }
    let gather = r
        .python
        .iter()
        .filter_map(|p| p.numpy_gather.as_ref())
        .map(|g| g.timed.median_s / g.steps as f64 * 1e6)
        .min_by(f64::total_cmp);
    if let Some(us) = gather {
        let _ = writeln!(
            s,
            "| the process protocol's overhead per mini-batch step ≤ {GOAL_PROTOCOL_US} µs (`bench.md`): NumPy's gather of one 64-row batch alone, in one process | {us:.1} µs | {} |",
            if us <= GOAL_PROTOCOL_US { "leaves room" } else { "**already over the goal**" }
        );
    }
    s
}
