//! The optimizer of a run, exactly as `torch.optim` defines it (one parameter group; its
//! hyperparameters in `f64`, as Python holds them, so that `1 − β₁` rounds as in PyTorch): its
//! settings as flags and files give them ([`OptimizerSettings`]), validated once into an
//! [`Optimizer`] that every backend implements. The update rules, for a parameter `p` with
//! gradient `g` (of the batch's mean loss) at step `t = 1, 2, …`, learning rate `η` and weight
//! decay `λ` (on the parameters [`DecayScope`] says):
//! ```text
//! sgd:    g ← g + λp
//!         momentum μ > 0:  b ← g (t = 1),  b ← μb + (1 − τ)g (t > 1)     τ: dampening
//!                          g ← g + μb (nesterov),  g ← b (otherwise)
//!         p ← p − ηg
//! adam:   g ← g + λp
//! adamw:  p ← p(1 − ηλ)
//! both:   m ← m + (1 − β₁)(g − m),  v ← β₂v + (1 − β₂)g²          m, v start at 0
//!         p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
//! ```
//! (`torch.optim.SGD`'s buffer starts at the first gradient, not at zero; `Adam`'s `m` update
//! is `exp_avg.lerp_(g, 1 − β₁)`; ε is added after the bias-corrected square root.)

use crate::{Choice, ConfigError, DecayScope, OptimizerKind};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Adam's `(β₁, β₂)`, written `0.9,0.999` on the command line and `[0.9, 0.999]` in files.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "[f64; 2]", into = "[f64; 2]")]
pub struct Betas(pub f64, pub f64);

impl From<[f64; 2]> for Betas {
    fn from([a, b]: [f64; 2]) -> Self {
        Betas(a, b)
    }
}

impl From<Betas> for [f64; 2] {
    fn from(b: Betas) -> Self {
        [b.0, b.1]
    }
}

impl Default for Betas {
    fn default() -> Self {
        Betas(0.9, 0.999)
    }
}

impl fmt::Display for Betas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{}", self.0, self.1)
    }
}

impl FromStr for Betas {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let [a, b] = parts[..] else {
            return Err(format!("expected two numbers B1,B2 (e.g. 0.9,0.999), got `{s}`"));
        };
        let num = |x: &str| x.parse::<f64>().map_err(|_| format!("`{x}` is not a number"));
        Ok(Betas(num(a)?, num(b)?))
    }
}

/// The optimizer settings of a run, each optional (as flags and files give them).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OptimizerSettings {
    /// `optimizer` (default `sgd`).
    pub kind: Option<OptimizerKind>,
    /// `momentum` (SGD; default 0).
    pub momentum: Option<f64>,
    /// `dampening` (SGD with momentum; default 0).
    pub dampening: Option<f64>,
    /// `nesterov` (SGD with momentum and no dampening).
    pub nesterov: Option<bool>,
    /// `weight-decay` (default 0; AdamW's 0.01, as in PyTorch).
    pub weight_decay: Option<f64>,
    /// `decay` (which parameters weight decay applies to; default all).
    pub decay: Option<DecayScope>,
    /// `betas` (Adam, AdamW; default 0.9,0.999).
    pub betas: Option<Betas>,
    /// `eps` (Adam, AdamW; default 1e-8).
    pub eps: Option<f64>,
}

/// A validated optimizer: what every backend implements, by the module's formulas.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    /// `torch.optim.SGD(momentum, dampening, nesterov, weight_decay)`.
    Sgd {
        /// μ.
        momentum: f64,
        /// τ.
        dampening: f64,
        /// Nesterov's look-ahead.
        nesterov: bool,
        /// λ.
        weight_decay: f64,
        /// Which parameters λ applies to.
        decay: DecayScope,
    },
    /// `torch.optim.Adam` (`decoupled: false`) or `torch.optim.AdamW` (`decoupled: true`).
    Adam {
        /// β₁, β₂.
        betas: Betas,
        /// ε.
        eps: f64,
        /// λ.
        weight_decay: f64,
        /// Which parameters λ applies to.
        decay: DecayScope,
        /// AdamW: `p ← p(1 − ηλ)` instead of `g ← g + λp`.
        decoupled: bool,
    },
}

impl Default for Optimizer {
    fn default() -> Self {
        Optimizer::SGD
    }
}

impl Optimizer {
    /// Plain SGD, `p ← p − ηg`: what twinnet trained with before optimizers were settings.
    pub const SGD: Optimizer = Optimizer::Sgd {
        momentum: 0.0,
        dampening: 0.0,
        nesterov: false,
        weight_decay: 0.0,
        decay: DecayScope::All,
    };

