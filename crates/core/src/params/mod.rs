//! The network's parameters in PyTorch's names and layout, their initializations, and
//! safetensors files: a list of linear layers, input side first.
//!
//! ```text
//! fcₗ.weight  Wₗ  [nₗ, nₗ₋₁]      fcₗ.bias  bₗ  [nₗ]        l = 1 … L, n₀ = 784, n_L = 10
//! the report's network:  fc1.weight [hidden, 784]  fc1.bias [hidden]  fc2.weight [10, hidden]  fc2.bias [10]
//! ```
//! Row-major `f32`, exactly what `torch.save_file(model.state_dict())` writes for a model whose
//! linear layers are attributes `fc1 … fcL` (the report's `PyTorchModel`), so a file moves
//! between twinnet's backends and PyTorch unchanged. Reading and writing those files is
//! `safetensors_file.rs`.

use crate::options::Init;
use crate::rng::{Rng, Stream};
use std::path::PathBuf;
use twinnet_data::PIXELS;

mod safetensors_file;

/// Number of classes (digits).
pub const CLASSES: usize = 10;
/// Number of input features (28 × 28 pixels).
pub const INPUTS: usize = PIXELS;
/// The report's network's tensor names, in file order.
pub const NAMES: [&str; 4] = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

/// The name of layer `l`'s (from 1) weight or bias: `fc1.weight`, `fc3.bias`, ….
pub fn tensor_name(l: usize, bias: bool) -> String {
    format!("fc{l}.{}", if bias { "bias" } else { "weight" })
}

/// Errors of parameter files and parameter values.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The file cannot be read or written (the system's reason is the source, said once).
    #[error("{path}: cannot read or write the parameters file")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a safetensors file.
    #[error("{path}: not a safetensors file")]
    Format {
        path: PathBuf,
        #[source]
        source: safetensors::SafeTensorError,
    },
    /// A tensor the network needs is absent.
    #[error("{path}: missing tensor `{name}` (a network's tensors are fc1.weight, fc1.bias, …, fcL.weight, fcL.bias)")]
    Missing { path: PathBuf, name: String },
    /// A tensor that is not `f32`.
    #[error("{path}: tensor `{name}` has dtype {found}, expected F32")]
    Dtype { path: PathBuf, name: String, found: String },
    /// A tensor of the wrong shape.
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape { path: PathBuf, name: String, expected: Vec<usize>, found: Vec<usize> },
    /// The file's hidden width disagrees with the one asked for.
    #[error("{path}: holds a network of hidden width {found}, but hidden width {expected} was asked for")]
    Hidden { path: PathBuf, expected: usize, found: usize },
    /// The file's network does not end in the 10 classes.
    #[error("{path}: holds a network of widths {found:?}, whose last layer does not give the 10 classes")]
    Outputs { path: PathBuf, found: Vec<usize> },
    /// The file's network is not the one asked for.
    #[error("{path}: holds a network of widths {found:?}, but widths {expected:?} were asked for")]
    Widths { path: PathBuf, expected: Vec<usize>, found: Vec<usize> },
    /// The file's layers are not the report's network's two.
    #[error("{path}: holds a network of widths {found:?}, but the report's network 784 → hidden → 10 was asked for")]
    Depth { path: PathBuf, found: Vec<usize> },
    /// NaN or infinity in a tensor.
    #[error("{path}: tensor `{name}` holds a non-finite value ({value}) at flat index {index}")]
    NonFinite { path: PathBuf, name: String, index: usize, value: f32 },
    /// A zero hidden width.
    #[error("hidden width must be at least 1")]
    ZeroHidden,
    /// A hidden width this machine cannot hold.
    #[error(transparent)]
    TooWide(crate::config::ConfigError),
}

/// One linear layer `fcₗ`: `z = W·a + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Its input width `nₗ₋₁`.
    pub inputs: usize,
    /// Its output width `nₗ`.
    pub outputs: usize,
    /// `Wₗ`, `[outputs, inputs]`, row-major.
    pub weight: Vec<f32>,
    /// `bₗ`, `[outputs]`.
    pub bias: Vec<f32>,
}

impl Layer {
    /// An all-zero layer.
    pub fn zeros(inputs: usize, outputs: usize) -> Self {
        Self { inputs, outputs, weight: vec![0.0; outputs * inputs], bias: vec![0.0; outputs] }
    }
}

/// A network's parameters: its linear layers, input side first.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// `fc1 … fcL`; each one's `inputs` is the previous one's `outputs`.
    pub layers: Vec<Layer>,
}

impl Params {
    /// All-zero parameters of the report's network of the given width.
    pub fn zeros(hidden: usize) -> Self {
        Self::zeros_widths(&[INPUTS, hidden, CLASSES])
    }

