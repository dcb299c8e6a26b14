//! The report's NumPy network written from scratch on `ndarray`: every step of section 2.2 as
//! its own function with its formula, hand-derived gradients, no autograd.
//!
//! Two paths compute the same thing:
//! - [`reference`](mod@reference): the report's functions one by one, in `f64`, examples as
//!   columns — the specification, checked against finite differences;
//! - [`fused`]: the fast `f32` path the backend trains with, tested against the reference;
//! - [`general`]: any multilayer perceptron in `f32` (depth, activations, heads), tested
//!   against `twinnet-reference`: what the backend trains every network but the report's
//!   family with; both with any optimizer ([`optim`]).
//!
//! ```
//! use twinnet_core::{Backend, Batch, Head, Init, Model, ModelConfig, Normalize, Params, Threads};
//! use twinnet_data::Dataset;
//! use twinnet_ndarray::NdarrayBackend;
//!
//! let data = Dataset::new(vec![0; 4 * 784], vec![0, 1, 2, 3]);
//! let config = ModelConfig::report(10, Head::Softmax, Normalize::Unit);
//! let model = Model::new(config, Params::init(10, Init::Uniform, 0)?)?;
//! let mut nn = NdarrayBackend::new(&model, &data, Threads::ONE);
//! let stats = nn.step(Batch::All, 0.1)?; // one full-batch gradient-descent iteration
//! assert_eq!(stats.size, 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod fused;
pub mod general;
pub mod kernels;
pub mod optim;
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

/// The from-scratch backend: the training set in memory, hand-written passes. The report's
/// family ([`ModelConfig::is_report_network`]) trains on the [`fused`] kernels, so its results
/// stay what they were; any other multilayer perceptron on the [`general`] path.
#[derive(Debug)]
pub struct NdarrayBackend {
    model: ModelConfig,
    path: Path,
    y: Vec<u8>,
    all: Vec<u32>,
    threads: Threads,
    kernels: Kernels,
}

/// Which implementation trains the model.
#[derive(Debug)]
enum Path {
    Fused(Box<Fused>),
    General(Box<General>),
}

/// The report's network on the fused kernels.
#[derive(Debug)]
struct Fused {
    net: fused::Weights,
    pixels: Vec<u8>,
    /// Where each training image's nonzero pixels lie (see [`kernels::Pixels::spans`]).
    spans: Vec<kernels::Span>,
    scratch: Box<[fused::Scratch; fused::PARTS]>,
    optimizer: twinnet_core::Optimizer,
    /// The optimizer's state of fc1.weight, fc1.bias, fc2.weight, fc2.bias.
    state: [optim::State; 4],
}

/// Any multilayer perceptron on the general path, with the normalized training features.
#[derive(Debug)]
struct General {
    net: general::Mlp,
    /// `[n, 784]`, normalized as the model says.
    x: Vec<f32>,
}

impl General {
    fn rows<'a>(x: &'a [f32], idx: &[u32]) -> Vec<&'a [f32]> {
        let d = twinnet_core::INPUTS;
        idx.iter().map(|&i| &x[i as usize * d..(i as usize + 1) * d]).collect()
    }
}