    /// Whether this is plain SGD, `p ← p − ηg`: SGD without momentum or weight decay (whatever
    /// `decay` says of a zero λ), which every backend trains exactly as before optimizers were
    /// settings.
    pub fn is_plain_sgd(&self) -> bool {
        matches!(*self, Optimizer::Sgd { momentum, weight_decay, .. }
            if momentum == 0.0 && weight_decay == 0.0)
    }

    /// Which kind it is.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Optimizer::Sgd { .. } => OptimizerKind::Sgd,
            Optimizer::Adam { decoupled: false, .. } => OptimizerKind::Adam,
            Optimizer::Adam { decoupled: true, .. } => OptimizerKind::AdamW,
        }
    }

    /// λ and the parameters it applies to.
    pub fn decay(&self) -> (f64, DecayScope) {
        match *self {
            Optimizer::Sgd { weight_decay, decay, .. }
            | Optimizer::Adam { weight_decay, decay, .. } => (weight_decay, decay),
        }
    }

    /// λ for a weight (`is_weight`) or a bias: zero for a bias under [`DecayScope::Weights`].
    pub fn decay_of(&self, is_weight: bool) -> f64 {
        match self.decay() {
            (_, DecayScope::Weights) if !is_weight => 0.0,
            (l, _) => l,
        }
    }

    /// Checks `s`, naming the setting that cannot work: a setting of another optimizer
    /// (`momentum` with Adam, `betas` with SGD), Nesterov without momentum or with dampening
    /// (as `torch.optim.SGD` refuses), negative or non-finite values, betas outside `[0, 1)`.
    pub fn from_settings(s: &OptimizerSettings) -> Result<Optimizer, ConfigError> {
        let kind = s.kind.unwrap_or(OptimizerKind::Sgd);
        let name = kind.as_str();
        let not_for = |field: &'static str, given: bool| -> Result<(), ConfigError> {
            if given {
                return Err(ConfigError::new(
                    field,
                    format!("does not apply to --optimizer {name}"),
                ));
            }
            Ok(())
        };
        let at_least_zero = |field: &'static str, v: Option<f64>| -> Result<(), ConfigError> {
            match v {
                Some(x) if !(x.is_finite() && x >= 0.0) => {
                    Err(ConfigError::new(field, format!("must be a finite number ≥ 0, got {x}")))
                }
                _ => Ok(()),
            }
        };
        at_least_zero("momentum", s.momentum)?;
        at_least_zero("dampening", s.dampening)?;
        at_least_zero("weight-decay", s.weight_decay)?;
        at_least_zero("eps", s.eps)?;
        let decay = s.decay.unwrap_or(DecayScope::All);
        match kind {
            OptimizerKind::Sgd => {
                not_for("betas", s.betas.is_some())?;
                not_for("eps", s.eps.is_some())?;
                let momentum = s.momentum.unwrap_or(0.0);
                let dampening = s.dampening.unwrap_or(0.0);
                let nesterov = s.nesterov.unwrap_or(false);
                if nesterov && (momentum == 0.0 || dampening != 0.0) {
                    return Err(ConfigError::new(
                        "nesterov",
                        "needs --momentum above 0 and no --dampening (as torch.optim.SGD)",
                    ));
                }
                if s.dampening.is_some() && momentum == 0.0 {
                    return Err(ConfigError::new("dampening", "needs --momentum above 0"));
                }
                Ok(Optimizer::Sgd {
                    momentum,
                    dampening,
                    nesterov,
                    weight_decay: s.weight_decay.unwrap_or(0.0),
                    decay,
                })
            }
            OptimizerKind::Adam | OptimizerKind::AdamW => {
                not_for("momentum", s.momentum.is_some())?;
                not_for("dampening", s.dampening.is_some())?;
                not_for("nesterov", s.nesterov.is_some())?;
                let betas = s.betas.unwrap_or_default();
                for (i, b) in [betas.0, betas.1].into_iter().enumerate() {
                    if !(0.0..1.0).contains(&b) {
                        return Err(ConfigError::new(
                            "betas",
                            format!("β{} must be in [0, 1), got {b}", i + 1),
                        ));
                    }
                }
                let decoupled = kind == OptimizerKind::AdamW;
                let default_decay = if decoupled { 0.01 } else { 0.0 };
                Ok(Optimizer::Adam {
                    betas,
                    eps: s.eps.unwrap_or(1e-8),
                    weight_decay: s.weight_decay.unwrap_or(default_decay),
                    decay,
                    decoupled,
                })
            }
        }
    }
}

