//! The report's network in burn on its ndarray backend: `nn::Linear`, `CrossEntropyLoss`,
//! `Sgd`, `Autodiff<NdArray>`, as a twinnet `Backend`.

use super::*;
use burn::backend::{Autodiff, NdArray};
use burn::module::{AutodiffModule, Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::Linear;
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{GradientsParams, Optimizer, Sgd, SgdConfig};
use burn::tensor::{Int, Tensor, TensorData};

type AD = Autodiff<NdArray<f32>>;
type Device = <NdArray<f32> as burn::tensor::backend::Backend>::Device;

#[derive(Module, Debug)]
// The derive names the backend parameter `B`.
pub struct Net<B: burn::tensor::backend::Backend> {
    fc1: Linear<B>,
    fc2: Linear<B>,
}

type R<T> = std::result::Result<T, BackendError>;

pub struct BurnNet {
    net: Option<Net<AD>>,
    opt: OptimizerAdaptor<Sgd<NdArray<f32>>, Net<AD>, AD>,
    x: Tensor<AD, 2>,
    y: Tensor<AD, 1, Int>,
    labels: Vec<u8>,
    dev: Device,
}

/// `[inp, out]` (burn's layout) back to PyTorch's `[out, inp]`.
fn untransposed(t: &[f32], out: usize, inp: usize) -> Vec<f32> {
    let mut w = vec![0f32; t.len()];
    for o in 0..out {
        for i in 0..inp {
            w[o * inp + i] = t[i * out + o];
        }
    }
    w
}

/// `W` `[out, in]` (PyTorch's layout) as burn's row-layout weight `[in, out]`.
fn transposed(w: &[f32], out: usize, inp: usize) -> Vec<f32> {
    let mut t = vec![0f32; w.len()];
    for o in 0..out {
        for i in 0..inp {
            t[i * out + o] = w[o * inp + i];
        }
    }
    t
}

impl BurnNet {
    pub fn new(p: &Params, train: &Dataset) -> Result<Self> {
        let dev = Device::default();
        let h = p.hidden();
        let lin = |w: &[f32], b: &[f32], out: usize, inp: usize| Linear::<AD> {
            weight: Param::from_tensor(Tensor::from_data(
                TensorData::new(transposed(w, out, inp), [inp, out]),
                &dev,
            )),
            bias: Some(Param::from_tensor(Tensor::from_data(
                TensorData::new(b.to_vec(), [out]),
                &dev,
            ))),
        };
        let (l1, l2) = (&p.layers[0], &p.layers[1]);
        let net = Net { fc1: lin(&l1.weight, &l1.bias, h, 784), fc2: lin(&l2.weight, &l2.bias, 10, h) };
        let x = Tensor::from_data(
            TensorData::new(train.features(Normalize::Unit), [train.len(), 784]),
            &dev,
        );
        let labels: Vec<i64> = train.labels().iter().map(|&l| l as i64).collect();
        let y = Tensor::from_data(TensorData::new(labels, [train.len()]), &dev);
        let labels = train.labels().to_vec();
        Ok(Self { net: Some(net), opt: SgdConfig::new().init(), x, y, labels, dev })
    }

    fn net(&self) -> R<&Net<AD>> {
        self.net.as_ref().ok_or_else(|| failed("the network is being updated"))
    }
}

/// The arg-max class of each row of `logits`.
fn predictions<B: burn::tensor::backend::Backend>(logits: Tensor<B, 2>) -> R<Vec<u8>> {
    let p = logits.argmax(1).into_data().convert::<i64>().to_vec::<i64>().map_err(|e| failed(format!("{e:?}")))?;
    Ok(p.into_iter().map(|p| p as u8).collect())
}

impl Backend for BurnNet {
    fn train_len(&self) -> usize {
        self.labels.len()
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> R<StepStats> {
        let (xb, yb, labels) = match batch {
            Batch::Indices(ix) => {
                twinnet_core::BatchError::check(ix, self.labels.len())?;
                let labels: Vec<u8> = ix.iter().map(|&i| self.labels[i as usize]).collect();
                let ix: Vec<i64> = ix.iter().map(|&i| i as i64).collect();
                let n = ix.len();
                let ix = Tensor::<AD, 1, Int>::from_data(TensorData::new(ix, [n]), &self.dev);
                (self.x.clone().select(0, ix.clone()), self.y.clone().select(0, ix), labels)
            }
            Batch::All => (self.x.clone(), self.y.clone(), self.labels.clone()),
        };
        let net = self.net.take().ok_or_else(|| failed("the network is being updated"))?;
        let logits = net.fc2.forward(burn::tensor::activation::relu(net.fc1.forward(xb)));
        let correct = count_correct(&predictions(logits.clone().inner())?, &labels);
        let l = CrossEntropyLossConfig::new().init(&self.dev).forward(logits, yb);
        let loss: f32 = l.clone().into_scalar();
        let grads = GradientsParams::from_grads::<AD, Net<AD>>(l.backward(), &net);
        self.net = Some(self.opt.step(lr as f64, net, grads));
        Ok(StepStats { loss, correct, size: labels.len() })
    }

    fn evaluate(&mut self, data: &Dataset) -> R<Evaluation> {
        let net = self.net()?.clone().valid();
        let x = Tensor::<NdArray<f32>, 2>::from_data(
            TensorData::new(data.features(Normalize::Unit), [data.len(), 784]),
            &self.dev,
        );
        let labels: Vec<i64> = data.labels().iter().map(|&l| l as i64).collect();
        let y = Tensor::from_data(TensorData::new(labels, [data.len()]), &self.dev);
        let logits = net.fc2.forward(burn::tensor::activation::relu(net.fc1.forward(x)));
        let loss: f32 =
            CrossEntropyLossConfig::new().init(&self.dev).forward(logits.clone(), y).into_scalar();
        Ok(Evaluation { predictions: predictions(logits)?, loss: loss as f64 })
    }

    fn params(&mut self) -> R<Params> {
        let net = self.net()?;
        let v = |t: Tensor<AD, 1>| -> R<Vec<f32>> {
            t.into_data().to_vec::<f32>().map_err(|e| failed(format!("{e:?}")))
        };
        let w = |l: &Linear<AD>| -> R<(Vec<f32>, Vec<f32>, usize, usize)> {
            let [inp, out] = l.weight.val().dims();
            let b = l.bias.as_ref().ok_or_else(|| failed("no bias"))?.val();
            Ok((v(l.weight.val().flatten(0, 1))?, v(b)?, out, inp))
        };
        let (w1, b1, h, _) = w(&net.fc1)?;
        let (w2, b2, _, _) = w(&net.fc2)?;
        Ok(Params::report(untransposed(&w1, h, 784), b1, untransposed(&w2, 10, h), b2))
    }

    fn describe(&self) -> BackendInfo {
        BackendInfo::new("burn 0.19.1 (ndarray backend)".into(), "cpu".into(), [])
    }
}
