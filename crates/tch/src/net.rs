//! The network alone: `fc1 … fcL` on a device with the activation between them (the report's:
//! `fc1`, ReLU, `fc2`), its forward pass and loss, its evaluation and its parameters.

use crate::train_set::features;
use crate::{
    code_path, mkl_kernels, to_vec, CodePath, Libtorch, OrTorch, TchBackendError, TchDevice,
    TCH_VERSION, TORCH_VERSION,
};
use tch::nn;
use tch::{Kind, Reduction, Tensor};
use twinnet_core::{Activation, BackendInfo, Evaluation, Head, Layer, Model, ModelConfig, Params};
use twinnet_data::Dataset;

/// The network alone: a stack of `nn::Linear` on a device, with the model's activation and
/// head. What [`TchBackend`] trains, and what [`evaluate_model`] evaluates without any
/// training set.
#[derive(Debug)]
pub(crate) struct Net {
    pub(crate) model: ModelConfig,
    pub(crate) device: tch::Device,
    pub(crate) vs: nn::VarStore,
    layers: Vec<nn::Linear>,
    activation: Activation,
}

impl Net {
    /// The layers on `device`, holding the model's parameters. Touches no process-wide
    /// setting (libtorch's generator included: built with zeros, then overwritten).
    pub(crate) fn new(model: &Model, device: TchDevice) -> Result<Self, TchBackendError> {
        Self::build(model.params(), model.config().clone(), device)
    }

    /// `p`'s layers (any depth) on `device`, `config`'s activation between them, its head and
    /// pixels.
    pub(crate) fn build(
        p: &Params,
        config: ModelConfig,
        device: TchDevice,
    ) -> Result<Self, TchBackendError> {
        let activation = config.activation;
        let device = tch::Device::from(device);
        let vs = nn::VarStore::new(device);
        let zeros = nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        let layers: Vec<nn::Linear> = p
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                nn::linear(
                    vs.root() / format!("fc{}", i + 1),
                    l.inputs as i64,
                    l.outputs as i64,
                    zeros,
                )
            })
            .collect();
        tch::no_grad(|| -> Result<(), TchBackendError> {
            let set = |dst: &Tensor, src: &[f32]| -> Result<(), TchBackendError> {
                let mut dst = dst.shallow_clone();
                let src = Tensor::from_slice(src).view(dst.size().as_slice()).to_device(device);
                dst.f_copy_(&src).torch()
            };
            for (linear, l) in layers.iter().zip(&p.layers) {
                set(&linear.ws, &l.weight)?;
                set(linear.bs.as_ref().expect("bias"), &l.bias)?;
            }
            Ok(())
        })?;
        Ok(Self { model: config, device, vs, layers, activation })
    }

    /// The model's `forward` and loss: the logits `z = fcL(act(… act(fc1(x))))` (`[rows, 10]`;
    /// the report's `fc2(relu(fc1(x)))`) and, for the softmax heads, the mean loss
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
    ///
    /// The sigmoid heads, on the logits `z` and one-hot labels `Y`:
    /// ```text
    /// sigmoid-quadratic:     L = (1/rows) Σᵢ ½ ‖σ(zᵢ) − Yᵢ‖²
    /// sigmoid-cross-entropy: L = BCEWithLogitsLoss(reduction="sum")(z, Y) / rows
    /// ```
    /// Predictions are the arg-max of the logits (σ and softmax keep their order).
    pub(crate) fn forward(&self, xs: &Tensor, ys: &Tensor) -> (Tensor, Tensor) {
        let last = self.layers.len() - 1;
        let mut a = xs.shallow_clone();
        for (i, layer) in self.layers.iter().enumerate() {
            a = a.apply(layer);
            if i < last {
                a = match self.activation {
                    Activation::Relu => a.relu(),
                    Activation::Sigmoid => a.sigmoid(),
                    Activation::Tanh => a.tanh(),
                };
            }
        }
        let logits = a;
        let rows = logits.size()[0] as f64;
        let loss = match self.model.head {
            Head::Softmax | Head::DoubleSoftmax => {
                let z = logits.tr().contiguous();
                let outputs = match self.model.head {
                    Head::DoubleSoftmax => z.softmax(0, Kind::Float),
                    _ => z,
                };
                outputs.log_softmax(0, Kind::Float).tr().nll_loss(ys)
            }
            Head::SigmoidQuadratic => {
                let y = ys.one_hot(logits.size()[1]).to_kind(Kind::Float);
                (logits.sigmoid() - y).square().sum(Kind::Float) * (0.5 / rows)
            }
            Head::SigmoidCrossEntropy => {
                let y = ys.one_hot(logits.size()[1]).to_kind(Kind::Float);
                logits.binary_cross_entropy_with_logits::<Tensor>(&y, None, None, Reduction::Sum)
                    / rows
            }
        };
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

    /// Every parameter tensor (sharing the layers' storage and gradients), in order, each
    /// with whether it is a weight: fc1.weight, fc1.bias, fc2.weight, ….
    pub(crate) fn parameters(&self) -> Vec<(Tensor, bool)> {
        self.layers
            .iter()
            .flat_map(|l| {
                [
                    (l.ws.shallow_clone(), true),
                    (l.bs.as_ref().expect("bias").shallow_clone(), false),
                ]
            })
            .collect()
    }

    pub(crate) fn params(&self) -> Result<Params, TchBackendError> {
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let size = l.ws.size();
                Ok(Layer {
                    inputs: size[1] as usize,
                    outputs: size[0] as usize,
                    weight: to_vec(&l.ws)?,
                    bias: to_vec(l.bs.as_ref().expect("bias"))?,
                })
            })
            .collect::<Result<Vec<_>, TchBackendError>>()?;
        Ok(Params { layers })
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
        let device = TchDevice::from(self.layers[0].ws.device()).to_string();
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

