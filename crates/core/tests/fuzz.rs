//! Fuzzing of the two file readers, the IDX parser and the parameter-file parser: random
//! mutations (bit flips, byte changes, truncations, insertions, header rewrites) of valid
//! files, plus pure noise. Neither may ever panic; each must either parse or return an error.
//!
//! A short run is part of `cargo test`; `make fuzz` runs `FUZZ_CASES` (default 10,000,000) of
//! each with `--ignored`, prints the executions and writes what it ran (cases, executions, time,
//! crashes) to `results/bench/fuzz.md`. A crash (a panic, caught and counted so that the record
//! is written) fails the run; any crash it finds becomes a case in `REGRESSIONS` below.

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

/// What a fuzzing run did.
struct Outcome {
    executions: u64,
    /// Inputs that made a reader panic (or break its promise), with the reader's name.
    crashes: Vec<(&'static str, Vec<u8>)>,
}

/// Runs `f` on `input`; a panic is recorded as a crash of `reader` instead of unwinding.
fn guarded(
    crashes: &mut Vec<(&'static str, Vec<u8>)>,
    reader: &'static str,
    input: &[u8],
    f: impl FnOnce(&[u8]),
) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(input)));
    if r.is_err() {
        crashes.push((reader, input.to_vec()));
    }
}

/// Runs `cases` mutations through both readers.
fn fuzz(cases: u64) -> Outcome {
    let mut rng = Rng::new(2024, Stream::Shuffle);
    let images = encode_images(&(0..3 * 784).map(|i| (i % 256) as u8).collect::<Vec<_>>(), 28, 28);
    let labels = encode_labels(&[0, 5, 9]);
    let params = Params::init(2, Init::TorchDefault, 0).unwrap().to_safetensors();
    let p = Path::new("fuzz");
    let mut executions = 0;
    let mut crashes = vec![];
    let images_reader = |m: &[u8]| {
        if let Ok(px) = parse_images(p, m) {
            assert_eq!(px.len() % 784, 0);
        }
    };
    let labels_reader = |m: &[u8]| {
        if let Ok(ls) = parse_labels(p, m) {
            assert!(ls.iter().all(|&l| l <= 9));
        }
    };
    let params_reader = |m: &[u8]| {
        if let Ok(q) = Params::from_safetensors(p, m, None) {
            assert!(q.first_non_finite().is_none());
            assert_eq!(q.layers[0].weight.len(), q.hidden() * 784);
        }
    };
    for input in REGRESSIONS {
        guarded(&mut crashes, "idx images", input, images_reader);
        guarded(&mut crashes, "idx labels", input, labels_reader);
        guarded(&mut crashes, "safetensors", input, params_reader);
    }
    for _ in 0..cases {
        let m = mutate(&mut rng, &images);
        guarded(&mut crashes, "idx images", &m, images_reader);
        let m = mutate(&mut rng, &labels);
        guarded(&mut crashes, "idx labels", &m, labels_reader);
        let m = mutate(&mut rng, &params);
        guarded(&mut crashes, "safetensors", &m, params_reader);
        executions += 3;
    }
    Outcome { executions, crashes }
}

#[test]
fn readers_survive_mutations() {
    let o = fuzz(20_000);
    assert_eq!((o.executions, o.crashes.len()), (60_000, 0));
}

#[test]
#[ignore = "long: run by `make fuzz`"]
fn fuzz_long() {
    let cases = std::env::var("FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let t = std::time::Instant::now();
    let o = fuzz(cases);
    let secs = t.elapsed().as_secs_f64();
    let line = format!(
        "{} mutated inputs per reader ({} executions) in {secs:.1} s, {} crash(es)",
        cases,
        o.executions,
        o.crashes.len()
    );
    println!("fuzz: {line}");
    let mut md = format!(
        "# Fuzzing\n\nWritten by `make fuzz` (`crates/core/tests/fuzz.rs`, `FUZZ_CASES={cases}`) on {}: \
         random mutations (bit flips, byte changes, truncations, insertions, header rewrites) of a \
         valid IDX image file, IDX label file and safetensors parameter file, and pure noise, each \
         through its reader, which must return a value or an error and never panic.\n\n\
         - {line}.\n",
        twinnet_core::system::cpu_model()
    );
    for (reader, input) in o.crashes.iter().take(10) {
        md.push_str(&format!("- crash in the {reader} reader on a {}-byte input\n", input.len()));
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results/bench/fuzz.md");
    twinnet_core::file::write_atomic(&out, md.as_bytes()).unwrap();
    assert!(o.crashes.is_empty(), "{line}: see {}", out.display());
}
