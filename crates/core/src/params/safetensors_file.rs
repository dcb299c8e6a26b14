//! Parameters as safetensors files: PyTorch's `{"format": "pt"}` metadata, one `f32` tensor
//! per name, every name, dtype, shape and value checked on reading.

use super::{Layer, Params, ParamsError, CLASSES, INPUTS};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

/// The names before `.weight` of the file's layers, in order: `fc1`, `fc2`, … while they
/// exist; else the numeric prefixes of an `nn.Sequential` in increasing order; else `fc1`
/// alone (whose absence is then the error).
fn layer_prefixes(st: &SafeTensors<'_>) -> Vec<String> {
    let fc = |l: usize| format!("fc{l}");
    if st.tensor("fc1.weight").is_ok() {
        return (1..).map(fc).take_while(|p| st.tensor(&format!("{p}.weight")).is_ok()).collect();
    }
    let mut seq: Vec<usize> =
        st.names().into_iter().filter_map(|n| n.strip_suffix(".weight")?.parse().ok()).collect();
    seq.sort_unstable();
    if seq.is_empty() {
        return vec![fc(1)];
    }
    seq.into_iter().map(|i| i.to_string()).collect()
}

impl Params {
    /// Serializes to safetensors bytes (with PyTorch's `{"format": "pt"}` metadata).
    pub fn to_safetensors(&self) -> Vec<u8> {
        let tensors = self.tensors();
        let bytes: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, _, t)| t.iter().flat_map(|x| x.to_le_bytes()).collect())
            .collect();
        let views = tensors.into_iter().zip(&bytes).map(|((name, shape, _), b)| {
            (name, TensorView::new(Dtype::F32, shape, b).expect("shape matches data"))
        });
        let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
        safetensors::serialize(views, Some(meta)).expect("in-memory serialization cannot fail")
    }

    /// Parses safetensors bytes holding a network of any depth; `path` only names the source
    /// in errors. Its layers are `fc1 … fcL` (`fcₗ.weight` `[nₗ, nₗ₋₁]`, `fcₗ.bias` `[nₗ]`)
    /// or, where there is no `fc1.weight`, an `nn.Sequential`'s linear layers (`0.weight`,
    /// `2.weight`, … in the order of their indices, each with its bias). The first layer takes
    /// 784 inputs, each the previous one's outputs, the last gives 10. When `widths` is given
    /// (input first), the network must have exactly them.
    pub fn from_safetensors_widths(
        path: &Path,
        bytes: &[u8],
        widths: Option<&[usize]>,
    ) -> Result<Self, ParamsError> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|source| ParamsError::Format { path: path.into(), source })?;
        let get = |name: &str| -> Result<TensorView<'_>, ParamsError> {
            let t = st
                .tensor(name)
                .map_err(|_| ParamsError::Missing { path: path.into(), name: name.into() })?;
            if t.dtype() != Dtype::F32 {
                let found = format!("{:?}", t.dtype());
                return Err(ParamsError::Dtype { path: path.into(), name: name.into(), found });
            }
            Ok(t)
        };
        let prefixes = layer_prefixes(&st);
        let mut p = Params { layers: vec![] };
        let mut inputs = INPUTS;
        for (l, prefix) in prefixes.iter().enumerate() {
            let (wn, bn) = (format!("{prefix}.weight"), format!("{prefix}.bias"));
            let w = get(&wn)?;
            let outputs = match *w.shape() {
                [o, i] if o > 0 && i == inputs => o,
                _ => {
                    let o = widths.and_then(|w| w.get(l + 1).copied()).unwrap_or(10);
                    let found = w.shape().to_vec();
                    return Err(ParamsError::Shape {
                        path: path.into(),
                        name: wn,
                        expected: vec![o, inputs],
                        found,
                    });
                }
            };
            let b = get(&bn)?;
            if b.shape() != [outputs] {
                let found = b.shape().to_vec();
                return Err(ParamsError::Shape {
                    path: path.into(),
                    name: bn,
                    expected: vec![outputs],
                    found,
                });
            }
            let mut layer = Layer::zeros(inputs, outputs);
            for (name, t, slot) in [(&wn, &w, &mut layer.weight), (&bn, &b, &mut layer.bias)] {
                for (i, (x, b)) in slot.iter_mut().zip(t.data().chunks_exact(4)).enumerate() {
                    *x = f32::from_le_bytes(b.try_into().expect("4 bytes"));
                    if !x.is_finite() {
                        let name = name.clone();
                        return Err(ParamsError::NonFinite {
                            path: path.into(),
                            name,
                            index: i,
                            value: *x,
                        });
                    }
                }
            }
            p.layers.push(layer);
            inputs = outputs;
        }
        let found = p.widths();
        if inputs != CLASSES {
            return Err(ParamsError::Outputs { path: path.into(), found });
        }
        if let Some(expected) = widths.filter(|w| *w != found.as_slice()) {
            return Err(ParamsError::Widths {
                path: path.into(),
                expected: expected.to_vec(),
                found,
            });
        }
        Ok(p)
    }

    /// Parses safetensors bytes holding the report's network `784 → hidden → 10` (see
    /// [`Params::from_safetensors_widths`]); when `hidden` is given, of that width.
    pub fn from_safetensors(
        path: &Path,
        bytes: &[u8],
        hidden: Option<usize>,
    ) -> Result<Self, ParamsError> {
        let p = Self::from_safetensors_widths(path, bytes, None)?;
        if p.layers.len() != 2 {
            return Err(ParamsError::Depth { path: path.into(), found: p.widths() });
        }
        if let Some(expected) = hidden.filter(|&h| h != p.hidden()) {
            return Err(ParamsError::Hidden { path: path.into(), expected, found: p.hidden() });
        }
        Ok(p)
    }

    /// Reads a safetensors file holding a network of any depth (see
    /// [`Params::from_safetensors_widths`]).
    pub fn load_widths(path: &Path, widths: Option<&[usize]>) -> Result<Self, ParamsError> {
        let bytes =
            std::fs::read(path).map_err(|source| ParamsError::Io { path: path.into(), source })?;
        Self::from_safetensors_widths(path, &bytes, widths)
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Init;

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
        assert!(matches!(&err, ParamsError::Missing { name, .. } if name == "fc2.bias"), "{err}");
        let err =
            Params::from_safetensors(m, &file_with(vec![good("fc1.weight")]), None).unwrap_err();
        assert!(matches!(&err, ParamsError::Missing { name, .. } if name == "fc1.bias"), "{err}");
        let err = Params::from_safetensors(m, &file_with(vec![]), None).unwrap_err();
        assert!(matches!(&err, ParamsError::Missing { name, .. } if name == "fc1.weight"), "{err}");
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
        assert!(matches!(&err, ParamsError::Shape { name, .. } if name == "fc2.weight"), "{err}");
        // fc1 alone, 784 → 10: softmax regression, not the report's network.
        let one = file_with(vec![good("fc1.weight"), good("fc1.bias")]);
        let p = Params::from_safetensors_widths(m, &one, None).unwrap();
        assert_eq!(p.widths(), [INPUTS, CLASSES]);
        let err = Params::from_safetensors(m, &one, None).unwrap_err();
        assert!(err.to_string().contains("widths [784, 10]"), "{err}");
        let mut p = Params::init(3, Init::Uniform, 0).unwrap();
        p.layers[1].bias[4] = f32::NAN;
        let err = Params::from_safetensors(m, &p.to_safetensors(), None).unwrap_err();
        assert!(
            matches!(&err, ParamsError::NonFinite { name, index: 4, .. } if name == "fc2.bias"),
            "{err}"
        );
    }

    /// Any depth, in twinnet's names and in an `nn.Sequential`'s (`0`, `2`, `4`: linear layers
    /// between activations, numbered as PyTorch numbers them, `10` after `8`), and the widths
    /// asked for.
    #[test]
    fn any_depth_and_sequential_names() {
        let m = Path::new("deep.safetensors");
        let p = Params::init_widths(&[INPUTS, 6, 5, 4, 3, CLASSES], Init::Normal, 4);
        let bytes = p.to_safetensors();
        let q = Params::from_safetensors_widths(m, &bytes, None).unwrap();
        assert_eq!(q, p);
        let widths = p.widths();
        assert_eq!(Params::from_safetensors_widths(m, &bytes, Some(&widths)).unwrap(), p);
        let err =
            Params::from_safetensors_widths(m, &bytes, Some(&[INPUTS, 6, CLASSES])).unwrap_err();
        assert!(err.to_string().contains("[784, 6, 5, 4, 3, 10]"), "{err}");
        // The same tensors under nn.Sequential(Linear, ReLU, Linear, …)'s names: 0, 2, 4, 6, 10
        // (the numbers sort as numbers, not text).
        let names = ["0", "2", "4", "6", "10"];
        let tensors = p.tensors();
        let bytes_of = |t: &[f32]| t.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        let data: Vec<Vec<u8>> = tensors.iter().map(|t| bytes_of(t.2)).collect();
        let views = tensors.iter().zip(&data).enumerate().map(|(i, ((n, s, _), b))| {
            let name = format!("{}.{}", names[i / 2], n.rsplit('.').next().unwrap());
            (name, TensorView::new(Dtype::F32, s.clone(), b).unwrap())
        });
        let seq = safetensors::serialize(views, None).unwrap();
        assert_eq!(Params::from_safetensors_widths(m, &seq, None).unwrap(), p);
        // The report's reader names the depth it found.
        let err = Params::from_safetensors(m, &bytes, None).unwrap_err();
        assert!(matches!(err, ParamsError::Depth { .. }), "{err}");
        // A chain that ends anywhere but 10 classes.
        let short = Params::init_widths(&[INPUTS, 6, 5], Init::Normal, 4);
        let err = Params::from_safetensors_widths(m, &short.to_safetensors(), None).unwrap_err();
        assert!(err.to_string().contains("widths [784, 6, 5]"), "{err}");
    }
}
