//! The report's PyTorch model through `tch` (libtorch): `fc1 = Linear(784, hidden)`, ReLU,
//! `fc2 = Linear(hidden, 10)`, trained by autograd and `torch.optim.SGD` (no momentum, no
//! weight decay) with the loop the report lists:
//! ```text
//! optimizer.zero_grad(); outputs = model(images); loss = criterion(outputs, labels);
//! loss.backward(); optimizer.step()
//! ```
//! Heads: `double-softmax` is the report's exact model (`forward` returns `softmax(fc2(·))` and
//! `CrossEntropyLoss` applies log-softmax to that again); `softmax` feeds the logits to
//! `CrossEntropyLoss`, the fix.
//!
//! No `tch` type is part of this crate's API: devices are [`TchDevice`], libtorch's errors
//! arrive as text in [`TchBackendError::Torch`], and libtorch's process-wide settings are set
//! in one place, [`Libtorch`] (see [`runtime`]).
//!
//! ```no_run
//! use twinnet_core::{Backend, Batch, Head, Init, Model, ModelConfig, Normalize, Threads};
//! use twinnet_data::Dataset;
//! use twinnet_tch::{Libtorch, TchBackend, TchDevice};
//!
//! let data = Dataset::new(vec![0; 4 * 784], vec![0, 1, 2, 3]);
//! let config = ModelConfig::report(10, Head::DoubleSoftmax, Normalize::Symmetric);
//! let torch = Libtorch::configure(Threads::ONE);
//! let model = Model::new(config, twinnet_tch::runtime::draw_params(Init::TorchDefault, &[784, 10, 10], 0)?)?;
//! let mut net = TchBackend::new(&torch, &model, &data, TchDevice::Cpu)?;
//! let stats = net.step(Batch::Indices(&[2, 0]), 0.1)?;
//! assert_eq!(stats.size, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod code_path;
mod device;
pub mod floor;
#[cfg(feature = "mkl-vendor-override")]
pub mod mkl;
mod net;
mod optim;
pub mod runtime;
mod train_set;

pub use code_path::CodePath;
pub use device::TchDevice;
pub use net::evaluate_model;
pub use runtime::Libtorch;

use net::Net;
use train_set::{count_correct, cpu_f32s, features, TrainSet};

use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Tensor};
use twinnet_core::{
    Backend, BackendError, BackendInfo, Batch, BatchError, Evaluation, Model, Normalize, Params,
    StepStats,
};
use twinnet_data::Dataset;

/// Errors of the tch backend.
#[derive(Debug, thiserror::Error)]
pub enum TchBackendError {
    /// libtorch reported an error (its message).
    #[error("libtorch: {0}")]
    Torch(String),
    /// `--device cuda` on a machine where libtorch finds no GPU.
    #[error(
        "device: cuda was requested but libtorch finds no CUDA GPU (use --device cpu or auto; \
         on a GPU machine, build with TWINNET_CUDA=1 so that CUDA is linked)"
    )]
    NoCuda,
    /// A batch index outside the training set.
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// libtorch's errors, as text (no `tch` type crosses this crate's API).
trait OrTorch<T> {
    fn torch(self) -> Result<T, TchBackendError>;
}

impl<T> OrTorch<T> for Result<T, tch::TchError> {
    fn torch(self) -> Result<T, TchBackendError> {
        self.map_err(|e| TchBackendError::Torch(e.to_string()))
    }
}

/// The libtorch version tch 0.26 is built against.
pub const TORCH_VERSION: &str = "2.13.0";
/// The `tch` release this backend is written against.
pub const TCH_VERSION: &str = "0.26";

/// The tch backend: the private `Net`'s `nn::Linear` layers, autograd, SGD, and the training set as
/// its batches need it (the private `TrainSet`: `u8` rows gathered per mini-batch, the full set
/// built once).
#[derive(Debug)]
pub struct TchBackend {
    net: Net,
    opt: Updater,
    lr: f64,
    train: TrainSet,
}

/// What updates the parameters: tch's `nn::Sgd` for plain SGD (the committed results' bits),
/// [`optim::TensorOptimizer`] for every other optimizer.
#[derive(Debug)]
enum Updater {
    Sgd(nn::Optimizer),
    Tensors(optim::TensorOptimizer),
}

