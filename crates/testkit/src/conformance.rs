//! The `Backend` contract, checked the same way for every backend (as every burn backend runs
//! `burn-backend-tests`): a backend's test file calls [`conformance_suite!`](crate::conformance_suite)
//! with a function that builds it, and gets one `#[test]` per clause.
//!
//! ```text
//! params_round_trip            params() of a fresh backend = its starting parameters, bit
//!                              for bit, under PyTorch's names and shapes
//! step_reports_the_forward_pass  step()'s loss and correct count are those of the forward
//!                              pass before the update (= evaluate() on the batch just before)
//! all_equals_indices           Batch::All = Batch::Indices(0..n), storage order, bit for bit
//! bad_index_is_batch_error     an index ≥ n is BackendError::Batch, parameters unchanged
//! evaluate_leaves_params       evaluate() changes no parameter
//! agrees_with_the_reference    from the same start on the same batches, within a floor
//!                              measured here against the slow f64 reference
//! deterministic                the same run twice gives the same bits
//! matrix (opt-in)              agrees_with_the_reference for 0–3 hidden layers × relu,
//!                              sigmoid, tanh × the four heads
//! ```
//!
//! The reference is the model step by step in `f64` (`twinnet_reference`).
//! Its floor is measured on the spot: the reference from the same start with every parameter
//! moved one `f32` ulp (a rounding of each parameter, the least an `f32` implementation adds
//! per update), run over the same batches. A backend in `f32` rounds every parameter once per
//! update, so it may be up to `updates × floor` away; the check allows [`FLOOR_FACTOR`] times
//! that, and a wrong gradient (a missing ReLU mask, a doubled bias gradient) lands orders of
//! magnitude above it.

use crate::learnable_dataset;
use twinnet_core::train::BatchOrder;
use twinnet_core::trajectory::one_ulp_everywhere;
use twinnet_core::trajectory::relative_difference;
use twinnet_core::{
    Activation, Backend, BackendError, Batch, Choice, Head, Hidden, Init, Model, ModelConfig,
    Normalize, Params, NAMES,
};
use twinnet_data::Dataset;
use twinnet_reference as reference;

/// Builds the backend under test from a model and a training set.
pub type Factory = fn(&Model, &Dataset) -> Result<Box<dyn Backend>, BackendError>;

/// Training examples of the suite's data set.
pub const N: usize = 192;
/// Rows per mini-batch step.
pub const BATCH: usize = 32;
/// Learning rate of every step.
pub const LR: f32 = 0.1;
/// Mini-batch updates of the reference check.
pub const MINIBATCH_UPDATES: usize = 12;
/// Full-batch updates of the reference check.
pub const FULL_BATCH_UPDATES: usize = 6;
/// How far above `updates × floor` a backend may land (see the module's doc).
pub const FLOOR_FACTOR: f64 = 4.0;

/// The suite's four models: both heads, both pixel normalizations, hidden width 7.
pub fn models() -> Vec<Model> {
    let mut out = vec![];
    for (head, normalize, init) in [
        (Head::Softmax, Normalize::Unit, Init::Uniform),
        (Head::DoubleSoftmax, Normalize::Symmetric, Init::TorchDefault),
        (Head::Softmax, Normalize::Symmetric, Init::TorchDefault),
        (Head::DoubleSoftmax, Normalize::Unit, Init::Uniform),
    ] {
        let config = ModelConfig::report(7, head, normalize);
        let params = Params::init(7, init, 3).expect("hidden 7");
        out.push(Model::new(config, params).expect("widths agree"));
    }
    out
}

/// The matrix of networks every backend that trains any multilayer perceptron must agree on:
/// 0 to 3 hidden layers × relu, sigmoid, tanh × the four heads, inits and normalizations
/// varied along the way (pixels `unit` or `symmetric`; `torch-default`, `normal-scaled`,
/// `normal` and `uniform` in turn).
pub fn matrix_models() -> Vec<Model> {
    let inits = [Init::TorchDefault, Init::NormalScaled, Init::Normal, Init::Uniform];
    let mut out = vec![];
    for hidden in [&[][..], &[7][..], &[7, 5][..], &[6, 5, 4][..]] {
        for &activation in Activation::ALL {
            for &head in Head::ALL {
                let k = out.len();
                let normalize = if (k / Head::ALL.len()) % 2 == 0 {
                    Normalize::Unit
                } else {
                    Normalize::Symmetric
                };
                let config = ModelConfig {
                    hidden: Hidden::new(hidden.to_vec()),
                    activation,
                    head,
                    normalize,
                };
                let params =
                    Params::init_widths(&config.widths(), inits[k % inits.len()], k as u64);
                out.push(Model::new(config, params).expect("widths agree"));
            }
        }
    }
    out
}

/// [`agrees_with_the_reference`] over [`matrix_models`]: every depth, activation and head,
/// mini-batch and full-batch, within the floor's bound of the f64 reference.
pub fn matrix_agrees_with_the_reference(factory: Factory) {
    agree_over(factory, matrix_models());
}

/// The suite's training set (learnable, seeded).
pub fn data() -> Dataset {
    learnable_dataset(N, 11)
}

