//! `torch.optim`'s rules in `f64` (the formulas: [`twinnet_core::Optimizer`]'s module), for
//! [`crate::Mlp::step_with`]: the oracle of `twinnet check --optimizer` and of the tests.

use crate::Mlp;
use ndarray::ArrayView2;
use twinnet_core::Optimizer;

impl Mlp {
    /// [`Mlp::step`] with `optimizer`'s rule instead of plain gradient descent (its state in
    /// `state`, one entry per tensor: fc1.weight, fc1.bias, …).
    pub fn step_with(
        &mut self,
        x: ArrayView2<f64>,
        y: &[u8],
        alpha: f64,
        optimizer: &Optimizer,
        state: &mut OptimizerState,
    ) -> (f64, usize) {
        let (f, grads) = self.gradients(x, y);
        let loss = self.loss(&f, y);
        let correct = self.predictions(&f).iter().zip(y).filter(|(p, t)| p == t).count();
        state.steps += 1;
        if state.tensors.is_empty() {
            state.tensors = vec![Default::default(); 2 * self.layers.len()];
        }
        for (l, (layer, g)) in self.layers.iter_mut().zip(&grads).enumerate() {
            let (w, b) = (layer.weight.as_slice_mut(), layer.bias.as_slice_mut());
            let (w, b) = (w.expect("standard layout"), b.expect("standard layout"));
            let (gw, gb) = (g.weight.as_slice(), g.bias.as_slice());
            let (gw, gb) = (gw.expect("standard layout"), gb.expect("standard layout"));
            let t = state.steps;
            state.tensors[2 * l].update(optimizer, optimizer.decay_of(true), w, gw, alpha, t);
            state.tensors[2 * l + 1].update(optimizer, optimizer.decay_of(false), b, gb, alpha, t);
        }
        (loss, correct)
    }
}

/// The state of `torch.optim`'s rules over a network's tensors, in `f64`.
#[derive(Debug, Clone, Default)]
pub struct OptimizerState {
    pub(crate) tensors: Vec<TensorState>,
    pub(crate) steps: u64,
}

/// One tensor's momentum buffer (from the first gradient) or Adam's `m`, and Adam's `v`.
#[derive(Debug, Clone, Default)]
pub(crate) struct TensorState {
    first: Vec<f64>,
    second: Vec<f64>,
}

impl TensorState {
    /// The rules of [`twinnet_core::Optimizer`]'s module, step `t`, weight decay `decay`.
    pub(crate) fn update(
        &mut self,
        o: &Optimizer,
        decay: f64,
        p: &mut [f64],
        g: &[f64],
        lr: f64,
        t: u64,
    ) {
        let mut g: Vec<f64> = g.to_vec();
        match *o {
            Optimizer::Sgd { momentum, dampening, nesterov, .. } => {
                for (g, p) in g.iter_mut().zip(p.iter()) {
                    *g += decay * p;
                }
                if momentum != 0.0 {
                    if self.first.is_empty() {
                        self.first = g.clone();
                    } else {
                        for (b, g) in self.first.iter_mut().zip(&g) {
                            *b = momentum * *b + (1.0 - dampening) * g;
                        }
                    }
                    for (g, b) in g.iter_mut().zip(&self.first) {
                        *g = if nesterov { *g + momentum * b } else { *b };
                    }
                }
                for (p, g) in p.iter_mut().zip(&g) {
                    *p -= lr * g;
                }
            }
            Optimizer::Adam { betas, eps, decoupled, .. } => {
                for (g, p) in g.iter_mut().zip(p.iter_mut()) {
                    if decoupled {
                        *p *= 1.0 - lr * decay;
                    } else {
                        *g += decay * *p;
                    }
                }
                if self.first.is_empty() {
                    (self.first, self.second) = (vec![0.0; p.len()], vec![0.0; p.len()]);
                }
                let (b1, b2) = (betas.0, betas.1);
                let (c1, c2) = (1.0 - b1.powf(t as f64), 1.0 - b2.powf(t as f64));
                for (((p, g), m), v) in
                    p.iter_mut().zip(&g).zip(&mut self.first).zip(&mut self.second)
                {
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *p -= lr * (*m / c1) / ((*v / c2).sqrt() + eps);
                }
            }
        }
    }
}