/// The features [`TchBackend`] trains on, copied back to Rust (for tests and checks).
pub fn probe_features(data: &Dataset, norm: Normalize) -> Vec<f32> {
    to_vec(&features(data.pixels(), norm, tch::Device::Cpu)).expect("CPU tensor")
}

pub(crate) fn to_vec(t: &Tensor) -> Result<Vec<f32>, TchBackendError> {
    Vec::<f32>::try_from(t.to_device(tch::Device::Cpu).to_kind(Kind::Float).flatten(0, -1)).torch()
}

impl TchBackend {
    /// Builds the layers on `device` with the model's parameters and keeps `train`
    /// (normalized as the model asks, on the device when a full-batch step first needs it).
    /// Computes with the thread count `torch` was configured with; touches no process-wide
    /// setting.
    pub fn new(
        torch: &Libtorch,
        model: &Model,
        train: &Dataset,
        device: TchDevice,
    ) -> Result<Self, TchBackendError> {
        let _ = torch;
        let net = Net::new(model, device)?;
        let lr = 0.1;
        let opt = if model.optimizer().is_plain_sgd() {
            Updater::Sgd(nn::Sgd::default().build(&net.vs, lr).torch()?)
        } else {
            Updater::Tensors(optim::TensorOptimizer::new(*model.optimizer(), net.parameters()))
        };
        let train = TrainSet::new(train, net.model.normalize);
        Ok(Self { net, opt, lr, train })
    }

    /// The device in use.
    pub fn device(&self) -> TchDevice {
        self.net.device.into()
    }
}

impl From<TchBackendError> for BackendError {
    fn from(e: TchBackendError) -> Self {
        match e {
            TchBackendError::Batch(b) => BackendError::Batch(b),
            e => BackendError::failed(e),
        }
    }
}

impl Backend for TchBackend {
    fn train_len(&self) -> usize {
        self.train.len()
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, BackendError> {
        if lr as f64 != self.lr {
            self.lr = lr as f64;
            if let Updater::Sgd(opt) = &mut self.opt {
                opt.set_lr(self.lr);
            }
        }
        let (xs, ys) = match batch {
            Batch::All => self.train.all(self.net.device),
            Batch::Indices(ix) => {
                BatchError::check(ix, self.train.len())?;
                self.train.gather(ix, self.net.device)
            }
        };
        match &mut self.opt {
            Updater::Sgd(opt) => opt.zero_grad(),
            Updater::Tensors(opt) => opt.zero_grad(),
        }
        let (logits, loss) = self.net.forward(&xs, &ys);
        loss.f_backward().torch()?;
        match &mut self.opt {
            Updater::Sgd(opt) => opt.step(),
            Updater::Tensors(opt) => opt.step(self.lr),
        }
        let size = ys.size()[0] as usize;
        let correct = match (cpu_f32s(&logits), batch) {
            // A mini-batch on the CPU: the arg-max of each row of logits already in memory,
            // against the labels kept in Rust (three libtorch ops and a copy fewer per step,
            // which is what a mini-batch step is made of). A full batch is 60,000 rows: there
            // libtorch's vectorized, threaded ops win.
            (Some(z), Batch::Indices(ix)) => {
                count_correct(z, ix.iter().map(|&i| &self.train.labels[i as usize]))
            }
            _ => {
                let c = tch::no_grad(|| logits.argmax(-1, false).eq_tensor(&ys).sum(Kind::Int64));
                i64::try_from(&c).torch()? as usize
            }
        };
        let loss = match cpu_f32s(&loss) {
            Some(&[l]) => l,
            _ => f32::try_from(&loss).torch()?,
        };
        Ok(StepStats { loss, correct, size })
    }

    fn will_need(&mut self, next: Batch<'_>) {
        if let Batch::Indices(ix) = next {
            self.train.prefetch(ix);
        }
    }

    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError> {
        Ok(self.net.evaluate(data)?)
    }

    fn params(&mut self) -> Result<Params, BackendError> {
        Ok(self.net.params()?)
    }

    fn describe(&self) -> BackendInfo {
        self.net.describe()
    }
}

/// Which kernels libtorch's MKL runs in this process, for [`Backend::describe`].
pub fn mkl_kernels() -> &'static str {
    #[cfg(feature = "mkl-vendor-override")]
    {
        mkl::dispatch().describe()
    }
    #[cfg(not(feature = "mkl-vendor-override"))]
    {
        "MKL's own dispatch (built without twinnet's vendor-check override)"
    }
}
