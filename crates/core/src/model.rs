//! The network, described once: [`Hidden`] widths, the [`Activation`] of every hidden layer,
//! the [`Head`] and the input normalization ([`ModelConfig`]), checked with the parameters it
//! starts from into a [`Model`]. Every backend, the float64 reference, the protocol and the
//! results read the network from here.
//!
//! ```
//! use twinnet_core::{Hidden, Init, Model, ModelConfig, Params};
//!
//! let hidden: Hidden = "128,64".parse()?;
//! let config = ModelConfig { hidden, ..ModelConfig::default() };
//! assert_eq!(config.widths(), [784, 128, 64, 10]);
//! let params = Params::init_widths(&config.widths(), Init::TorchDefault, 0);
//! let model = Model::new(config, params)?;
//! assert!(!model.config().is_report_network());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::config::{bytes, defaults, ConfigError};
use crate::optim::Optimizer;
use crate::options::{Activation, Head, Normalize};
use crate::params::{Params, CLASSES, INPUTS};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Bytes a run holds per parameter, at most: the `f32` parameters sixteen times over (the
/// backend's copy, gradients per part, scratch, snapshots, the result's copy, with room to
/// spare).
pub const BYTES_PER_PARAM: u64 = 4 * 16;

/// The hidden layers' widths, input side first; empty for no hidden layer (softmax
/// regression). Written `30`, `128,64` or `none` on the command line; `hidden = 30`,
/// `hidden = [128, 64]` or `hidden = []` (also `"none"`) in files. A single width is recorded
/// as a number, so results of the report's network read and hash as before deeper networks
/// existed. Not yet checked ([`check_widths`] is, at [`Model::new`] and a run's validation).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Hidden(Vec<usize>);

impl Hidden {
    /// One hidden layer of width `h` (the report's network: 10).
    pub fn one(h: usize) -> Self {
        Self(vec![h])
    }

    /// These widths.
    pub fn new(widths: Vec<usize>) -> Self {
        Self(widths)
    }

    /// The widths.
    pub fn widths(&self) -> &[usize] {
        &self.0
    }

    /// The width when there is exactly one hidden layer.
    pub fn single(&self) -> Option<usize> {
        match self.0[..] {
            [h] => Some(h),
            _ => None,
        }
    }
}

impl Default for Hidden {
    fn default() -> Self {
        Self::one(defaults::HIDDEN)
    }
}

impl fmt::Display for Hidden {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let s: Vec<String> = self.0.iter().map(|w| w.to_string()).collect();
        f.write_str(&s.join(","))
    }
}

impl FromStr for Hidden {
    type Err = String;
    /// `none`, or widths separated by commas (`30`, `128,64`).
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim() == "none" {
            return Ok(Self(vec![]));
        }
        s.split(',')
            .map(|w| {
                w.trim().parse::<usize>().map_err(|_| {
                    format!("`{s}` is not hidden widths: write `30`, `128,64` or `none`")
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl Serialize for Hidden {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.single() {
            Some(h) => s.serialize_u64(h as u64),
            None => self.0.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Hidden {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(usize),
            List(Vec<usize>),
            Text(String),
        }
        match Form::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "expected a width (30), a list of widths ([128, 64]) or \"none\"",
            )
        })? {
            Form::One(h) => Ok(Self::one(h)),
            Form::List(v) => Ok(Self(v)),
            Form::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Checks that a network of `widths` (input first) has no zero width and fits in the memory
/// this machine has available (`/proc/meminfo`; where that cannot be read, 64 GiB), before
/// anything is allocated. The field named is `hidden` (input and output are the data's).
pub fn check_widths(widths: &[usize]) -> Result<(), ConfigError> {
    if widths.len() < 2 {
        return Err(ConfigError::new("hidden", "a network needs an input and an output layer"));
    }
    if let Some(i) = widths.iter().position(|&w| w == 0) {
        return Err(ConfigError::new(
            "hidden",
            format!("every width must be at least 1 (hidden layer {i} is 0)"),
        ));
    }
    let count = widths.windows(2).try_fold(0u64, |acc, w| {
        (w[0] as u64 + 1).checked_mul(w[1] as u64).and_then(|n| acc.checked_add(n))
    });
    let need = count.and_then(|c| c.checked_mul(BYTES_PER_PARAM));
    let available = crate::system::available_memory().unwrap_or(64 << 30);
    match need {
        Some(n) if n <= available => Ok(()),
        _ => Err(ConfigError::new(
            "hidden",
            format!(
                "a network of widths {widths:?} needs about {} of memory; this machine has {} \
                 available",
                bytes(need.unwrap_or(u64::MAX)),
                bytes(available),
            ),
        )),
    }
}

/// Checks the report's network `784 → hidden → 10` ([`check_widths`]).
pub fn check_hidden(hidden: usize) -> Result<(), ConfigError> {
    check_widths(&[INPUTS, hidden, CLASSES])
}

/// The network and its loss, identical for every backend (not yet checked: see [`Model`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Hidden widths (the report: one layer of 10).
    pub hidden: Hidden,
    /// The activation of every hidden layer (the report: relu).
    pub activation: Activation,
    /// Output head.
    pub head: Head,
    /// Pixel normalization of the inputs.
    pub normalize: Normalize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            hidden: Hidden::default(),
            activation: defaults::ACTIVATION,
            head: defaults::HEAD,
            normalize: defaults::NORMALIZE,
        }
    }
}

impl ModelConfig {
    /// The report's network `784 → hidden → 10` with ReLU, and `head`.
    pub fn report(hidden: usize, head: Head, normalize: Normalize) -> Self {
        Self { hidden: Hidden::one(hidden), activation: Activation::Relu, head, normalize }
    }

    /// Every layer's width, input first: `[784, h₁, …, h_k, 10]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(INPUTS).chain(self.hidden.0.iter().copied()).chain([CLASSES]).collect()
    }

    /// Whether this is the report's family: one ReLU hidden layer and a softmax or
    /// double-softmax head (what the fused kernels and protocol version 1 compute).
    pub fn is_report_network(&self) -> bool {
        self.hidden.single().is_some()
            && self.activation == Activation::Relu
            && matches!(self.head, Head::Softmax | Head::DoubleSoftmax)
    }

    /// The setting that takes this model outside the report's family, with its value (for a
    /// backend that trains only that family to name in its refusal).
    pub fn outside_report_network(&self) -> Option<(&'static str, String)> {
        if self.hidden.single().is_none() {
            Some(("hidden", self.hidden.to_string()))
        } else if self.activation != Activation::Relu {
            Some(("activation", self.activation.to_string()))
        } else if !matches!(self.head, Head::Softmax | Head::DoubleSoftmax) {
            Some(("head", self.head.to_string()))
        } else {
            None
        }
    }
}

/// A model ready to train: its configuration and its starting parameters, whose widths are
/// the configuration's, each at least 1. Every backend is built from one.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    config: ModelConfig,
    params: Params,
    optimizer: Optimizer,
}

