//! Parity: the hand-written gradients of the ndarray backend equal libtorch's autograd.
//!
//! Both backends start from one parameter set and are driven by the shared training loop with
//! one seed, so they see the same batches. After 100 mini-batch steps and after 20 full-batch
//! iterations every parameter tensor agrees within 1e-4 relative to its norm, and so do the
//! losses, for both heads. A change to either side's math breaks this loudly.
//!
//! The data is real MNIST. On synthetic images a pre-activation can land within f32 rounding
//! (~1e-7) of the ReLU kink, where the two libraries' different summation orders pick different
//! sides; the trajectories then part chaotically, which says nothing about the gradients.

use std::sync::atomic::AtomicBool;
use twinnet_core::rng::{Rng, Stream};
use twinnet_core::{
    train, Backend, Device, EpochRecord, Head, Init, ModelConfig, Normalize, Params, Regime,
    TrainConfig, INPUTS,
};
use twinnet_data::Dataset;
use twinnet_ndarray::NdarrayBackend;
use twinnet_tch::{Start, TchBackend, TchBackendError};

/// Random images and labels, seeded.
fn data(n: usize, seed: u64) -> Dataset {
    let mut rng = Rng::new(seed, Stream::Shuffle);
    let px = (0..n * INPUTS).map(|_| rng.below(256) as u8).collect();
    let ls = (0..n).map(|_| rng.below(10) as u8).collect();
    Dataset::new(px, ls)
}

fn rel_diff(a: &[f32], b: &[f32]) -> f64 {
    let num: f64 = a.iter().zip(b).map(|(x, y)| ((x - y) as f64).powi(2)).sum::<f64>().sqrt();
    let den: f64 = b.iter().map(|y| (*y as f64).powi(2)).sum::<f64>().sqrt();
    num / den.max(1e-12)
}

fn run<B: Backend>(b: &mut B, cfg: &TrainConfig) -> Vec<EpochRecord> {
    train(b, cfg, &AtomicBool::new(false), &mut |_| {}).unwrap().history
}

#[test]
fn ndarray_and_tch_agree() {
    const TOL: f64 = 1e-4;
    let dir = twinnet_data::default_data_dir();
    if !dir.join(twinnet_data::FILES[0]).exists()
        && std::env::var_os("TWINNET_REQUIRE_DATA").is_none()
    {
        eprintln!("skipping: no MNIST in {} (run `make data`)", dir.display());
        return;
    }
    let d = twinnet_data::Mnist::load(&dir).unwrap().train.take(6400).unwrap(); // 100 batches of 64
    let combos = [Head::Softmax, Head::DoubleSoftmax]
        .into_iter()
        .flat_map(|h| Normalize::ALL.map(|n| (h, n)));
    for (head, normalize) in combos {
        for (regime, epochs) in [(Regime::Minibatch, 1), (Regime::FullBatch, 20)] {
            let model = ModelConfig { hidden: 10, head, normalize };
            let params = Params::init(10, Init::TorchDefault, 3).unwrap();
            let cfg =
                TrainConfig { regime, epochs, batch_size: 64, lr: 0.1, seed: 5, log_every: 1 };
            assert_eq!(
                cfg.updates_per_epoch(d.len()) * epochs,
                if regime == Regime::Minibatch { 100 } else { 20 }
            );

            let mut nd = NdarrayBackend::new(model, params.clone(), &d, 2).unwrap();
            let mut tc =
                TchBackend::new(model, Start::Params(params.clone()), &d, Device::Cpu, 2).unwrap();
            assert_eq!(tc.params().unwrap(), params, "tch must start from the file's exact values");
            let (hn, ht) = (run(&mut nd, &cfg), run(&mut tc, &cfg));

            for (a, b) in hn.iter().zip(&ht) {
                let rel = (a.train_loss - b.train_loss).abs() / b.train_loss.abs();
                assert!(
                    rel <= TOL,
                    "{head:?} {regime:?} epoch {}: loss {} vs {}",
                    a.epoch,
                    a.train_loss,
                    b.train_loss
                );
            }
            let (pn, pt) = (nd.params().unwrap(), tc.params().unwrap());
            for ((name, _, a), (_, _, b)) in pn.tensors().into_iter().zip(pt.tensors()) {
                let rel = rel_diff(a, b);
                assert!(rel <= TOL, "{head:?} {regime:?} {name}: relative difference {rel:e}");
            }
            // And training moved the parameters far more than the tolerance.
            let moved = rel_diff(&pt.w1, &params.w1).max(rel_diff(&pt.w2, &params.w2));
            assert!(
                moved > 10.0 * TOL,
                "{head:?} {normalize:?} {regime:?}: parameters moved only {moved:e}"
            );
        }
    }
}

#[test]
fn torch_default_init_matches_pytorch_bounds() {
    let d = data(10, 2);
    let model = ModelConfig { hidden: 16, head: Head::Softmax, normalize: Normalize::Unit };
    let p = TchBackend::new(model, Start::Init(Init::TorchDefault, 0), &d, Device::Cpu, 1)
        .unwrap()
        .params()
        .unwrap();
    let max = |t: &[f32]| t.iter().fold(0f32, |m, x| m.max(x.abs()));
    let (b1, b2) = (1.0 / 28.0, 0.25);
    assert!(max(&p.w1) <= b1 && max(&p.w1) > 0.99 * b1 && max(&p.b1) <= b1);
    assert!(max(&p.w2) <= b2 && max(&p.w2) > 0.9 * b2 && max(&p.b2) <= b2);
    // Seeded through tch::manual_seed: the same seed gives the same draw.
    let q = TchBackend::new(model, Start::Init(Init::TorchDefault, 0), &d, Device::Cpu, 1)
        .unwrap()
        .params()
        .unwrap();
    assert_eq!(p, q);
    let u = TchBackend::new(model, Start::Init(Init::Uniform, 1), &d, Device::Cpu, 1)
        .unwrap()
        .params()
        .unwrap();
    assert!(max(&u.w1) <= 0.5 && max(&u.w1) > 0.49);
}

#[test]
fn cuda_without_gpu_is_an_error() {
    let d = data(10, 3);
    let model = ModelConfig::default();
    let r = TchBackend::new(model, Start::Init(Init::Uniform, 0), &d, Device::Cuda, 1);
    if tch::Cuda::is_available() {
        assert!(r.is_ok());
    } else {
        let err = r.unwrap_err();
        assert!(
            matches!(err, TchBackendError::NoCuda) && err.to_string().contains("cuda"),
            "{err}"
        );
        // auto falls back to the CPU.
        let b = TchBackend::new(model, Start::Init(Init::Uniform, 0), &d, Device::Auto, 1).unwrap();
        assert_eq!(b.device(), tch::Device::Cpu);
    }
}

/// The features libtorch computes from the pixels equal the data crate's, bit for bit.
#[test]
fn features_match_the_data_crate() {
    let d = data(50, 4);
    for normalize in Normalize::ALL {
        let xs = d.features(normalize);
        let probe = twinnet_tch::probe_features(&d, normalize);
        assert_eq!(probe.len(), xs.len());
        assert!(probe.iter().zip(&xs).all(|(a, b)| a.to_bits() == b.to_bits()), "{normalize:?}");
    }
}
