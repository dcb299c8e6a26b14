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
//! let config = ModelConfig { hidden: 10, head: Head::DoubleSoftmax, normalize: Normalize::Symmetric };
//! let torch = Libtorch::configure(Threads::ONE);
//! let model = Model::new(config, twinnet_tch::runtime::draw_params(Init::TorchDefault, 10, 0)?)?;
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
pub mod runtime;

pub use code_path::CodePath;
pub use device::TchDevice;
pub use runtime::Libtorch;

use tch::nn::{self, OptimizerConfig};
use tch::{Kind, Tensor};
use twinnet_core::{
    Backend, BackendError, BackendInfo, Batch, BatchError, Evaluation, Head, Model, ModelConfig,
    Normalize, Params, StepStats, CLASSES, INPUTS,
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

/// The network alone: `fc1`, ReLU, `fc2` on a device, with the model's head. What
/// [`TchBackend`] trains, and what [`evaluate_model`] evaluates without any training set.
#[derive(Debug)]
struct Net {
    model: ModelConfig,
    device: tch::Device,
    vs: nn::VarStore,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

/// The tch backend: the [`Net`]'s `nn::Linear` layers, autograd, SGD, and the training set as
/// its batches need it (the private `TrainSet`: `u8` rows gathered per mini-batch, the full set
/// built once).
#[derive(Debug)]
pub struct TchBackend {
    net: Net,
    opt: nn::Optimizer,
    lr: f64,
    train: TrainSet,
}

/// The training set, kept as `u8` pixels and labels in Rust, and the tensors the steps read.
///
/// A mini-batch is what a `DataLoader` hands PyTorch: its rows gathered and normalized on the
/// host (here in Rust, by `Normalize::apply_into`, exactly the values of the full set) into a
/// tensor allocated once per batch size and reused, then moved to the device (a no-op on the
/// CPU). No libtorch operator runs to build it, and the rows read are `u8`, a quarter of the
/// bytes of `f32` features. A full batch is the whole normalized set on the device, built on first use.
#[derive(Debug)]
struct TrainSet {
    pixels: Vec<u8>,
    labels: Vec<u8>,
    norm: Normalize,
    /// Reused host tensors of inputs `[rows, 784]` and labels `[rows]`, by row count.
    buffers: Vec<(usize, Tensor, Tensor)>,
    /// Every example's features and label on the device (full-batch steps).
    all: Option<(Tensor, Tensor)>,
}

/// The normalized features `[n, 784]` on `device`, computed from the `u8` pixels with tensor
/// ops in torchvision's order (`ToTensor`: `p.float() / 255`; `Normalize(0.5, 0.5)`:
/// `(x − 0.5) / 0.5`), so the values equal `Normalize::apply` bit for bit without ever
/// holding a second `f32` copy of the training set in Rust.
fn features(pixels: &[u8], norm: Normalize, device: tch::Device) -> Tensor {
    let px = Tensor::from_slice(pixels).view([-1, INPUTS as i64]).to_device(device);
    // In place after the conversion: one f32 copy of the set at a time, never two.
    let mut x = px.to_kind(Kind::Float);
    drop(px);
    let _ = x.g_div_scalar_(255.0);
    if norm == Normalize::Symmetric {
        let _ = x.g_sub_scalar_(0.5);
        let _ = x.g_div_scalar_(0.5);
    }
    x
}

/// The values of a contiguous `f32` CPU tensor, read in place (no libtorch op runs).
fn cpu_f32s(t: &Tensor) -> Option<&[f32]> {
    let ok = t.device() == tch::Device::Cpu && t.kind() == Kind::Float && t.is_contiguous();
    // SAFETY: a contiguous CPU float tensor holds `numel` f32 at `data_ptr`, alive as long as
    // `t` (borrowed for the slice's lifetime; nothing writes to it meanwhile).
    ok.then(|| unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel()) })
}

