//! How each quantity of a scenario compares with its floor: the distances `check` measures and
//! the floors beside them.

use super::report::{Measured, ScenarioCheck};
use super::runs::Run;
use twinnet_core::trajectory::relative_difference;
use twinnet_core::{Params, NAMES};

/// `|a − b| / |b|` (absolute when `b` is 0; NaN when either is not finite, which fails).
pub(super) fn relative(a: f64, b: f64) -> f64 {
    if !a.is_finite() || !b.is_finite() {
        return f64::NAN;
    }
    let d = (a - b).abs();
    if b != 0.0 {
        d / b.abs()
    } else {
        d
    }
}

/// Predictions that differ.
pub(super) fn disagreements(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 + a.len().abs_diff(b.len()) as f64
}

/// `‖(a₁ − a₀) − (b₁ − b₀)‖ / ‖b₁ − b₀‖` for tensor `k` (absolute when b moved nothing).
pub(super) fn update_difference(k: usize, a: (&Params, &Params), b: (&Params, &Params)) -> f64 {
    let t = |p: &Params| p.tensors().into_iter().nth(k).map(|t| t.2.to_vec()).unwrap_or_default();
    let (a0, a1, b0, b1) = (t(a.0), t(a.1), t(b.0), t(b.1));
    let (mut diff, mut norm) = (0f64, 0f64);
    for (((x0, x1), y0), y1) in a0.iter().zip(&a1).zip(&b0).zip(&b1) {
        let (da, db) = (*x1 as f64 - *x0 as f64, *y1 as f64 - *y0 as f64);
        diff += (da - db).powi(2);
        norm += db.powi(2);
    }
    if norm > 0.0 {
        (diff / norm).sqrt()
    } else {
        diff.sqrt()
    }
}

/// The smallest floor a comparison uses: float32's resolution (a floor of exactly zero,
/// from two runs that agree bit for bit, would make any rounding a failure).
pub(super) const MIN_FLOOR: f64 = f32::EPSILON as f64;

/// The smallest floor of a count (correct predictions, predictions that differ): a tenth, so
/// that [`FACTOR`] × it allows one — a prediction on a tie may fall either way.
pub(super) const MIN_COUNT_FLOOR: f64 = 0.1;

/// Every measurement of one scenario: the implementation's run `i` against the reference's
/// `r` (both from `p0`), each quantity's floor the largest of the floor runs' distances from
/// `r` (each with its own start: the reference from one ulp away, the oracle, the reference on
/// the batches' rows in reverse order, twinnet's other backend where built).
pub(super) fn measure(p0: &Params, i: &Run, r: &Run, floors: &[(&Params, &Run)]) -> ScenarioCheck {
    let most = |f: &dyn Fn(&Params, &Run) -> f64| {
        floors.iter().map(|(s, run)| f(s, run)).fold(0.0, f64::max)
    };
    let first_update = match (r.steps.first(), i.steps.first()) {
        (Some(r1), Some(i1)) => NAMES
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let floor = most(&|s, run| {
                    run.steps
                        .first()
                        .map_or(f64::NAN, |f1| update_difference(k, (s, &f1.2), (p0, &r1.2)))
                });
                Measured {
                    what: (*name).into(),
                    update: 1,
                    difference: update_difference(k, (p0, &i1.2), (p0, &r1.2)),
                    floor: floor.max(MIN_FLOOR),
                }
            })
            .collect(),
        _ => vec![],
    };
    let mut horizon = vec![];
    let mut outputs = vec![];
    for (u, (ri, ii)) in r.steps.iter().zip(&i.steps).enumerate() {
        let update = u + 1;
        let at = |run: &Run| run.steps.get(u).cloned();
        let floor = most(&|_, run| at(run).map_or(f64::NAN, |x| relative_difference(&ri.2, &x.2)));
        horizon.push(Measured {
            what: "all parameters".into(),
            update,
            difference: relative_difference(&ri.2, &ii.2),
            floor: floor.max(MIN_FLOOR),
        });
        let floor = most(&|_, run| at(run).map_or(f64::NAN, |x| relative(x.0, ri.0)));
        outputs.push(Measured {
            what: "the step's loss".into(),
            update,
            difference: relative(ii.0, ri.0),
            floor: floor.max(MIN_FLOOR),
        });
        let floor = most(&|_, run| at(run).map_or(f64::NAN, |x| x.1.abs_diff(ri.1) as f64));
        outputs.push(Measured {
            what: "the step's correct count".into(),
            update,
            difference: ii.1.abs_diff(ri.1) as f64,
            floor: floor.max(MIN_COUNT_FLOOR),
        });
    }
    let last = r.steps.len();
    let floor = most(&|_, run| relative(run.evaluation.0, r.evaluation.0));
    outputs.push(Measured {
        what: "the evaluation's loss".into(),
        update: last,
        difference: relative(i.evaluation.0, r.evaluation.0),
        floor: floor.max(MIN_FLOOR),
    });
    let floor = most(&|_, run| disagreements(&run.evaluation.1, &r.evaluation.1));
    outputs.push(Measured {
        what: "the evaluation's predictions (how many differ)".into(),
        update: last,
        difference: disagreements(&i.evaluation.1, &r.evaluation.1),
        floor: floor.max(MIN_COUNT_FLOOR),
    });
    ScenarioCheck { name: String::new(), skipped: None, first_update, horizon, outputs }
}