    /// All-zero parameters of the network of `widths` (input first).
    pub fn zeros_widths(widths: &[usize]) -> Self {
        Self { layers: widths.windows(2).map(|w| Layer::zeros(w[0], w[1])).collect() }
    }

    /// The report's network from its four tensors (`hidden` is `b1`'s length).
    pub fn report(w1: Vec<f32>, b1: Vec<f32>, w2: Vec<f32>, b2: Vec<f32>) -> Self {
        let hidden = b1.len();
        Self {
            layers: vec![
                Layer { inputs: INPUTS, outputs: hidden, weight: w1, bias: b1 },
                Layer { inputs: hidden, outputs: CLASSES, weight: w2, bias: b2 },
            ],
        }
    }

    /// The widths, input first: `[n₀, n₁, …, n_L]`.
    pub fn widths(&self) -> Vec<usize> {
        std::iter::once(self.layers.first().map_or(INPUTS, |l| l.inputs))
            .chain(self.layers.iter().map(|l| l.outputs))
            .collect()
    }

    /// The hidden layers' widths: every layer's outputs but the last's.
    pub fn hidden_widths(&self) -> Vec<usize> {
        let n = self.layers.len().saturating_sub(1);
        self.layers.iter().take(n).map(|l| l.outputs).collect()
    }

    /// The width of the first hidden layer (the report's network's hidden width; 0 for a
    /// network with no hidden layer).
    pub fn hidden(&self) -> usize {
        if self.layers.len() > 1 {
            self.layers[0].outputs
        } else {
            0
        }
    }

    /// Whether these are the report's network's parameters, `784 → hidden → 10`, every tensor
    /// of its size.
    pub fn is_report_shape(&self) -> bool {
        self.layers.len() == 2
            && self.layers[0].inputs == INPUTS
            && self.layers[1].outputs == CLASSES
            && self.layers[1].inputs == self.layers[0].outputs
            && self
                .layers
                .iter()
                .all(|l| l.weight.len() == l.inputs * l.outputs && l.bias.len() == l.outputs)
    }

    /// Draws initial parameters of the report's network from the seeded [`Stream::Init`]
    /// stream (see [`Params::init_widths`]).
    pub fn init(hidden: usize, init: Init, seed: u64) -> Result<Self, ParamsError> {
        if hidden == 0 {
            return Err(ParamsError::ZeroHidden);
        }
        crate::model::check_hidden(hidden).map_err(ParamsError::TooWide)?;
        Ok(Self::init_widths(&[INPUTS, hidden, CLASSES], init, seed))
    }

    /// Draws initial parameters of the network of `widths` from the seeded [`Stream::Init`]
    /// stream.
    ///
    /// ```text
    /// uniform:        every entry ~ U[−0.5, 0.5]                    (report, initialize_parameters)
    /// torch-default:  layer with fan_in inputs ~ U[−1/√fan_in, 1/√fan_in]   (nn.Linear.reset_parameters:
    ///                 kaiming_uniform(a=√5) gives bound = √3·√(2/(1+5))/√fan_in = 1/√fan_in)
    /// normal:         every entry ~ N(0, 1)                          (network.py: np.random.randn)
    /// normal-scaled:  weights ~ N(0, 1/fan_in), biases ~ N(0, 1)     (network2.py's default_weight_initializer)
    /// ```
    /// Tensors are drawn in file order: `W1`, `b1`, `W2`, `b2`, …; normal draws are
    /// [`Rng::normal`] (times `1/√fan_in` for scaled weights).
    pub fn init_widths(widths: &[usize], init: Init, seed: u64) -> Self {
        let mut rng = Rng::new(seed, Stream::Init);
        let mut p = Self::zeros_widths(widths);
        for layer in &mut p.layers {
            let fan = 1.0 / (layer.inputs as f32).sqrt();
            let bound = match init {
                Init::Uniform => 0.5,
                Init::TorchDefault => fan,
                Init::Normal | Init::NormalScaled => {
                    let w_sd = if init == Init::Normal { 1.0 } else { fan };
                    layer.weight.iter_mut().for_each(|x| *x = w_sd * rng.normal());
                    layer.bias.iter_mut().for_each(|x| *x = rng.normal());
                    continue;
                }
            };
            for t in [&mut layer.weight, &mut layer.bias] {
                t.iter_mut().for_each(|x| *x = rng.uniform(-bound, bound));
            }
        }
        p
    }

    /// The tensors with their names and shapes, in file order.
    pub fn tensors(&self) -> Vec<(String, Vec<usize>, &[f32])> {
        let mut out = Vec::with_capacity(2 * self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            out.push((tensor_name(i + 1, false), vec![l.outputs, l.inputs], l.weight.as_slice()));
            out.push((tensor_name(i + 1, true), vec![l.outputs], l.bias.as_slice()));
        }
        out
    }

