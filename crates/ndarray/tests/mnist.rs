//! The report's NumPy experiment on real MNIST: 500 full-batch iterations from `uniform` init
//! on `unit` pixels reach the report's test accuracy (83.41%; roughly 83–86% across seeds).

use std::sync::atomic::AtomicBool;
use twinnet_core::{
    train, Backend, Confusion, Head, Init, Model, ModelConfig, Normalize, Params, Regime, Threads,
    TrainConfig,
};
use twinnet_ndarray::NdarrayBackend;

#[test]
#[ignore = "needs MNIST"]
fn report_numpy_model_reaches_report_accuracy() {
    let mnist = twinnet_testkit::mnist();
    let config = ModelConfig::report(10, Head::Softmax, Normalize::Unit);
    let model = Model::new(config, Params::init(10, Init::Uniform, 0).unwrap()).unwrap();
    let mut nn = NdarrayBackend::new(&model, &mnist.train, Threads::new(2).unwrap());
    let cfg = TrainConfig {
        regime: Regime::FullBatch,
        epochs: 500,
        log_every: 100,
        ..Default::default()
    };
    let plan = cfg.validate(mnist.train.len()).unwrap();
    let out = train(&mut nn, &plan, &AtomicBool::new(false), &mut |_| {}).unwrap();
    assert_eq!(out.history.len(), 5, "a record every 100 epochs");
    assert!(out.divergence.is_none());
    let eval = nn.evaluate(&mnist.test).unwrap();
    let acc = Confusion::new(mnist.test.labels(), &eval.predictions).accuracy();
    eprintln!("500 full-batch iterations in {:.1} s: test accuracy {acc:.4}", out.train_s);
    // The curve rises: the train accuracy at 500 is well above that at 100.
    let h = &out.history;
    assert!(h[4].train_accuracy > h[0].train_accuracy + 0.05, "{h:?}");
    assert!((0.80..=0.88).contains(&acc), "test accuracy {acc} outside the report's range");
}
