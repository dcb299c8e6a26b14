//! Times the two kernels alone on MNIST's training images (one thread), with and without
//! spans, for every kernel set this CPU runs (or only `KERNELS=avx512|avx2|portable`):
//! `cargo run --release -p twinnet-ndarray --example ndarray-kernels`.

use std::time::Instant;
use twinnet_core::INPUTS;
use twinnet_data::{default_data_dir, Splits};
use twinnet_ndarray::kernels::{Kernels, Pixels, Shape, Span};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Splits::load(&default_data_dir())?;
    let p = data.train.pixels();
    let n = data.train.len();
    let spans = Span::of_rows(p, INPUTS);
    let only = std::env::var("KERNELS").ok();
    let (h, ld) = (10, 16);
    let shape = Shape { h, d: INPUTS, ld };
    let w: Vec<f32> = (0..h * INPUTS).map(|i| ((i * 7919) % 1000) as f32 / 1e4 - 0.05).collect();
    let mut z = vec![0.0; 128 * ld];
    let dz: Vec<f32> = (0..128 * ld).map(|i| ((i * 31) % 100) as f32 / 1e3).collect();
    let mut g = vec![0.0; h * INPUTS];
    let all: Vec<u32> = if std::env::args().any(|a| a == "cached") {
        (0..n as u32).map(|i| i % 1024).collect()
    } else {
        (0..n as u32).collect()
    };
    let sets =
        Kernels::available().into_iter().filter(|k| only.as_deref().is_none_or(|o| o == k.name()));
    for (k, sp) in sets.flat_map(|k| [(k, None), (k, Some(&spans[..]))]) {
        let x = Pixels { p, a: 1.0 / 255.0, c: 0.0, spans: sp };
        for pass in ["forward", "backward", "both"] {
            let t = Instant::now();
            let reps = 5;
            for _ in 0..reps {
                for part in all.chunks(128) {
                    if pass != "backward" {
                        k.forward(&w, shape, &x, part, &mut z);
                    }
                    if pass != "forward" {
                        k.backward(&dz[..part.len() * ld], shape, &x, part, &mut g);
                    }
                }
            }
            let ms = t.elapsed().as_secs_f64() * 1e3 / reps as f64;
            let gf =
                2.0 * (n * INPUTS * h) as f64 * if pass == "both" { 2.0 } else { 1.0 } / ms / 1e6;
            println!("{} spans={} {pass}: {ms:.2} ms ({gf:.0} GFLOP/s)", k.name(), sp.is_some());
        }
    }
    Ok(())
}
