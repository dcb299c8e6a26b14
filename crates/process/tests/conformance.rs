//! The `Backend` contract (`twinnet_testkit::conformance`) on the process backend, with the
//! float32 NumPy implementation written for the tests; and sending steps ahead changes no bit.

mod common;

use common::{numpy_command, start};
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use twinnet_core::trajectory::Snapshots;
use twinnet_core::{
    train, Backend, BackendError, Model, Optimizer, OptimizerKind, OptimizerSettings, TrainConfig,
};
use twinnet_data::Dataset;

fn process(model: &Model, data: &Dataset) -> Result<Box<dyn Backend>, BackendError> {
    let b = start(&numpy_command(""), model, data, twinnet_process::AHEAD, Duration::from_secs(60))
        .map_err(BackendError::failed)?;
    Ok(Box::new(b))
}

twinnet_testkit::conformance_suite!(process, matrix);

/// Steps sent ahead (and taken back when the parameters are asked for mid-epoch, and at a
/// divergence) give the same bits as one step at a time: with plain SGD (the parameters are
/// the state) and with optimizers that keep state of their own (momentum, Adam's moments),
/// which `twinnet_backend.serve` keeps by copying the whole net.
#[test]
fn sending_ahead_changes_no_bit() {
    let data = twinnet_testkit::conformance::data();
    let base = &twinnet_testkit::conformance::models()[1];
    let momentum =
        OptimizerSettings { momentum: Some(0.9), nesterov: Some(true), ..Default::default() };
    let adam = OptimizerSettings { kind: Some(OptimizerKind::Adam), ..Default::default() };
    for settings in [OptimizerSettings::default(), momentum, adam] {
        let optimizer = Optimizer::from_settings(&settings).unwrap();
        sends_ahead_the_same(&data, &base.clone().with_optimizer(optimizer));
    }
}

fn sends_ahead_the_same(data: &Dataset, model: &Model) {
    let cfg = TrainConfig {
        regime: twinnet_core::Regime::Minibatch,
        batch_size: 16,
        epochs: 3,
        ..TrainConfig::default()
    };
    let plan = cfg.validate(data.len()).unwrap();
    let run = |ahead: usize| {
        let b = start(&numpy_command(""), model, data, ahead, Duration::from_secs(60)).unwrap();
        // Snapshots after updates 1, 5, 13 and 20 make the backend settle mid-epoch.
        let mut s = Snapshots::new(b, vec![1, 5, 13, 20]);
        let out = train(&mut s, &plan, &AtomicBool::new(false), &mut |_| {}).unwrap();
        let mut b = s;
        let end = b.params().unwrap();
        let (_, snaps) = b.into_parts();
        (out.history, end, snaps)
    };
    let (h0, p0, s0) = run(0);
    let (h1, p1, s1) = run(twinnet_process::AHEAD);
    let o = model.optimizer();
    assert_eq!(p0, p1, "{o}: final parameters");
    assert_eq!(s0, s1, "{o}: snapshots");
    let strip = |h: &[twinnet_core::EpochRecord]| -> Vec<(usize, u64, u64)> {
        h.iter().map(|r| (r.step, r.train_loss.to_bits(), r.train_accuracy.to_bits())).collect()
    };
    assert_eq!(strip(&h0), strip(&h1), "{o}: history");
}
