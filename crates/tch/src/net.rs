//! The network alone: `fc1`, ReLU, `fc2` on a device, its forward pass and loss, its
//! evaluation and its parameters.

use crate::train_set::features;
use crate::{
    code_path, mkl_kernels, to_vec, CodePath, Libtorch, OrTorch, TchBackendError, TchDevice,
    TCH_VERSION, TORCH_VERSION,
};
use tch::nn;
use tch::{Kind, Tensor};
use twinnet_core::{BackendInfo, Evaluation, Head, Model, ModelConfig, Params, CLASSES, INPUTS};
use twinnet_data::Dataset;

/// The network alone: `fc1`, ReLU, `fc2` on a device, with the model's head. What
/// [`TchBackend`] trains, and what [`evaluate_model`] evaluates without any training set.
#[derive(Debug)]
pub(crate) struct Net {
    pub(crate) model: ModelConfig,
    pub(crate) device: tch::Device,
    pub(crate) vs: nn::VarStore,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl Net {
    /// The layers on `device`, holding the model's parameters. Touches no process-wide
    /// setting (libtorch's generator included: built with zeros, then overwritten).
    pub(crate) fn new(model: &Model, device: TchDevice) -> Result<Self, TchBackendError> {
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
            set(&fc1.ws, &p.layers[0].weight)?;
            set(fc1.bs.as_ref().expect("bias"), &p.layers[0].bias)?;
            set(&fc2.ws, &p.layers[1].weight)?;
            set(fc2.bs.as_ref().expect("bias"), &p.layers[1].bias)
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
    pub(crate) fn forward(&self, xs: &Tensor, ys: &Tensor) -> (Tensor, Tensor) {
        let logits = xs.apply(&self.fc1).relu().apply(&self.fc2);
        let z = logits.tr().contiguous();
        let outputs = match self.model.head {
            Head::Softmax => z,
            Head::DoubleSoftmax => z.softmax(0, Kind::Float),
            Head::SigmoidQuadratic | Head::SigmoidCrossEntropy => {
                unreachable!("a model with head {} is refused by Model::new", self.model.head)
            }
        };
        let loss = outputs.log_softmax(0, Kind::Float).tr().nll_loss(ys);
        (logits, loss)
    }

    /// Predictions and mean loss on `data`, normalized as the model's inputs are.
    pub(crate) fn evaluate(&self, data: &Dataset) -> Result<Evaluation, TchBackendError> {
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

    pub(crate) fn params(&self) -> Result<Params, TchBackendError> {
        Ok(Params::report(
            to_vec(&self.fc1.ws)?,
            to_vec(self.fc1.bs.as_ref().expect("bias"))?,
            to_vec(&self.fc2.ws)?,
            to_vec(self.fc2.bs.as_ref().expect("bias"))?,
        ))
    }

    pub(crate) fn describe(&self) -> BackendInfo {
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
