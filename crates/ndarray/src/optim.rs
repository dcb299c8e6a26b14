//! `torch.optim`'s update rules from scratch, in `f32` (the formulas: [`twinnet_core::Optimizer`]'s
//! module). Each parameter tensor keeps its own state ([`State`]); scalars that PyTorch computes
//! in Python (`1 − β₁`, the bias corrections, `lr / (1 − β₁ᵗ)`, `1 − ηλ`) are computed here in
//! `f64` and rounded to `f32` once, as PyTorch hands a Python float to its `f32` kernels.

use twinnet_core::Optimizer;

/// One parameter tensor's optimizer state.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// SGD's momentum buffer `b` (empty until the first step: it starts at the first
    /// gradient), or Adam's first moment `m`.
    first: Vec<f32>,
    /// Adam's second moment `v`.
    second: Vec<f32>,
    /// Steps taken, `t`.
    steps: u64,
}

impl State {
    /// One update of `p` with gradient `g` (of the batch's mean loss)
    /// at learning rate `lr`, by `optimizer`, whose weight decay is `decay` for this tensor
    /// ([`Optimizer::decay_of`]).
    ///
    /// ```text
    /// sgd:   g ← g + λp;  b ← g (t = 1) | μb + (1 − τ)g;  g ← g + μb (nesterov) | b;  p ← p − ηg
    /// adam:  g ← g + λp (adam) | p ← p(1 − ηλ) (adamw);  m ← m + (1 − β₁)(g − m);
    ///        v ← β₂v + (1 − β₂)g²;  p ← p − (η/(1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
    /// ```
    pub fn update(
        &mut self,
        optimizer: &Optimizer,
        decay: f64,
        p: &mut [f32],
        g: &mut [f32],
        lr: f32,
    ) {
        assert_eq!(p.len(), g.len(), "a gradient per parameter");
        self.steps += 1;
        let lr64 = lr as f64;
        // Each rule is one pass over the tensor (the same operations per value, in the order of
        // the formulas above, as separate passes would do them).
        let l = decay as f32;
        match *optimizer {
            Optimizer::Sgd { momentum, dampening, nesterov, .. } => {
                let step = -lr;
                if momentum == 0.0 {
                    for (p, &g) in p.iter_mut().zip(g.iter()) {
                        let g = if decay != 0.0 { g + l * *p } else { g };
                        *p += step * g;
                    }
                    return;
                }
                let (mu, keep) = (momentum as f32, (1.0 - dampening) as f32);
                let first = self.first.is_empty();
                if first {
                    self.first = vec![0.0; p.len()];
                }
                let b = &mut self.first[..p.len()];
                for k in 0..p.len() {
                    let g = if decay != 0.0 { g[k] + l * p[k] } else { g[k] };
                    b[k] = if first { g } else { b[k] * mu + keep * g };
                    let d = if nesterov { g + mu * b[k] } else { b[k] };
                    p[k] += step * d;
                }
            }
            Optimizer::Adam { betas, eps, decoupled, .. } => {
                if decoupled {
                    let shrink = (1.0 - lr64 * decay) as f32;
                    p.iter_mut().for_each(|p| *p *= shrink);
                }
                if self.first.is_empty() {
                    self.first = vec![0.0; p.len()];
                    self.second = vec![0.0; p.len()];
                }
                let t = self.steps as f64;
                let (w1, b2, w2) = ((1.0 - betas.0) as f32, betas.1 as f32, (1.0 - betas.1) as f32);
                let step_size = -(lr64 / (1.0 - betas.0.powf(t))) as f32;
                let root = (1.0 - betas.1.powf(t)).sqrt() as f32;
                let eps = eps as f32;
                // The L2 term only for Adam (AdamW decayed p above), zero when λ is.
                let l = if decoupled { 0.0 } else { l };
                let moments = self.first.iter_mut().zip(self.second.iter_mut());
                for ((p, &g), (m, v)) in p.iter_mut().zip(g.iter()).zip(moments) {
                    let g = if l != 0.0 { g + l * *p } else { g };
                    *m += w1 * (g - *m);
                    *v = *v * b2 + w2 * (g * g);
                    let denom = v.sqrt() / root + eps;
                    *p += step_size * (*m / denom);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinnet_core::{Betas, DecayScope};

    /// The rules on one scalar, against the same formulas written out in `f64` by hand: SGD's
    /// buffer starts at the first gradient, Nesterov looks ahead, Adam's bias corrections.
    #[test]
    fn one_scalar_by_hand() {
        let grads = [0.5f32, -0.25, 1.0];
        let sgd = Optimizer::Sgd {
            momentum: 0.9,
            dampening: 0.0,
            nesterov: true,
            weight_decay: 0.0,
            decay: DecayScope::All,
        };
        let (mut s, mut p) = (State::default(), [1.0f32]);
        let (mut b, mut want) = (0.0f64, 1.0f64);
        for (t, &g) in grads.iter().enumerate() {
            s.update(&sgd, 0.0, &mut p, &mut [g], 0.1);
            b = if t == 0 { g as f64 } else { 0.9 * b + g as f64 };
            want -= 0.1 * (g as f64 + 0.9 * b);
        }
        assert!((p[0] as f64 - want).abs() < 1e-6, "{} vs {want}", p[0]);

        let adam = Optimizer::Adam {
            betas: Betas(0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decay: DecayScope::All,
            decoupled: false,
        };
        let (mut s, mut p) = (State::default(), [1.0f32]);
        let (mut m, mut v, mut want) = (0.0f64, 0.0f64, 1.0f64);
        for (t, &g) in grads.iter().enumerate() {
            s.update(&adam, 0.0, &mut p, &mut [g], 0.01);
            let (g, t) = (g as f64, (t + 1) as i32);
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            want -= 0.01 * (m / (1.0 - 0.9f64.powi(t)))
                / ((v / (1.0 - 0.999f64.powi(t))).sqrt() + 1e-8);
        }
        assert!((p[0] as f64 - want).abs() < 1e-6, "{} vs {want}", p[0]);
    }
}
