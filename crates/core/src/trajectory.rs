//! How far two training trajectories drift apart: snapshots of a backend's parameters at
//! chosen updates, the distance between two parameter sets, and a one-ulp nudge of one weight.
//!
//! ```text
//! drift(u) = ‖θ_a(u) − θ_b(u)‖₂ / ‖θ_a(u)‖₂      over all parameters, after u updates
//! ```
//! Two runs that differ only in the order of a few sums start at drift ≈ 1e-8 (f32's rounding)
//! and part as rounding differences are amplified, most at ReLU kinks; a run from another seed
//! starts at drift ≈ 1. The noise-floor experiment (`twinnet drift`) measures both and places
//! every other difference between them.

use crate::backend::{Backend, BackendError, BackendInfo, Batch, Evaluation, StepStats};
use crate::params::Params;
use twinnet_data::Dataset;

/// `p` with every parameter moved one `f32` ulp, up and down in turn: the start of the floor
/// run that `twinnet check` and the conformance suite measure beside the reference.
pub fn one_ulp_everywhere(p: &Params) -> Params {
    let mut q = p.clone();
    for v in q.tensors_mut() {
        for (i, x) in v.iter_mut().enumerate() {
            *x = if i % 2 == 0 { x.next_up() } else { x.next_down() };
        }
    }
    q
}

/// `‖a − b‖₂ / ‖a‖₂` over every parameter, summed in `f64` (0 when `a` is all zeros and
/// equals `b`, infinite when only `a` is).
///
/// # Panics
/// If the two sets are networks of different widths.
pub fn relative_difference(a: &Params, b: &Params) -> f64 {
    assert_eq!(a.widths(), b.widths(), "parameter sets of different widths");
    let (mut diff, mut norm) = (0f64, 0f64);
    for ((_, _, x), (_, _, y)) in a.tensors().into_iter().zip(b.tensors()) {
        for (&x, &y) in x.iter().zip(y) {
            diff += (x as f64 - y as f64).powi(2);
            norm += (x as f64).powi(2);
        }
    }
    match (diff, norm) {
        (0.0, _) => 0.0,
        (_, 0.0) => f64::INFINITY,
        _ => (diff / norm).sqrt(),
    }
}

/// One parameter moved to the next larger `f32` (one ulp up): `tensor` is one of the
/// network's tensors (`fc1.weight`, …), `index` its position (`[row, column]` for a weight, `[i]` for a bias).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nudge {
    /// `fc1.weight`, `fc1.bias`, …, `fcL.bias`.
    pub tensor: String,
    /// The entry's position, one index per dimension.
    pub index: Vec<usize>,
}

/// A [`Nudge`] that does not name an entry of the parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NudgeError {
    /// No tensor of that name.
    #[error("nudge: no tensor `{0}` (expected fc1.weight, fc1.bias, …, up to the last layer's fcL.bias)")]
    Tensor(String),
    /// The index has the wrong number of dimensions or lies outside the shape.
    #[error("nudge: index {index:?} is not inside `{tensor}` of shape {shape:?}")]
    Index {
        /// The tensor's name.
        tensor: String,
        /// The index given.
        index: Vec<usize>,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
}

impl Nudge {
    /// Moves the named entry of `p` one ulp up (`f32::next_up`); returns its old and new value.
    pub fn apply(&self, p: &mut Params) -> Result<(f32, f32), NudgeError> {
        let Some(k) = p.tensors().iter().position(|t| t.0 == self.tensor) else {
            return Err(NudgeError::Tensor(self.tensor.clone()));
        };
        let shape = p.tensors()[k].1.clone();
        let inside =
            self.index.len() == shape.len() && self.index.iter().zip(&shape).all(|(i, n)| i < n);
        if !inside {
            return Err(NudgeError::Index {
                tensor: self.tensor.clone(),
                index: self.index.clone(),
                shape,
            });
        }
        let flat = self.index.iter().zip(&shape).fold(0, |f, (i, n)| f * n + i);
        let t = p.tensors_mut().swap_remove(k);
        let old = t[flat];
        t[flat] = old.next_up();
        Ok((old, t[flat]))
    }
}

impl std::fmt::Display for Nudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ix: Vec<String> = self.index.iter().map(|i| i.to_string()).collect();
        write!(f, "{}[{}] + 1 ulp", self.tensor, ix.join(", "))
    }
}

/// The updates after which to look at the parameters: about `per_decade` log-spaced ones from
/// 1 to `total` (so the first updates, where drift starts, are seen one by one) and every
/// multiple of `every` (each epoch's end), sorted, without repeats.
pub fn schedule(total: usize, every: usize, per_decade: usize) -> Vec<usize> {
    let mut at: Vec<usize> = (1..=total).step_by(every.max(1)).map(|u| u + every - 1).collect();
    at.retain(|&u| u <= total);
    if per_decade > 0 && total > 0 {
        let decades = (total as f64).log10();
        let k_max = (decades * per_decade as f64).ceil() as usize;
        at.extend(
            (0..=k_max)
                .map(|k| 10f64.powf(k as f64 / per_decade as f64).round() as usize)
                .filter(|&u| (1..=total).contains(&u)),
        );
    }
    at.push(total);
    at.retain(|&u| u >= 1);
    at.sort_unstable();
    at.dedup();
    at
}

