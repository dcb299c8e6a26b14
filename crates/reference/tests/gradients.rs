//! The reference's gradients by finite differences, for every depth from 0 to 3 hidden layers,
//! every activation and every head; and its agreement with the report-shaped reference it
//! replaces for `twinnet check`.

use ndarray::{Array1, Array2};
use twinnet_core::rng::{Rng, Stream};
use twinnet_core::{Activation, Choice, Head};
use twinnet_reference::{Layer, Mlp};

/// A network of `widths` with weights and biases drawn from `U[−0.8, 0.8]`.
fn network(widths: &[usize], activation: Activation, head: Head, seed: u64) -> Mlp {
    let mut rng = Rng::new(seed, Stream::Init);
    let mut draw = |n: usize| (0..n).map(|_| rng.uniform(-0.8, 0.8) as f64).collect::<Vec<_>>();
    let layers = widths
        .windows(2)
        .map(|w| Layer {
            weight: Array2::from_shape_vec((w[1], w[0]), draw(w[0] * w[1])).unwrap(),
            bias: Array1::from(draw(w[1])),
        })
        .collect();
    Mlp::new(layers, activation, head)
}

/// A batch of `m` rows of `n` inputs in `[−1, 1]` and labels below `classes`.
fn batch(m: usize, n: usize, classes: usize, seed: u64) -> (Array2<f64>, Vec<u8>) {
    let mut rng = Rng::new(seed, Stream::Shuffle);
    let x = Array2::from_shape_fn((m, n), |_| rng.uniform(-1.0, 1.0) as f64);
    let y = (0..m).map(|i| ((i * 7 + seed as usize) % classes) as u8).collect();
    (x, y)
}

/// Central differences `(L(θ + ε) − L(θ − ε)) / 2ε` against [`Mlp::gradients`] for every
/// parameter of small networks: in `f64` with ε = 1e-6 truncation is O(ε²) and rounding
/// ≈ 1e-16·L/ε, so the two agree to ≈ 1e-9; the tolerance `1e-7 + 1e-5·|g|` is far below any
/// real mistake (a missing σ′, a missing 1/m, a transposed product are off by O(|g|)). A ReLU
/// kink within ε of a pre-activation would break a central difference: the draws are
/// continuous, so one is all but impossible, and the seeds are fixed.
#[test]
fn every_gradient_matches_finite_differences() {
    let eps = 1e-6;
    let mut checked = 0;
    for hidden in [&[][..], &[6][..], &[6, 5][..], &[5, 4, 6][..]] {
        for &activation in Activation::ALL {
            for &head in Head::ALL {
                let widths: Vec<usize> =
                    std::iter::once(7).chain(hidden.iter().copied()).chain([4]).collect();
                let mut net = network(&widths, activation, head, widths.len() as u64);
                let (x, y) = batch(9, 7, 4, 3);
                let (_, grads) = net.gradients(x.view(), &y);
                for l in 0..net.layers.len() {
                    for which in 0..2 {
                        let n = if which == 0 {
                            net.layers[l].weight.len()
                        } else {
                            net.layers[l].bias.len()
                        };
                        for i in 0..n {
                            let slot = |net: &mut Mlp| -> *mut f64 {
                                let layer = &mut net.layers[l];
                                if which == 0 {
                                    &mut layer.weight.as_slice_mut().unwrap()[i]
                                } else {
                                    &mut layer.bias.as_slice_mut().unwrap()[i]
                                }
                            };
                            let loss_at = |net: &mut Mlp, d: f64| {
                                let p = slot(net);
                                // SAFETY: `p` points into `net`, alive and not otherwise
                                // borrowed for these two statements.
                                let old = unsafe { *p };
                                unsafe { *p = old + d };
                                let f = net.forward(x.view());
                                let loss = net.loss(&f, &y);
                                unsafe { *p = old };
                                loss
                            };
                            let numeric =
                                (loss_at(&mut net, eps) - loss_at(&mut net, -eps)) / (2.0 * eps);
                            let g = &grads[l];
                            let analytic = if which == 0 {
                                g.weight.as_slice().unwrap()[i]
                            } else {
                                g.bias.as_slice().unwrap()[i]
                            };
                            assert!(
                                (numeric - analytic).abs() <= 1e-7 + 1e-5 * analytic.abs(),
                                "{widths:?} {activation} {head}: fc{}.{} [{i}]: analytic {analytic:e}, numeric {numeric:e}",
                                l + 1,
                                if which == 0 { "weight" } else { "bias" },
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 4000, "{checked}");
}

/// The losses as their definitions read, on one example: Nielsen's quadratic and
/// cross-entropy costs through σ, and the two softmax heads through their probabilities.
#[test]
fn losses_are_their_definitions() {
    let z = ndarray::arr1(&[0.3, -1.2, 2.0]);
    for &head in Head::ALL {
        let a = twinnet_reference::outputs(head, z.view());
        let got = twinnet_reference::example_loss(head, z.view(), a.view(), 2);
        let sig: Vec<f64> = z.iter().map(|&v| 1.0 / (1.0 + (-v).exp())).collect();
        let soft: Vec<f64> = {
            let e: Vec<f64> = z.iter().map(|v: &f64| v.exp()).collect();
            let s: f64 = e.iter().sum();
            e.iter().map(|v| v / s).collect()
        };
        let want = match head {
            Head::Softmax => -soft[2].ln(),
            Head::DoubleSoftmax => {
                let e: Vec<f64> = soft.iter().map(|v| v.exp()).collect();
                -(e[2] / e.iter().sum::<f64>()).ln()
            }
            Head::SigmoidQuadratic => {
                0.5 * (sig[0].powi(2) + sig[1].powi(2) + (sig[2] - 1.0).powi(2))
            }
            Head::SigmoidCrossEntropy => -((1.0 - sig[0]).ln() + (1.0 - sig[1]).ln() + sig[2].ln()),
        };
        assert!((got - want).abs() < 1e-12, "{head}: {got} vs {want}");
    }
    // Saturated outputs stay finite where the textbook form would take ln 0.
    let z = ndarray::arr1(&[800.0, -800.0]);
    let a = twinnet_reference::outputs(Head::SigmoidCrossEntropy, z.view());
    assert!(twinnet_reference::example_loss(Head::SigmoidCrossEntropy, z.view(), a.view(), 1)
        .is_finite());
}
