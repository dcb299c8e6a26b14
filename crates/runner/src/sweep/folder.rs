//! The folder a sweep's tasks share: claimed by a plan, filled run by run, checked complete,
//! and collected into a results folder.

use super::plan::{Plan, PlannedRun};
use crate::bail;
use crate::error::{chain, Error, Result};
use crate::finish::{finish, Record};
use crate::layout::{ResultsDir, EXPERIMENT_JSON, LOCK, LOGS, PLAN_JSON};
use crate::schema::SCHEMA_VERSION;
use crate::schema::{read_json, read_versioned, write_json, ExperimentRecord, RunResult};

/// Reads and checks a plan.
fn read_plan(path: &std::path::Path) -> Result<Plan> {
    use crate::schema::Check;
    let plan: Plan = read_json(path, "plan")?;
    plan.check().map_err(|m| {
        Error::Invalid(format!("{}: not a valid twinnet plan: {m}", path.display()))
    })?;
    Ok(plan)
}

/// Writes `plan` into `dir` (created if missing), or checks that the plan already there is the
/// same: another experiment's, or this one's edited since, is refused.
///
/// A folder that holds anything but a plan is not a sweep's and is refused, naming what it
/// holds: nothing of the user's is written into. Three things of the sweep's own may be there
/// before the plan: the lock of a resumable run, the `logs/` folder the Slurm submit script
/// makes before its tasks start, and the temporary file of a plan another task of the same
/// sweep is writing at this moment (tasks claim the folder at once; each writes the same plan,
/// atomically, so either one's file is the plan).
pub fn claim(dir: &ResultsDir, plan: &Plan) -> Result<()> {
    let d = dir.path();
    match std::fs::symlink_metadata(d) {
        Ok(m) if m.file_type().is_symlink() => bail!(
            "--out {}: is a symbolic link; a sweep's folder is written only at its own path",
            d.display()
        ),
        Ok(m) if !m.is_dir() => bail!("--out {}: is a file, expected a folder", d.display()),
        _ => {}
    }
    std::fs::create_dir_all(d).map_err(|e| Error::io(d, "cannot create the folder", e))?;
    let path = dir.plan_json();
    if !path.exists() {
        let other: Vec<String> = std::fs::read_dir(d)
            .map_err(|e| Error::io(d, "cannot list the folder", e))?
            .filter_map(|e| e.ok())
            .filter(|e| !sweeps_own(&e.file_name().to_string_lossy(), e.path().is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if !other.is_empty() {
            bail!(
                "--out {}: not a sweep's folder (no {PLAN_JSON}) and not empty (it holds {}): \
                 give a new or empty folder",
                d.display(),
                other.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            );
        }
        return write_json(&path, plan);
    }
    let there: Plan = read_plan(&path)?;
    if there.experiment != plan.experiment {
        bail!(
            "{}: a results folder of experiment `{}`, not `{}`: use another --out",
            d.display(),
            there.experiment,
            plan.experiment
        );
    }
    if there != *plan {
        let first = there.runs.iter().zip(&plan.runs).find(|(a, b)| a != b);
        let what = match first {
            Some((a, b)) => format!(
                "run {} is `{}` (config {}) there, `{}` (config {}) here",
                a.index, a.name, a.config_hash, b.name, b.config_hash
            ),
            None if there.runs.len() != plan.runs.len() => {
                format!("{} runs there, {} here", there.runs.len(), plan.runs.len())
            }
            None => "the experiment file's text differs".into(),
        };
        bail!(
            "{}: planned from a different version of experiment `{}` ({what}): the experiment \
             (or its flags) changed since; use another --out",
            path.display(),
            plan.experiment
        );
    }
    Ok(())
}

/// Whether the entry `name` of a sweep's folder (`is_dir`: it is a folder) is the sweep's own
/// before its plan is there (see [`claim`]).
fn sweeps_own(name: &str, is_dir: bool) -> bool {
    name == LOCK || twinnet_core::file::is_temporary_of(name, PLAN_JSON) || (name == LOGS && is_dir)
}

/// Whether run `r`'s result is already in `dir`, complete and of the planned config: `Ok(true)`
/// to skip it; a result of another config under its name is an error.
pub fn done(dir: &ResultsDir, r: &PlannedRun) -> Result<bool> {
    let path = dir.run_json(&r.name);
    if !path.exists() {
        return Ok(false);
    }
    let result: RunResult = read_versioned(&path, "result")?;
    if result.config_hash == r.config_hash && dir.run_params(&r.name).exists() {
        return Ok(true);
    }
    bail!(
        "{}: a result of another config ({}), not run {}'s (config {}): remove it or use \
         another --out",
        path.display(),
        result.config_hash,
        r.index,
        r.config_hash
    )
}

/// Checks that `dir` holds every planned run, complete and of its planned config, and nothing
/// else; returns the plan and the results in plan order. Every problem is listed.
pub fn check_complete(dir: &ResultsDir) -> Result<(Plan, Vec<RunResult>)> {
    let d = dir.path();
    if !dir.plan_json().is_file() {
        bail!(
            "{}: not a results folder of `twinnet run --index/--shard` (no {PLAN_JSON})",
            d.display()
        );
    }
    let plan: Plan = read_plan(&dir.plan_json())?;
    let mut problems = vec![];
    let mut results = vec![];
    for r in &plan.runs {
        let path = dir.run_json(&r.name);
        if !path.exists() {
            problems.push(format!(
                "run {} `{}` is missing ({} absent)",
                r.index,
                r.name,
                path.display()
            ));
            continue;
        }
        match read_versioned::<RunResult>(&path, "result") {
            Err(e) => problems.push(format!("run {} `{}`: {}", r.index, r.name, chain(&e))),
            Ok(res) if res.config_hash != r.config_hash => problems.push(format!(
                "run {} `{}`: config {} there, {} planned",
                r.index, r.name, res.config_hash, r.config_hash
            )),
            Ok(_) if !dir.run_params(&r.name).exists() => problems
                .push(format!("run {} `{}`: its parameters file is missing", r.index, r.name)),
            Ok(res) => results.push(res),
        }
    }
    let planned: std::collections::HashSet<String> =
        plan.runs.iter().map(|r| format!("{}.json", r.name)).collect();
    let mut foreign: Vec<String> = std::fs::read_dir(d)
        .map_err(|e| Error::io(d, "cannot list the folder", e))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".json") && n != PLAN_JSON && n != EXPERIMENT_JSON)
        .filter(|n| !planned.contains(n))
        .collect();
    foreign.sort();
    for f in foreign {
        problems.push(format!("{f} is not a run of this plan"));
    }
    if !problems.is_empty() {
        bail!("{}: not complete:\n  {}", d.display(), problems.join("\n  "));
    }
    Ok((plan, results))
}

