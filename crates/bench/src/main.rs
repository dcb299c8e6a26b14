//! `make bench`: how fast each backend trains, against the hardware floor and the targets.
//!
//! For each backend × regime: milliseconds per full-batch iteration and per mini-batch-64
//! epoch on full MNIST (warm-up, then repeated samples: median, min, max). The floor of each
//! figure is computed from the shapes and measured on the machine:
//! ```text
//! FLOPs per pass  = 4·n·784·h     (forward X·W1ᵀ and backward dZ1ᵀ·X: 2·n·784·h each)
//! floor           = max(FLOPs / sgemm rate, bytes of X read once / memory bandwidth)
//! ```
//! with the sgemm rate of a 2048² libtorch matmul and the bandwidth of one sum over 188 MB,
//! both on all threads. Then one whole `twinnet run experiments/report.toml` (wall time and
//! peak resident memory), and how time per epoch scales with training-set size, hidden width
//! and threads, and what reproducible bits cost: each ndarray kernel set (all compute the same
//! bits) and tch's pinned AVX2 code path against its native one (timed in a second process of
//! this program, `--native-child`, as the path is process-wide).
//!
//! The same work against the report's code: the report's NumPy model (full-batch) and PyTorch
//! model (mini-batch 64) on their own settings, in twinnet's two backends and in the report's
//! loops (`report_loops.py`), every program at 1 and 2 threads, each speed-up from each side's
//! best; the ndarray backend's border skip on its own (interleaved iterations on [0, 1] and
//! [−1, 1] pixels); fc1's products with MKL's vendor check answered and restored
//! (`--mkl-child`, one process each). Writes `results/bench/bench.md` and `bench.json`;
//! `--render` rewrites `bench.md` from `bench.json`. The Rust peers are `crates/peers`.

use anyhow::{Context, Result};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::{
    train, Backend, BackendKind, Head, Init, Model, ModelConfig, Normalize, Params, Regime,
    Threads, TrainConfig,
};
use twinnet_data::{Dataset, Mnist};
use twinnet_ndarray::kernels::Kernels;
use twinnet_ndarray::NdarrayBackend;
use twinnet_tch::{CodePath, Libtorch, TchBackend, TchDevice};

/// What is trained: the head, the pixels and the starting weights' distribution.
#[derive(Debug, Clone, Copy)]
struct Setting {
    name: &'static str,
    head: Head,
    normalize: Normalize,
    init: Init,
}

