//! Parameters as safetensors files: PyTorch's `{"format": "pt"}` metadata, one `f32` tensor
//! per name, every name, dtype, shape and value checked on reading.

use super::{tensor_name, Params, ParamsError, INPUTS};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;

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

    /// Parses safetensors bytes holding the report's network; `path` only names the source in
    /// errors. When `hidden` is given, the file must hold a network of that width.
    pub fn from_safetensors(
        path: &Path,
        bytes: &[u8],
        hidden: Option<usize>,
    ) -> Result<Self, ParamsError> {
        let st = SafeTensors::deserialize(bytes)
            .map_err(|source| ParamsError::Format { path: path.into(), source })?;
        let get = |name: String| -> Result<TensorView<'_>, ParamsError> {
            let t = st
                .tensor(&name)
                .map_err(|_| ParamsError::Missing { path: path.into(), name: name.clone() })?;
            if t.dtype() != Dtype::F32 {
                let found = format!("{:?}", t.dtype());
                return Err(ParamsError::Dtype { path: path.into(), name, found });
            }
            Ok(t)
        };
        let w1 = get(tensor_name(1, false))?;
        let found = match *w1.shape() {
            [h, INPUTS] if h > 0 => h,
            _ => {
                let expected = vec![hidden.unwrap_or(10), INPUTS];
                return Err(ParamsError::Shape {
                    path: path.into(),
                    name: tensor_name(1, false),
                    expected,
                    found: w1.shape().to_vec(),
                });
            }
        };
        if let Some(expected) = hidden.filter(|&h| h != found) {
            return Err(ParamsError::Hidden { path: path.into(), expected, found });
        }
        if st.tensor(&tensor_name(3, false)).is_ok() {
            let mut found = vec![INPUTS];
            let mut l = 1;
            while let Ok(t) = st.tensor(&tensor_name(l, false)) {
                found.push(t.shape().first().copied().unwrap_or(0));
                l += 1;
            }
            return Err(ParamsError::Depth { path: path.into(), found });
        }
        let mut p = Self::zeros(found);
        let shapes: Vec<(String, Vec<usize>)> =
            p.tensors().into_iter().map(|(n, s, _)| (n, s)).collect();
        for ((name, expected), slot) in shapes.into_iter().zip(p.tensors_mut()) {
            let t = get(name.clone())?;
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
        let mut p = Params::init(3, Init::Uniform, 0).unwrap();
        p.layers[1].bias[4] = f32::NAN;
        let err = Params::from_safetensors(m, &p.to_safetensors(), None).unwrap_err();
        assert!(
            matches!(&err, ParamsError::NonFinite { name, index: 4, .. } if name == "fc2.bias"),
            "{err}"
        );
    }
}
