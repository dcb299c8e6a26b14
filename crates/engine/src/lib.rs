//! The one place a backend is built. A run's settings (backend kind, device, threads, code
//! path) become an [`Engine`] (resolved for this machine: `--device auto` is a device here, a
//! backend this build lacks is an error), and the engine builds a `Box<dyn Backend>`; the
//! [`Policy`] that goes with each backend (default threads, cores a run keeps busy, whether the
//! thread count changes its bits) sits beside it. Every command, the bench, the profile example
//! and the peers get their backends here; no other crate calls a backend's constructor.
//!
//! ```
//! use twinnet_core::{BackendKind, Device, Head, Init, Model, ModelConfig, Normalize, Params, Regime};
//! use twinnet_engine::{Engine, Policy};
//!
//! let engine = Engine::resolve(BackendKind::Ndarray, Device::Cpu)?;
//! let policy = Policy::of(BackendKind::Ndarray);
//! let threads = twinnet_core::Threads::new(policy.default_threads(Regime::FullBatch))?;
//! let data = twinnet_data::Dataset::new(vec![0; 4 * 784], vec![0, 1, 2, 3]);
//! let config = ModelConfig::report(10, Head::Softmax, Normalize::Unit);
//! let model = Model::new(config, Params::init(10, Init::Uniform, 0)?)?;
//! let mut backend = engine.build(&model, &data, threads)?;
//! assert_eq!(backend.step(twinnet_core::Batch::All, 0.1)?.size, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod policy;

pub use policy::{Policy, TCH_FULL_BATCH_THREADS, TCH_MINIBATCH_THREADS};

use twinnet_core::{
    Backend, BackendError, BackendInfo, BackendKind, ConfigError, Device, Evaluation, Init, Model,
    Params, Threads,
};
use twinnet_data::Dataset;
use twinnet_ndarray::kernels::Kernels;

/// Why a backend could not be built or asked.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A setting that cannot work here (a device, a backend this build lacks).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The backend failed while being built or used.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

#[cfg(feature = "tch")]
impl From<twinnet_tch::TchBackendError> for EngineError {
    fn from(e: twinnet_tch::TchBackendError) -> Self {
        Self::Backend(e.into())
    }
}

/// A backend chosen and resolved for this machine: what [`Engine::build`] builds.
#[derive(Debug, Clone)]
pub enum Engine {
    /// The from-scratch backend, on the CPU, with this kernel set (every set computes the same
    /// bits; [`Engine::resolve`] takes the fastest).
    Ndarray {
        /// The instruction set of its two large products.
        kernels: Kernels,
    },
    /// libtorch, on this device.
    #[cfg(feature = "tch")]
    Tch {
        /// The device, resolved (`auto` is a device by now).
        device: twinnet_tch::TchDevice,
    },
    /// An implementation in another process, started by its command (`docs/protocol.md`).
    Process(Box<twinnet_process::ProcessSpec>),
}

impl Engine {
    /// The backend `kind` on `device`, for this machine and build: `cuda` with the ndarray
    /// backend, `cuda` where libtorch finds no GPU and `tch` in a build without it are errors
    /// naming the option.
    pub fn resolve(kind: BackendKind, device: Device) -> Result<Self, ConfigError> {
        match kind {
            BackendKind::Ndarray if device == Device::Cuda => Err(ConfigError::new(
                "device",
                "cuda needs --backend tch (the ndarray backend runs on the CPU)",
            )),
            BackendKind::Ndarray => Ok(Engine::Ndarray { kernels: Kernels::best() }),
            #[cfg(feature = "tch")]
            BackendKind::Tch => Ok(Engine::Tch {
                device: twinnet_tch::TchDevice::resolve(device)
                    .map_err(|e| ConfigError::new("device", e.to_string()))?,
            }),
            #[cfg(not(feature = "tch"))]
            BackendKind::Tch => Err(ConfigError::new(
                "backend",
                "tch is not in this build (built without the `tch` feature; rebuild with default features)",
            )),
            BackendKind::Process => Err(ConfigError::new(
                "command",
                "--backend process needs --command CMD (the implementation to start)",
            )),
        }
    }

