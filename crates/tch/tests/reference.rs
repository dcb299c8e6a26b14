//! The float64 reference (`twinnet-reference`) against libtorch's autograd in float64, for
//! every depth from 0 to 3 hidden layers, every activation and every head: the losses and
//! every gradient. libtorch computes each loss its own way — `log_softmax` and `nll_loss`,
//! `binary_cross_entropy_with_logits`, `mse`-style sums — so the two share no code.

use ndarray::{Array1, Array2};
use tch::{Kind, Reduction, Tensor};
use twinnet_core::rng::{Rng, Stream};
use twinnet_core::{Activation, Choice, Head};
use twinnet_reference::{Layer, Mlp};

fn tensor(a: &Array2<f64>) -> Tensor {
    let (r, c) = a.dim();
    Tensor::from_slice(a.as_slice().unwrap()).reshape([r as i64, c as i64])
}

fn vec_of(t: &Tensor) -> Vec<f64> {
    let t = t.to_kind(Kind::Double).contiguous().view([-1]);
    Vec::<f64>::try_from(&t).unwrap()
}

#[test]
fn the_reference_agrees_with_autograd() {
    let (m, n_in, n_out) = (11, 8, 5);
    let mut compared = 0;
    for hidden in [&[][..], &[7][..], &[6, 9][..], &[5, 4, 6][..]] {
        for &activation in Activation::ALL {
            for &head in Head::ALL {
                let widths: Vec<usize> =
                    std::iter::once(n_in).chain(hidden.iter().copied()).chain([n_out]).collect();
                let mut rng = Rng::new(widths.len() as u64 * 31, Stream::Init);
                let mut draw =
                    |n: usize| (0..n).map(|_| rng.uniform(-0.9, 0.9) as f64).collect::<Vec<f64>>();
                let layers: Vec<Layer> = widths
                    .windows(2)
                    .map(|w| Layer {
                        weight: Array2::from_shape_vec((w[1], w[0]), draw(w[0] * w[1])).unwrap(),
                        bias: Array1::from(draw(w[1])),
                    })
                    .collect();
                let x = Array2::from_shape_vec((m, n_in), draw(m * n_in)).unwrap();
                let y: Vec<u8> = (0..m).map(|i| (i * 3 % n_out) as u8).collect();
                let net = Mlp::new(layers.clone(), activation, head);
                let (f, grads) = net.gradients(x.view(), &y);
                let loss = net.loss(&f, &y);

                // libtorch, in float64.
                let params: Vec<(Tensor, Tensor)> = layers
                    .iter()
                    .map(|l| {
                        (
                            tensor(&l.weight).set_requires_grad(true),
                            Tensor::from_slice(l.bias.as_slice().unwrap()).set_requires_grad(true),
                        )
                    })
                    .collect();
                let mut a = tensor(&x);
                for (i, (w, b)) in params.iter().enumerate() {
                    let z = a.linear(w, Some(b));
                    a = if i + 1 < params.len() {
                        match activation {
                            Activation::Relu => z.relu(),
                            Activation::Sigmoid => z.sigmoid(),
                            Activation::Tanh => z.tanh(),
                        }
                    } else {
                        z
                    };
                }
                let z = a;
                let labels = Tensor::from_slice(&y.iter().map(|&k| k as i64).collect::<Vec<_>>());
                let one_hot = labels.one_hot(n_out as i64).to_kind(Kind::Double);
                let t_loss = match head {
                    Head::Softmax => z.log_softmax(1, Kind::Double).nll_loss(&labels),
                    Head::DoubleSoftmax => {
                        z.softmax(1, Kind::Double).log_softmax(1, Kind::Double).nll_loss(&labels)
                    }
                    Head::SigmoidQuadratic => {
                        (z.sigmoid() - &one_hot).square().sum(Kind::Double) * 0.5 / m as f64
                    }
                    Head::SigmoidCrossEntropy => {
                        z.binary_cross_entropy_with_logits::<Tensor>(
                            &one_hot,
                            None,
                            None,
                            Reduction::Sum,
                        ) / m as f64
                    }
                };
                t_loss.backward();
                let tl = t_loss.double_value(&[]);
                let what = format!("{widths:?} {activation} {head}");
                assert!(
                    (tl - loss).abs() <= 1e-12 * loss.abs().max(1.0),
                    "{what}: loss {loss} vs {tl}"
                );
                for (l, ((w, b), g)) in params.iter().zip(&grads).enumerate() {
                    for (name, t, ours) in [
                        ("weight", w, g.weight.iter().copied().collect::<Vec<f64>>()),
                        ("bias", b, g.bias.to_vec()),
                    ] {
                        let theirs = vec_of(&t.grad());
                        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
                            assert!(
                                (a - b).abs() <= 1e-12 + 1e-10 * b.abs(),
                                "{what}: fc{}.{name}[{i}]: reference {a:e}, autograd {b:e}",
                                l + 1
                            );
                            compared += 1;
                        }
                    }
                }
                // And the predictions: the arg-max of the outputs.
                let preds = vec_of(&z.argmax(1, false));
                let ours = net.predictions(&f);
                assert_eq!(preds.iter().map(|&p| p as u8).collect::<Vec<_>>(), ours, "{what}");
            }
        }
    }
    assert!(compared > 5000, "{compared}");
}
