//! What `make bench` times outside its own process, or in a process of its own: the report's
//! Python loops, libtorch's native code path and MKL's two dispatches (both process-wide), a
//! whole `twinnet run`; and the ndarray backend's border skip, interleaved.

use crate::case::{Case, Floor, NUMPY_MODEL, NUMPY_MODEL_SYMMETRIC, OWN};
use crate::record::{BorderSkip, Measure, MklProducts, NativeChild, ReportLoops, WholeRun};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use twinnet_core::{BackendKind, Device, Model, ModelConfig, Params, Regime, Threads};
use twinnet_data::Splits;
use twinnet_engine::Engine;
use twinnet_tch::Libtorch;

/// Samples of every figure in the same-work comparison, on each side.
pub const SAME_WORK_SAMPLES: usize = 5;

/// Runs the report's loops with the `python3` on PATH (the venv's, under `make bench`), on
/// `threads` threads: PyTorch's intra-op threads and NumPy's BLAS (read from the environment
/// when NumPy loads).
pub fn report_loops(root: &Path, data: &Path, threads: usize) -> Option<ReportLoops> {
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

/// `make bench`'s MKL child (`--mkl-child`): fc1's products on one thread, as JSON.
pub fn mkl_child() -> Result<()> {
    let torch = Libtorch::configure(Threads::ONE);
    let (forward_us, weight_grad_us) = twinnet_tch::floor::fc1_products_us(&torch, 10, 9);
    let out =
        MklProducts { mkl_kernels: twinnet_tch::mkl_kernels().into(), forward_us, weight_grad_us };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// fc1's products with the vendor check answered and with it restored, each in its own process.
pub fn mkl_products() -> Result<Vec<MklProducts>> {
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

/// [`BorderSkip`], `samples` pairs after two warm-up iterations of each.
pub fn border_skip(mnist: &Splits, threads: usize, samples: usize) -> Result<BorderSkip> {
    let threads_t = Threads::new(threads)?;
    let engine = Engine::resolve(BackendKind::Ndarray, Device::Cpu)?;
    let backend = |s: crate::case::Setting| -> Result<Box<dyn twinnet_core::Backend>> {
        let config = ModelConfig::report(10, s.head, s.normalize);
        let model = Model::new(config, Params::init(10, s.init, 0)?)?;
        Ok(engine.build(&model, &mnist.train, threads_t)?)
    };
    let (mut u, mut y) = (backend(NUMPY_MODEL)?, backend(NUMPY_MODEL_SYMMETRIC)?);
    let once = |b: &mut Box<dyn twinnet_core::Backend>| -> Result<f64> {
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

/// The tch rows of the main table: full-batch on 2 threads, mini-batch on 1 (the runner's
/// defaults), tagged with the code path in effect.
pub fn tch_rows(mnist: &Splits, floor: &Floor, variant: &str) -> Result<Vec<Measure>> {
    let n = mnist.train.len();
    let rows = [(Regime::FullBatch, 2), (Regime::Minibatch, 1)];
    rows.iter()
        .map(|&(r, t)| {
            let case = Case {
                n,
                threads: t,
                setting: OWN,
                variant: variant.into(),
                ..Case::new(BackendKind::Tch, r)
            };
            case.measure(mnist, floor)
        })
        .collect()
}

/// `make bench`'s second process: libtorch on its native code path (process-wide, so it
/// needs a process of its own), printing a [`NativeChild`] as JSON.
pub fn native_child(mnist: &Splits) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
    let floor = Floor { sgemm: sgemm_gflops(threads)?, bandwidth: bandwidth_gbs(threads)? };
    let rows = tch_rows(mnist, &floor, "native")?;
    let out = NativeChild { sgemm_gflops: floor.sgemm, bandwidth_gbs: floor.bandwidth, rows };
    println!("{}", serde_json::to_string(&out)?);
    Ok(())
}

/// GFLOP/s of a 2048² f32 matmul in libtorch on `threads` threads.
pub fn sgemm_gflops(threads: usize) -> Result<f64> {
    Ok(twinnet_tch::floor::sgemm_gflops(&Libtorch::configure(Threads::new(threads)?), 2048))
}

/// GB/s of one sum over 188 MB (the f32 training set) on `threads` threads.
pub fn bandwidth_gbs(threads: usize) -> Result<f64> {
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
pub fn whole_run(root: &Path) -> Result<Option<WholeRun>> {
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
