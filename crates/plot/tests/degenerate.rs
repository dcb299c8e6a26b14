//! Figures of curves with nothing or nothing finite to show draw, and promptly (an empty curve
//! on a log axis once sent plotters' tick search into an endless loop).

use std::sync::mpsc;
use std::time::Duration;
use twinnet_core::EpochRecord;
use twinnet_plot::{
    draw_curves, draw_drift, draw_seed_curves, DriftLine, DriftPanel, GroupView, RunView,
};

/// Runs `f` on a thread of its own; fails if it takes longer than 30 s or returns an error.
fn within_30s(f: impl FnOnce() -> Result<(), twinnet_plot::PlotError> + Send + 'static) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f().map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(r) => r.expect("the figure draws"),
        Err(_) => panic!("drawing did not finish within 30 s"),
    }
}

fn record(epoch: usize, acc: f64) -> EpochRecord {
    EpochRecord {
        epoch,
        step: epoch,
        train_loss: 1.0,
        train_accuracy: acc,
        elapsed_s: epoch as f64,
        test_accuracy: None,
        test_loss: None,
    }
}

#[test]
fn empty_and_non_finite_curves_draw() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("curves");
    within_30s(move || {
        let odd = vec![record(1, f64::NAN), record(2, 0.5), record(3, f64::INFINITY)];
        let runs = [
            RunView { label: "diverged at once", history: &[], confusion: None },
            RunView { label: "odd values", history: &odd, confusion: None },
        ];
        draw_curves(&runs, "degenerate", &stem)?;
        draw_curves(&runs[..1], "only empty", &stem)
    });
    assert!(dir.path().join("curves.png").exists());
}

#[test]
fn empty_seed_groups_draw() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("seeds");
    within_30s(move || {
        let g =
            GroupView { label: "g", histories: vec![&[], &[]], test_accuracies: vec![None, None] };
        draw_seed_curves(&[g], "degenerate", &stem)
    });
}

#[test]
fn infinite_and_missing_drift_draws() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("drift");
    within_30s(move || {
        let d = [(1.0, f64::INFINITY), (2.0, f64::NAN), (3.0, 0.0)];
        let a = [(1.0, f64::NAN)];
        let lines = vec![
            DriftLine { label: "odd", drift: &d, accuracy: &a },
            DriftLine { label: "none", drift: &[], accuracy: &[] },
        ];
        draw_drift(&[DriftPanel { title: "s", lines }], "degenerate", &stem)
    });
}