/// twinnet's defaults in the speed tables: softmax head, [0, 1] pixels, nn.Linear's init.
const OWN: Setting = Setting {
    name: "softmax, [0, 1], nn.Linear init",
    head: Head::Softmax,
    normalize: Normalize::Unit,
    init: Init::TorchDefault,
};
/// The report's NumPy model: softmax head, [0, 1] pixels, U[−0.5, 0.5] (trained full-batch).
const NUMPY_MODEL: Setting = Setting {
    name: "the report's NumPy model",
    head: Head::Softmax,
    normalize: Normalize::Unit,
    init: Init::Uniform,
};
/// The NumPy model on [−1, 1] pixels: no pixel is zero, so no border to skip.
const NUMPY_MODEL_SYMMETRIC: Setting = Setting {
    name: "the report's NumPy model on [−1, 1] pixels",
    normalize: Normalize::Symmetric,
    ..NUMPY_MODEL
};
/// The report's PyTorch model: double softmax, [−1, 1] pixels, nn.Linear's init (mini-batch).
const PYTORCH_MODEL: Setting = Setting {
    name: "the report's PyTorch model",
    head: Head::DoubleSoftmax,
    normalize: Normalize::Symmetric,
    init: Init::TorchDefault,
};

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct Measure {
    /// What was trained ([`Setting::name`]).
    #[serde(default)]
    setting: String,
    /// What else was fixed: `pinned`/`native` (tch's code path), a kernel set (ndarray).
    #[serde(default)]
    variant: String,
    backend: BackendKind,
    regime: Regime,
    n_train: usize,
    hidden: usize,
    threads: usize,
    /// `iteration` (full-batch) or `epoch` (minibatch 64).
    per: String,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
    samples: usize,
    floor_ms: f64,
    target_ms: Option<f64>,
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Machine {
    cpu: String,
    cores: usize,
    date: String,
    sgemm_gflops: f64,
    bandwidth_gbs: f64,
    ndarray_kernels: String,
    mkl_kernels: String,
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct WholeRun {
    command: String,
    wall_s: f64,
    peak_rss_mb: f64,
    target_s: f64,
    target_mb: f64,
}

/// The report's own loops (crates/bench/report_loops.py), timed here.
#[derive(Debug, Serialize, serde::Deserialize)]
struct ReportLoops {
    numpy_full_batch_iteration: Timed,
    torch_tight_minibatch_epoch: Timed,
    torch_dataloader_minibatch_epoch: Timed,
    torch_threads: usize,
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Timed {
    median_s: f64,
    min_s: f64,
    max_s: f64,
    samples: usize,
}

/// Samples of every figure in the same-work comparison, on each side.
const SAME_WORK_SAMPLES: usize = 5;

/// Runs the report's loops with the `python3` on PATH (the venv's, under `make bench`), on
/// `threads` threads: PyTorch's intra-op threads and NumPy's BLAS (read from the environment
/// when NumPy loads).
fn report_loops(root: &Path, data: &Path, threads: usize) -> Option<ReportLoops> {
    let script = root.join("crates/bench/report_loops.py");
    let t = threads.to_string();
    let out = Command::new("python3")
        .arg(&script)
        .arg(data)
        .arg(&t)
        .arg(SAME_WORK_SAMPLES.to_string())
        .envs(["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"].map(|k| (k, &t)))
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "skipping the report's loops: {}",
            String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("")
        );
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// fc1's two products of a mini-batch step, timed in a process of their own with MKL's vendor
/// check answered (the default) or restored (`TWINNET_MKL_VENDOR_CHECK=1`).
#[derive(Debug, Serialize, serde::Deserialize)]
struct MklProducts {
    /// Which kernels MKL ran (`twinnet_tch::mkl_kernels`).
    mkl_kernels: String,
    forward_us: f64,
    weight_grad_us: f64,
}

/// `make bench`'s MKL child (`--mkl-child`): fc1's products on one thread, as JSON.
fn mkl_child() -> Result<()> {
    let torch = Libtorch::configure(Threads::ONE);
    let (forward_us, weight_grad_us) = twinnet_tch::floor::fc1_products_us(&torch, 10, 9);
    let out =
        MklProducts { mkl_kernels: twinnet_tch::mkl_kernels().into(), forward_us, weight_grad_us };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// fc1's products with the vendor check answered and with it restored, each in its own process.
fn mkl_products() -> Result<Vec<MklProducts>> {
    [false, true]
        .into_iter()
        .map(|check| {
            let mut c = Command::new(std::env::current_exe()?);
            c.arg("--mkl-child");
            if check {
                c.env(twinnet_tch::mkl::VENDOR_CHECK_VAR, "1");
            } else {
                c.env_remove(twinnet_tch::mkl::VENDOR_CHECK_VAR);
            }
            let out = c.output()?;
            anyhow::ensure!(
                out.status.success(),
                "the MKL child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(serde_json::from_slice(&out.stdout)?)
        })
        .collect()
}

/// The border skip measured on its own: full-batch iterations of the NumPy model on [0, 1]
/// and on [−1, 1] pixels, one of each in turn (so that a slow spell of the machine hits both
/// sides alike), milliseconds.
#[derive(Debug, Serialize, serde::Deserialize)]
struct BorderSkip {
    threads: usize,
    unit_ms: Vec<f64>,
    symmetric_ms: Vec<f64>,
}

/// [`BorderSkip`], `samples` pairs after two warm-up iterations of each.
fn border_skip(mnist: &Mnist, threads: usize, samples: usize) -> Result<BorderSkip> {
    let threads_t = Threads::new(threads)?;
    let backend = |s: Setting| -> Result<NdarrayBackend> {
        let config = ModelConfig { hidden: 10, head: s.head, normalize: s.normalize };
        let model = Model::new(config, Params::init(10, s.init, 0)?)?;
        Ok(NdarrayBackend::new(&model, &mnist.train, threads_t))
    };
    let (mut u, mut y) = (backend(NUMPY_MODEL)?, backend(NUMPY_MODEL_SYMMETRIC)?);
    let once = |b: &mut NdarrayBackend| -> Result<f64> {
        let t = Instant::now();
        b.step(twinnet_core::Batch::All, 0.1)?;
        Ok(t.elapsed().as_secs_f64() * 1e3)
    };
    for _ in 0..2 {
        once(&mut u)?;
        once(&mut y)?;
    }
    let (mut unit_ms, mut symmetric_ms) = (vec![], vec![]);
    for _ in 0..samples {
        unit_ms.push(once(&mut u)?);
        symmetric_ms.push(once(&mut y)?);
    }
    Ok(BorderSkip { threads, unit_ms, symmetric_ms })
}

#[derive(Debug, Serialize, serde::Deserialize)]
struct Report {
    machine: Machine,
    /// The ndarray backend's border skip, interleaved.
    #[serde(default)]
    border_skip: Option<BorderSkip>,
    /// fc1's products with MKL's vendor check answered and restored.
    #[serde(default)]
    mkl_products: Vec<MklProducts>,
    /// The report's loops on 1 and on 2 threads.
    report_loops: Vec<ReportLoops>,
    /// twinnet on the report's settings, each backend on 1 and on 2 threads.
    same_work: Vec<Measure>,
    main: Vec<Measure>,
    whole_run: Option<WholeRun>,
    scaling: Vec<Measure>,
    /// The same work on each ndarray kernel set and on tch's pinned and native code paths.
    code_paths: Vec<Measure>,
}

/// What the native child process (`--native-child`) reports: the floor measured on libtorch's
/// native path, and the tch main rows there.
#[derive(Debug, Serialize, serde::Deserialize)]
struct NativeChild {
    sgemm_gflops: f64,
    bandwidth_gbs: f64,
    rows: Vec<Measure>,
}

/// The tch rows of the main table: full-batch on 2 threads, mini-batch on 1 (the runner's
/// defaults), tagged with the code path in effect.
fn tch_rows(mnist: &Mnist, floor: &Floor, variant: &str) -> Result<Vec<Measure>> {
    let n = mnist.train.len();
    let rows = [(Regime::FullBatch, 2), (Regime::Minibatch, 1)];
    rows.iter()
        .map(|&(r, t)| {
            let m = measure(mnist, BackendKind::Tch, r, n, 10, t, floor, None, None, OWN)?;
            Ok(Measure { variant: variant.into(), ..m })
        })
        .collect()
}

/// `make bench`'s second process: libtorch on its native code path (process-wide, so it
/// needs a process of its own), printing a [`NativeChild`] as JSON.
fn native_child(mnist: &Mnist) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    let floor = Floor { sgemm: sgemm_gflops(threads)?, bandwidth: bandwidth_gbs(threads)? };
    let rows = tch_rows(mnist, &floor, "native")?;
    let out = NativeChild { sgemm_gflops: floor.sgemm, bandwidth_gbs: floor.bandwidth, rows };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

fn median_min_max(xs: &mut [f64]) -> (f64, f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0], xs[xs.len() - 1])
}

/// Seconds of one update (full-batch) or one epoch (minibatch), `reps` times after warm-up.
/// Seconds per full-batch iteration or mini-batch epoch, timed through the training loop the
/// runner uses (`twinnet_core::train`, one epoch per sample, a fresh batch order each), after
/// two warm-up epochs.
fn time_backend<B: Backend>(b: &mut B, regime: Regime, reps: usize) -> Result<Vec<f64>> {
    let stop = AtomicBool::new(false);
    let n = b.train_len();
    let once = |b: &mut B, seed: u64| -> Result<f64> {
        let cfg = TrainConfig { regime, batch_size: 64, lr: 0.1, epochs: 1, seed, log_every: 1 };
        let plan = cfg.validate(n)?;
        let t = Instant::now();
        let out = train(b, &plan, &stop, &mut |_| {}).map_err(|e| anyhow::anyhow!("{e}"))?;
        let secs = t.elapsed().as_secs_f64();
        anyhow::ensure!(out.divergence.is_none(), "diverged while benchmarking");
        Ok(secs)
    };
    for seed in 0..2 {
        once(b, seed)?;
    }
    (0..reps).map(|r| once(b, 2 + r as u64)).collect()
}

struct Floor {
    sgemm: f64,
    bandwidth: f64,
}

impl Floor {
    fn ms(&self, backend: BackendKind, n: usize, hidden: usize) -> f64 {
        let flops = 4.0 * n as f64 * 784.0 * hidden as f64;
        let bytes_per_px = if backend == BackendKind::Ndarray { 1.0 } else { 4.0 }; // u8 vs f32
        let bytes = n as f64 * 784.0 * bytes_per_px;
        1e3 * (flops / (self.sgemm * 1e9)).max(bytes / (self.bandwidth * 1e9))
    }
}

fn measure(
    mnist: &Mnist,
    backend: BackendKind,
    regime: Regime,
    n: usize,
    hidden: usize,
    threads: usize,
    floor: &Floor,
    target_ms: Option<f64>,
    kernels: Option<Kernels>,
    setting: Setting,
) -> Result<Measure> {
    let train: Dataset = mnist.train.take(n)?;
    let config = ModelConfig { hidden, head: setting.head, normalize: setting.normalize };
    let model = Model::new(config, Params::init(hidden, setting.init, 0)?)?;
    let threads = Threads::new(threads)?;
    let reps = match regime {
        Regime::FullBatch => 15,
        Regime::Minibatch => 5,
    };
    let threads_n = threads.get();
    let mut secs = match backend {
        BackendKind::Ndarray => {
            let mut b = NdarrayBackend::new(&model, &train, threads);
            if let Some(k) = kernels {
                b = b.with_kernels(k);
            }
            time_backend(&mut b, regime, reps)?
        }
        BackendKind::Tch => {
            let torch = Libtorch::configure(threads);
            time_backend(
                &mut TchBackend::new(&torch, &model, &train, TchDevice::Cpu)?,
                regime,
                reps,
            )?
        }
    };
    let (med, min, max) = median_min_max(&mut secs);
    let m = Measure {
        setting: setting.name.into(),
        backend,
        regime,
        n_train: n,
        hidden,
        threads: threads_n,
        per: if regime == Regime::FullBatch { "iteration" } else { "epoch" }.into(),
        variant: String::new(),
        median_ms: med * 1e3,
        min_ms: min * 1e3,
        max_ms: max * 1e3,
        samples: reps,
        floor_ms: floor.ms(backend, n, hidden),
        target_ms,
    };
    eprintln!(
        "{:>7} {:>10} n={:>5} h={:>3} t={}: {:>8.1} ms/{} (floor {:.1})",
        m.backend.to_string(),
        m.regime.to_string(),
        n,
        hidden,
        threads_n,
        m.median_ms,
        m.per,
        m.floor_ms
    );
    Ok(m)
}

/// GFLOP/s of a 2048² f32 matmul in libtorch on `threads` threads.
fn sgemm_gflops(threads: usize) -> Result<f64> {
    Ok(twinnet_tch::floor::sgemm_gflops(&Libtorch::configure(Threads::new(threads)?), 2048))
}

/// GB/s of one sum over 188 MB (the f32 training set) on `threads` threads.
fn bandwidth_gbs(threads: usize) -> Result<f64> {
    Ok(twinnet_tch::floor::sum_bandwidth_gbs(
        &Libtorch::configure(Threads::new(threads)?),
        60_000 * 784,
    ))
}

/// The peak resident memory (`VmHWM`) of a running process, in kB.
fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Wall time and peak RSS of `twinnet run experiments/report.toml`.
///
/// The peak is the run's own `VmHWM`, read every 10 ms while it runs. Not `getrusage`'s
/// `RUSAGE_CHILDREN`: Linux counts the parent's peak into a child spawned with a shared address
/// space (as `Command` does) when it execs, so that figure was this bench's own memory.
fn whole_run(root: &Path) -> Result<Option<WholeRun>> {
    let bin = root.join("target/release/twinnet");
    if !bin.exists() {
        eprintln!("skipping the whole run: {} not built (make build)", bin.display());
        return Ok(None);
    }
    let out = std::env::temp_dir().join(format!("twinnet-bench-{}", std::process::id()));
    let t = Instant::now();
    let mut child = Command::new(&bin)
        .args(["run", "experiments/report.toml", "--quiet", "--out"])
        .arg(&out)
        .current_dir(root)
        .spawn()
        .context("running twinnet")?;
    let mut peak_kb = 0;
    let status = loop {
        peak_kb = peak_kb.max(peak_rss_kb(child.id()).unwrap_or(0));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let wall_s = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    anyhow::ensure!(status.success(), "twinnet run experiments/report.toml failed");
    Ok(Some(WholeRun {
        command: "twinnet run experiments/report.toml".into(),
        wall_s,
        peak_rss_mb: peak_kb as f64 / 1024.0,
        target_s: 90.0,
        target_mb: 600.0,
    }))
}

fn verdict(value: f64, target: Option<f64>) -> String {
    match target {
        Some(t) if value <= t => format!("≤ {t} ✓ met"),
        Some(t) => format!("≤ {t} ✗ **missed** ({:.1}×)", value / t),
        None => "–".into(),
    }
}

/// `1 thread`, `2 threads`.
fn threads_label(n: usize) -> String {
    if n == 1 {
        "1 thread".into()
    } else {
        format!("{n} threads")
    }
}

/// The fastest of `xs` (by median), if any.
fn best<'a>(xs: impl Iterator<Item = &'a Measure>) -> Option<&'a Measure> {
    xs.min_by(|a, b| a.median_ms.total_cmp(&b.median_ms))
}

/// The same-work section: the report's two models in the report's code and in twinnet, each
/// program on 1 and 2 threads, every speed-up from each side's best.
fn same_work(s: &mut String, r: &Report) {
    let loops = &r.report_loops;
    if loops.is_empty() {
        s.push_str("\n(The report's loops did not run: no `python3` with torch and numpy on PATH; run `make bench`.)\n");
        return;
    }
    s.push_str(
        "\n## The same work: the report's two models, in the report's code and in twinnet\n\n",
    );
    s.push_str("Each program trains the report's model with the report's settings: the NumPy model (full-batch, softmax head, [0, 1] pixels, U[−0.5, 0.5]; the report's NumPy loop in float64, `crates/bench/report_loops.py`) per iteration, and the PyTorch model (mini-batch 64, softmax in forward then CrossEntropyLoss, [−1, 1] pixels, nn.Linear init; the report's loop, tight on pre-normalized tensors, and as the report ran it through a DataLoader) per epoch. Every program at 1 and at 2 threads (PyTorch's intra-op threads, NumPy's BLAS threads, twinnet's `--threads`), median and min–max over the samples after warm-up; each speed-up divides the baseline's best median by twinnet's best, the thread counts shown. Stock PyTorch in the baselines (MKL keeps its vendor check), tch on its pinned AVX2 path.\n\n");
    s.push_str("| model | program | threads | per | median ms | min–max ms | samples |\n|---|---|---:|---|---:|---:|---:|\n");
    type Pick = fn(&ReportLoops) -> &Timed;
    let baselines: [(&str, &str, &str, Pick); 3] = [
        ("NumPy model", "report's NumPy loop (float64)", "iteration", |l| {
            &l.numpy_full_batch_iteration
        }),
        ("PyTorch model", "report's PyTorch loop, tight", "epoch", |l| {
            &l.torch_tight_minibatch_epoch
        }),
        ("PyTorch model", "report's PyTorch loop, DataLoader", "epoch", |l| {
            &l.torch_dataloader_minibatch_epoch
        }),
    ];
    let ours = |setting: &'static str, b: BackendKind| {
        r.same_work.iter().filter(move |m| m.setting == setting && m.backend == b)
    };
    for (model, what, per, pick) in baselines {
        for l in loops {
            let t = pick(l);
            let _ = writeln!(
                s,
                "| {model} | {what} | {} | {per} | {:.1} | {:.1}–{:.1} | {} |",
                l.torch_threads,
                1e3 * t.median_s,
                1e3 * t.min_s,
                1e3 * t.max_s,
                t.samples
            );
        }
        if what.ends_with("tight") || what.starts_with("report's NumPy") {
            let setting = if per == "iteration" { NUMPY_MODEL.name } else { PYTORCH_MODEL.name };
            for b in [BackendKind::Ndarray, BackendKind::Tch] {
                for m in ours(setting, b) {
                    let _ = writeln!(
                        s,
                        "| {model} | twinnet {b} | {} | {per} | {:.1} | {:.1}–{:.1} | {} |",
                        m.threads, m.median_ms, m.min_ms, m.max_ms, m.samples
                    );
                }
            }
        }
    }
    s.push_str("\n| speed-up (same work) | baseline, best | twinnet, best | × | goal |\n|---|---:|---:|---:|---|\n");
    let goals: [(&str, Pick, &str, BackendKind, Option<f64>); 6] = [
        (
            "NumPy model, full-batch iteration: ndarray vs the report's NumPy loop",
            |l| &l.numpy_full_batch_iteration,
            NUMPY_MODEL.name,
            BackendKind::Ndarray,
            Some(5.0),
        ),
        (
            "NumPy model, full-batch iteration: tch vs the report's NumPy loop",
            |l| &l.numpy_full_batch_iteration,
            NUMPY_MODEL.name,
            BackendKind::Tch,
            None,
        ),
        (
            "PyTorch model, mini-batch epoch: ndarray vs the report's tight PyTorch loop",
            |l| &l.torch_tight_minibatch_epoch,
            PYTORCH_MODEL.name,
            BackendKind::Ndarray,
            Some(10.0),
        ),
        (
            "PyTorch model, mini-batch epoch: tch vs the report's tight PyTorch loop",
            |l| &l.torch_tight_minibatch_epoch,
            PYTORCH_MODEL.name,
            BackendKind::Tch,
            Some(2.5),
        ),
        (
            "PyTorch model, mini-batch epoch: ndarray vs the report's DataLoader loop",
            |l| &l.torch_dataloader_minibatch_epoch,
            PYTORCH_MODEL.name,
            BackendKind::Ndarray,
            None,
        ),
        (
            "PyTorch model, mini-batch epoch: tch vs the report's DataLoader loop",
            |l| &l.torch_dataloader_minibatch_epoch,
            PYTORCH_MODEL.name,
            BackendKind::Tch,
            None,
        ),
    ];
    for (what, pick, setting, b, goal) in goals {
        let base = loops.iter().min_by(|x, y| pick(x).median_s.total_cmp(&pick(y).median_s));
        let (Some(base), Some(m)) = (base, best(ours(setting, b))) else { continue };
        let base_ms = 1e3 * pick(base).median_s;
        let x = base_ms / m.median_ms;
        let verdict = match goal {
            Some(g) if x >= g => format!("≥ {g}× ✓ met"),
            Some(g) => format!("≥ {g}× ✗ **missed**"),
            None => "–".into(),
        };
        let _ = writeln!(
            s,
            "| {what} | {base_ms:.1} ms ({}) | {:.1} ms ({}) | {x:.1}× | {verdict} |",
            threads_label(base.torch_threads),
            m.median_ms,
            threads_label(m.threads)
        );
    }
    if let Some(b) = &r.border_skip {
        let (mut u, mut y) = (b.unit_ms.clone(), b.symmetric_ms.clone());
        let (um, ulo, uhi) = median_min_max(&mut u);
        let (ym, ylo, yhi) = median_min_max(&mut y);
        let _ = writeln!(s, "\nThe ndarray backend's border skip, on its own: the NumPy model's full-batch iteration on [0, 1] pixels (each image's blank border is exact zeros, which the kernels skip) and on [−1, 1] pixels (no pixel is zero), the same backend and weights, {}, one iteration of each in turn ({} pairs): **{um:.1} ms** ({ulo:.1}–{uhi:.1}) against **{ym:.1} ms** ({ylo:.1}–{yhi:.1}), {:.2}× for the skip. The PyTorch model's rows above run on [−1, 1] pixels, so they get no such help.", threads_label(b.threads), u.len(), ym / um);
    }
}

fn markdown(r: &Report) -> String {
    let m = &r.machine;
    let mut s = String::new();
    let _ = writeln!(s, "# twinnet benchmarks\n");
    let _ = writeln!(
        s,
        "{} ({} cores), {}. Floor measured here: sgemm {:.0} GFLOP/s (2048² libtorch matmul, native code path), memory {:.1} GB/s (one sum over 188 MB); ndarray kernels: {}; libtorch's MKL: {}; tch timed on its default, pinned AVX2 code path (native: last table).\n",
        m.cpu, m.cores, m.date, m.sgemm_gflops, m.bandwidth_gbs, m.ndarray_kernels, m.mkl_kernels
    );
    s.push_str("Each backend on twinnet's own defaults (softmax head, [0, 1] pixels, nn.Linear init), at the faster of 1 and 2 threads, against the floor and the per-backend targets; the comparison with the report's code, on the report's own settings, is the next section.\n\n");
    s.push_str("| backend | regime | per | median ms | min–max ms | threads | floor ms | of floor | target ms |\n|---|---|---|---:|---:|---:|---:|---:|---|\n");
    for x in &r.main {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {:.1}–{:.1} | {} | {:.1} | {:.0}% | {} |",
            x.backend,
            x.regime,
            x.per,
            x.median_ms,
            x.min_ms,
            x.max_ms,
            x.threads,
            x.floor_ms,
            100.0 * x.floor_ms / x.median_ms,
            verdict(x.median_ms, x.target_ms)
        );
    }
    same_work(&mut s, r);
    if let Some(w) = &r.whole_run {
        let _ = writeln!(
            s,
            "\n`{}` end to end (500 full-batch + 500 mini-batch epochs, after the build): **{:.1} s** (target {}), peak resident memory **{:.0} MB** (target {}).",
            w.command,
            w.wall_s,
            verdict(w.wall_s, Some(w.target_s)),
            w.peak_rss_mb,
            verdict(w.peak_rss_mb, Some(w.target_mb))
        );
    }
    s.push_str("\n## Scaling (ms per full-batch iteration / per mini-batch-64 epoch)\n\nOne factor at a time from 60000 images, hidden 10, 2 threads. Time grows linearly with images and, past the fixed per-update costs, with hidden width; mini-batch epochs pay a fixed cost per update (938 per epoch), which threads do not shrink. The floor is that of the dense products; the ndarray backend skips each image's blank border (exact zeros), what that saves is the border-skip row above.\n\n| backend | regime | images | hidden | threads | median ms | floor ms |\n|---|---|---:|---:|---:|---:|---:|\n");
    for x in &r.scaling {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.1} | {:.1} |",
            x.backend, x.regime, x.n_train, x.hidden, x.threads, x.median_ms, x.floor_ms
        );
    }
    s.push_str("\n## What reproducible bits cost\n\nThe same work on each code path. Every ndarray kernel set computes the same bits (sixteen lanes, fused multiply-adds and one summation order everywhere), each at its own speed; the portable set (software FMA where the CPU has none) is not timed. tch runs libtorch's AVX2 code pinned by default (`ATEN_CPU_CAPABILITY=avx2`, `MKL_CBWR=AVX2`: the same bits on every x86-64 CPU with AVX2) or, with `--native-kernels`, this CPU's own fastest code (measured in a second process, as the code path is process-wide).\n\n| backend | regime | per | code path | threads | median ms | min–max ms |\n|---|---|---|---|---:|---:|---:|\n");
    for x in &r.code_paths {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.1} | {:.1}–{:.1} |",
            x.backend, x.regime, x.per, x.variant, x.threads, x.median_ms, x.min_ms, x.max_ms
        );
    }
    if !r.mkl_products.is_empty() {
        s.push_str("\n## MKL's kernels on this CPU\n\nfc1's two matrix products of a mini-batch-64 step in libtorch, one thread, each setting in a process of its own (median of 9 samples of 1000 products): with MKL's vendor check answered by twinnet (the default: MKL picks kernels by the CPU's feature flags) and restored with `TWINNET_MKL_VENDOR_CHECK=1` (stock MKL: on a CPU that is not Intel's, its generic kernels).\n\n| MKL kernels | forward X·W1ᵀ µs | weight gradient dZ1ᵀ·X µs |\n|---|---:|---:|\n");
        for m in &r.mkl_products {
            let _ = writeln!(
                s,
                "| {} | {:.1} | {:.1} |",
                m.mkl_kernels, m.forward_us, m.weight_grad_us
            );
        }
    }
    s
}

