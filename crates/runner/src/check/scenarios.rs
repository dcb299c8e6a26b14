//! What `check` runs: the report's four scenarios, or the two of a model given by its settings
//! ([`CheckModel`]).

use super::runs::BATCH;
use super::LR;
use twinnet_core::{
    defaults, Activation, ConfigError, Head, Hidden, Init, ModelConfig, Normalize, Optimizer,
    OptimizerSettings, Regime,
};

/// The model `check` checks, as `train` takes it: each setting optional, the report's
/// ([`defaults`]) where unset. With none, `check` runs the report's scenarios; with any, that
/// model full-batch and in mini-batches of `batch_size`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckModel {
    /// `--hidden`.
    pub hidden: Option<Hidden>,
    /// `--activation`.
    pub activation: Option<Activation>,
    /// `--head`.
    pub head: Option<Head>,
    /// `--init`.
    pub init: Option<Init>,
    /// `--lr`.
    pub lr: Option<f32>,
    /// `--batch-size`.
    pub batch_size: Option<usize>,
    /// `--normalize`.
    pub normalize: Option<Normalize>,
    /// `--optimizer`, `--momentum`, … (plain SGD when none is given).
    pub optimizer: OptimizerSettings,
}

impl CheckModel {
    /// Whether no setting was given.
    pub fn is_empty(&self) -> bool {
        *self == CheckModel::default()
    }

    /// The model's two scenarios: full-batch, and mini-batches of `batch_size`; an error
    /// naming the optimizer setting that cannot work.
    pub(super) fn scenarios(&self) -> Result<Vec<Scenario>, ConfigError> {
        let optimizer = Optimizer::from_settings(&self.optimizer)?;
        let config = ModelConfig {
            hidden: self.hidden.clone().unwrap_or_default(),
            activation: self.activation.unwrap_or(defaults::ACTIVATION),
            head: self.head.unwrap_or(defaults::HEAD),
            normalize: self.normalize.unwrap_or(defaults::NORMALIZE),
        };
        let net = crate::summary::network_label(&config);
        let what = format!("{net}, {} head, {} pixels", config.head, config.normalize);
        let (init, lr) = (self.init.unwrap_or(defaults::INIT), self.lr.unwrap_or(LR));
        let batch = self.batch_size.unwrap_or(BATCH);
        let trained =
            if optimizer.is_plain_sgd() { String::new() } else { format!(", {optimizer}") };
        Ok([
            (Regime::FullBatch, "full-batch".to_string()),
            (Regime::Minibatch, format!("mini-batch {batch}")),
        ]
        .into_iter()
        .map(|(regime, how)| Scenario {
            name: format!("{how}, {what}, {init} init, lr {lr}{trained}"),
            regime,
            config: config.clone(),
            optimizer,
            init,
            lr,
            batch,
            rewind: regime == Regime::Minibatch,
        })
        .collect())
    }
}

/// One scenario: a model and a regime.
#[derive(Debug, Clone)]
pub(super) struct Scenario {
    pub(super) name: String,
    pub(super) regime: Regime,
    pub(super) config: ModelConfig,
    pub(super) optimizer: Optimizer,
    pub(super) init: Init,
    pub(super) lr: f32,
    pub(super) batch: usize,
    /// Whether to check steps sent ahead and taken back on this scenario too.
    pub(super) rewind: bool,
}

/// The report's four scenarios: its two models (softmax with [0, 1] pixels and U[−0.5, 0.5];
/// double softmax with [−1, 1] pixels and nn.Linear's init), full-batch and mini-batch 64.
pub(super) fn report_scenarios() -> Vec<Scenario> {
    let numpy = (Head::Softmax, Normalize::Unit, Init::Uniform);
    let pytorch = (Head::DoubleSoftmax, Normalize::Symmetric, Init::TorchDefault);
    [
        ("full-batch, softmax (the NumPy model)", Regime::FullBatch, numpy),
        ("mini-batch 64, softmax", Regime::Minibatch, numpy),
        ("full-batch, double softmax", Regime::FullBatch, pytorch),
        ("mini-batch 64, double softmax (the PyTorch model)", Regime::Minibatch, pytorch),
    ]
    .into_iter()
    .map(|(name, regime, (head, normalize, init))| Scenario {
        name: name.into(),
        regime,
        config: ModelConfig::report(10, head, normalize),
        optimizer: Optimizer::SGD,
        init,
        lr: LR,
        batch: BATCH,
        rewind: regime == Regime::Minibatch && head == Head::Softmax,
    })
    .collect()
}
