//! Times one backend through the runner's training loop on MNIST and prints a fingerprint of
//! the trained parameters ([`Params::fingerprint`]), so that a change to a backend can be
//! checked for speed and for unchanged results in a few seconds (`make bench` takes minutes):
//!
//! ```text
//! cargo run --release -p twinnet-bench --example profile -- ndarray|tch [full|mini|both] [threads]
//! ```
//! Full-batch: 20 iterations after 3 warm-up ones; mini-batch: 3 epochs (or `$EPOCHS`) of
//! batch 64 after one warm-up epoch; both heads; pixels in [0, 1] (or [−1, 1] with
//! `NORM=symmetric`, as the report's PyTorch model). Threads default to the runner's (the
//! backend's policy).

use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::{
    train, Backend, BackendKind, Device, Head, Init, Model, ModelConfig, Normalize, Params, Regime,
    Threads, TrainConfig,
};
use twinnet_data::{default_data_dir, Splits};
use twinnet_engine::Engine;

type Error = Box<dyn std::error::Error>;

/// Milliseconds per epoch over `n` epochs after `warm` ones, and the parameters' fingerprint.
fn time(b: &mut dyn Backend, regime: Regime, warm: usize, n: usize) -> Result<(f64, u64), Error> {
    let stop = AtomicBool::new(false);
    let len = b.train_len();
    let plan = |epochs, seed| {
        TrainConfig { regime, batch_size: 64, lr: 0.1, epochs, seed, log_every: 1 }.validate(len)
    };
    train(b, &plan(warm, 0)?, &stop, &mut |_| {})?;
    let t = Instant::now();
    train(b, &plan(n, 1)?, &stop, &mut |_| {})?;
    Ok((t.elapsed().as_secs_f64() * 1e3 / n as f64, b.params()?.fingerprint()))
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: profile ndarray|tch [full|mini|both] [threads]";
    let backend: BackendKind = args.first().ok_or(usage)?.parse().map_err(|_| usage)?;
    let which = args.get(1).map(String::as_str).unwrap_or("both");
    let threads: Option<usize> = args.get(2).map(|t| t.parse()).transpose()?;
    let epochs: usize = std::env::var("EPOCHS").map_or(Ok(3), |v| v.parse())?;
    let normalize = match std::env::var("NORM").as_deref() {
        Ok("symmetric") => Normalize::Symmetric,
        _ => Normalize::Unit,
    };
    let data = Splits::load(&default_data_dir())?;
    for head in [Head::Softmax, Head::DoubleSoftmax] {
        let config = ModelConfig::report(10, head, normalize);
        for (regime, name, warm, n) in
            [(Regime::FullBatch, "full", 3, 20), (Regime::Minibatch, "mini", 1, epochs)]
        {
            if which != "both" && which != name {
                continue;
            }
            let model = Model::new(config.clone(), Params::init(10, Init::Uniform, 0)?)?;
            let engine = Engine::resolve(backend, Device::Cpu)?;
            let t = threads.unwrap_or(engine.policy().default_threads(regime));
            let mut b = engine.build(&model, &data.train, Threads::new(t)?)?;
            let (ms, fp) = time(b.as_mut(), regime, warm, n)?;
            let per = if regime == Regime::FullBatch { "iteration" } else { "epoch" };
            println!("{backend} {head} {regime}: {ms:.2} ms/{per}, parameters {fp:016x}");
        }
    }
    Ok(())
}
