//! The shared training loop against a recording backend: batch order, history, divergence.

use std::sync::atomic::AtomicBool;
use twinnet_core::{
    train, Backend, BackendInfo, Batch, Evaluation, Params, Regime, StepStats, TrainConfig,
    TrainError,
};
use twinnet_data::Dataset;

/// Records every batch and every `will_need` hint; its loss is 1, or NaN from step `nan_at` on.
struct Recorder {
    n: usize,
    batches: Vec<Vec<u32>>,
    /// `(steps taken so far, hinted batch)`.
    hints: Vec<(usize, Vec<u32>)>,
    nan_at: usize,
}

impl Backend for Recorder {
    fn train_len(&self) -> usize {
        self.n
    }
    fn step(
        &mut self,
        batch: Batch<'_>,
        _lr: f32,
    ) -> Result<StepStats, twinnet_core::BackendError> {
        let ix: Vec<u32> = match batch {
            Batch::All => (0..self.n as u32).collect(),
            Batch::Indices(ix) => ix.to_vec(),
        };
        self.batches.push(ix.clone());
        let loss = if self.batches.len() >= self.nan_at { f32::NAN } else { 1.0 };
        Ok(StepStats { loss, correct: ix.iter().filter(|&&i| i % 2 == 0).count(), size: ix.len() })
    }
    fn will_need(&mut self, next: Batch<'_>) {
        match next {
            Batch::All => panic!("no hint for full-batch steps"),
            Batch::Indices(ix) => self.hints.push((self.batches.len(), ix.to_vec())),
        }
    }
    fn evaluate(&mut self, _: &Dataset) -> Result<Evaluation, twinnet_core::BackendError> {
        unreachable!()
    }
    fn params(&mut self) -> Result<Params, twinnet_core::BackendError> {
        Ok(Params::zeros(1))
    }
    fn describe(&self) -> BackendInfo {
        BackendInfo {
            library: "recorder".into(),
            device: "cpu".into(),
            numerics: Default::default(),
        }
    }
}

fn run(cfg: TrainConfig, n: usize, nan_at: usize) -> (Recorder, twinnet_core::TrainOutcome) {
    let mut r = Recorder { n, batches: vec![], hints: vec![], nan_at };
    let mut seen = 0;
    let plan = cfg.validate(n).unwrap();
    let out = train(&mut r, &plan, &AtomicBool::new(false), &mut |_| seen += 1).unwrap();
    assert_eq!(seen, out.epochs);
    (r, out)
}

#[test]
fn minibatch_epochs_are_fresh_permutations_with_short_last_batch() {
    let cfg = TrainConfig {
        regime: Regime::Minibatch,
        batch_size: 64,
        epochs: 3,
        seed: 9,
        ..Default::default()
    };
    let (r, out) = run(cfg, 1000, usize::MAX);
    assert_eq!(cfg.validate(1000).unwrap().updates_per_epoch(), 16);
    assert_eq!(out.steps, 48);
    assert_eq!(r.batches[15].len(), 1000 - 15 * 64);
    let epoch = |e: usize| -> Vec<u32> { r.batches[e * 16..(e + 1) * 16].concat() };
    for e in 0..3 {
        let mut ix = epoch(e);
        ix.sort_unstable();
        assert_eq!(ix, (0..1000).collect::<Vec<_>>());
    }
    assert_ne!(epoch(0), epoch(1));
    // Same seed, same order; another seed, another order.
    assert_eq!(run(cfg, 1000, usize::MAX).0.batches, r.batches);
    assert_ne!(run(TrainConfig { seed: 10, ..cfg }, 1000, usize::MAX).0.batches, r.batches);
    // Before each step s of an epoch but its last, the hint names step s + 1.
    let hinted: Vec<(usize, Vec<u32>)> =
        (0..48).filter(|s| s % 16 != 15).map(|s| (s, r.batches[s + 1].clone())).collect();
    assert_eq!(r.hints, hinted);
    // Accuracy counts the even indices: exactly half.
    assert!(out.history.iter().all(|h| (h.train_accuracy - 0.5).abs() < 1e-12));
}