impl Model {
    /// Checks the widths ([`check_widths`]) and that `params` are a network of exactly them,
    /// every tensor of its size.
    pub fn new(config: ModelConfig, params: Params) -> Result<Self, ConfigError> {
        let widths = config.widths();
        check_widths(&widths)?;
        let sized = params
            .layers
            .iter()
            .all(|l| l.weight.len() == l.inputs * l.outputs && l.bias.len() == l.outputs);
        let chained = params.layers.windows(2).all(|w| w[0].outputs == w[1].inputs);
        if params.widths() != widths || !sized || !chained {
            return Err(ConfigError::new(
                "hidden",
                format!(
                    "the parameters are a network of widths {:?}, the model's are {widths:?}",
                    params.widths()
                ),
            ));
        }
        Ok(Self { config, params, optimizer: Optimizer::SGD })
    }

    /// The same model trained by `optimizer` instead of plain SGD.
    pub fn with_optimizer(mut self, optimizer: Optimizer) -> Self {
        self.optimizer = optimizer;
        self
    }

    /// How it is trained ([`Optimizer::SGD`] unless [`Model::with_optimizer`] said otherwise).
    pub fn optimizer(&self) -> &Optimizer {
        &self.optimizer
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// The starting parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Init;

    #[test]
    fn model_checks_the_widths() {
        let p = Params::init(10, Init::Uniform, 0).unwrap();
        assert!(Model::new(ModelConfig::default(), p.clone()).is_ok());
        let wide = ModelConfig::report(12, Head::Softmax, Normalize::Unit);
        assert_eq!(Model::new(wide, p.clone()).unwrap_err().field, "hidden");
        let mut short = p.clone();
        short.layers[1].bias.pop();
        assert_eq!(Model::new(ModelConfig::default(), short).unwrap_err().field, "hidden");
        let deep = ModelConfig { hidden: Hidden::new(vec![10, 5]), ..ModelConfig::default() };
        let e = Model::new(deep.clone(), p).unwrap_err();
        assert!(e.message.contains("[784, 10, 5, 10]"), "{e}");
        let q = Params::init_widths(&deep.widths(), Init::Normal, 1);
        assert!(Model::new(deep, q).is_ok());
        let zero = ModelConfig { hidden: Hidden::new(vec![10, 0]), ..ModelConfig::default() };
        let e = Model::new(zero, Params::zeros(10)).unwrap_err();
        assert_eq!(e.field, "hidden");
        assert!(e.message.contains("hidden layer 2 is 0"), "{e}");
        assert!(check_widths(&[INPUTS, usize::MAX / 2, CLASSES]).is_err());
    }

    /// The three ways of writing widths, and their records: a single width as a number.
    #[test]
    fn hidden_widths_as_users_write_them() {
        for (text, widths) in [("30", vec![30]), ("128,64", vec![128, 64]), ("none", vec![])] {
            let h: Hidden = text.parse().unwrap();
            assert_eq!(h.widths(), widths);
            assert_eq!(h.to_string(), text);
        }
        assert!("30,x".parse::<Hidden>().unwrap_err().contains("`30,x`"));
        assert!("".parse::<Hidden>().is_err());
        let json = |h: &Hidden| serde_json::to_string(h).unwrap();
        assert_eq!(json(&Hidden::one(10)), "10");
        assert_eq!(json(&Hidden::new(vec![128, 64])), "[128,64]");
        assert_eq!(json(&Hidden::new(vec![])), "[]");
        #[derive(Deserialize)]
        struct T {
            hidden: Hidden,
        }
        let read = |s: &str| toml::from_str::<T>(&format!("hidden = {s}")).map(|t| t.hidden);
        assert_eq!(read("30").unwrap(), Hidden::one(30));
        assert_eq!(read("[128, 64]").unwrap(), Hidden::new(vec![128, 64]));
        assert_eq!(read("\"none\"").unwrap(), Hidden::new(vec![]));
        assert_eq!(read("[]").unwrap(), Hidden::new(vec![]));
        assert!(read("-3").is_err());
        let e = read("\"wide\"").unwrap_err().to_string();
        assert!(e.contains("`wide` is not hidden widths"), "{e}");
    }
}
