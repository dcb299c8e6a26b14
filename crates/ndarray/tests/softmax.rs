//! Laws of the softmax head: rows sum to 1, losses stay finite for extreme logits.

use proptest::prelude::*;
use twinnet_core::{Head, CLASSES};
use twinnet_ndarray::fused::{head_row, softmax_row};

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(11), ..ProptestConfig::default() })]

    #[test]
    fn softmax_sums_to_one(z in prop::array::uniform10(-1e38f32..1e38f32)) {
        let p = softmax_row(&z);
        prop_assert!(p.iter().all(|v| v.is_finite() && *v >= 0.0));
        prop_assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn loss_finite_and_gradient_sums_to_zero(z in prop::array::uniform10(-1e38f32..1e38f32), y in 0usize..CLASSES) {
        for head in [Head::Softmax, Head::DoubleSoftmax] {
            let mut dz = z;
            let (loss, _) = head_row(head, &mut dz, y);
            prop_assert!(loss.is_finite() && loss >= 0.0, "{head:?} loss {loss}");
            // Both gradients are orthogonal to 1: softmax is shift invariant.
            prop_assert!(dz.iter().sum::<f32>().abs() < 1e-5, "{head:?} {dz:?}");
        }
    }
}