#[test]
fn full_batch_history_every_log_every_and_last() {
    let cfg =
        TrainConfig { regime: Regime::FullBatch, epochs: 10, log_every: 4, ..Default::default() };
    let (r, out) = run(cfg, 10, usize::MAX);
    assert_eq!(r.batches.len(), 10);
    let epochs: Vec<usize> = out.history.iter().map(|h| h.epoch).collect();
    assert_eq!(epochs, [4, 8, 10]);
    assert_eq!(out.history[2].step, 10);
    assert!(out.divergence.is_none());
}

#[test]
fn divergence_stops_at_once() {
    let cfg =
        TrainConfig { regime: Regime::Minibatch, batch_size: 10, epochs: 5, ..Default::default() };
    let (r, out) = run(cfg, 100, 23);
    let d = out.divergence.unwrap();
    assert_eq!((d.epoch, d.step, d.loss.as_str()), (3, 23, "NaN"));
    assert_eq!(r.batches.len(), 23);
    assert_eq!(out.epochs, 2);
}

/// A loss that grows past 10 × the first (finite, but blown up) is divergence too.
#[test]
fn blow_up_is_divergence() {
    struct Growing(usize);
    impl Backend for Growing {
        fn train_len(&self) -> usize {
            8
        }
        fn step(&mut self, _: Batch<'_>, _: f32) -> Result<StepStats, twinnet_core::BackendError> {
            self.0 += 1;
            Ok(StepStats { loss: 3.0 * 2f32.powi(self.0 as i32 - 1), correct: 0, size: 8 })
        }
        fn evaluate(&mut self, _: &Dataset) -> Result<Evaluation, twinnet_core::BackendError> {
            unreachable!()
        }
        fn params(&mut self) -> Result<Params, twinnet_core::BackendError> {
            Ok(Params::zeros(1))
        }
        fn describe(&self) -> BackendInfo {
            BackendInfo {
                library: "growing".into(),
                device: "cpu".into(),
                numerics: Default::default(),
            }
        }
    }
    let plan = TrainConfig { epochs: 100, ..Default::default() }.validate(8).unwrap();
    let out = train(&mut Growing(0), &plan, &AtomicBool::new(false), &mut |_| {}).unwrap();
    // Losses 3, 6, 12, 24, 48: 48 is the first above 10 × 3.
    let d = out.divergence.unwrap();
    assert_eq!((d.step, d.loss.as_str()), (5, "48"));
    assert!(d.reason.contains("exceeds"), "{}", d.reason);
}

#[test]
fn validation_names_the_field() {
    let ok = TrainConfig::default();
    assert!(ok.validate(100).is_ok());
    let cases = [
        (TrainConfig { lr: 0.0, ..ok }, "lr"),
        (TrainConfig { lr: f32::NAN, ..ok }, "lr"),
        (TrainConfig { lr: f32::INFINITY, ..ok }, "lr"),
        (TrainConfig { epochs: 0, ..ok }, "epochs"),
        (TrainConfig { log_every: 0, ..ok }, "log-every"),
        (TrainConfig { regime: Regime::Minibatch, batch_size: 0, ..ok }, "batch-size"),
        (TrainConfig { regime: Regime::Minibatch, batch_size: 101, ..ok }, "batch-size"),
    ];
    for (cfg, field) in cases {
        assert_eq!(cfg.validate(100).unwrap_err().field, field, "{cfg:?}");
    }
    assert_eq!(ok.validate(0).unwrap_err().field, "train-limit");
}

/// A plan checked for one training-set size is refused by a backend holding another.
#[test]
fn plan_for_another_set_is_refused() {
    let plan =
        TrainConfig { regime: Regime::Minibatch, ..Default::default() }.validate(100).unwrap();
    let mut r = Recorder { n: 50, batches: vec![], hints: vec![], nan_at: usize::MAX };
    let err = train(&mut r, &plan, &AtomicBool::new(false), &mut |_| {}).unwrap_err();
    assert!(matches!(err, TrainError::SizeMismatch { planned: 100, held: 50 }), "{err}");
    assert!(r.batches.is_empty(), "no step was taken");
}
