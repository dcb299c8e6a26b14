//! The network's parameters in PyTorch's names and layout, their initializations, and
//! safetensors files.
//!
//! ```text
//! fc1.weight  W1  [hidden, 784]    fc1.bias  b1  [hidden]
//! fc2.weight  W2  [10, hidden]     fc2.bias  b2  [10]
//! ```
//! Row-major `f32`, exactly what `torch.save_file(model.state_dict())` writes for the report's
//! `PyTorchModel`, so a file moves between twinnet's two backends and PyTorch unchanged.

use crate::options::Init;
use crate::rng::{Rng, Stream};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use twinnet_data::PIXELS;

/// Number of classes (digits).
pub const CLASSES: usize = 10;
/// Number of input features (28 × 28 pixels).
pub const INPUTS: usize = PIXELS;
/// Tensor names, in file order.
pub const NAMES: [&str; 4] = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];

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
    #[error(
        "{path}: missing tensor `{name}` (expected fc1.weight, fc1.bias, fc2.weight, fc2.bias)"
    )]
    Missing { path: PathBuf, name: &'static str },
    /// A tensor that is not `f32`.
    #[error("{path}: tensor `{name}` has dtype {found}, expected F32")]
    Dtype { path: PathBuf, name: &'static str, found: String },
    /// A tensor of the wrong shape.
    #[error("{path}: tensor `{name}` has shape {found:?}, expected {expected:?}")]
    Shape { path: PathBuf, name: &'static str, expected: Vec<usize>, found: Vec<usize> },
    /// The file's hidden width disagrees with the one asked for.
    #[error("{path}: holds a network of hidden width {found}, but hidden width {expected} was asked for")]
    Hidden { path: PathBuf, expected: usize, found: usize },
    /// NaN or infinity in a tensor.
    #[error("{path}: tensor `{name}` holds a non-finite value ({value}) at flat index {index}")]
    NonFinite { path: PathBuf, name: &'static str, index: usize, value: f32 },
    /// A zero hidden width.
    #[error("hidden width must be at least 1")]
    ZeroHidden,
    /// A hidden width this machine cannot hold.
    #[error(transparent)]
    TooWide(crate::config::ConfigError),
}

/// The four parameter tensors of the 784 → hidden → 10 network, row-major `f32`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Hidden width.
    pub hidden: usize,
    /// `W1`, `[hidden, 784]`.
    pub w1: Vec<f32>,
    /// `b1`, `[hidden]`.
    pub b1: Vec<f32>,
    /// `W2`, `[10, hidden]`.
    pub w2: Vec<f32>,
    /// `b2`, `[10]`.
    pub b2: Vec<f32>,
}

impl Params {
    /// All-zero parameters of the given width.
    pub fn zeros(hidden: usize) -> Self {
        Self {
            hidden,
            w1: vec![0.0; hidden * INPUTS],
            b1: vec![0.0; hidden],
            w2: vec![0.0; CLASSES * hidden],
            b2: vec![0.0; CLASSES],
        }
    }

    /// Draws initial parameters from the seeded [`Stream::Init`] stream.
    ///
    /// ```text
    /// uniform:        every entry ~ U[−0.5, 0.5]                    (report, initialize_parameters)
    /// torch-default:  layer with fan_in inputs ~ U[−1/√fan_in, 1/√fan_in]   (nn.Linear.reset_parameters:
    ///                 kaiming_uniform(a=√5) gives bound = √3·√(2/(1+5))/√fan_in = 1/√fan_in)
    /// ```
    /// Tensors are drawn in file order: `W1`, `b1`, `W2`, `b2`.
    pub fn init(hidden: usize, init: Init, seed: u64) -> Result<Self, ParamsError> {
        if hidden == 0 {
            return Err(ParamsError::ZeroHidden);
        }
        crate::config::check_hidden(hidden).map_err(ParamsError::TooWide)?;
        let mut rng = Rng::new(seed, Stream::Init);
        let mut p = Self::zeros(hidden);
        let bounds = match init {
            Init::Uniform => [0.5, 0.5],
            Init::TorchDefault => [1.0 / (INPUTS as f32).sqrt(), 1.0 / (hidden as f32).sqrt()],
        };
        for (t, bound) in [
            (&mut p.w1, bounds[0]),
            (&mut p.b1, bounds[0]),
            (&mut p.w2, bounds[1]),
            (&mut p.b2, bounds[1]),
        ] {
            t.iter_mut().for_each(|x| *x = rng.uniform(-bound, bound));
        }
        Ok(p)
    }

    /// The tensors with their names and shapes, in file order.
    pub fn tensors(&self) -> [(&'static str, Vec<usize>, &[f32]); 4] {
        let h = self.hidden;
        [
            (NAMES[0], vec![h, INPUTS], &self.w1),
            (NAMES[1], vec![h], &self.b1),
            (NAMES[2], vec![CLASSES, h], &self.w2),
            (NAMES[3], vec![CLASSES], &self.b2),
        ]
    }

    /// Number of scalar parameters, `785·hidden + (hidden + 1)·10`.
    pub fn count(&self) -> usize {
        self.tensors().iter().map(|(_, _, t)| t.len()).sum()
    }

    /// A 64-bit FNV-1a hash of every parameter's bits, in file order: equal fingerprints mean
    /// (all but certainly) bit-identical parameters. For checking that a change to a backend
    /// leaves its results unchanged.
    pub fn fingerprint(&self) -> u64 {
        let values = self.tensors().into_iter().flat_map(|(_, _, t)| t.iter());
        values.fold(0xcbf2_9ce4_8422_2325, |h, v| {
            (h ^ v.to_bits() as u64).wrapping_mul(0x100_0000_01b3)
        })
    }

    /// Serializes to safetensors bytes (with PyTorch's `{"format": "pt"}` metadata).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let bytes: Vec<Vec<u8>> = self
            .tensors()
            .iter()
            .map(|(_, _, t)| t.iter().flat_map(|x| x.to_le_bytes()).collect())
            .collect();
        let views = self.tensors().into_iter().zip(&bytes).map(|((name, shape, _), b)| {
            (name, TensorView::new(Dtype::F32, shape, b).expect("shape matches data"))
        });
        let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
        safetensors::serialize(views, Some(meta)).expect("in-memory serialization cannot fail")
    }

    /// Parses safetensors bytes; `path` only names the source in errors. When `hidden` is given,
    /// the file must hold a network of that width.
    pub fn from_safetensors(
        path: &Path,
        bytes: &[u8],
        hidden: Option<usize>,
    ) -> Result<Self, ParamsError> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|source| ParamsError::Format { path: path.into(), source })?;
        let get = |name: &'static str| -> Result<TensorView<'_>, ParamsError> {
            let t =
                st.tensor(name).map_err(|_| ParamsError::Missing { path: path.into(), name })?;
            if t.dtype() != Dtype::F32 {
                let found = format!("{:?}", t.dtype());
                return Err(ParamsError::Dtype { path: path.into(), name, found });
            }
            Ok(t)
        };
        let w1 = get(NAMES[0])?;
        let found = match *w1.shape() {
            [h, INPUTS] if h > 0 => h,
            _ => {
                let expected = vec![hidden.unwrap_or(10), INPUTS];
                return Err(ParamsError::Shape {
                    path: path.into(),
                    name: NAMES[0],
                    expected,
                    found: w1.shape().to_vec(),
                });
            }
        };
        if let Some(expected) = hidden.filter(|&h| h != found) {
            return Err(ParamsError::Hidden { path: path.into(), expected, found });
        }
        let mut p = Self::zeros(found);
        let shapes: Vec<Vec<usize>> = p.tensors().into_iter().map(|(_, s, _)| s).collect();
        let slots = [&mut p.w1, &mut p.b1, &mut p.w2, &mut p.b2];
        for ((name, expected), slot) in NAMES.into_iter().zip(shapes).zip(slots) {
            let t = get(name)?;
            if t.shape() != expected.as_slice() {
                return Err(ParamsError::Shape {
                    path: path.into(),
                    name,
                    expected,
                    found: t.shape().to_vec(),
                });
            }
            for (i, (x, b)) in slot.iter_mut().zip(t.data().chunks_exact(4)).enumerate() {
                *x = f32::from_le_bytes(b.try_into().expect("4 bytes"));
                if !x.is_finite() {
                    return Err(ParamsError::NonFinite {
                        path: path.into(),
                        name,
                        index: i,
                        value: *x,
                    });
                }
            }
        }
        Ok(p)
    }

    /// Reads a safetensors file (see [`Params::from_safetensors`]).
    pub fn load(path: &Path, hidden: Option<usize>) -> Result<Self, ParamsError> {
        let bytes =
            std::fs::read(path).map_err(|source| ParamsError::Io { path: path.into(), source })?;
        Self::from_safetensors(path, &bytes, hidden)
    }

    /// Writes a safetensors file atomically (temporary file in the same folder, then rename).
    pub fn save(&self, path: &Path) -> Result<(), ParamsError> {
        crate::file::write_output(path, &self.to_safetensors())
            .map_err(|source| ParamsError::Io { path: path.into(), source })
    }

    /// The first non-finite entry, if any, as `(tensor name, flat index)`.
    pub fn first_non_finite(&self) -> Option<(&'static str, usize)> {
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
        assert!(p.w1.iter().chain(&p.b2).all(|x| (-0.5..0.5).contains(x)));
        assert_eq!(p, Params::init(10, Init::Uniform, 0).unwrap());
        assert_ne!(p, Params::init(10, Init::Uniform, 1).unwrap());
        let t = Params::init(32, Init::TorchDefault, 0).unwrap();
        let (b1, b2) = (1.0 / 28.0, 1.0 / 32f32.sqrt());
        assert!(t.w1.iter().chain(&t.b1).all(|x| x.abs() <= b1));
        assert!(t.w2.iter().chain(&t.b2).all(|x| x.abs() <= b2));
        // The draws fill the range: the largest |w1| is close to the bound.
        assert!(t.w1.iter().fold(0f32, |m, x| m.max(x.abs())) > 0.99 * b1);
        assert_eq!(p.count(), 7850 + 110);
        assert!(matches!(Params::init(0, Init::Uniform, 0), Err(ParamsError::ZeroHidden)));
    }

    /// Equal parameters, equal fingerprint; one changed bit (even a zero's sign), another.
    #[test]
    fn fingerprint_sees_every_bit() {
        let p = Params::init(10, Init::Uniform, 0).unwrap();
        assert_eq!(p.fingerprint(), p.clone().fingerprint());
        let mut q = p.clone();
        q.b2[9] = f32::from_bits(q.b2[9].to_bits() ^ 1);
        assert_ne!(p.fingerprint(), q.fingerprint());
        let (z, mut nz) = (Params::zeros(3), Params::zeros(3));
        nz.w1[0] = -0.0;
        assert_ne!(z.fingerprint(), nz.fingerprint());
    }

    #[test]
    fn safetensors_round_trip() {
        let p = Params::init(7, Init::TorchDefault, 5).unwrap();
        let q = Params::from_safetensors(Path::new("m"), &p.to_safetensors(), Some(7)).unwrap();
        assert_eq!(p, q);
        let err =
            Params::from_safetensors(Path::new("m"), &p.to_safetensors(), Some(10)).unwrap_err();
        assert!(matches!(err, ParamsError::Hidden { expected: 10, found: 7, .. }), "{err}");
    }

    fn file_with(tensors: Vec<(&str, Dtype, Vec<usize>)>) -> Vec<u8> {
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, d, s)| vec![0u8; s.iter().product::<usize>() * d.bitsize() / 8])
            .collect();
        let views = tensors
            .iter()
            .zip(&data)
            .map(|((n, d, s), b)| (n.to_string(), TensorView::new(*d, s.clone(), b).unwrap()));
        safetensors::serialize(views, None).unwrap()
    }

    #[test]
    fn bad_files() {
        let m = Path::new("bad.safetensors");
        let err = Params::from_safetensors(m, b"not a safetensors file", None).unwrap_err();
        assert!(
            matches!(err, ParamsError::Format { .. })
                && err.to_string().starts_with("bad.safetensors")
        );
        let good = |n| {
            (
                n,
                Dtype::F32,
                match n {
                    "fc1.weight" => vec![10, 784],
                    "fc2.weight" => vec![10, 10],
                    _ => vec![10],
                },
            )
        };
        let err = Params::from_safetensors(
            m,
            &file_with(vec![good("fc1.weight"), good("fc1.bias"), good("fc2.weight")]),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, ParamsError::Missing { name: "fc2.bias", .. }), "{err}");
        let err = Params::from_safetensors(
            m,
            &file_with(vec![("fc1.weight", Dtype::F32, vec![10, 783])]),
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("shape [10, 783], expected [10, 784]"), "{err}");
        let err = Params::from_safetensors(
            m,
            &file_with(vec![("fc1.weight", Dtype::F64, vec![10, 784])]),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, ParamsError::Dtype { .. }), "{err}");
        let err = Params::from_safetensors(
            m,
            &file_with(vec![
                good("fc1.weight"),
                good("fc1.bias"),
                ("fc2.weight", Dtype::F32, vec![10, 9]),
                good("fc2.bias"),
            ]),
            None,
        )
        .unwrap_err();
        assert!(matches!(err, ParamsError::Shape { name: "fc2.weight", .. }), "{err}");
        let mut p = Params::init(3, Init::Uniform, 0).unwrap();
        p.b2[4] = f32::NAN;
        let err = Params::from_safetensors(m, &p.to_safetensors(), None).unwrap_err();
        assert!(matches!(err, ParamsError::NonFinite { name: "fc2.bias", index: 4, .. }), "{err}");
    }
}
