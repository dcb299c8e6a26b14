//! twinnet's runner: everything the `twinnet` binary does, as a library. Experiment files and
//! their plans, one run on any backend (built by [`twinnet_engine`]), whole experiments
//! in-process or as sweeps of processes (resumable, by index for Slurm and Kubernetes), the
//! noise floor (`drift`), statistics (`compare`), reproduction checks (`verify`), summaries and
//! figures, and the results folder with its JSON schema.
//!
//! Modules, from input to output:
//! - [`settings`]: a run's settings in three stages (partial, complete, validated);
//! - [`experiment`]: experiment files; [`sweep`]: their numbered plans and shared folders;
//! - [`data`]: which dataset, read and recorded;
//! - [`execute`]: one run (initial weights, backend, training, evaluation) → [`schema::RunResult`];
//! - [`ops`]: the commands' work (`train`, `run`, `drift`, `verify`, `eval`, …);
//! - [`jobs`]: runs as processes of their own, as many as the cores allow; [`progress`]: bars;
//! - [`drift`], [`compare`], [`verify`]: the comparisons; [`summary`]: summary.md and figures;
//! - [`layout`]: the results folder's file names; [`finish`]: the one way a folder is
//!   completed; [`staging`]: folders written whole; [`schema`]: the JSON and its version.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! use twinnet_runner::ops::run::{run, RunDone, RunOptions};
//! use twinnet_runner::{experiment::Experiment, settings::Settings};
//!
//! let exp = Experiment::load("experiments/smoke.toml".as_ref(), &Settings::default(), None)?;
//! let opts = RunOptions { out: Some("/tmp/smoke".into()), ..RunOptions::new(exp) };
//! if let RunDone::Folder { summary } = run(&opts, &AtomicBool::new(false))? {
//!     println!("{}", summary.display());
//! }
//! # Ok::<(), twinnet_runner::Error>(())
//! ```

// Input reaches much of this crate (experiment files, results read back, flags): no indexing
// that could panic on it; checked access (`get`) or iteration instead.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod check;
pub mod compare;
pub mod data;
pub mod drift;
pub mod error;
pub mod execute;
pub mod experiment;
pub mod finish;
#[cfg(test)]
mod fixtures;
pub mod interrupt;
pub mod jobs;
pub mod layout;
pub mod num;
pub mod ops;
pub mod page;
pub mod progress;
pub mod schema;
pub mod settings;
pub mod staging;
pub mod summary;
pub mod sweep;
pub mod verify;

pub use error::{Context, Error, Result};
