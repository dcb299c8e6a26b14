//! The report's NumPy network written from scratch on `ndarray`: every step of section 2.2 as
//! its own function with its formula, hand-derived gradients, no autograd.
//!
//! Two paths compute the same thing:
//! - [`reference`](mod@reference): the report's functions one by one, in `f64`, examples as
//!   columns — the specification, checked against finite differences;
//! - [`fused`]: the fast `f32` path the backend trains with, tested against the reference;
//! - [`general`]: any multilayer perceptron in `f32` (depth, activations, heads), tested
//!   against `twinnet-reference`; not yet wired to the backend.
//!
//! ```
//! use twinnet_core::{Backend, Batch, Head, Init, Model, ModelConfig, Normalize, Params, Threads};
//! use twinnet_data::Dataset;
//! use twinnet_ndarray::NdarrayBackend;
//!
//! let data = Dataset::new(vec![0; 4 * 784], vec![0, 1, 2, 3]);
//! let config = ModelConfig { hidden: 10, head: Head::Softmax, normalize: Normalize::Unit };
//! let model = Model::new(config, Params::init(10, Init::Uniform, 0)?)?;
//! let mut nn = NdarrayBackend::new(&model, &data, Threads::ONE);
//! let stats = nn.step(Batch::All, 0.1)?; // one full-batch gradient-descent iteration
//! assert_eq!(stats.size, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fused;
pub mod general;
pub mod kernels;
pub mod reference;

use kernels::Kernels;
use twinnet_core::{
    Backend, BackendError, BackendInfo, Batch, BatchError, Evaluation, Model, ModelConfig, Params,
    StepStats, Threads,
};
use twinnet_data::Dataset;

/// The most threads an update uses: [`fused::PARTS`]. Every thread count gives bit-identical
/// results (the cut of a batch into parts depends on its size only), so a runner can give
/// this backend every core up to this many.
pub const MAX_THREADS: usize = fused::PARTS;

/// How many of `threads` an update of a `rows`-row batch keeps busy: one per part
/// ([`fused::parts`]), so a 64-row mini-batch step uses one thread whatever `threads` says. A
/// scheduler running several runs at once counts a run by this.
pub fn threads_used(rows: usize, threads: usize) -> usize {
    threads.min(fused::parts(rows)).max(1)
}

/// The `ndarray` release this backend is written against (recorded in every result).
pub const NDARRAY_VERSION: &str = "0.17";

/// The from-scratch backend: normalized training set in memory, hand-written passes.
#[derive(Debug)]
pub struct NdarrayBackend {
    model: ModelConfig,
    net: fused::Weights,
    pixels: Vec<u8>,
    /// Where each training image's nonzero pixels lie (see [`kernels::Pixels::spans`]).
    spans: Vec<kernels::Span>,
    y: Vec<u8>,
    all: Vec<u32>,
    scratch: Box<[fused::Scratch; fused::PARTS]>,
    threads: Threads,
    kernels: Kernels,
}

impl NdarrayBackend {
    /// Keeps the raw pixels of `train` (`[n, 784]` `u8`: a quarter of the memory and memory
    /// traffic of `f32` features; the model's normalization is folded into the products) and
    /// starts from the model's parameters. `threads` bounds the threads of a large update (at
    /// most [`fused::PARTS`] are used); the results do not depend on it ([`MAX_THREADS`]).
    pub fn new(model: &Model, train: &Dataset, threads: Threads) -> Self {
        let config = model.config();
        Self {
            model: config,
            net: fused::Weights::from_params(model.params()),
            pixels: train.pixels().to_vec(),
            spans: kernels::Span::of_rows(train.pixels(), twinnet_core::INPUTS),
            y: train.labels().to_vec(),
            all: (0..train.len() as u32).collect(),
            scratch: Box::new(std::array::from_fn(|_| fused::Scratch::new(config.hidden))),
            threads,
            kernels: Kernels::best(),
        }
    }

    /// Trains and evaluates with `kernels` (one of [`Kernels::available`]) instead of the
    /// fastest: for tests and benchmarks of the other instruction sets. Every set computes the
    /// same bits (see [`kernels`]); only the speed differs.
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }
}

impl Backend for NdarrayBackend {
    fn train_len(&self) -> usize {
        self.y.len()
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, BackendError> {
        let idx = match batch {
            Batch::All => &self.all[..],
            Batch::Indices(ix) => {
                BatchError::check(ix, self.y.len())?;
                ix
            }
        };
        let x = fused::Pixels::new(&self.pixels, self.model.normalize, Some(&self.spans));
        let rows = fused::Rows { head: self.model.head, x: &x, y: &self.y, idx };
        let (loss, correct) = fused::step(
            &mut self.net,
            rows,
            lr,
            &mut self.scratch,
            self.threads.get(),
            &self.kernels,
        );
        Ok(StepStats { loss: (loss / idx.len() as f64) as f32, correct, size: idx.len() })
    }

    fn will_need(&mut self, next: Batch<'_>) {
        if let Batch::Indices(ix) = next {
            if BatchError::check(ix, self.y.len()).is_ok() {
                let x = fused::Pixels::new(&self.pixels, self.model.normalize, Some(&self.spans));
                kernels::prefetch_rows(&x, twinnet_core::INPUTS, ix);
            }
        }
    }

    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError> {
        // No spans: finding them would cost about what they save on one pass.
        let x = fused::Pixels::new(data.pixels(), self.model.normalize, None);
        let (predictions, loss) = fused::evaluate(
            &self.net,
            self.model.head,
            &x,
            data.labels(),
            &mut self.scratch[0],
            &self.kernels,
        );
        Ok(Evaluation { predictions, loss: loss / data.len().max(1) as f64 })
    }

    fn params(&mut self) -> Result<Params, BackendError> {
        Ok(self.net.to_params())
    }

    fn describe(&self) -> BackendInfo {
        describe(&self.kernels)
    }
}

/// What computes this backend's numbers with `kernels`.
fn describe(kernels: &Kernels) -> BackendInfo {
    let numerics = [
        ("kernels", kernels.name().to_string()),
        ("sum_order", "pinned: every kernel set computes the same bits".to_string()),
        ("threads", "do not change the bits".to_string()),
    ];
    BackendInfo::new(format!("ndarray {NDARRAY_VERSION} (from scratch)"), "cpu".into(), numerics)
}

/// Evaluates `model` on `data` (no training set needed), with `kernels`; also says what
/// computed it. The same predictions and loss as [`NdarrayBackend`]'s `evaluate` from the same
/// parameters.
pub fn evaluate_model(
    model: &Model,
    data: &Dataset,
    kernels: Kernels,
) -> (Evaluation, BackendInfo) {
    let config = model.config();
    let net = fused::Weights::from_params(model.params());
    let mut scratch = fused::Scratch::new(config.hidden);
    let x = fused::Pixels::new(data.pixels(), config.normalize, None);
    let (predictions, loss) =
        fused::evaluate(&net, config.head, &x, data.labels(), &mut scratch, &kernels);
    let eval = Evaluation { predictions, loss: loss / data.len().max(1) as f64 };
    (eval, describe(&kernels))
}