    /// The tensors' values, mutably, in file order.
    pub fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.layers.iter_mut().flat_map(|l| [&mut l.weight, &mut l.bias]).collect()
    }

    /// Number of scalar parameters, `Σₗ (nₗ₋₁ + 1)·nₗ` (the report's: `785·hidden + (hidden + 1)·10`).
    pub fn count(&self) -> usize {
        self.layers.iter().map(|l| l.weight.len() + l.bias.len()).sum()
    }

    /// A 64-bit FNV-1a hash of every parameter's bits, in file order: equal fingerprints mean
    /// (all but certainly) bit-identical parameters. For checking that a change to a backend
    /// leaves its results unchanged.
    pub fn fingerprint(&self) -> u64 {
        let values = self.layers.iter().flat_map(|l| l.weight.iter().chain(&l.bias));
        values.fold(0xcbf2_9ce4_8422_2325, |h, v| {
            (h ^ v.to_bits() as u64).wrapping_mul(0x100_0000_01b3)
        })
    }

    /// The first non-finite entry, if any, as `(tensor name, flat index)`.
    pub fn first_non_finite(&self) -> Option<(String, usize)> {
        self.tensors()
            .into_iter()
            .find_map(|(name, _, t)| t.iter().position(|x| !x.is_finite()).map(|i| (name, i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_bounds_and_determinism() {
        let p = Params::init(10, Init::Uniform, 0).unwrap();
        assert!(p.layers[0]
            .weight
            .iter()
            .chain(&p.layers[1].bias)
            .all(|x| (-0.5..0.5).contains(x)));
        assert_eq!(p, Params::init(10, Init::Uniform, 0).unwrap());
        assert_ne!(p, Params::init(10, Init::Uniform, 1).unwrap());
        let t = Params::init(32, Init::TorchDefault, 0).unwrap();
        let (b1, b2) = (1.0 / 28.0, 1.0 / 32f32.sqrt());
        assert!(t.layers[0].weight.iter().chain(&t.layers[0].bias).all(|x| x.abs() <= b1));
        assert!(t.layers[1].weight.iter().chain(&t.layers[1].bias).all(|x| x.abs() <= b2));
        // The draws fill the range: the largest |w1| is close to the bound.
        assert!(t.layers[0].weight.iter().fold(0f32, |m, x| m.max(x.abs())) > 0.99 * b1);
        assert_eq!(p.count(), 7850 + 110);
        assert!(matches!(Params::init(0, Init::Uniform, 0), Err(ParamsError::ZeroHidden)));
    }

    /// Equal parameters, equal fingerprint; one changed bit (even a zero's sign), another.
    #[test]
    fn fingerprint_sees_every_bit() {
        let p = Params::init(10, Init::Uniform, 0).unwrap();
        assert_eq!(p.fingerprint(), p.clone().fingerprint());
        let mut q = p.clone();
        q.layers[1].bias[9] = f32::from_bits(q.layers[1].bias[9].to_bits() ^ 1);
        assert_ne!(p.fingerprint(), q.fingerprint());
        let (z, mut nz) = (Params::zeros(3), Params::zeros(3));
        nz.layers[0].weight[0] = -0.0;
        assert_ne!(z.fingerprint(), nz.fingerprint());
    }

    /// Any depth: names in order, shapes chained, the draws of the report's network unchanged
    /// (layer by layer, weight then bias).
    #[test]
    fn layers_of_any_depth() {
        let p = Params::init_widths(&[INPUTS, 6, 5, CLASSES], Init::TorchDefault, 2);
        let names: Vec<String> = p.tensors().into_iter().map(|t| t.0).collect();
        assert_eq!(
            names,
            ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
        );
        assert_eq!(p.widths(), [INPUTS, 6, 5, CLASSES]);
        assert_eq!(p.count(), 785 * 6 + 7 * 5 + 6 * 10);
        assert!(!p.is_report_shape());
        let q = Params::init(6, Init::TorchDefault, 2).unwrap();
        assert_eq!(q, Params::init_widths(&[INPUTS, 6, CLASSES], Init::TorchDefault, 2));
        assert!(q.is_report_shape());
        assert_eq!(Params::init_widths(&[INPUTS, CLASSES], Init::Uniform, 0).hidden(), 0);
        // A deeper file is named for what it holds when the report's network is read.
        let err = Params::from_safetensors(std::path::Path::new("deep"), &p.to_safetensors(), None)
            .unwrap_err();
        assert!(err.to_string().contains("widths [784, 6, 5, 10]"), "{err}");
    }
}