/// How many rows of `logits` (`[rows, 10]`) have their arg-max at the row's label, by
/// [`twinnet_core::argmax`] (`torch.argmax`'s rule, tested against it below).
fn count_correct<'a>(logits: &[f32], labels: impl IntoIterator<Item = &'a u8>) -> usize {
    let hit = |(z, &y): &(&[f32], &u8)| twinnet_core::argmax(z) == y as usize;
    logits.chunks_exact(CLASSES).zip(labels).filter(hit).count()
}

impl TrainSet {
    fn new(data: &Dataset, norm: Normalize) -> Self {
        Self {
            pixels: data.pixels().to_vec(),
            labels: data.labels().to_vec(),
            norm,
            buffers: Vec::new(),
            all: None,
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }

    /// Every example, normalized, and the labels as `i64`, on `device`.
    fn all(&mut self, device: tch::Device) -> (Tensor, Tensor) {
        let (x, y) = self.all.get_or_insert_with(|| {
            let y = Tensor::from_slice(&self.labels).to_kind(Kind::Int64).to_device(device);
            (features(&self.pixels, self.norm, device), y)
        });
        (x.shallow_clone(), y.shallow_clone())
    }

    /// The examples `ix` (checked to be in range), normalized, and their labels as `i64`, on
    /// `device`.
    fn gather(&mut self, ix: &[u32], device: tch::Device) -> (Tensor, Tensor) {
        let rows = ix.len();
        let at = match self.buffers.iter().position(|b| b.0 == rows) {
            Some(at) => at,
            None => {
                let cpu = (Kind::Float, tch::Device::Cpu);
                let x = Tensor::empty([rows as i64, INPUTS as i64], cpu);
                let y = Tensor::empty([rows as i64], (Kind::Int64, tch::Device::Cpu));
                self.buffers.push((rows, x, y));
                self.buffers.len() - 1
            }
        };
        let (_, x, y) = &self.buffers[at];
        // SAFETY: `x` and `y` are contiguous CPU tensors of `rows × 784` f32 and `rows` i64,
        // created above and never handed out past a step: the autograd graph of the previous
        // step, the only other holder of their storage, was freed when that step returned.
        let (xs, ys) = unsafe {
            (
                std::slice::from_raw_parts_mut(x.data_ptr() as *mut f32, rows * INPUTS),
                std::slice::from_raw_parts_mut(y.data_ptr() as *mut i64, rows),
            )
        };
        for ((dst, label), &i) in xs.chunks_exact_mut(INPUTS).zip(ys).zip(ix) {
            let i = i as usize;
            self.norm.apply_into(dst, &self.pixels[i * INPUTS..(i + 1) * INPUTS]);
            *label = self.labels[i] as i64;
        }
        if device == tch::Device::Cpu {
            (x.shallow_clone(), y.shallow_clone())
        } else {
            (x.to_device(device), y.to_device(device))
        }
    }

    /// Asks the CPU to bring the pixel rows of `ix` into its L2 cache.
    fn prefetch(&self, ix: &[u32]) {
        for &i in ix {
            let i = i as usize;
            if let Some(row) = self.pixels.get(i * INPUTS..(i + 1) * INPUTS) {
                twinnet_core::system::prefetch::<true>(row);
            }
        }
    }
}

/// The features [`TchBackend`] trains on, copied back to Rust (for tests and checks).
pub fn probe_features(data: &Dataset, norm: Normalize) -> Vec<f32> {
    to_vec(&features(data.pixels(), norm, tch::Device::Cpu)).expect("CPU tensor")
}

pub(crate) fn to_vec(t: &Tensor) -> Result<Vec<f32>, TchBackendError> {
    Vec::<f32>::try_from(t.to_device(tch::Device::Cpu).to_kind(Kind::Float).flatten(0, -1)).torch()
}

impl Net {
    /// The layers on `device`, holding the model's parameters. Touches no process-wide
    /// setting (libtorch's generator included: built with zeros, then overwritten).
    fn new(model: &Model, device: TchDevice) -> Result<Self, TchBackendError> {
        let config = model.config();
        let p = model.params();
        let device = tch::Device::from(device);
        let h = config.hidden as i64;
        let vs = nn::VarStore::new(device);
        let zeros = nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        let fc1 = nn::linear(vs.root() / "fc1", INPUTS as i64, h, zeros);
        let fc2 = nn::linear(vs.root() / "fc2", h, CLASSES as i64, zeros);
        tch::no_grad(|| -> Result<(), TchBackendError> {
            let set = |dst: &Tensor, src: &[f32]| -> Result<(), TchBackendError> {
                let mut dst = dst.shallow_clone();
                let src = Tensor::from_slice(src).view(dst.size().as_slice()).to_device(device);
                dst.f_copy_(&src).torch()
            };
            set(&fc1.ws, &p.w1)?;
            set(fc1.bs.as_ref().expect("bias"), &p.b1)?;
            set(&fc2.ws, &p.w2)?;
            set(fc2.bs.as_ref().expect("bias"), &p.b2)
        })?;
        Ok(Self { model: config, device, vs, fc1, fc2 })
    }