impl fmt::Display for Optimizer {
    /// How summaries name it: `sgd`, `sgd momentum 0.9 nesterov`, `adamw β 0.9,0.999 ε 1e-8
    /// decay 0.01`, … (only what differs from plain).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind().as_str())?;
        match *self {
            Optimizer::Sgd { momentum, dampening, nesterov, .. } => {
                if momentum != 0.0 {
                    write!(f, " momentum {momentum}")?;
                }
                if dampening != 0.0 {
                    write!(f, " dampening {dampening}")?;
                }
                if nesterov {
                    f.write_str(" nesterov")?;
                }
            }
            Optimizer::Adam { betas, eps, .. } => write!(f, " β {betas} ε {eps:e}")?,
        }
        let (l, scope) = self.decay();
        if l != 0.0 {
            write!(f, " decay {l}")?;
            if scope == DecayScope::Weights {
                f.write_str(" (weights)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kind: OptimizerKind) -> OptimizerSettings {
        OptimizerSettings { kind: Some(kind), ..Default::default() }
    }

    #[test]
    fn defaults_are_torch_optims() {
        assert!(Optimizer::from_settings(&Default::default()).unwrap().is_plain_sgd());
        let adamw = Optimizer::from_settings(&settings(OptimizerKind::AdamW)).unwrap();
        assert_eq!(adamw.decay(), (0.01, DecayScope::All));
        let Optimizer::Adam { betas, eps, .. } = adamw else { panic!("{adamw:?}") };
        assert_eq!((betas, eps), (Betas(0.9, 0.999), 1e-8));
        let adam = Optimizer::from_settings(&settings(OptimizerKind::Adam)).unwrap();
        assert_eq!(adam.decay().0, 0.0);
        assert_eq!(adam.to_string(), "adam β 0.9,0.999 ε 1e-8");
    }

    #[test]
    fn settings_that_do_not_apply_are_named() {
        let field = |s: OptimizerSettings| Optimizer::from_settings(&s).unwrap_err().field;
        let sgd = settings(OptimizerKind::Sgd);
        let adam = settings(OptimizerKind::Adam);
        assert_eq!(field(OptimizerSettings { nesterov: Some(true), ..adam }), "nesterov");
        assert_eq!(field(OptimizerSettings { momentum: Some(0.9), ..adam }), "momentum");
        assert_eq!(field(OptimizerSettings { nesterov: Some(true), ..sgd }), "nesterov");
        let damped = OptimizerSettings { momentum: Some(0.9), dampening: Some(0.1), ..sgd };
        assert_eq!(field(OptimizerSettings { nesterov: Some(true), ..damped }), "nesterov");
        assert_eq!(field(OptimizerSettings { betas: Some(Betas(0.9, 0.99)), ..sgd }), "betas");
        assert_eq!(field(OptimizerSettings { betas: Some(Betas(0.9, 1.0)), ..adam }), "betas");
        assert_eq!(field(OptimizerSettings { weight_decay: Some(-1.0), ..sgd }), "weight-decay");
        assert_eq!(field(OptimizerSettings { dampening: Some(0.5), ..sgd }), "dampening");
        assert_eq!("0.9, 0.99".parse::<Betas>(), Ok(Betas(0.9, 0.99)));
        assert!("0.9".parse::<Betas>().is_err());
    }

    /// Files and results spell every choice as the command line does (`adamw`, not
    /// serde's kebab-case `adam-w`).
    #[test]
    fn files_spell_choices_as_flags_do() {
        for k in OptimizerKind::ALL {
            assert_eq!(serde_json::to_string(k).unwrap(), format!("\"{}\"", k.as_str()));
        }
        for d in DecayScope::ALL {
            assert_eq!(serde_json::to_string(d).unwrap(), format!("\"{}\"", d.as_str()));
        }
        let b: Betas = serde_json::from_str("[0.8, 0.99]").unwrap();
        assert_eq!(
            (b, serde_json::to_string(&b).unwrap()),
            (Betas(0.8, 0.99), "[0.8,0.99]".into())
        );
    }

    /// `--decay weights` without a weight decay is plain SGD (the same arithmetic, and a program
    /// without the `optimizers` capability can train it).
    #[test]
    fn a_scope_without_decay_is_plain_sgd() {
        let s = OptimizerSettings { decay: Some(DecayScope::Weights), ..Default::default() };
        let o = Optimizer::from_settings(&s).unwrap();
        assert!(o.is_plain_sgd());
        assert_eq!(o.to_string(), "sgd");
        let s = OptimizerSettings { weight_decay: Some(1e-4), ..s };
        assert!(!Optimizer::from_settings(&s).unwrap().is_plain_sgd());
    }

    #[test]
    fn weights_only_decay_spares_biases() {
        let s = OptimizerSettings {
            weight_decay: Some(1e-4),
            decay: Some(DecayScope::Weights),
            ..Default::default()
        };
        let o = Optimizer::from_settings(&s).unwrap();
        assert_eq!((o.decay_of(true), o.decay_of(false)), (1e-4, 0.0));
        assert_eq!(o.to_string(), "sgd decay 0.0001 (weights)");
    }
}
