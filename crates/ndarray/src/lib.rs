//! The report's NumPy network written from scratch on `ndarray`: every step of section 2.2 as
//! its own function with its formula, hand-derived gradients, no autograd.
//!
//! Two paths compute the same thing:
//! - [`reference`]: the report's functions one by one, in `f64`, examples as columns — the
//!   specification, checked against finite differences;
//! - [`fused`]: the fast `f32` path the backend trains with, tested against the reference.
//!
//! ```
//! use twinnet_core::{Backend, Batch, Head, Init, ModelConfig, Normalize, Params};
//! use twinnet_data::Dataset;
//! use twinnet_ndarray::NdarrayBackend;
//!
//! let data = Dataset::new(vec![0; 4 * 784], vec![0, 1, 2, 3]);
//! let model = ModelConfig { hidden: 10, head: Head::Softmax, normalize: Normalize::Unit };
//! let params = Params::init(10, Init::Uniform, 0)?;
//! let mut nn = NdarrayBackend::new(model, params, &data, 1)?;
//! let stats = nn.step(Batch::All, 0.1)?; // one full-batch gradient-descent iteration
//! assert_eq!(stats.size, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fused;
pub mod reference;

use ndarray::{Array2, ArrayView2};
use twinnet_core::{Backend, Batch, Evaluation, ModelConfig, Params, StepStats, INPUTS};
use twinnet_data::Dataset;

/// Errors of the ndarray backend.
#[derive(Debug, thiserror::Error)]
pub enum NdarrayError {
    /// A thread count of zero.
    #[error("threads: must be at least 1")]
    Threads,
    /// Parameters whose hidden width differs from the model's.
    #[error("hidden: the parameters have hidden width {found}, the model {expected}")]
    Hidden { expected: usize, found: usize },
    /// A batch index outside the training set.
    #[error("batch index {index} is outside the training set of {len} examples")]
    Index { index: u32, len: usize },
}

/// The from-scratch backend: normalized training set in memory, hand-written passes.
#[derive(Debug)]
pub struct NdarrayBackend {
    model: ModelConfig,
    net: fused::Net,
    x: Array2<f32>,
    y: Vec<u8>,
    workers: Vec<fused::Worker>,
    xb: Array2<f32>,
    yb: Vec<u8>,
}

impl NdarrayBackend {
    /// Stores `train` normalized as `model.normalize` asks (`[n, 784]`, row-major `f32`) and
    /// starts from `params`. `threads` bounds the threads of a full-batch update.
    pub fn new(
        model: ModelConfig,
        params: Params,
        train: &Dataset,
        threads: usize,
    ) -> Result<Self, NdarrayError> {
        if threads == 0 {
            return Err(NdarrayError::Threads);
        }
        if params.hidden != model.hidden {
            return Err(NdarrayError::Hidden { expected: model.hidden, found: params.hidden });
        }
        let x = Array2::from_shape_vec((train.len(), INPUTS), train.features(model.normalize))
            .expect("n × 784");
        Ok(Self {
            model,
            net: fused::Net::from_params(&params),
            x,
            y: train.labels().to_vec(),
            workers: (0..threads).map(|_| fused::Worker::new(model.hidden)).collect(),
            xb: Array2::zeros((0, INPUTS)),
            yb: vec![],
        })
    }

    /// Copies the examples `ix` into the reusable batch buffer.
    fn gather(&mut self, ix: &[u32]) -> Result<(), NdarrayError> {
        let len = self.y.len();
        if let Some(&index) = ix.iter().find(|&&i| i as usize >= len) {
            return Err(NdarrayError::Index { index, len });
        }
        if self.xb.nrows() < ix.len() {
            self.xb = Array2::zeros((ix.len(), INPUTS));
        }
        self.yb.clear();
        for (r, &i) in ix.iter().enumerate() {
            self.xb.row_mut(r).assign(&self.x.row(i as usize));
            self.yb.push(self.y[i as usize]);
        }
        Ok(())
    }
}

impl Backend for NdarrayBackend {
    type Error = NdarrayError;

    fn train_len(&self) -> usize {
        self.y.len()
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, NdarrayError> {
        let head = self.model.head;
        let (loss, correct, size) = match batch {
            Batch::All => {
                let (l, c) =
                    fused::step(&mut self.net, head, self.x.view(), &self.y, lr, &mut self.workers);
                (l, c, self.y.len())
            }
            Batch::Indices(ix) => {
                self.gather(ix)?;
                let xb: ArrayView2<f32> = self.xb.slice(ndarray::s![..ix.len(), ..]);
                let (l, c) = fused::step(&mut self.net, head, xb, &self.yb, lr, &mut self.workers);
                (l, c, ix.len())
            }
        };
        Ok(StepStats { loss: (loss / size as f64) as f32, correct, size })
    }

    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, NdarrayError> {
        let x = Array2::from_shape_vec((data.len(), INPUTS), data.features(self.model.normalize))
            .expect("n × 784");
        let (predictions, loss) = fused::evaluate(
            &self.net,
            self.model.head,
            x.view(),
            data.labels(),
            &mut self.workers[0],
        );
        Ok(Evaluation { predictions, loss: loss / data.len().max(1) as f64 })
    }

    fn params(&self) -> Result<Params, NdarrayError> {
        Ok(self.net.to_params())
    }
}
