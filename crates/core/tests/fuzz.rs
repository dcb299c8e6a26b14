//! Fuzzing of the two file readers, the IDX parser and the parameter-file parser: random
//! mutations (bit flips, byte changes, truncations, insertions, header rewrites) of valid
//! files, plus pure noise. Neither may ever panic; each must either parse or return an error.
//!
//! A short run is part of `cargo test`; `make fuzz` runs `FUZZ_CASES` (default 10,000,000) of
//! each with `--ignored` and prints the executions. Any crash it finds becomes a case in
//! `REGRESSIONS` below.

use std::path::Path;
use twinnet_core::rng::{Rng, Stream};
use twinnet_core::{Init, Params};
use twinnet_data::idx::{encode_images, encode_labels, parse_images, parse_labels};

/// Inputs that once crashed a reader (none so far), kept forever.
const REGRESSIONS: &[&[u8]] = &[];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = v.len().max(1) as u64;
        match rng.below(6) {
            0 => {
                let i = rng.below(len) as usize;
                if i < v.len() {
                    v[i] ^= 1 << rng.below(8);
                }
            }
            1 => {
                let i = rng.below(len) as usize;
                if i < v.len() {
                    v[i] = rng.below(256) as u8;
                }
            }
            2 => v.truncate(rng.below(len + 1) as usize),
            3 => {
                let i = rng.below(len + 1) as usize;
                let extra: Vec<u8> = (0..rng.below(16)).map(|_| rng.below(256) as u8).collect();
                v.splice(i.min(v.len())..i.min(v.len()), extra);
            }
            4 => {
                // Rewrite a header word (counts, dimensions, safetensors header length).
                let i = (rng.below(4) * 4) as usize;
                if i + 4 <= v.len() {
                    let word = [0u32, 1, 28, 60_000, u32::MAX, rng.next_u64() as u32]
                        [rng.below(6) as usize];
                    v[i..i + 4].copy_from_slice(&word.to_be_bytes());
                }
            }
            _ => v = (0..rng.below(64)).map(|_| rng.below(256) as u8).collect(),
        }
    }
    v
}

/// Runs `cases` mutations through both readers; returns the number of executions.
fn fuzz(cases: u64) -> u64 {
    let mut rng = Rng::new(2024, Stream::Shuffle);
    let images = encode_images(&(0..3 * 784).map(|i| (i % 256) as u8).collect::<Vec<_>>(), 28, 28);
    let labels = encode_labels(&[0, 5, 9]);
    let params = Params::init(2, Init::TorchDefault, 0).unwrap().to_safetensors();
    let p = Path::new("fuzz");
    let mut execs = 0;
    for input in REGRESSIONS {
        let _ = parse_images(p, input);
        let _ = parse_labels(p, input);
        let _ = Params::from_safetensors(p, input, None);
    }
    for _ in 0..cases {
        let m = mutate(&mut rng, &images);
        if let Ok(px) = parse_images(p, &m) {
            assert_eq!(px.len() % 784, 0);
        }
        let m = mutate(&mut rng, &labels);
        if let Ok(ls) = parse_labels(p, &m) {
            assert!(ls.iter().all(|&l| l <= 9));
        }
        let m = mutate(&mut rng, &params);
        if let Ok(q) = Params::from_safetensors(p, &m, None) {
            assert!(q.first_non_finite().is_none());
            assert_eq!(q.w1.len(), q.hidden * 784);
        }
        execs += 3;
    }
    execs
}

#[test]
fn readers_survive_mutations() {
    assert_eq!(fuzz(20_000), 60_000);
}

#[test]
#[ignore = "long: run by `make fuzz`"]
fn fuzz_long() {
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let t = std::time::Instant::now();
    let execs = fuzz(cases);
    println!("fuzz: {execs} executions in {:.1} s, 0 crashes", t.elapsed().as_secs_f64());
}
