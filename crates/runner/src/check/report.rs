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
}

impl ScenarioCheck {
    /// The first measurement over its bound: update 1's tensors first, then the horizon.
    pub fn first_failure(&self) -> Option<&Measured> {
        self.first_update.iter().chain(&self.horizon).find(|m| !m.passes())
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
            "{} against {} ({}); bound: {FACTOR} × the floor (a start one ulp away, and the model in float64)\n\n",
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
            None if self.passed() => s.push_str("PASS\n"),
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
