//! The options shared by both backends and the runner, with the same names everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
pub use twinnet_data::Normalize;

/// An option whose values are a fixed set of kebab-case names.
pub trait Choice: Copy + Eq + fmt::Debug + Send + Sync + 'static {
    /// Every value, in documentation order.
    const ALL: &'static [Self];
    /// The name of this value as written on the command line and in files.
    fn as_str(self) -> &'static str;
    /// The value called `s`, if any.
    fn parse_choice(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == s)
    }
}

impl Choice for twinnet_data::DatasetName {
    const ALL: &'static [Self] = &twinnet_data::DatasetName::ALL;
    fn as_str(self) -> &'static str {
        twinnet_data::DatasetName::as_str(self)
    }
}

impl Choice for Normalize {
    const ALL: &'static [Self] = &Normalize::ALL;
    fn as_str(self) -> &'static str {
        Normalize::as_str(self)
    }
}

macro_rules! choice {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $s:literal,)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name { $($(#[$vm])* $var,)+ }

        impl Choice for $name {
            const ALL: &'static [Self] = &[$($name::$var,)+];
            fn as_str(self) -> &'static str {
                match self { $($name::$var => $s,)+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::parse_choice(s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown value `{s}` (expected one of: {})", names.join(", "))
                })
            }
        }
    };
}

choice! {
    /// How the initial parameters are drawn.
    Init {
        /// Every weight and bias from `U[−0.5, 0.5]` (the report's NumPy model).
        Uniform = "uniform",
        /// What `nn.Linear` does: weights and biases from `U[−1/√fan_in, 1/√fan_in]`.
        TorchDefault = "torch-default",
        /// Every weight and bias from `N(0, 1)` (Nielsen's `network.py`).
        Normal = "normal",
        /// Weights from `N(0, 1/fan_in)`, biases from `N(0, 1)` (Nielsen's `network2.py`,
        /// its default initializer).
        NormalScaled = "normal-scaled",
    }
}

choice! {
    /// Whose random generator draws the initial parameters.
    InitRng {
        /// twinnet's own generator ([`crate::Params::init`]): the same weights on every
        /// backend, with no libtorch needed.
        Twinnet = "twinnet",
        /// libtorch's generator exactly as PyTorch draws them after `torch.manual_seed(seed)`:
        /// one `nn.Linear` per layer, input side first (needs the tch backend's library).
        Torch = "torch",
    }
}

choice! {
    /// How training images are grouped into updates.
    Regime {
        /// Gradient descent: one update per pass over all training images (the report's NumPy model).
        FullBatch = "full-batch",
        /// SGD on shuffled mini-batches, the last short batch kept (the report's PyTorch model).
        Minibatch = "minibatch",
    }
}

choice! {
    /// The output head and its loss.
    Head {
        /// `softmax` then cross-entropy: `dZ2 = A2 − Y` (the report's NumPy math, and the fix).
        Softmax = "softmax",
        /// `softmax` in `forward`, then `CrossEntropyLoss` (log-softmax again): the report's PyTorch model.
        DoubleSoftmax = "double-softmax",
        /// Outputs `a = σ(z)`; per example `½‖a − y‖²` with one-hot `y`; mean over the batch
        /// (Nielsen's `QuadraticCost`, `network.py`).
        SigmoidQuadratic = "sigmoid-quadratic",
        /// Outputs `a = σ(z)`; per example `Σⱼ −[yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)]`; mean over
        /// the batch (Nielsen's `CrossEntropyCost`; PyTorch's `BCEWithLogitsLoss(reduction="sum") / n`).
        SigmoidCrossEntropy = "sigmoid-cross-entropy",
    }
}

choice! {
    /// The activation of every hidden layer.
    Activation {
        /// `max(0, z)`; derivative `1` where `z > 0`, else `0`.
        Relu = "relu",
        /// `σ(z) = 1 / (1 + e^(−z))`; derivative `σ(z)(1 − σ(z))`.
        Sigmoid = "sigmoid",
        /// `tanh z`; derivative `1 − tanh² z`.
        Tanh = "tanh",
    }
}

choice! {
    /// The update rule, as `torch.optim` names it.
    OptimizerKind {
        /// `torch.optim.SGD`: plain, with momentum (dampening, Nesterov) and L2 weight decay.
        Sgd = "sgd",
        /// `torch.optim.Adam`: bias-corrected first and second moments, L2 weight decay added
        /// to the gradient.
        Adam = "adam",
        /// `torch.optim.AdamW`: Adam with decoupled weight decay (the parameters shrink by
        /// `1 − lr·λ` before the step).
        #[serde(rename = "adamw")]
        AdamW = "adamw",
    }
}

choice! {
    /// Which parameters weight decay applies to.
    DecayScope {
        /// Every parameter, as `torch.optim` does with one parameter group.
        All = "all",
        /// Weights only, never biases: Nielsen's `network2.py` (`(1 − ηλ/n)·w`).
        Weights = "weights",
    }
}

choice! {
    /// Where the tch backend computes.
    Device {
        /// The CPU.
        Cpu = "cpu",
        /// The first CUDA GPU; an error when there is none.
        Cuda = "cuda",
        /// CUDA when available, else the CPU.
        Auto = "auto",
    }
}

choice! {
    /// Which implementation trains the network.
    BackendKind {
        /// From scratch on `ndarray`: hand-written forward and backward passes.
        Ndarray = "ndarray",
        /// libtorch through `tch`: `nn::Linear`, autograd and the SGD optimizer.
        Tch = "tch",
        /// An implementation of your own in another process, speaking twinnet's protocol
        /// (`docs/protocol.md`) over its stdin and stdout.
        Process = "process",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for v in Head::ALL {
            assert_eq!(v.as_str().parse::<Head>().unwrap(), *v);
        }
        let err = "sigmoid".parse::<Head>().unwrap_err();
        assert!(err.contains("softmax, double-softmax, sigmoid-quadratic"), "{err}");
        assert_eq!("tanh".parse::<Activation>(), Ok(Activation::Tanh));
        assert_eq!(Regime::parse_choice("full-batch"), Some(Regime::FullBatch));
        assert_eq!(Init::TorchDefault.to_string(), "torch-default");
    }
}
