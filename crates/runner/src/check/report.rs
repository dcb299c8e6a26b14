//! What `twinnet check` found, and how it prints it.

use super::FACTOR;
use serde::Serialize;
use twinnet_core::BackendKind;

/// How one quantity compares with its floor.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// What: a tensor at update 1, or all parameters after update `u`.
    pub what: String,
    /// The update it was taken after.
    pub update: usize,
    /// The implementation's difference from the reference.
    pub difference: f64,
    /// The floor measured for it.
    pub floor: f64,
}

impl Measured {
    /// The difference over the floor.
    pub fn ratio(&self) -> f64 {
        self.difference / self.floor
    }

    /// Within `FACTOR` × the floor.
    pub fn passes(&self) -> bool {
        self.difference <= FACTOR * self.floor
    }
}

/// One scenario's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioCheck {
    /// The scenario.
    pub name: String,
    /// Set when the implementation refused the scenario at `init`: why.
    pub skipped: Option<String>,
    /// Update 1, per tensor.
    pub first_update: Vec<Measured>,
    /// The whole parameters after each update of the horizon.
    pub horizon: Vec<Measured>,
    /// Everything else the protocol reports, each against its own floor: every step's loss and
    /// correct count, the evaluation's loss and predictions after the horizon, and (when the
    /// program can rewind) the parameters with steps sent ahead and taken back.
    pub outputs: Vec<Measured>,
}

impl ScenarioCheck {
    /// A scenario the implementation refused at `init`, and why.
    pub fn skipped(name: &str, why: String) -> Self {
        Self {
            name: name.into(),
            skipped: Some(why),
            first_update: vec![],
            horizon: vec![],
            outputs: vec![],
        }
    }

    /// The first measurement over its bound (a NaN difference is over): update 1's tensors
    /// first, then the parameters over the horizon, then what the steps and the evaluation
    /// reported, in update order.
    pub fn first_failure(&self) -> Option<&Measured> {
        let params = self.first_update.iter().chain(&self.horizon).find(|m| !m.passes());
        let outputs = self.outputs.iter().filter(|m| !m.passes()).min_by_key(|m| m.update);
        match (params, outputs) {
            (Some(p), Some(o)) if o.update < p.update => Some(o),
            (Some(p), _) => Some(p),
            (None, o) => o,
        }
    }
}

/// What `twinnet check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The command checked.
    pub command: String,
    /// The reference.
    pub against: BackendKind,
    /// What the implementation said of itself.
    pub implementation: String,
    /// Whether steps sent ahead and taken back were checked (the program can rewind).
    pub rewind_checked: bool,
    /// Each scenario.
    pub scenarios: Vec<ScenarioCheck>,
}

impl CheckReport {
    /// Whether every scenario that ran passed (and at least one ran).
    pub fn passed(&self) -> bool {
        let ran: Vec<_> = self.scenarios.iter().filter(|s| s.skipped.is_none()).collect();
        !ran.is_empty() && ran.iter().all(|s| s.first_failure().is_none())
    }

    /// The table and the verdict, as `twinnet check` prints them.
    pub fn text(&self) -> String {
        use std::fmt::Write;
        let mut s = format!(
            "{} against {} ({}); bound: {FACTOR} × the floor (the reference from one ulp away, on reversed rows, the model in float64, and twinnet's other backend where built)\n\n",
            self.command, self.against, self.implementation
        );
        s.push_str("| scenario | update 1: worst tensor | × floor | after the last update | × floor | |\n|---|---|---:|---|---:|---|\n");
        for c in &self.scenarios {
            if let Some(why) = &c.skipped {
                let _ = writeln!(s, "| {} | skipped: {why} | | | | – |", c.name);
                continue;
            }
            let worst = c.first_update.iter().max_by(|a, b| a.ratio().total_cmp(&b.ratio()));
            let last = c.horizon.last();
            let cell = |m: Option<&Measured>| {
                m.map_or(("–".into(), "–".into()), |m| {
                    (
                        format!("{} {:.1e} (floor {:.1e})", m.what, m.difference, m.floor),
                        format!("{:.2}", m.ratio()),
                    )
                })
            };
            let ((w, wr), (l, lr)) = (cell(worst), cell(last));
            let ok = if c.first_failure().is_none() { "ok" } else { "**over**" };
            let _ = writeln!(s, "| {} | {w} | {wr} | {l} | {lr} | {ok} |", c.name);
        }
        s.push('\n');
        match self.scenarios.iter().find_map(|c| c.first_failure().map(|m| (c, m))) {
            None if self.passed() => {
                let skipped: Vec<String> = self
                    .scenarios
                    .iter()
                    .filter_map(|c| c.skipped.as_ref().map(|why| format!("{} — {why}", c.name)))
                    .collect();
                let rewind = if self.rewind_checked {
                    ""
                } else {
                    "; rewind not checked: the program does not offer it"
                };
                if skipped.is_empty() && rewind.is_empty() {
                    s.push_str("PASS\n");
                } else {
                    let ran = self.scenarios.len() - skipped.len();
                    let mut line = format!("PASS ({ran} of {} scenarios", self.scenarios.len());
                    if !skipped.is_empty() {
                        let _ = write!(line, "; skipped: {}", skipped.join("; "));
                    }
                    let _ = writeln!(s, "{line}{rewind})");
                }
            }
            None => s.push_str("FAIL: no scenario ran (the implementation refused them all)\n"),
            Some((c, m)) => {
                let _ = writeln!(
                    s,
                    "FAIL: {}: update {}: {} differs by {:.1e}, {:.1e}× the floor {:.1e} (bound {FACTOR}×)",
                    c.name,
                    m.update,
                    m.what,
                    m.difference,
                    m.ratio(),
                    m.floor
                );
            }
        }
        s
    }
}