impl NdarrayBackend {
    /// Keeps the training set and starts from the model's parameters. The report's family
    /// keeps the raw pixels of `train` (`[n, 784]` `u8`: a quarter of the memory and memory
    /// traffic of `f32` features; the model's normalization is folded into the products);
    /// other networks keep `f32` features. `threads` bounds the threads of a large update of
    /// either path (at most [`fused::PARTS`], and only on a batch of
    /// [`fused::MIN_ROWS_PER_PART`] rows or more: [`threads_used`]); the
    /// results do not depend on it ([`MAX_THREADS`]).
    pub fn new(model: &Model, train: &Dataset, threads: Threads) -> Self {
        let config = model.config().clone();
        let path = match config.hidden.single() {
            Some(h) if config.is_report_network() => Path::Fused(Box::new(Fused {
                net: fused::Weights::from_params(model.params()),
                pixels: train.pixels().to_vec(),
                spans: kernels::Span::of_rows(train.pixels(), twinnet_core::INPUTS),
                scratch: Box::new(std::array::from_fn(|_| fused::Scratch::new(h))),
                optimizer: *model.optimizer(),
                state: Default::default(),
            })),
            _ => Path::General(Box::new(General {
                net: general::Mlp::new(model.params(), config.activation, config.head)
                    .with_optimizer(*model.optimizer()),
                x: train.features(config.normalize),
            })),
        };
        Self {
            model: config,
            path,
            y: train.labels().to_vec(),
            all: (0..train.len() as u32).collect(),
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
        let (loss, correct) = match &mut self.path {
            Path::Fused(f) => {
                let x = fused::Pixels::new(&f.pixels, self.model.normalize, Some(&f.spans));
                let rows = fused::Rows { head: self.model.head, x: &x, y: &self.y, idx };
                let (loss, correct) = fused::step(
                    &mut f.net,
                    rows,
                    lr,
                    (&f.optimizer, &mut f.state),
                    &mut f.scratch,
                    self.threads.get(),
                    &self.kernels,
                );
                (loss / idx.len() as f64, correct)
            }
            Path::General(g) => {
                let rows = General::rows(&g.x, idx);
                let y: Vec<u8> = idx.iter().map(|&i| self.y[i as usize]).collect();
                let o = g.net.step(&rows, &y, lr, self.threads.get());
                (o.loss, o.correct)
            }
        };
        Ok(StepStats { loss: loss as f32, correct, size: idx.len() })
    }

    fn will_need(&mut self, next: Batch<'_>) {
        if let (Batch::Indices(ix), Path::Fused(f)) = (next, &self.path) {
            if BatchError::check(ix, self.y.len()).is_ok() {
                let x = fused::Pixels::new(&f.pixels, self.model.normalize, Some(&f.spans));
                kernels::prefetch_rows(&x, twinnet_core::INPUTS, ix);
            }
        }
    }

    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError> {
        Ok(match &mut self.path {
            Path::Fused(f) => {
                fused_evaluate(&f.net, &self.model, data, &mut f.scratch[0], &self.kernels)
            }
            Path::General(g) => general_evaluate(&g.net, &self.model, data, self.threads.get()),
        })
    }

    fn params(&mut self) -> Result<Params, BackendError> {
        Ok(match &self.path {
            Path::Fused(f) => f.net.to_params(),
            Path::General(g) => g.net.params(),
        })
    }

    fn describe(&self) -> BackendInfo {
        describe(&self.kernels, matches!(self.path, Path::General(_)))
    }
}

/// The fused path's evaluation.
fn fused_evaluate(
    net: &fused::Weights,
    config: &ModelConfig,
    data: &Dataset,
    scratch: &mut fused::Scratch,
    kernels: &Kernels,
) -> Evaluation {
    // No spans: finding them would cost about what they save on one pass.
    let x = fused::Pixels::new(data.pixels(), config.normalize, None);
    let (predictions, loss) =
        fused::evaluate(net, config.head, &x, data.labels(), scratch, kernels);
    Evaluation { predictions, loss: loss / data.len().max(1) as f64 }
}

/// The general path's evaluation.
fn general_evaluate(
    net: &general::Mlp,
    config: &ModelConfig,
    data: &Dataset,
    threads: usize,
) -> Evaluation {
    let x = data.features(config.normalize);
    let all: Vec<u32> = (0..data.len() as u32).collect();
    let (outcome, predictions) = net.evaluate(&General::rows(&x, &all), data.labels(), threads);
    let loss = if data.is_empty() { 0.0 } else { outcome.loss };
    Evaluation { predictions, loss }
}

/// What computes this backend's numbers with `kernels` (on the general path, if `general`).
fn describe(kernels: &Kernels, general: bool) -> BackendInfo {
    let mut numerics = vec![
        ("kernels", kernels.name().to_string()),
        ("sum_order", "pinned: every kernel set computes the same bits".to_string()),
        ("threads", "do not change the bits".to_string()),
    ];
    if general {
        numerics[0].1 = "general path (any multilayer perceptron), portable code".into();
    }
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
    match config.hidden.single() {
        Some(h) if config.is_report_network() => {
            let net = fused::Weights::from_params(model.params());
            let mut scratch = fused::Scratch::new(h);
            (fused_evaluate(&net, config, data, &mut scratch, &kernels), describe(&kernels, false))
        }
        _ => {
            let net = general::Mlp::new(model.params(), config.activation, config.head);
            (general_evaluate(&net, config, data, 1), describe(&kernels, true))
        }
    }
}
