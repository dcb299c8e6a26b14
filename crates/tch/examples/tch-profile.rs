//! Times the tch backend on MNIST through the runner's training loop and prints a fingerprint
//! of the trained parameters, so that a change can be checked for speed and for unchanged
//! results:
//!
//! ```text
//! cargo run --release -p twinnet-tch --example tch-profile -- [full|mini|both] [threads]
//! ```
//! Full-batch: 20 iterations after 3 warm-up ones; mini-batch: 3 epochs (or `$EPOCHS`) of
//! batch 64 after one warm-up epoch; both heads; pixels in [0, 1] (or [−1, 1] with
//! `NORM=symmetric`, the report's PyTorch model). The fingerprint is an FNV-1a hash of every
//! parameter's bits.

use std::sync::atomic::AtomicBool;
use std::time::Instant;
use twinnet_core::{
    train, Backend, Device, Head, Init, ModelConfig, Normalize, Params, Regime, TrainConfig,
};
use twinnet_data::{default_data_dir, Mnist};
use twinnet_tch::{Start, TchBackend};

fn fingerprint(p: &Params) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for v in p.w1.iter().chain(&p.b1).chain(&p.w2).chain(&p.b2) {
        h = (h ^ v.to_bits() as u64).wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("both");
    let threads: usize = args.get(1).map(|t| t.parse()).transpose()?.unwrap_or(1);
    let epochs: usize = std::env::var("EPOCHS").map_or(Ok(3), |v| v.parse())?;
    let data = Mnist::load(&default_data_dir())?;
    let stop = AtomicBool::new(false);
    for head in [Head::Softmax, Head::DoubleSoftmax] {
        let normalize = match std::env::var("NORM").as_deref() {
            Ok("symmetric") => Normalize::Symmetric,
            _ => Normalize::Unit,
        };
        let model = ModelConfig { hidden: 10, head, normalize };
        for (regime, name, warm, n) in
            [(Regime::FullBatch, "full", 3, 20), (Regime::Minibatch, "mini", 1, epochs)]
        {
            if which != "both" && which != name {
                continue;
            }
            let start = Start::Params(Params::init(10, Init::Uniform, 0)?);
            let mut nn = TchBackend::new(model, start, &data.train, Device::Cpu, threads)?;
            let cfg = |epochs, seed| TrainConfig {
                regime,
                batch_size: 64,
                lr: 0.1,
                epochs,
                seed,
                log_every: 1,
            };
            train(&mut nn, &cfg(warm, 0), &stop, &mut |_| {})?;
            let t = Instant::now();
            train(&mut nn, &cfg(n, 1), &stop, &mut |_| {})?;
            let ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
            let per = if regime == Regime::FullBatch { "iter" } else { "epoch" };
            println!(
                "{head:?} {regime}: {ms:.2} ms/{per}, params {:016x}",
                fingerprint(&nn.params()?)
            );
        }
    }
    Ok(())
}
