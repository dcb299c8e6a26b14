//! Optimizers other than plain SGD, on tensors, written out as `torch.optim`'s single-tensor
//! implementations are (the formulas: [`twinnet_core::Optimizer`]'s module). tch's own
//! optimizers are libtorch's C++ ones, which differ from Python's: C++ `Adam` forms `m` as
//! `m·β₁ + (1 − β₁)g` where Python's uses `lerp`, and weight decay on weights only would need
//! parameter groups. Plain SGD keeps tch's `nn::Sgd` (the committed results' bits).
//!
//! tch has no `alpha` or `value` arguments (`add(other, alpha)`, `addcdiv(t1, t2, value)`),
//! so `g + λp` is `g + (p·λ)` here: the same value up to one rounding where ATen fuses the
//! multiply into the add.

use tch::Tensor;
use twinnet_core::Optimizer;

/// One parameter and its state.
#[derive(Debug)]
struct Slot {
    param: Tensor,
    decay: f64,
    /// SGD's momentum buffer (from the first gradient) or Adam's `m`.
    first: Option<Tensor>,
    /// Adam's `v`.
    second: Option<Tensor>,
}

/// The parameters of a network and their optimizer state.
#[derive(Debug)]
pub(crate) struct TensorOptimizer {
    optimizer: Optimizer,
    slots: Vec<Slot>,
    steps: u64,
}

impl TensorOptimizer {
    /// `optimizer` over `params` (each with whether it is a weight, in the network's order).
    pub(crate) fn new(optimizer: Optimizer, params: Vec<(Tensor, bool)>) -> Self {
        let slots = params
            .into_iter()
            .map(|(param, is_weight)| Slot {
                param,
                decay: optimizer.decay_of(is_weight),
                first: None,
                second: None,
            })
            .collect();
        Self { optimizer, slots, steps: 0 }
    }

    /// Forgets every gradient (`zero_grad(set_to_none=True)`'s effect on the next backward).
    pub(crate) fn zero_grad(&mut self) {
        for s in &mut self.slots {
            let mut g = s.param.grad();
            if g.defined() {
                let _ = g.detach_();
                let _ = g.zero_();
            }
        }
    }

    /// One update from the gradients of the last backward pass, at learning rate `lr`.
    pub(crate) fn step(&mut self, lr: f64) {
        self.steps += 1;
        let t = self.steps as f64;
        let optimizer = self.optimizer;
        tch::no_grad(|| {
            for s in &mut self.slots {
                let grad = s.param.grad();
                match optimizer {
                    Optimizer::Sgd { momentum, dampening, nesterov, .. } => {
                        let mut d =
                            if s.decay != 0.0 { &grad + &s.param * s.decay } else { grad.copy() };
                        if momentum != 0.0 {
                            let buf = match s.first.take() {
                                None => d.copy(),
                                Some(b) => b * momentum + &d * (1.0 - dampening),
                            };
                            d = if nesterov { &d + &buf * momentum } else { buf.copy() };
                            s.first = Some(buf);
                        }
                        let _ = s.param.g_sub_(&(d * lr));
                    }
                    Optimizer::Adam { betas, eps, decoupled, .. } => {
                        let g = if decoupled {
                            let _ = s.param.g_mul_scalar_(1.0 - lr * s.decay);
                            grad.copy()
                        } else if s.decay != 0.0 {
                            &grad + &s.param * s.decay
                        } else {
                            grad.copy()
                        };
                        let mut m = s.first.take().unwrap_or_else(|| g.zeros_like());
                        let v = s.second.take().unwrap_or_else(|| g.zeros_like());
                        let _ = m.lerp_(&g, 1.0 - betas.0);
                        let v = v * betas.1 + &g * &g * (1.0 - betas.1);
                        let step_size = lr / (1.0 - betas.0.powf(t));
                        let root = (1.0 - betas.1.powf(t)).sqrt();
                        let denom = v.sqrt() / root + eps;
                        let _ = s.param.g_sub_(&((&m / denom) * step_size));
                        s.first = Some(m);
                        s.second = Some(v);
                    }
                }
            }
        });
    }
}
