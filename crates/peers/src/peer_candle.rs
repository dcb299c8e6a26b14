//! The report's network in candle: `candle-nn`'s `Linear`, cross-entropy, `SGD`, as a
//! twinnet `Backend`.

use super::*;
use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{loss, Linear, Module, Optimizer, SGD};

type R<T> = std::result::Result<T, BackendError>;

pub struct CandleNet {
    w1: Var,
    b1: Var,
    w2: Var,
    b2: Var,
    x: Tensor,
    y: Tensor,
    labels: Vec<u8>,
    opt: SGD,
}

impl CandleNet {
    pub fn new(p: &Params, train: &Dataset) -> Result<Self> {
        let dev = Device::Cpu;
        let h = p.hidden();
        let var = |v: &[f32], shape: &[usize]| Var::from_slice(v, shape, &dev);
        let (l1, l2) = (&p.layers[0], &p.layers[1]);
        let (w1, b1) = (var(&l1.weight, &[h, 784])?, var(&l1.bias, &[h])?);
        let (w2, b2) = (var(&l2.weight, &[10, h])?, var(&l2.bias, &[10])?);
        let x = Tensor::from_vec(train.features(Normalize::Unit), (train.len(), 784), &dev)?;
        let labels: Vec<u32> = train.labels().iter().map(|&l| l as u32).collect();
        let y = Tensor::from_vec(labels, train.len(), &dev)?;
        let opt = SGD::new(vec![w1.clone(), b1.clone(), w2.clone(), b2.clone()], LR as f64)?;
        let labels = train.labels().to_vec();
        Ok(Self { w1, b1, w2, b2, x, y, labels, opt })
    }

    fn logits(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let fc1 = Linear::new(self.w1.as_tensor().clone(), Some(self.b1.as_tensor().clone()));
        let fc2 = Linear::new(self.w2.as_tensor().clone(), Some(self.b2.as_tensor().clone()));
        fc2.forward(&fc1.forward(x)?.relu()?)
    }

    fn predictions(logits: &Tensor) -> candle_core::Result<Vec<u8>> {
        Ok(logits.argmax(1)?.to_vec1::<u32>()?.into_iter().map(|p| p as u8).collect())
    }
}

impl Backend for CandleNet {
    fn train_len(&self) -> usize {
        self.labels.len()
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> R<StepStats> {
        self.opt.set_learning_rate(lr as f64);
        let (xb, yb, labels) = match batch {
            Batch::Indices(ix) => {
                twinnet_core::BatchError::check(ix, self.labels.len())?;
                let t = Tensor::from_slice(ix, ix.len(), &Device::Cpu).map_err(failed)?;
                let labels = ix.iter().map(|&i| self.labels[i as usize]).collect();
                let xb = self.x.index_select(&t, 0).map_err(failed)?;
                (xb, self.y.index_select(&t, 0).map_err(failed)?, labels)
            }
            Batch::All => (self.x.clone(), self.y.clone(), self.labels.clone()),
        };
        let logits = self.logits(&xb).map_err(failed)?;
        let correct = count_correct(&Self::predictions(&logits).map_err(failed)?, &labels);
        let l = loss::cross_entropy(&logits, &yb).map_err(failed)?;
        self.opt.backward_step(&l).map_err(failed)?;
        let loss = l.to_dtype(DType::F32).and_then(|l| l.to_scalar::<f32>()).map_err(failed)?;
        Ok(StepStats { loss, correct, size: labels.len() })
    }

    fn evaluate(&mut self, data: &Dataset) -> R<Evaluation> {
        let dev = Device::Cpu;
        let x = Tensor::from_vec(data.features(Normalize::Unit), (data.len(), 784), &dev)
            .map_err(failed)?;
        let labels: Vec<u32> = data.labels().iter().map(|&l| l as u32).collect();
        let y = Tensor::from_vec(labels, data.len(), &dev).map_err(failed)?;
        let logits = self.logits(&x).map_err(failed)?;
        let loss = loss::cross_entropy(&logits, &y)
            .and_then(|l| l.to_dtype(DType::F64))
            .and_then(|l| l.to_scalar::<f64>())
            .map_err(failed)?;
        Ok(Evaluation { predictions: Self::predictions(&logits).map_err(failed)?, loss })
    }

    fn params(&mut self) -> R<Params> {
        let v = |t: &Var| t.as_tensor().flatten_all().and_then(|t| t.to_vec1::<f32>());
        Ok(Params::report(
            v(&self.w1).map_err(failed)?,
            v(&self.b1).map_err(failed)?,
            v(&self.w2).map_err(failed)?,
            v(&self.b2).map_err(failed)?,
        ))
    }

    fn describe(&self) -> BackendInfo {
        BackendInfo::new("candle 0.10.2 (candle-nn)".into(), "cpu".into(), [])
    }
}
