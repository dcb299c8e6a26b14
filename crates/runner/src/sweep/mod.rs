//! The run-by-index contract of Slurm job arrays and Kubernetes Indexed Jobs: an experiment's
//! runs are numbered (`twinnet plan`), any subset of them runs anywhere into one shared folder
//! (`twinnet run EXP --index I | --index env | --shard K/N --out DIR`), and `twinnet collect DIR`
//! checks that every planned run is there and writes the summary and figures.
//!
//! ```text
//! DIR/plan.json        the plan: the experiment file's text, its runs with index, name, seed
//!                      and config hash; written by the first task, checked by every later one
//! DIR/<run>.json       each run's result, written atomically when it finishes (after its
//! DIR/<run>.safetensors  parameters), so a result on disk is complete
//! ```
//! A rerun skips every run whose result is already there with the planned config hash
//! (resume); a result of another config under a planned name, a plan of another experiment
//! (or of an edited one) and an index outside the plan are errors that name the run or file,
//! and nothing already written is touched.
//!
//! Modules: `plan` (the numbered runs and selections), `folder` (the shared folder: claiming
//! it, what is done, what is complete, collecting).

mod folder;
mod plan;

pub use folder::{check_complete, claim, collect, done};
pub use plan::{config_hash, Plan, PlannedRun, Selection, INDEX_ENV};
