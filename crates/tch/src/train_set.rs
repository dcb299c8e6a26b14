//! The training set as the tch backend's steps read it: `u8` rows in Rust, gathered and
//! normalized per mini-batch into reused host tensors; the full set built once on the device.

use tch::{Kind, Tensor};
use twinnet_core::{CLASSES, INPUTS};
use twinnet_data::{Dataset, Normalize};

/// The training set, kept as `u8` pixels and labels in Rust, and the tensors the steps read.
///
/// A mini-batch is what a `DataLoader` hands PyTorch: its rows gathered and normalized on the
/// host (here in Rust, by `Normalize::apply_into`, exactly the values of the full set) into a
/// tensor allocated once per batch size and reused, then moved to the device (a no-op on the
/// CPU). No libtorch operator runs to build it, and the rows read are `u8`, a quarter of the
/// bytes of `f32` features. A full batch is the whole normalized set on the device, built on first use.
#[derive(Debug)]
pub(crate) struct TrainSet {
    pixels: Vec<u8>,
    pub(crate) labels: Vec<u8>,
    norm: Normalize,
    /// Reused host tensors of inputs `[rows, 784]` and labels `[rows]`, by row count.
    buffers: Vec<(usize, Tensor, Tensor)>,
    /// Every example's features and label on the device (full-batch steps).
    all: Option<(Tensor, Tensor)>,
}

/// The normalized features `[n, 784]` on `device`, computed from the `u8` pixels with tensor
/// ops in torchvision's order (`ToTensor`: `p.float() / 255`; `Normalize(0.5, 0.5)`:
/// `(x − 0.5) / 0.5`), so the values equal `Normalize::apply` bit for bit without ever
/// holding a second `f32` copy of the training set in Rust.
pub(crate) fn features(pixels: &[u8], norm: Normalize, device: tch::Device) -> Tensor {
    let px = Tensor::from_slice(pixels).view([-1, INPUTS as i64]).to_device(device);
    // In place after the conversion: one f32 copy of the set at a time, never two.
    let mut x = px.to_kind(Kind::Float);
    drop(px);
    let _ = x.g_div_scalar_(255.0);
    if norm == Normalize::Symmetric {
        let _ = x.g_sub_scalar_(0.5);
        let _ = x.g_div_scalar_(0.5);
    }
    x
}

/// The values of a contiguous `f32` CPU tensor, read in place (no libtorch op runs).
pub(crate) fn cpu_f32s(t: &Tensor) -> Option<&[f32]> {
    let ok = t.device() == tch::Device::Cpu && t.kind() == Kind::Float && t.is_contiguous();
    // SAFETY: a contiguous CPU float tensor holds `numel` f32 at `data_ptr`, alive as long as
    // `t` (borrowed for the slice's lifetime; nothing writes to it meanwhile).
    ok.then(|| unsafe { std::slice::from_raw_parts(t.data_ptr() as *const f32, t.numel()) })
}

/// How many rows of `logits` (`[rows, 10]`) have their arg-max at the row's label, by
/// [`twinnet_core::argmax`] (`torch.argmax`'s rule, tested against it below).
pub(crate) fn count_correct<'a>(logits: &[f32], labels: impl IntoIterator<Item = &'a u8>) -> usize {
    let hit = |(z, &y): &(&[f32], &u8)| twinnet_core::argmax(z) == y as usize;
    logits.chunks_exact(CLASSES).zip(labels).filter(hit).count()
}