/// `twinnet collect DIR`: checks the folder ([`check_complete`]), then completes it with the
/// experiment's record, summary and figures ([`finish`]).
pub fn collect(dir: &ResultsDir) -> Result<()> {
    let (plan, results) = check_complete(dir)?;
    let total_s = results.iter().map(|r| r.timing.train_s + r.timing.eval_s).sum();
    let cpu = results.first().map_or_else(String::new, |r| r.environment.cpu.clone());
    let command = format!("twinnet collect {}", dir.path().display());
    let record = plan.record(total_s, cpu, command);
    finish(dir, &plan.source, Record::Experiment { record: &record, results: &results })
}

impl Plan {
    /// The record of the experiment this plan ran, with its time, CPU and command.
    pub fn record(&self, total_s: f64, cpu: String, command: String) -> ExperimentRecord {
        ExperimentRecord {
            schema_version: SCHEMA_VERSION,
            name: self.experiment.clone(),
            description: self.description.clone(),
            runs: self.runs.iter().map(|r| r.name.clone()).collect(),
            configs: self.configs.clone(),
            seeds: self.seeds.clone(),
            total_s,
            cpu,
            // Tasks of a sweep may run on machines of any size: no one count is true, unless
            // the caller ran them all here ([`ExperimentRecord::on_cores`]).
            cores: None,
            command,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sweeps_own;

    #[test]
    fn only_the_sweeps_own_files_may_be_there_before_its_plan() {
        assert!(sweeps_own(".lock", false));
        assert!(sweeps_own(".plan.json.Xa3kq9.tmp", false));
        assert!(sweeps_own("logs", true));
        for theirs in ["notes.txt", "plan.json.tmp", ".plan.json.swp", ".git", "log"] {
            assert!(!sweeps_own(theirs, false) && !sweeps_own(theirs, true), "{theirs}");
        }
        // A file named logs is not the logs' folder.
        assert!(!sweeps_own("logs", false));
    }
}