    /// The model's `forward` and `CrossEntropyLoss`: the logits `z = fc2(relu(fc1(x)))`
    /// (`[rows, 10]`) and the mean loss
    /// ```text
    /// L = −(1/rows) Σᵢ log softmax(oᵢ)[yᵢ],   o = z (softmax head) or softmax(z) (double-softmax)
    /// ```
    /// (`CrossEntropyLoss` is `log_softmax` then `nll_loss`, as in PyTorch).
    ///
    /// The softmaxes run over the class axis of `zᵀ`, a class-major copy `[10, rows]`, and
    /// `nll_loss` reads the result through a transposed view. Same functions, same autograd;
    /// the reason is speed: libtorch's row-wise softmax kernels vectorize along a row, and a
    /// row of 10 classes is shorter than one vector (16 floats), while along a column they
    /// vectorize across the batch (not timed on its own by `make bench`; its tch rows include
    /// it).
    fn forward(&self, xs: &Tensor, ys: &Tensor) -> (Tensor, Tensor) {
        let logits = xs.apply(&self.fc1).relu().apply(&self.fc2);
        let z = logits.tr().contiguous();
        let outputs = match self.model.head {
            Head::Softmax => z,
            Head::DoubleSoftmax => z.softmax(0, Kind::Float),
        };
        let loss = outputs.log_softmax(0, Kind::Float).tr().nll_loss(ys);
        (logits, loss)
    }

    /// Predictions and mean loss on `data`, normalized as the model's inputs are.
    fn evaluate(&self, data: &Dataset) -> Result<Evaluation, TchBackendError> {
        let xs = features(data.pixels(), self.model.normalize, self.device);
        let ys = Tensor::from_slice(data.labels()).to_kind(Kind::Int64).to_device(self.device);
        tch::no_grad(|| {
            let (logits, loss) = self.forward(&xs, &ys);
            let loss = f64::try_from(&loss).torch()?;
            let preds = logits.argmax(-1, false).to_device(tch::Device::Cpu);
            let preds = Vec::<i64>::try_from(preds).torch()?;
            Ok(Evaluation { predictions: preds.into_iter().map(|p| p as u8).collect(), loss })
        })
    }

    fn params(&self) -> Result<Params, TchBackendError> {
        Ok(Params {
            hidden: self.model.hidden,
            w1: to_vec(&self.fc1.ws)?,
            b1: to_vec(self.fc1.bs.as_ref().expect("bias"))?,
            w2: to_vec(&self.fc2.ws)?,
            b2: to_vec(self.fc2.bs.as_ref().expect("bias"))?,
        })
    }