impl TrainSet {
    pub(crate) fn new(data: &Dataset, norm: Normalize) -> Self {
        Self {
            pixels: data.pixels().to_vec(),
            labels: data.labels().to_vec(),
            norm,
            buffers: Vec::new(),
            all: None,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.labels.len()
    }

    /// Every example, normalized, and the labels as `i64`, on `device`.
    pub(crate) fn all(&mut self, device: tch::Device) -> (Tensor, Tensor) {
        let (x, y) = self.all.get_or_insert_with(|| {
            let y = Tensor::from_slice(&self.labels).to_kind(Kind::Int64).to_device(device);
            (features(&self.pixels, self.norm, device), y)
        });
        (x.shallow_clone(), y.shallow_clone())
    }

    /// The examples `ix` (checked to be in range), normalized, and their labels as `i64`, on
    /// `device`.
    pub(crate) fn gather(&mut self, ix: &[u32], device: tch::Device) -> (Tensor, Tensor) {
        let rows = ix.len();
        let at = match self.buffers.iter().position(|b| b.0 == rows) {
            Some(at) => at,
            None => {
                let cpu = (Kind::Float, tch::Device::Cpu);
                let x = Tensor::empty([rows as i64, INPUTS as i64], cpu);
                let y = Tensor::empty([rows as i64], (Kind::Int64, tch::Device::Cpu));
                self.buffers.push((rows, x, y));
                self.buffers.len() - 1
            }
        };
        let (_, x, y) = &self.buffers[at];
        // SAFETY: `x` and `y` are contiguous CPU tensors of `rows × 784` f32 and `rows` i64,
        // created above and never handed out past a step: the autograd graph of the previous
        // step, the only other holder of their storage, was freed when that step returned.
        let (xs, ys) = unsafe {
            (
                std::slice::from_raw_parts_mut(x.data_ptr() as *mut f32, rows * INPUTS),
                std::slice::from_raw_parts_mut(y.data_ptr() as *mut i64, rows),
            )
        };
        for ((dst, label), &i) in xs.chunks_exact_mut(INPUTS).zip(ys).zip(ix) {
            let i = i as usize;
            self.norm.apply_into(dst, &self.pixels[i * INPUTS..(i + 1) * INPUTS]);
            *label = self.labels[i] as i64;
        }
        if device == tch::Device::Cpu {
            (x.shallow_clone(), y.shallow_clone())
        } else {
            (x.to_device(device), y.to_device(device))
        }
    }

    /// Asks the CPU to bring the pixel rows of `ix` into its L2 cache.
    pub(crate) fn prefetch(&self, ix: &[u32]) {
        for &i in ix {
            let i = i as usize;
            if let Some(row) = self.pixels.get(i * INPUTS..(i + 1) * INPUTS) {
                twinnet_core::system::prefetch::<true>(row);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gathered mini-batch is exactly those rows of the full normalized set, whatever sizes
    /// came before it (the buffers are reused per size).
    #[test]
    fn gather_equals_index_select_of_the_full_set() {
        let n = 300;
        let px: Vec<u8> = (0..n * INPUTS).map(|k| (k * 7919 % 256) as u8).collect();
        let ls: Vec<u8> = (0..n).map(|k| (k * 31 % 10) as u8).collect();
        let data = Dataset::new(px, ls);
        for norm in Normalize::ALL {
            let mut set = TrainSet::new(&data, norm);
            let (x_all, y_all) = set.all(tch::Device::Cpu);
            let batches: [Vec<u32>; 4] = [
                (0..64).map(|k| (k * 97 % 300) as u32).collect(),
                vec![299, 0, 5, 5, 17, 123, 298],
                (0..64).rev().map(|k| (k * 13 % 300) as u32).collect(),
                (0..300).collect(),
            ];
            for ix in &batches {
                let (x, y) = set.gather(ix, tch::Device::Cpu);
                let t = Tensor::from_slice(&ix.iter().map(|&i| i as i64).collect::<Vec<_>>());
                assert!(x.equal(&x_all.index_select(0, &t)), "{norm:?} {} rows", ix.len());
                assert!(y.equal(&y_all.index_select(0, &t)), "{norm:?} {} labels", ix.len());
            }
            assert_eq!(set.buffers.len(), 3, "one buffer per batch size");
        }
    }

    /// The Rust-side count agrees with libtorch's `argmax(-1) == y`, ties and NaN included.
    #[test]
    fn count_correct_matches_torch_argmax() {
        let mut s = 7u32;
        let mut rnd = move || {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            s >> 16
        };
        let rows = 500;
        // Few distinct values, so rows often hold ties; some NaN.
        let z: Vec<f32> = (0..rows * CLASSES)
            .map(|_| match rnd() % 9 {
                0 => f32::NAN,
                v => v as f32,
            })
            .collect();
        let y: Vec<u8> = (0..rows).map(|_| (rnd() % 10) as u8).collect();
        let t = Tensor::from_slice(&z).view([rows as i64, CLASSES as i64]);
        let want = t
            .argmax(-1, false)
            .eq_tensor(&Tensor::from_slice(&y).to_kind(Kind::Int64))
            .sum(Kind::Int64);
        let want = i64::try_from(&want).unwrap() as usize;
        assert_eq!(count_correct(cpu_f32s(&t).unwrap(), &y), want);
        // Each row alone, so a miscount cannot hide behind a compensating one.
        for r in 0..rows {
            let row = t.get(r as i64);
            let torch = i64::try_from(&row.argmax(0, false)).unwrap() as u8;
            let one = count_correct(&z[r * CLASSES..(r + 1) * CLASSES], &[torch]);
            assert_eq!(one, 1, "row {r}: {:?}", &z[r * CLASSES..(r + 1) * CLASSES]);
        }
    }
}
