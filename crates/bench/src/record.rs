//! What `make bench` measures and records (`results/bench/bench.json`): every type of the
//! report, serialized as is.

use serde::{Deserialize, Serialize};
use twinnet_core::{BackendKind, Regime};

/// One timed case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measure {
    /// What was trained ([`crate::case::Setting::name`]).
    #[serde(default)]
    pub setting: String,
    /// What else was fixed: `pinned`/`native` (tch's code path), a kernel set (ndarray).
    #[serde(default)]
    pub variant: String,
    pub backend: BackendKind,
    pub regime: Regime,
    pub n_train: usize,
    pub hidden: usize,
    pub threads: usize,
    /// `iteration` (full-batch) or `epoch` (minibatch 64).
    pub per: String,
    pub median_ms: f64,
    pub min_ms: f64,
    pub max_ms: f64,
    pub samples: usize,
    pub floor_ms: f64,
    pub target_ms: Option<f64>,
}

/// The machine and its floor.
#[derive(Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub date: String,
    pub sgemm_gflops: f64,
    pub bandwidth_gbs: f64,
    pub ndarray_kernels: String,
    pub mkl_kernels: String,
}

/// One whole `twinnet run` of the report.
#[derive(Debug, Serialize, Deserialize)]
pub struct WholeRun {
    pub command: String,
    pub wall_s: f64,
    pub peak_rss_mb: f64,
    pub target_s: f64,
    pub target_mb: f64,
}

/// The report's own loops (crates/bench/report_loops.py), timed here.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReportLoops {
    pub numpy_full_batch_iteration: Timed,
    pub torch_tight_minibatch_epoch: Timed,
    pub torch_dataloader_minibatch_epoch: Timed,
    pub torch_threads: usize,
}

/// Seconds over samples.
#[derive(Debug, Serialize, Deserialize)]
pub struct Timed {
    pub median_s: f64,
    pub min_s: f64,
    pub max_s: f64,
    pub samples: usize,
}

/// fc1's two products of a mini-batch step, timed in a process of their own with MKL's vendor
/// check answered (the default) or restored (`TWINNET_MKL_VENDOR_CHECK=1`).
#[derive(Debug, Serialize, Deserialize)]
pub struct MklProducts {
    /// Which kernels MKL ran (`twinnet_tch::mkl_kernels`).
    pub mkl_kernels: String,
    pub forward_us: f64,
    pub weight_grad_us: f64,
}

/// The border skip measured on its own: full-batch iterations of the NumPy model on [0, 1]
/// and on [−1, 1] pixels, one of each in turn (so that a slow spell of the machine hits both
/// sides alike), milliseconds.
#[derive(Debug, Serialize, Deserialize)]
pub struct BorderSkip {
    pub threads: usize,
    pub unit_ms: Vec<f64>,
    pub symmetric_ms: Vec<f64>,
}

/// Everything one `make bench` measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct BenchRecord {
    pub machine: Machine,
    /// The ndarray backend's border skip, interleaved.
    #[serde(default)]
    pub border_skip: Option<BorderSkip>,
    /// fc1's products with MKL's vendor check answered and restored.
    #[serde(default)]
    pub mkl_products: Vec<MklProducts>,
    /// The report's loops on 1 and on 2 threads.
    pub report_loops: Vec<ReportLoops>,
    /// twinnet on the report's settings, each backend on 1 and on 2 threads.
    pub same_work: Vec<Measure>,
    pub main: Vec<Measure>,
    pub whole_run: Option<WholeRun>,
    pub scaling: Vec<Measure>,
    /// The same work on each ndarray kernel set and on tch's pinned and native code paths.
    pub code_paths: Vec<Measure>,
    /// Implementations in another process: the report's two programs on their own settings,
    /// and an implementation that does nothing (the protocol's own cost).
    #[serde(default)]
    pub process: Vec<Measure>,
}

/// What the native child process (`--native-child`) reports: the floor measured on libtorch's
/// native path, and the tch main rows there.
#[derive(Debug, Serialize, Deserialize)]
pub struct NativeChild {
    pub sgemm_gflops: f64,
    pub bandwidth_gbs: f64,
    pub rows: Vec<Measure>,
}
