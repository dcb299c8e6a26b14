//! The general `f32` path against the float64 reference: 0 to 3 hidden layers × relu,
//! sigmoid, tanh × the four heads, three steps each (full batch, then two mini-batches); and
//! its bits independent of everything but the inputs.

use ndarray::Array2;
use twinnet_core::rng::{Rng, Stream};
use twinnet_core::{Activation, Choice, Head, Init, Params};
use twinnet_ndarray::general::{self, Mlp};

/// Relative distance of two parameter sets.
fn distance(a: &Params, b: &Params) -> f64 {
    twinnet_core::trajectory::relative_difference(a, b)
}

/// f32 against f64 after a few steps: each product rounds at ~6e-8 relative and the three
/// updates compound it over at most four layers, so parameters agree to ~1e-6; `2e-5` leaves
/// room and is far below a real mistake (a missing σ′ or 1/m moves them by 1e-3 or more after
/// one step at lr 0.5). Losses the same way; correct counts exactly (no near-ties in these
/// draws).
#[test]
fn the_general_path_follows_the_reference() {
    let (n_in, n_out, m) = (24, 10, 40);
    let mut rng = Rng::new(7, Stream::Shuffle);
    let x: Vec<f32> = (0..m * n_in).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let y: Vec<u8> = (0..m).map(|i| (i * 3 % n_out) as u8).collect();
    let rows: Vec<&[f32]> = x.chunks(n_in).collect();
    let batches: [Vec<usize>; 3] = [(0..m).collect(), (0..16).collect(), (20..36).rev().collect()];
    let x64 = Array2::from_shape_vec((m, n_in), x.iter().map(|&v| v as f64).collect()).unwrap();
    let mut cases = 0;
    for hidden in [&[][..], &[12][..], &[12, 9][..], &[9, 7, 11][..]] {
        let widths: Vec<usize> =
            std::iter::once(n_in).chain(hidden.iter().copied()).chain([n_out]).collect();
        for &activation in Activation::ALL {
            for &head in Head::ALL {
                let start = Params::init_widths(&widths, Init::TorchDefault, widths.len() as u64);
                let mut fast = Mlp::new(&start, activation, head);
                let mut slow = twinnet_reference::Mlp::from_params(&start, activation, head);
                let what = format!("{widths:?} {activation} {head}");
                for (s, b) in batches.iter().enumerate() {
                    let rb: Vec<&[f32]> = b.iter().map(|&i| rows[i]).collect();
                    let yb: Vec<u8> = b.iter().map(|&i| y[i]).collect();
                    let got = fast.step(&rb, &yb, 0.5, 1);
                    let (loss, correct) =
                        slow.step(x64.select(ndarray::Axis(0), b).view(), &yb, 0.5);
                    assert!(
                        (got.loss - loss).abs() <= 2e-5 * loss.abs().max(1e-3),
                        "{what} step {s}: loss {} vs {loss}",
                        got.loss
                    );
                    assert_eq!(got.correct, correct, "{what} step {s}");
                    let d = distance(&slow.to_params(), &fast.params());
                    assert!(d <= 2e-5, "{what} step {s}: parameters {d:e} apart");
                }
                let (out, preds) = fast.evaluate(&rows, &y, 1);
                let f = slow.forward(x64.view());
                assert_eq!(preds, slow.predictions(&f), "{what}");
                assert!(
                    (out.loss - slow.loss(&f, &y)).abs() <= 2e-5 * out.loss.abs().max(1e-3),
                    "{what}"
                );
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 4 * 3 * 4);
}

/// Every optimizer (momentum, dampening, Nesterov, weight decay on all or on weights, Adam,
/// AdamW) on the general path follows the float64 reference's rules step by step (ten steps,
/// mini-batches and full batches), within the bound above; and a wrong rule does not.
#[test]
fn optimizers_follow_the_reference() {
    use twinnet_core::{Betas, DecayScope, Optimizer, OptimizerKind, OptimizerSettings};
    let (n_in, n_out, m) = (24, 10, 40);
    let mut rng = Rng::new(8, Stream::Shuffle);
    let x: Vec<f32> = (0..m * n_in).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let y: Vec<u8> = (0..m).map(|i| (i * 7 % n_out) as u8).collect();
    let rows: Vec<&[f32]> = x.chunks(n_in).collect();
    let x64 = Array2::from_shape_vec((m, n_in), x.iter().map(|&v| v as f64).collect()).unwrap();
    let sgd = OptimizerSettings::default();
    let adam = OptimizerSettings { kind: Some(OptimizerKind::Adam), ..sgd };
    let settings = [
        OptimizerSettings { momentum: Some(0.9), ..sgd },
        OptimizerSettings {
            momentum: Some(0.9),
            nesterov: Some(true),
            weight_decay: Some(0.01),
            ..sgd
        },
        OptimizerSettings {
            momentum: Some(0.5),
            dampening: Some(0.3),
            weight_decay: Some(0.05),
            decay: Some(DecayScope::Weights),
            ..sgd
        },
        OptimizerSettings { weight_decay: Some(0.1), ..adam },
        OptimizerSettings {
            kind: Some(OptimizerKind::AdamW),
            betas: Some(Betas(0.8, 0.99)),
            ..sgd
        },
        OptimizerSettings {
            kind: Some(OptimizerKind::AdamW),
            weight_decay: Some(0.1),
            decay: Some(DecayScope::Weights),
            eps: Some(1e-6),
            ..sgd
        },
    ];
    let widths = [n_in, 12, 9, n_out];
    let start = Params::init_widths(&widths, Init::TorchDefault, 5);
    // Mini-batches of 16, every third step the full batch.
    let batch = |step: usize| -> Vec<usize> {
        if step % 3 == 2 {
            (0..m).collect()
        } else {
            (step * 4..step * 4 + 16).map(|i| i % m).collect()
        }
    };
    let lr = |o: &Optimizer| if o.kind() == OptimizerKind::Sgd { 0.2 } else { 0.01 };
    for s in settings {
        let o = Optimizer::from_settings(&s).unwrap();
        let mut fast = Mlp::new(&start, Activation::Tanh, Head::Softmax).with_optimizer(o);
        let mut slow = twinnet_reference::Mlp::from_params(&start, Activation::Tanh, Head::Softmax);
        let mut state = twinnet_reference::OptimizerState::default();
        for step in 0..10 {
            let b = batch(step);
            let rb: Vec<&[f32]> = b.iter().map(|&i| rows[i]).collect();
            let yb: Vec<u8> = b.iter().map(|&i| y[i]).collect();
            fast.step(&rb, &yb, lr(&o) as f32, 1);
            slow.step_with(x64.select(ndarray::Axis(0), &b).view(), &yb, lr(&o), &o, &mut state);
            let d = distance(&slow.to_params(), &fast.params());
            assert!(d <= 2e-5, "{o} step {step}: parameters {d:e} apart");
        }
        // The same steps under plain SGD end far away: the comparison can fail.
        let mut plain = Mlp::new(&start, Activation::Tanh, Head::Softmax);
        for step in 0..10 {
            let b = batch(step);
            let rb: Vec<&[f32]> = b.iter().map(|&i| rows[i]).collect();
            let yb: Vec<u8> = b.iter().map(|&i| y[i]).collect();
            plain.step(&rb, &yb, lr(&o) as f32, 1);
        }
        assert!(distance(&slow.to_params(), &plain.params()) > 1e-3, "{o}: no different from SGD");
    }
}

/// A planted mistake is caught: the same comparison fails when σ′ is left out of the quadratic
/// cost's output error (what a from-scratch port most often gets wrong).
#[test]
fn the_comparison_sees_a_missing_derivative() {
    let z = [0.3f32, -1.2, 2.0, 0.1];
    let (mut a, mut d) = ([0f32; 4], [0f32; 4]);
    general::head(Head::SigmoidQuadratic, &z, 2, &mut a, &mut d);
    let without: Vec<f32> =
        a.iter().enumerate().map(|(k, &v)| v - if k == 2 { 1.0 } else { 0.0 }).collect();
    let zz = ndarray::arr1(&z.map(|v| v as f64));
    let a64 = twinnet_reference::outputs(Head::SigmoidQuadratic, zz.view());
    let want = twinnet_reference::output_error(Head::SigmoidQuadratic, a64.view(), 2);
    for k in 0..4 {
        assert!((d[k] as f64 - want[k]).abs() < 1e-6);
    }
    assert!(without.iter().zip(want.iter()).any(|(w, r)| (*w as f64 - r).abs() > 1e-2));
}

/// The pinned order: a dot product is the same whether its slices start aligned or not, and
/// equals the formula written out.
#[test]
fn dot_products_add_in_one_order() {
    let a: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin()).collect();
    let b: Vec<f32> = (0..37).map(|i| (i as f32 * 0.11).cos()).collect();
    let mut acc = [0f32; 8];
    for c in 0..4 {
        for l in 0..8 {
            acc[l] += a[c * 8 + l] * b[c * 8 + l];
        }
    }
    let tail: f32 = (32..37).map(|k| a[k] * b[k]).sum();
    let want =
        ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
    assert_eq!(general::dot(&a, &b).to_bits(), want.to_bits());
    let shifted: Vec<f32> = std::iter::once(0.0).chain(a.iter().copied()).collect();
    assert_eq!(general::dot(&shifted[1..], &b).to_bits(), want.to_bits());
}

/// The blocked products (AVX2 where the CPU has it) compute exactly the plain loops' bits:
/// [`general::dot`] per output, one [`general::axpy`] per example or output, in order. Sizes
/// that are multiples of neither the block (4) nor the lanes (8), batches beyond the 128
/// examples `accumulate` takes at a time, and gradients of a range of outputs (a thread's).
#[test]
fn blocked_products_are_the_plain_loops() {
    for (m, n_in, n_out) in [(7, 37, 6), (1, 8, 1), (300, 21, 13), (131, 64, 4)] {
        let mut rng = Rng::new(3, Stream::Shuffle);
        let mut draw = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.uniform(-1.0, 1.0)).collect() };
        let (x, w, b, d) = (draw(m * n_in), draw(n_out * n_in), draw(n_out), draw(m * n_out));
        let rows: Vec<&[f32]> = x.chunks(n_in).collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        let shape = format!("m {m}, n_in {n_in}, n_out {n_out}");

        let mut z = vec![0f32; m * n_out];
        general::affine(&w, &b, &rows, &mut z);
        let mut want = vec![0f32; m * n_out];
        for i in 0..m {
            for j in 0..n_out {
                want[i * n_out + j] = general::dot(&w[j * n_in..(j + 1) * n_in], rows[i]) + b[j];
            }
        }
        assert_eq!(bits(&z), bits(&want), "affine, {shape}");

        let start = draw(n_out * n_in);
        let mut want = start.clone();
        for i in 0..m {
            for j in 0..n_out {
                general::axpy(d[i * n_out + j], rows[i], &mut want[j * n_in..(j + 1) * n_in]);
            }
        }
        let mut g = start.clone();
        general::accumulate(&d, &rows, 0..n_out, &mut g);
        assert_eq!(bits(&g), bits(&want), "accumulate, {shape}");
        let half = n_out / 2;
        let mut g = start;
        let (g0, g1) = g.split_at_mut(half * n_in);
        general::accumulate(&d, &rows, half..n_out, g1);
        general::accumulate(&d, &rows, 0..half, g0);
        assert_eq!(bits(&g), bits(&want), "accumulate in two ranges, {shape}");

        let mut back = draw(m * n_in); // overwritten, not added to
        general::back_propagate(&d, &w, n_out, &mut back);
        let mut want = vec![0f32; m * n_in];
        for i in 0..m {
            for j in 0..n_out {
                let out = &mut want[i * n_in..(i + 1) * n_in];
                general::axpy(d[i * n_out + j], &w[j * n_in..(j + 1) * n_in], out);
            }
        }
        assert_eq!(bits(&back), bits(&want), "back_propagate, {shape}");
    }
}