#[cfg(test)]
mod tests {
    use super::*;
    use twinnet_core::{Choice, Hidden, Init, Normalize, CLASSES, INPUTS};

    /// The stack of `nn::Linear` with autograd computes what the float64 reference computes,
    /// for 0 to 3 hidden layers × relu, sigmoid, tanh × the four heads: the loss and every
    /// parameter's gradient (whole tensors within 1e-4 relative: float32 sums of up to 784
    /// terms against float64).
    #[test]
    fn any_network_matches_the_reference() {
        let (m, mut checked) = (16, 0);
        let mut rng = twinnet_core::rng::Rng::new(5, twinnet_core::rng::Stream::Shuffle);
        let x: Vec<f32> = (0..m * INPUTS).map(|_| rng.uniform(0.0, 1.0)).collect();
        let y: Vec<u8> = (0..m).map(|i| (i * 7 % CLASSES) as u8).collect();
        let xs = Tensor::from_slice(&x).view([m as i64, INPUTS as i64]);
        let ys = Tensor::from_slice(&y).to_kind(Kind::Int64);
        let x64 =
            ndarray::Array2::from_shape_vec((m, INPUTS), x.iter().map(|&v| v as f64).collect())
                .unwrap();
        for hidden in [&[][..], &[12][..], &[12, 9][..], &[9, 7, 11][..]] {
            let widths: Vec<usize> =
                std::iter::once(INPUTS).chain(hidden.iter().copied()).chain([CLASSES]).collect();
            let p = Params::init_widths(&widths, Init::TorchDefault, 3);
            for &activation in Activation::ALL {
                for &head in Head::ALL {
                    let config = ModelConfig {
                        hidden: Hidden::new(hidden.to_vec()),
                        activation,
                        head,
                        normalize: Normalize::Unit,
                    };
                    let net = Net::build(&p, config, TchDevice::Cpu).unwrap();
                    let (_, loss) = net.forward(&xs, &ys);
                    loss.backward();
                    let reference = twinnet_reference::Mlp::from_params(&p, activation, head);
                    let (f, grads) = reference.gradients(x64.view(), &y);
                    let want = reference.loss(&f, &y);
                    let got = loss.double_value(&[]);
                    let what = format!("{widths:?} {activation} {head}");
                    assert!(
                        (got - want).abs() <= 1e-5 * want.abs().max(1.0),
                        "{what}: {got} vs {want}"
                    );
                    for (l, (linear, g)) in net.layers.iter().zip(&grads).enumerate() {
                        for (t, r) in [
                            (&linear.ws, g.weight.iter().copied().collect::<Vec<f64>>()),
                            (linear.bs.as_ref().unwrap(), g.bias.to_vec()),
                        ] {
                            let ours = to_vec(&t.grad()).unwrap();
                            let (mut d, mut n) = (0f64, 0f64);
                            for (a, b) in ours.iter().zip(&r) {
                                d += (*a as f64 - b).powi(2);
                                n += b.powi(2);
                            }
                            assert!(
                                d.sqrt() <= 1e-4 * n.sqrt().max(1e-6),
                                "{what}: fc{} gradient",
                                l + 1
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 2 * (1 + 2 + 3 + 4) * 3 * 4);
    }
}