fn main() -> Result<()> {
    // libtorch's code path is process-wide: this process times the pinned one (what `twinnet`
    // runs by default), a child the native one.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    // `--render`: rewrite bench.md from the committed bench.json (the text changed, the
    // measurements did not).
    if std::env::args().nth(1).is_some_and(|a| a == "--render") {
        let dir = root.join("results/bench");
        let report: Report = serde_json::from_slice(&std::fs::read(dir.join("bench.json"))?)?;
        twinnet_core::file::write_atomic(&dir.join("bench.md"), markdown(&report).as_bytes())?;
        return Ok(());
    }
    if std::env::args().nth(1).is_some_and(|a| a == "--mkl-child") {
        twinnet_tch::code_path::select(CodePath::Pinned);
        return mkl_child();
    }
    let child = std::env::args().nth(1).is_some_and(|a| a == "--native-child");
    twinnet_tch::code_path::select(if child { CodePath::Native } else { CodePath::Pinned });
    let mnist = Mnist::load(&twinnet_data::default_data_dir())?;
    if child {
        return native_child(&mnist);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(2);
    // The floor is the hardware's: measured on libtorch's native path (AVX-512 where there is
    // one), in the child, which also times tch's main rows there.
    let out = Command::new(std::env::current_exe()?).arg("--native-child").output()?;
    anyhow::ensure!(
        out.status.success(),
        "the native-path child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let native: NativeChild = serde_json::from_slice(&out.stdout)?;
    let floor = Floor { sgemm: native.sgemm_gflops, bandwidth: native.bandwidth_gbs };
    eprintln!("floor: sgemm {:.0} GFLOP/s, bandwidth {:.1} GB/s", floor.sgemm, floor.bandwidth);
    let date = Command::new("date")
        .arg("+%Y-%m-%d")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let machine = Machine {
        cpu: twinnet_core::system::cpu_model(),
        cores,
        date,
        sgemm_gflops: floor.sgemm,
        bandwidth_gbs: floor.bandwidth,
        ndarray_kernels: twinnet_ndarray::kernels::Kernels::best().name().into(),
        mkl_kernels: twinnet_tch::mkl_kernels().into(),
    };
    let n = mnist.train.len();
    let targets = [
        (BackendKind::Ndarray, Regime::FullBatch, 15.0),
        (BackendKind::Ndarray, Regime::Minibatch, 30.0),
        (BackendKind::Tch, Regime::FullBatch, 60.0),
        (BackendKind::Tch, Regime::Minibatch, 160.0),
    ];
    let mut main = vec![];
    for (b, r, t) in targets {
        // The faster of 1 and 2 threads, as the runner would be configured.
        let one = measure(&mnist, b, r, n, 10, 1, &floor, Some(t), None, OWN)?;
        let two = measure(&mnist, b, r, n, 10, threads, &floor, Some(t), None, OWN)?;
        main.push(if two.median_ms < one.median_ms { two } else { one });
    }
    let whole_run =
        if std::env::var_os("BENCH_SKIP_RUN").is_some() { None } else { whole_run(&root)? };
    let mut scaling = vec![];
    for b in [BackendKind::Ndarray, BackendKind::Tch] {
        for r in [Regime::FullBatch, Regime::Minibatch] {
            for (nn, h, t) in [
                (10_000, 10, threads),
                (30_000, 10, threads),
                (n, 10, threads),
                (n, 32, threads),
                (n, 128, threads),
                (n, 10, 1),
            ] {
                scaling.push(measure(&mnist, b, r, nn, h, t, &floor, None, None, OWN)?);
            }
        }
    }
    // The same work on both sides: the report's two models, each program on 1 and 2 threads.
    let report_loops: Vec<ReportLoops> = [1, threads]
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter_map(|t| report_loops(&root, &twinnet_data::default_data_dir(), t))
        .collect();
    let mut same_work = vec![];
    let work = [(NUMPY_MODEL, Regime::FullBatch), (PYTORCH_MODEL, Regime::Minibatch)];
    for (setting, regime) in work {
        for b in [BackendKind::Ndarray, BackendKind::Tch] {
            for t in [1, threads].into_iter().collect::<std::collections::BTreeSet<_>>() {
                same_work.push(measure(&mnist, b, regime, n, 10, t, &floor, None, None, setting)?);
            }
        }
    }
    // Reproducibility's price: every ndarray kernel set but the portable one (software FMA,
    // far slower) computes the same bits, at its own speed; tch pinned against native.
    let mut code_paths = vec![];
    for k in Kernels::available().into_iter().filter(|k| k.name() != "portable") {
        for r in [Regime::FullBatch, Regime::Minibatch] {
            let m = measure(
                &mnist,
                BackendKind::Ndarray,
                r,
                n,
                10,
                threads,
                &floor,
                None,
                Some(k),
                OWN,
            )?;
            code_paths.push(Measure { variant: format!("{} kernels", k.name()), ..m });
        }
    }
    code_paths.extend(tch_rows(&mnist, &floor, "pinned")?);
    code_paths.extend(native.rows);
    let mkl_products = mkl_products()?;
    let border_skip = Some(border_skip(&mnist, threads, 15)?);
    let report = Report {
        machine,
        border_skip,
        mkl_products,
        report_loops,
        same_work,
        main,
        whole_run,
        scaling,
        code_paths,
    };
    let dir = root.join("results/bench");
    std::fs::create_dir_all(&dir)?;
    let md = markdown(&report);
    twinnet_core::file::write_atomic(&dir.join("bench.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(&report)? + "\n";
    twinnet_core::file::write_atomic(&dir.join("bench.json"), json.as_bytes())?;
    println!("{md}");
    Ok(())
}
