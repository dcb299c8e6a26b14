//! `make bench`: how fast each backend trains, against the hardware floor and the targets.
//!
//! For each backend × regime: milliseconds per full-batch iteration and per mini-batch-64
//! epoch on full MNIST (warm-up, then repeated samples: median, min, max), each measurement a
//! [`case::Case`] timed through the runner's loop against its floor (see `case`), with the
//! sgemm rate of a 2048² libtorch matmul and the bandwidth of one sum over 188 MB,
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
//! `--render` rewrites `bench.md` from `bench.json`. `--mlp` times other multilayer perceptrons
//! (`mlp`: Nielsen's network and a deeper ReLU one against PyTorch eager and Nielsen's own
//! loop) into `mlp.md` and `mlp.json`; `--optim` what optimizers with state cost (`optim`) into
//! `optim.md` and `optim.json`. The Rust peers are `crates/peers`.

mod case;
mod children;
mod mlp;
mod optim;
mod record;
mod render;

use anyhow::Result;
use case::{Case, Floor, NUMPY_MODEL, PYTORCH_MODEL};
use children::{
    border_skip, mkl_child, mkl_products, native_child, report_loops, tch_rows, whole_run,
};
use record::{BenchRecord, Machine, NativeChild, ReportLoops};
use render::markdown;
use std::path::PathBuf;
use std::process::Command;
use twinnet_core::{BackendKind, Regime};
use twinnet_ndarray::kernels::Kernels;

/// Implementations in another process, on the same work as the backends' same-work rows: the
/// report's NumPy program (full-batch iteration) and PyTorch program (mini-batch epoch) as
/// twinnet ships them, each at 1 and 2 threads; and an implementation that does nothing, on
/// mini-batch epochs, sending 32 steps ahead and one at a time: the protocol's own cost.
fn process_rows(
    mnist: &twinnet_data::Splits,
    floor: &Floor,
    threads: usize,
) -> Result<Vec<record::Measure>> {
    let idle = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("python/idle_net.py");
    let mut rows = vec![];
    let counts: std::collections::BTreeSet<usize> = [1, threads].into_iter().collect();
    for (setting, regime, module) in [
        (NUMPY_MODEL, Regime::FullBatch, "numpy_model"),
        (PYTORCH_MODEL, Regime::Minibatch, "pytorch_model"),
    ] {
        for &t in &counts {
            let case = Case {
                setting,
                threads: t,
                command: Some(format!("python3 -m twinnet_backend.{module}")),
                variant: format!("{module}, through the protocol"),
                ..Case::new(BackendKind::Process, regime)
            };
            rows.push(case.measure(mnist, floor)?);
        }
    }
    for (ahead, variant) in
        [(twinnet_process::AHEAD, "idle, 32 steps ahead"), (0, "idle, one step at a time")]
    {
        let case = Case {
            command: Some(format!("python3 {}", idle.display())),
            variant: variant.into(),
            ahead,
            ..Case::new(BackendKind::Process, Regime::Minibatch)
        };
        rows.push(case.measure(mnist, floor)?);
    }
    Ok(rows)
}

