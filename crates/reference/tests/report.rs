//! On the report's network the general reference computes what the report-shaped one in the
//! ndarray crate computes (its readable specification of the fused kernels, the report's
//! functions with examples as columns): the same steps to the last few bits of `f64`, for both
//! heads, in both regimes.

use ndarray::Axis;
use twinnet_core::{Head, Init, ModelConfig, Normalize, Params};
use twinnet_ndarray::reference as report;

#[test]
fn the_report_network_is_computed_as_before() {
    let data = twinnet_testkit::random_dataset(300, 4);
    for head in [Head::Softmax, Head::DoubleSoftmax] {
        let config = ModelConfig::report(10, head, Normalize::Symmetric);
        let start = Params::init(10, Init::TorchDefault, 3).unwrap();
        let all: Vec<u32> = (0..300).collect();
        let batches: Vec<Option<Vec<u32>>> =
            vec![None, Some((0..64).collect()), Some((100..164).rev().collect()), None];
        let new = twinnet_reference::trajectory(&config, &start, &data, &batches, 0.1);
        let x = twinnet_reference::features(&config, &data);
        let mut net = report::Parameters::from_params(&start);
        for (i, (b, a)) in batches.iter().zip(&new).enumerate() {
            let rows: Vec<usize> =
                b.as_deref().unwrap_or(&all).iter().map(|&i| i as usize).collect();
            let xb = x.select(Axis(0), &rows);
            let yb: Vec<u8> = rows.iter().map(|&r| data.labels()[r]).collect();
            let (loss, acc) = report::gradient_descent_step(&mut net, head, xb.t(), &yb, 0.1);
            assert!((a.loss - loss).abs() <= 1e-12 * loss.abs(), "{head} step {i}: loss");
            assert_eq!(a.correct, (acc * yb.len() as f64).round() as usize, "{head} step {i}");
            // f32 parameters out of f64 ones: equal unless a sum rounded across an f32 boundary.
            let old = net.to_params();
            let differ = a
                .params
                .tensors()
                .iter()
                .zip(old.tensors().iter())
                .flat_map(|(x, y)| x.2.iter().zip(y.2.iter()))
                .filter(|(x, y)| (*x - *y).abs() > 1e-7 * y.abs().max(1e-3))
                .count();
            assert_eq!(differ, 0, "{head} step {i}");
        }
        let eval = twinnet_testkit::random_dataset(200, 5);
        let (l1, p1) = twinnet_reference::evaluate(&config, &start, &eval);
        let xe = twinnet_reference::features(&config, &eval);
        let f = report::forward_prop(&report::Parameters::from_params(&start), xe.t());
        assert!((l1 - report::loss(head, &f, eval.labels())).abs() <= 1e-12 * l1.abs());
        assert_eq!(p1, report::get_predictions(&f.a2));
    }
}