fn build(factory: Factory, model: &Model, data: &Dataset) -> Box<dyn Backend> {
    factory(model, data).unwrap_or_else(|e| panic!("the factory failed: {e}"))
}

fn bits(p: &Params) -> Vec<u32> {
    p.tensors().into_iter().flat_map(|(_, _, v)| v.iter().map(|x| x.to_bits())).collect()
}

/// The mini-batches of the suite: twinnet's batch order for seed 5, `BATCH` rows each.
fn batches(updates: usize) -> Vec<Vec<u32>> {
    let mut order = BatchOrder::new(N, 5);
    let mut out = vec![];
    while out.len() < updates {
        out.extend(order.next_epoch(N).chunks(BATCH).map(|c| c.to_vec()));
    }
    out.truncate(updates);
    out
}

/// `params()` of a fresh backend equals its starting parameters bit for bit, under PyTorch's
/// names and shapes.
pub fn params_round_trip(factory: Factory) {
    let d = data();
    for m in models() {
        let mut b = build(factory, &m, &d);
        assert_eq!(b.train_len(), N, "train_len");
        let p = b.params().expect("params");
        let names: Vec<String> = p.tensors().into_iter().map(|t| t.0).collect();
        assert_eq!(names, NAMES, "tensor names");
        let shapes: Vec<Vec<usize>> = p.tensors().into_iter().map(|t| t.1).collect();
        assert_eq!(shapes, [vec![7, 784], vec![7], vec![10, 7], vec![10]], "shapes");
        assert_eq!(bits(&p), bits(m.params()), "parameters changed by building the backend");
    }
}

/// `step` returns the loss and correct count of the forward pass before its update: those of
/// `evaluate` on the same rows just before it.
pub fn step_reports_the_forward_pass(factory: Factory) {
    let d = data();
    for m in models() {
        let mut b = build(factory, &m, &d);
        for ix in batches(3) {
            let rows = subset(&d, &ix);
            let before = b.evaluate(&rows).expect("evaluate");
            let s = b.step(Batch::Indices(&ix), LR).expect("step");
            let correct = before.predictions.iter().zip(rows.labels()).filter(|(p, y)| p == y);
            assert_eq!(s.size, ix.len(), "size");
            assert_eq!(s.correct, correct.count(), "correct count of the forward pass");
            let rel = (s.loss as f64 - before.loss).abs() / before.loss.abs().max(1e-12);
            // The step's loss is f32; evaluate's is summed in f64: a few f32 ulps apart.
            assert!(rel < 1e-5, "step loss {} vs evaluate's {} ({rel:e})", s.loss, before.loss);
        }
    }
}

/// `Batch::All` is `Batch::Indices(0..n)` in storage order: the same statistics and the same
/// parameters after the update, bit for bit.
pub fn all_equals_indices(factory: Factory) {
    let d = data();
    let all: Vec<u32> = (0..N as u32).collect();
    for m in models() {
        let (mut x, mut y) = (build(factory, &m, &d), build(factory, &m, &d));
        let (sx, sy) = (x.step(Batch::All, LR).unwrap(), y.step(Batch::Indices(&all), LR).unwrap());
        assert_eq!(
            (sx.loss.to_bits(), sx.correct, sx.size),
            (sy.loss.to_bits(), sy.correct, sy.size)
        );
        assert_eq!(bits(&x.params().unwrap()), bits(&y.params().unwrap()), "parameters differ");
    }
}

/// An index outside the training set is `BackendError::Batch` naming it, and changes nothing.
pub fn bad_index_is_batch_error(factory: Factory) {
    let d = data();
    let m = &models()[0];
    let mut b = build(factory, m, &d);
    let before = bits(&b.params().unwrap());
    match b.step(Batch::Indices(&[0, N as u32, 1]), LR) {
        Err(BackendError::Batch(e)) => assert_eq!((e.index, e.len), (N as u32, N)),
        other => panic!("expected a BatchError, got {other:?}"),
    }
    assert_eq!(bits(&b.params().unwrap()), before, "a rejected batch changed the parameters");
    b.step(Batch::Indices(&[0, 1]), LR).expect("the backend still works afterwards");
}

/// `evaluate` changes no parameter.
pub fn evaluate_leaves_params(factory: Factory) {
    let d = data();
    for m in models() {
        let mut b = build(factory, &m, &d);
        b.step(Batch::All, LR).unwrap();
        let before = bits(&b.params().unwrap());
        let e = b.evaluate(&d).unwrap();
        assert_eq!(e.predictions.len(), N);
        assert!(e.loss.is_finite(), "loss {}", e.loss);
        assert_eq!(bits(&b.params().unwrap()), before, "evaluate changed the parameters");
    }
}

/// The rows `ix` of `d`, as a data set.
fn subset(d: &Dataset, ix: &[u32]) -> Dataset {
    let px = ix.iter().flat_map(|&i| d.image(i as usize).iter().copied()).collect();
    let ls = ix.iter().map(|&i| d.labels()[i as usize]).collect();
    Dataset::new(px, ls)
}