fn main() -> Result<()> {
    // libtorch's code path is process-wide: this process times the pinned one (what `twinnet`
    // runs by default), a child the native one.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize()?;
    // `--render`: rewrite bench.md from the committed bench.json (the text changed, the
    // measurements did not).
    if std::env::args().nth(1).is_some_and(|a| a == "--render") {
        let dir = root.join("results/bench");
        let record: BenchRecord = serde_json::from_slice(&std::fs::read(dir.join("bench.json"))?)?;
        twinnet_core::file::write_atomic(&dir.join("bench.md"), markdown(&record).as_bytes())?;
        return Ok(());
    }
    if std::env::args().nth(1).is_some_and(|a| a == "--sgemm-child") {
        twinnet_engine::select_code_path(true);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(2);
        println!("{}", children::sgemm_gflops(threads)?);
        return Ok(());
    }
    if std::env::args().nth(1).is_some_and(|a| a == "--mlp") {
        // The floor on libtorch's native path, in a child (the path is process-wide); the
        // backends here on the pinned one, as `twinnet` runs them.
        let out = Command::new(std::env::current_exe()?).arg("--sgemm-child").output()?;
        anyhow::ensure!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let sgemm: f64 = String::from_utf8_lossy(&out.stdout).trim().parse()?;
        twinnet_engine::select_code_path(false);
        let mnist = twinnet_data::Splits::load(&twinnet_data::default_data_dir())?;
        let record = mlp::run(&root, &mnist, sgemm)?;
        println!("{}", mlp::markdown(&record));
        return Ok(());
    }
    if std::env::args().nth(1).is_some_and(|a| a == "--optim") {
        let mnist = twinnet_data::Splits::load(&twinnet_data::default_data_dir())?;
        let record = optim::run(&root, &mnist)?;
        println!("{}", optim::markdown(&record));
        return Ok(());
    }
    if std::env::args().nth(1).is_some_and(|a| a == "--mkl-child") {
        twinnet_engine::select_code_path(false);
        return mkl_child();
    }
    let child = std::env::args().nth(1).is_some_and(|a| a == "--native-child");
    twinnet_engine::select_code_path(child);
    let mnist = twinnet_data::Splits::load(&twinnet_data::default_data_dir())?;
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
    let targets = [
        (BackendKind::Ndarray, Regime::FullBatch, 15.0),
        (BackendKind::Ndarray, Regime::Minibatch, 30.0),
        (BackendKind::Tch, Regime::FullBatch, 60.0),
        (BackendKind::Tch, Regime::Minibatch, 160.0),
    ];
    let mut main = vec![];
    for (b, r, t) in targets {
        // The faster of 1 and 2 threads, as the runner would be configured.
        let case = Case { target_ms: Some(t), ..Case::new(b, r) };
        let one = case.measure(&mnist, &floor)?;
        let two = Case { threads, ..case }.measure(&mnist, &floor)?;
        main.push(if two.median_ms < one.median_ms { two } else { one });
    }
    let n = mnist.train.len();
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
                let case = Case { n: nn, hidden: h, threads: t, ..Case::new(b, r) };
                scaling.push(case.measure(&mnist, &floor)?);
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
                let case = Case { setting, threads: t, ..Case::new(b, regime) };
                same_work.push(case.measure(&mnist, &floor)?);
            }
        }
    }
    // Reproducibility's price: every ndarray kernel set but the portable one (software FMA,
    // far slower) computes the same bits, at its own speed; tch pinned against native.
    let mut code_paths = vec![];
    for k in Kernels::available().into_iter().filter(|k| k.name() != "portable") {
        for r in [Regime::FullBatch, Regime::Minibatch] {
            let case = Case {
                threads,
                kernels: Some(k),
                variant: format!("{} kernels", k.name()),
                ..Case::new(BackendKind::Ndarray, r)
            };
            code_paths.push(case.measure(&mnist, &floor)?);
        }
    }
    code_paths.extend(tch_rows(&mnist, &floor, "pinned")?);
    code_paths.extend(native.rows);
    let process = process_rows(&mnist, &floor, threads)?;
    let mkl_products = mkl_products()?;
    let border_skip = Some(border_skip(&mnist, threads, 15)?);
    let record = BenchRecord {
        machine,
        border_skip,
        mkl_products,
        report_loops,
        same_work,
        main,
        whole_run,
        scaling,
        code_paths,
        process,
    };
    let dir = root.join("results/bench");
    std::fs::create_dir_all(&dir)?;
    let md = markdown(&record);
    twinnet_core::file::write_atomic(&dir.join("bench.md"), md.as_bytes())?;
    let json = serde_json::to_string_pretty(&record)? + "\n";
    twinnet_core::file::write_atomic(&dir.join("bench.json"), json.as_bytes())?;
    println!("{md}");
    Ok(())
}