/// A backend that copies its parameters after the updates of a [`schedule`], and is otherwise
/// the backend itself (the same steps, the same bits).
#[derive(Debug)]
pub struct Snapshots<B> {
    inner: B,
    at: Vec<usize>,
    next: usize,
    steps: usize,
    taken: Vec<(usize, Params)>,
}

impl<B: Backend> Snapshots<B> {
    /// Watches `inner`, copying its parameters after each update number in `at` (sorted).
    pub fn new(inner: B, at: Vec<usize>) -> Self {
        debug_assert!(at.windows(2).all(|w| w[0] < w[1]), "the schedule must be sorted");
        Self { inner, at, next: 0, steps: 0, taken: vec![] }
    }

    /// The snapshots taken so far: `(updates made, parameters)`, in update order.
    pub fn taken(&self) -> &[(usize, Params)] {
        &self.taken
    }

    /// The backend and the snapshots.
    pub fn into_parts(self) -> (B, Vec<(usize, Params)>) {
        (self.inner, self.taken)
    }
}

impl<B: Backend> Backend for Snapshots<B> {
    fn train_len(&self) -> usize {
        self.inner.train_len()
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, BackendError> {
        let s = self.inner.step(batch, lr)?;
        self.steps += 1;
        if self.at.get(self.next) == Some(&self.steps) {
            self.taken.push((self.steps, self.inner.params()?));
            self.next += 1;
        }
        Ok(s)
    }

    fn will_need(&mut self, next: Batch<'_>) {
        self.inner.will_need(next)
    }

    fn will_need_epoch(&mut self, order: &[u32], batch_size: usize) {
        self.inner.will_need_epoch(order, batch_size)
    }

    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError> {
        self.inner.evaluate(data)
    }

    fn params(&mut self) -> Result<Params, BackendError> {
        self.inner.params()
    }

    fn describe(&self) -> BackendInfo {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Init;

    #[test]
    fn relative_difference_is_the_norm_ratio() {
        let a = Params::init(3, Init::Uniform, 0).unwrap();
        assert_eq!(relative_difference(&a, &a), 0.0);
        let mut b = a.clone();
        b.layers[1].bias[0] += 1.0;
        let norm: f64 =
            a.tensors().iter().flat_map(|t| t.2.iter()).map(|&x| (x as f64).powi(2)).sum();
        let d = relative_difference(&a, &b);
        assert!((d - 1.0 / norm.sqrt()).abs() < 1e-6 / norm.sqrt(), "{d}");
        let z = Params::zeros(3);
        assert_eq!(relative_difference(&z, &z), 0.0);
        assert_eq!(relative_difference(&z, &a), f64::INFINITY);
    }

    #[test]
    fn nudge_moves_one_entry_one_ulp() {
        let p = Params::init(10, Init::Uniform, 0).unwrap();
        let mut q = p.clone();
        let n = Nudge { tensor: "fc1.weight".into(), index: vec![2, 406] };
        let (old, new) = n.apply(&mut q).unwrap();
        assert_eq!(old, p.layers[0].weight[2 * 784 + 406]);
        assert_eq!(new.to_bits(), if old > 0.0 { old.to_bits() + 1 } else { old.to_bits() - 1 });
        let changed: Vec<usize> = (0..p.layers[0].weight.len())
            .filter(|&i| p.layers[0].weight[i] != q.layers[0].weight[i])
            .collect();
        assert_eq!(changed, [2 * 784 + 406]);
        assert_eq!((&p.layers[0].bias, &p.layers[1]), (&q.layers[0].bias, &q.layers[1]));
        let mut r = p.clone();
        Nudge { tensor: "fc2.bias".into(), index: vec![9] }.apply(&mut r).unwrap();
        assert_ne!(r.layers[1].bias[9], p.layers[1].bias[9]);
        assert_eq!(n.to_string(), "fc1.weight[2, 406] + 1 ulp");
        let bad = |t: &str, ix: Vec<usize>| {
            Nudge { tensor: t.into(), index: ix }.apply(&mut p.clone()).unwrap_err().to_string()
        };
        assert!(bad("fc3.weight", vec![0]).contains("no tensor `fc3.weight`"));
        assert!(bad("fc1.weight", vec![10, 0]).contains("[10, 784]"));
        assert!(bad("fc1.bias", vec![0, 0]).contains("shape [10]"));
    }

    #[test]
    fn schedule_is_log_spaced_plus_every_epoch() {
        let s = schedule(3 * 938, 938, 10);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert!([1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 32, 40, 50, 63, 79, 100, 126]
            .iter()
            .all(|u| s.contains(u)));
        assert!([938, 1876, 2814].iter().all(|u| s.contains(u)));
        assert_eq!(*s.last().unwrap(), 2814);
        assert_eq!(schedule(5, 1, 0), [1, 2, 3, 4, 5]);
        assert_eq!(schedule(0, 1, 10), Vec::<usize>::new());
    }
}