/// The f64 reference over `batches` (`None`: full batch) from `start`: the oracle
/// (`twinnet_reference::trajectory`) that `twinnet check` trusts too.
fn reference_run(m: &Model, start: &Params, d: &Dataset, batches: &[Option<Vec<u32>>]) -> Params {
    reference::trajectory(m.config(), start, d, batches, LR as f64)
        .pop()
        .map_or_else(|| start.clone(), |s| s.params)
}

/// How far a backend ends from the f64 reference, and the bound the floor gives.
#[derive(Debug, Clone, Copy)]
pub struct Agreement {
    /// `‖θ_backend − θ_ref‖ / ‖θ_ref‖` after the run.
    pub distance: f64,
    /// The reference against itself from a start one ulp away, after the same updates.
    pub floor: f64,
    /// `FLOOR_FACTOR × updates × floor`.
    pub bound: f64,
}

/// The backend's distance from the f64 reference after `batches`, and its bound.
pub fn agreement(factory: Factory, m: &Model, batches: &[Option<Vec<u32>>]) -> Agreement {
    let d = data();
    let mut b = build(factory, m, &d);
    for batch in batches {
        match batch {
            Some(ix) => b.step(Batch::Indices(ix), LR).unwrap(),
            None => b.step(Batch::All, LR).unwrap(),
        };
    }
    let theirs = b.params().unwrap();
    let exact = reference_run(m, m.params(), &d, batches);
    let nudged = reference_run(m, &one_ulp_everywhere(m.params()), &d, batches);
    let floor = relative_difference(&exact, &nudged);
    let bound = FLOOR_FACTOR * batches.len() as f64 * floor;
    Agreement { distance: relative_difference(&exact, &theirs), floor, bound }
}

/// From the same start on the same batches (mini-batch, then full-batch), the backend ends
/// within the measured floor's bound of the f64 reference, for every model of the suite.
pub fn agrees_with_the_reference(factory: Factory) {
    agree_over(factory, models());
}

/// Each of `models`, mini-batch then full-batch, within its bound of the f64 reference.
fn agree_over(factory: Factory, models: Vec<Model>) {
    let mini: Vec<Option<Vec<u32>>> = batches(MINIBATCH_UPDATES).into_iter().map(Some).collect();
    let full = vec![None; FULL_BATCH_UPDATES];
    for m in models {
        for (regime, run) in [("mini-batch", &mini), ("full-batch", &full)] {
            let a = agreement(factory, &m, run);
            let c = m.config();
            let what = format!(
                "hidden {} {} {} head, {} pixels, {regime}",
                c.hidden, c.activation, c.head, c.normalize
            );
            eprintln!(
                "{what}: distance {:.2e}, floor {:.2e}, bound {:.2e}",
                a.distance, a.floor, a.bound
            );
            assert!(a.floor > 0.0, "{what}: the floor measured nothing");
            assert!(
                a.distance <= a.bound,
                "{what}: {:.2e} from the f64 reference, above the bound {:.2e} ({FLOOR_FACTOR} × \
                 {} updates × the one-ulp floor {:.2e})",
                a.distance,
                a.bound,
                run.len(),
                a.floor
            );
        }
    }
}

/// The same run twice gives the same bits.
pub fn deterministic(factory: Factory) {
    let d = data();
    let m = &models()[1];
    let run = || {
        let mut b = build(factory, m, &d);
        for ix in batches(5) {
            b.step(Batch::Indices(&ix), LR).unwrap();
        }
        b.step(Batch::All, LR).unwrap();
        bits(&b.params().unwrap())
    };
    assert_eq!(run(), run(), "two identical runs differ");
}

/// One `#[test]` per clause of the contract, for the backend `factory` builds (a
/// [`Factory`]): `conformance_suite!(my_factory);` in a test file;
/// `conformance_suite!(my_factory, matrix);` adds [`matrix_agrees_with_the_reference`] for a
/// backend that trains any multilayer perceptron.
#[macro_export]
macro_rules! conformance_suite {
    ($factory:expr, matrix) => {
        $crate::conformance_suite!($factory);
        #[test]
        fn conformance_matrix_agrees_with_the_reference() {
            $crate::conformance::matrix_agrees_with_the_reference($factory)
        }
    };
    ($factory:expr) => {
        mod conformance {
            use super::*;
            #[test]
            fn params_round_trip() {
                $crate::conformance::params_round_trip($factory)
            }
            #[test]
            fn step_reports_the_forward_pass() {
                $crate::conformance::step_reports_the_forward_pass($factory)
            }
            #[test]
            fn all_equals_indices() {
                $crate::conformance::all_equals_indices($factory)
            }
            #[test]
            fn bad_index_is_batch_error() {
                $crate::conformance::bad_index_is_batch_error($factory)
            }
            #[test]
            fn evaluate_leaves_params() {
                $crate::conformance::evaluate_leaves_params($factory)
            }
            #[test]
            fn agrees_with_the_reference() {
                $crate::conformance::agrees_with_the_reference($factory)
            }
            #[test]
            fn deterministic() {
                $crate::conformance::deterministic($factory)
            }
        }
    };
}