    /// Which backend this is.
    pub fn kind(&self) -> BackendKind {
        match self {
            Engine::Ndarray { .. } => BackendKind::Ndarray,
            #[cfg(feature = "tch")]
            Engine::Tch { .. } => BackendKind::Tch,
            Engine::Process(_) => BackendKind::Process,
        }
    }

    /// The policy that goes with it.
    pub fn policy(&self) -> Policy {
        Policy::of(self.kind())
    }

    /// The backend, holding `train` and starting from `model`'s parameters, computing on
    /// `threads` (for tch this sets libtorch's process-wide thread count first, the one place
    /// that happens for a run).
    pub fn build(
        &self,
        model: &Model,
        train: &Dataset,
        threads: Threads,
    ) -> Result<Box<dyn Backend>, EngineError> {
        match self {
            Engine::Ndarray { kernels } => Ok(Box::new(
                twinnet_ndarray::NdarrayBackend::new(model, train, threads).with_kernels(*kernels),
            )),
            #[cfg(feature = "tch")]
            Engine::Tch { device } => {
                let torch = twinnet_tch::Libtorch::configure(threads);
                Ok(Box::new(twinnet_tch::TchBackend::new(&torch, model, train, *device)?))
            }
            Engine::Process(spec) => Ok(Box::new(process(spec, model, Some(train), threads)?)),
        }
    }

    /// `model` evaluated on `data` without any training set, and what computed it.
    pub fn evaluate(
        &self,
        model: &Model,
        data: &Dataset,
        threads: Threads,
    ) -> Result<(Evaluation, BackendInfo), EngineError> {
        match self {
            Engine::Ndarray { kernels } => {
                let _ = threads;
                Ok(twinnet_ndarray::evaluate_model(model, data, *kernels))
            }
            #[cfg(feature = "tch")]
            Engine::Tch { device } => {
                let torch = twinnet_tch::Libtorch::configure(threads);
                Ok(twinnet_tch::evaluate_model(&torch, model, data, *device)?)
            }
            Engine::Process(spec) => {
                let mut b = process(spec, model, None, threads)?;
                Ok((b.evaluate(data)?, b.describe()))
            }
        }
    }
}

/// The process backend of `spec`, its data files in twinnet's cache.
fn process(
    spec: &twinnet_process::ProcessSpec,
    model: &Model,
    train: Option<&Dataset>,
    threads: Threads,
) -> Result<twinnet_process::ProcessBackend, EngineError> {
    let cache = twinnet_data::cache_dir();
    twinnet_process::ProcessBackend::start(spec, model, train, threads, cache)
        .map_err(|e| EngineError::Backend(BackendError::failed(e)))
}

/// Selects libtorch's CPU code path for this process: pinned (the same bits on every x86-64
/// CPU with AVX2; the default) or `native` (this CPU's fastest). Call it first thing in
/// `main`, before any thread starts; a build without tch has nothing to select.
pub fn select_code_path(native: bool) {
    #[cfg(feature = "tch")]
    twinnet_tch::code_path::select(if native {
        twinnet_tch::CodePath::Native
    } else {
        twinnet_tch::CodePath::Pinned
    });
    #[cfg(not(feature = "tch"))]
    let _ = native;
}

/// Parameters drawn by libtorch's generator exactly as PyTorch's `nn.Linear` layers draw them
/// after `torch.manual_seed(seed)` (`--init-rng torch`); an error naming `init-rng` in a build
/// without libtorch.
pub fn torch_params(init: Init, widths: &[usize], seed: u64) -> Result<Params, EngineError> {
    #[cfg(feature = "tch")]
    {
        Ok(twinnet_tch::runtime::draw_params(init, widths, seed)?)
    }
    #[cfg(not(feature = "tch"))]
    {
        let _ = (init, widths, seed);
        Err(ConfigError::new(
            "init-rng",
            "torch needs libtorch, which this build lacks (built without the `tch` feature)",
        )
        .into())
    }
}

/// Whether libtorch finds a CUDA GPU in this process (false in a build without tch).
pub fn cuda_available() -> bool {
    #[cfg(feature = "tch")]
    {
        twinnet_tch::TchDevice::cuda_available()
    }
    #[cfg(not(feature = "tch"))]
    {
        false
    }
}
