//! Times the ndarray backend on MNIST and prints a fingerprint of the trained parameters, so
//! that a change to the fast path can be checked for speed and for bit-identical results:
//!
//! ```text
//! cargo run --release -p twinnet-ndarray --example ndarray-profile -- [full|mini|both] [threads]
//! ```
//! Full-batch: 20 iterations after 3 warm-up ones; mini-batch: 3 epochs (or `$EPOCHS`) of
//! batch 64 after one warm-up epoch; both heads. The fingerprint is an FNV-1a hash of every parameter's bits.

use std::time::Instant;
use twinnet_core::train::BatchOrder;
use twinnet_core::{Backend, Batch, Head, Init, ModelConfig, Normalize, Params};
use twinnet_data::{default_data_dir, Mnist};
use twinnet_ndarray::NdarrayBackend;

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
    let threads: usize = args.get(1).map(|t| t.parse()).transpose()?.unwrap_or(2);
    let data = Mnist::load(&default_data_dir())?;
    for head in [Head::Softmax, Head::DoubleSoftmax] {
        let model = ModelConfig { hidden: 10, head, normalize: Normalize::Unit };
        if which != "mini" {
            let mut nn = NdarrayBackend::new(
                model,
                Params::init(10, Init::Uniform, 0)?,
                &data.train,
                threads,
            )?;
            for _ in 0..3 {
                nn.step(Batch::All, 0.1)?;
            }
            let t = Instant::now();
            let n = 20;
            for _ in 0..n {
                nn.step(Batch::All, 0.1)?;
            }
            let ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
            let acc = nn.evaluate(&data.test)?;
            println!(
                "{head:?} full-batch: {ms:.2} ms/iter, params {:016x}, test loss {:.6}",
                fingerprint(&nn.params()?),
                acc.loss
            );
        }
        if which != "full" {
            let mut nn = NdarrayBackend::new(
                model,
                Params::init(10, Init::Uniform, 0)?,
                &data.train,
                threads,
            )?;
            let mut order = BatchOrder::new(data.train.len(), 0);
            let mut epoch = |nn: &mut NdarrayBackend| -> Result<(), Box<dyn std::error::Error>> {
                let perm = order.next_epoch(data.train.len()).to_vec();
                let batches: Vec<&[u32]> = perm.chunks(64).collect();
                for (t, b) in batches.iter().enumerate() {
                    if let Some(next) = batches.get(t + 1) {
                        nn.will_need(Batch::Indices(next));
                    }
                    nn.step(Batch::Indices(b), 0.1)?;
                }
                Ok(())
            };
            epoch(&mut nn)?;
            let t = Instant::now();
            let n: usize = std::env::var("EPOCHS").map_or(Ok(3), |v| v.parse())?;
            for _ in 0..n {
                epoch(&mut nn)?;
            }
            let ms = t.elapsed().as_secs_f64() * 1e3 / n as f64;
            println!(
                "{head:?} minibatch: {ms:.2} ms/epoch, params {:016x}",
                fingerprint(&nn.params()?)
            );
        }
    }
    Ok(())
}
