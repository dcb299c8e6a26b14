//! `twinnet drift EXP.toml`: the noise floor. Pairs of runs that start from identical weights
//! and see the same batches, differing in one thing only (the framework, the thread count, one
//! weight moved by one ulp, the seed), trained side by side; how far their parameters drift
//! apart after each update, how their train accuracy differs per epoch, and where they end.
//!
//! ```toml
//! description = "what the experiment shows"     # required
//! floor = ["ulp", "threads"]                    # optional: sources whose envelope is the floor
//! [[setting]]                                   # one or more: any settings of `twinnet train`
//! name = "numpy-model"
//! regime = "full-batch"
//! [[source]]                                    # one or more: a pair of runs per setting
//! name = "framework"                            # required, unique
//! a = { backend = "ndarray" }                   # settings over the setting's, side a
//! b = { backend = "tch" }                       # side b
//! nudge = { tensor = "fc1.weight", index = [0, 406] }   # optional: b starts one ulp off there
//! meets = ["ulp", "seed"]                       # optional: compare with the floor and these
//! ```
//! Both sides of a pair must make the same updates (regime, batch size, epochs), so that their
//! parameters are compared after the same number of updates. A run that several pairs share
//! (same settings, same nudge) is trained once.

//!
//! Modules: `plan` (the file, checked, and the distinct runs of each setting), `measure`
//! (training them and measuring each pair), `meets` (from when on a drift stays within the
//! factor of the floor or of a source), `record` (`drift.json`), `summary` (its summary.md and
//! figure).

mod measure;
pub mod meets;
mod plan;
mod record;
mod summary;

pub use measure::measure;
pub use plan::{DriftExperiment, PairPlan, PlannedRun, SettingPlan};
pub use record::{DriftRecord, Meeting, PairRecord, RunRecord, SettingRecord};
pub use summary::{render, summary};

/// Snapshots per decade of updates (besides one at each epoch's end).
pub const PER_DECADE: usize = 20;

/// A drift at most this factor above the floor "meets" it; two sources' drifts within this
/// factor of each other (either way) are "as large as" each other ([`meets`]).
pub const MEET_FACTOR: f64 = 2.0;