    fn describe(&self) -> BackendInfo {
        let path = code_path::selected().map_or("native (libtorch's default)", CodePath::as_str);
        let numerics = [
            ("code_path", path.to_string()),
            ("aten_cpu_capability", code_path::aten_cpu_capability().to_string()),
            ("mkl_cbwr", code_path::mkl_cbwr_branch()),
            ("threads", "change the bits (libtorch and MKL split sums by thread)".to_string()),
        ];
        let library =
            format!("tch {TCH_VERSION} / libtorch {TORCH_VERSION} (MKL: {})", mkl_kernels());
        // Where the parameters are, not where they were asked to be.
        let device = TchDevice::from(self.fc1.ws.device()).to_string();
        BackendInfo::new(library, device, numerics)
    }
}

/// Evaluates `model` on `data` with the layers alone (no training set, no optimizer), on
/// `device` with the thread count `torch` was configured with; also says what computed it.
pub fn evaluate_model(
    torch: &Libtorch,
    model: &Model,
    data: &Dataset,
    device: TchDevice,
) -> Result<(Evaluation, BackendInfo), TchBackendError> {
    let _ = torch;
    let net = Net::new(model, device)?;
    Ok((net.evaluate(data)?, net.describe()))
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
        let opt = nn::Sgd::default().build(&net.vs, lr).torch()?;
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
            self.opt.set_lr(self.lr);
        }
        let (xs, ys) = match batch {
            Batch::All => self.train.all(self.net.device),
            Batch::Indices(ix) => {
                BatchError::check(ix, self.train.len())?;
                self.train.gather(ix, self.net.device)
            }
        };
        self.opt.zero_grad();
        let (logits, loss) = self.net.forward(&xs, &ys);
        loss.f_backward().torch()?;
        self.opt.step();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A gathered mini-batch is exactly those rows of the full normalized set, whatever sizes
    /// came before it (the buffers are reused per size).
    #[test]
    fn gather_equals_index_select_of_the_full_set() {
        let n = 300;
        let px: Vec<u8> = (0..n * INPUTS).map(|k| (k * 7919 % 256) as u8).collect();
        let ls: Vec<u8> = (0..n).map(|k| (k * 31 % 10) as u8).collect();
        let data = Dataset::new(px, ls);
        for norm in Normalize::ALL {
            let mut set = TrainSet::new(&data, norm);
            let (x_all, y_all) = set.all(tch::Device::Cpu);
            let batches: [Vec<u32>; 4] = [
                (0..64).map(|k| (k * 97 % 300) as u32).collect(),
                vec![299, 0, 5, 5, 17, 123, 298],
                (0..64).rev().map(|k| (k * 13 % 300) as u32).collect(),
                (0..300).collect(),
            ];
            for ix in &batches {
                let (x, y) = set.gather(ix, tch::Device::Cpu);
                let t = Tensor::from_slice(&ix.iter().map(|&i| i as i64).collect::<Vec<_>>());
                assert!(x.equal(&x_all.index_select(0, &t)), "{norm:?} {} rows", ix.len());
                assert!(y.equal(&y_all.index_select(0, &t)), "{norm:?} {} labels", ix.len());
            }
            assert_eq!(set.buffers.len(), 3, "one buffer per batch size");
        }
    }

    /// The Rust-side count agrees with libtorch's `argmax(-1) == y`, ties and NaN included.
    #[test]
    fn count_correct_matches_torch_argmax() {
        let mut s = 7u32;
        let mut rnd = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            s >> 16
        };
        let rows = 500;
        // Few distinct values, so rows often hold ties; some NaN.
        let z: Vec<f32> = (0..rows * CLASSES)
            .map(|_| match rnd() % 9 {
                0 => f32::NAN,
                v => v as f32,
            })
            .collect();
        let y: Vec<u8> = (0..rows).map(|_| (rnd() % 10) as u8).collect();
        let t = Tensor::from_slice(&z).view([rows as i64, CLASSES as i64]);
        let want = t
            .argmax(-1, false)
            .eq_tensor(&Tensor::from_slice(&y).to_kind(Kind::Int64))
            .sum(Kind::Int64);
        let want = i64::try_from(&want).unwrap() as usize;
        assert_eq!(count_correct(cpu_f32s(&t).unwrap(), &y), want);
        // Each row alone, so a miscount cannot hide behind a compensating one.
        for r in 0..rows {
            let row = t.get(r as i64);
            let torch = i64::try_from(&row.argmax(0, false)).unwrap() as u8;
            let one = count_correct(&z[r * CLASSES..(r + 1) * CLASSES], &[torch]);
            assert_eq!(one, 1, "row {r}: {:?}", &z[r * CLASSES..(r + 1) * CLASSES]);
        }
    }
}
