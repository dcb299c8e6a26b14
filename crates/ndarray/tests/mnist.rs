//! The report's NumPy experiment on real MNIST: 500 full-batch iterations from `uniform` init
//! on `unit` pixels reach the report's test accuracy (83.41%; roughly 83–86% across seeds).

use std::sync::atomic::AtomicBool;
use twinnet_core::{
    train, Backend, Confusion, Head, Init, ModelConfig, Normalize, Params, Regime, TrainConfig,
};
use twinnet_data::{default_data_dir, Mnist, FILES};
use twinnet_ndarray::NdarrayBackend;

#[test]
fn report_numpy_model_reaches_report_accuracy() {
    let dir = default_data_dir();
    if !dir.join(FILES[0]).exists() && std::env::var_os("TWINNET_REQUIRE_DATA").is_none() {
        eprintln!("skipping: no MNIST in {} (run `make data`)", dir.display());
        return;
    }
    let mnist = Mnist::load(&dir).unwrap();
    let model = ModelConfig { hidden: 10, head: Head::Softmax, normalize: Normalize::Unit };
    let params = Params::init(10, Init::Uniform, 0).unwrap();
    let mut nn = NdarrayBackend::new(model, params, &mnist.train, 2).unwrap();
    let cfg = TrainConfig {
        regime: Regime::FullBatch,
        epochs: 500,
        log_every: 100,
        ..Default::default()
    };
    let out = train(&mut nn, &cfg, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert!(out.divergence.is_none());
    let eval = nn.evaluate(&mnist.test).unwrap();
    let acc = Confusion::new(mnist.test.labels(), &eval.predictions).accuracy();
    eprintln!("500 full-batch iterations in {:.1} s: test accuracy {acc:.4}", out.train_s);
    // The curve rises: the train accuracy at 500 is well above that at 100.
    let h = &out.history;
    assert!(h[4].train_accuracy > h[0].train_accuracy + 0.05, "{h:?}");
    assert!((0.80..=0.88).contains(&acc), "test accuracy {acc} outside the report's range");
}
