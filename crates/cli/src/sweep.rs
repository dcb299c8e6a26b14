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

use crate::config::RunConfig;
use crate::experiment::Experiment;
use crate::result::{read_json, write_json, ExperimentRecord, RunResult};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;
use twinnet_core::BackendKind;

/// The plan's file name in a results folder.
pub const PLAN_JSON: &str = "plan.json";

/// Environment variables that hand a task its index: Slurm job arrays', then Kubernetes
/// Indexed Jobs'.
pub const INDEX_ENV: [&str; 2] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

/// The hash of a run's config: the first 16 hex digits of the sha256 of its JSON. The ndarray
/// backend's thread count is left out (its bits do not depend on it, and its default follows
/// the machine, which may differ between the nodes of one sweep).
pub fn config_hash(c: &RunConfig) -> String {
    let mut c = c.clone();
    if c.backend == BackendKind::Ndarray {
        c.threads = 0;
    }
    let json = serde_json::to_string(&c).expect("configs serialize");
    twinnet_data::sha256_hex(json.as_bytes())[..16].to_string()
}

/// One planned run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRun {
    /// Its index, from 0: what `--index` and the array task ids name.
    pub index: usize,
    /// Its name (its result's file stem).
    pub name: String,
    /// Its seed.
    pub seed: u64,
    /// [`config_hash`] of its config.
    pub config_hash: String,
}

/// An experiment's runs, numbered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The experiment's name.
    pub experiment: String,
    /// Its description.
    pub description: String,
    /// The experiment file's text.
    pub source: String,
    /// Its configurations' names.
    pub configs: Vec<String>,
    /// The seeds every configuration runs over (empty: none).
    pub seeds: Vec<u64>,
    /// Its runs, by index.
    pub runs: Vec<PlannedRun>,
}

impl Plan {
    /// The plan of `exp`.
    pub fn of(exp: &Experiment) -> Self {
        Self {
            experiment: exp.name.clone(),
            description: exp.description.clone(),
            source: exp.source.clone(),
            configs: exp.configs.iter().map(|c| c.name.clone()).collect(),
            seeds: exp.seeds.clone(),
            runs: exp
                .runs
                .iter()
                .enumerate()
                .map(|(index, c)| PlannedRun {
                    index,
                    name: c.name.clone(),
                    seed: c.seed,
                    config_hash: config_hash(c),
                })
                .collect(),
        }
    }

    /// The plan as a table (`twinnet plan`).
    pub fn table(&self) -> String {
        let mut s = format!(
            "{}: {} run(s)\n\nindex  seed  config hash       name\n",
            self.experiment,
            self.runs.len()
        );
        for r in &self.runs {
            s.push_str(&format!("{:>5}  {:>4}  {}  {}\n", r.index, r.seed, r.config_hash, r.name));
        }
        s
    }
}

/// Which runs a task runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Run `i` only.
    Index(usize),
    /// Every `n`-th run from `k` (`k` < `n`).
    Shard { k: usize, n: usize },
}

impl Selection {
    /// Parses `--index I` (`env`: from [`INDEX_ENV`]) or `--shard K/N`.
    pub fn parse(index: Option<&str>, shard: Option<&str>) -> Result<Option<Self>> {
        match (index, shard) {
            (Some(_), Some(_)) => bail!("--index and --shard: give one of them"),
            (Some("env"), None) => {
                let found = INDEX_ENV.iter().find_map(|k| std::env::var(k).ok().map(|v| (k, v)));
                let Some((var, value)) = found else {
                    bail!(
                        "--index env: neither SLURM_ARRAY_TASK_ID nor JOB_COMPLETION_INDEX is set"
                    )
                };
                let i = value
                    .trim()
                    .parse()
                    .with_context(|| format!("--index env: {var}={value} is not a run index"))?;
                Ok(Some(Selection::Index(i)))
            }
            (Some(i), None) => Ok(Some(Selection::Index(
                i.parse().with_context(|| format!("--index {i}: not a run index (or `env`)"))?,
            ))),
            (None, Some(s)) => {
                let bad = || format!("--shard {s}: expected K/N with 0 ≤ K < N");
                let (k, n) = s.split_once('/').with_context(bad)?;
                let (k, n): (usize, usize) =
                    (k.trim().parse().with_context(bad)?, n.trim().parse().with_context(bad)?);
                if n == 0 || k >= n {
                    bail!(bad());
                }
                Ok(Some(Selection::Shard { k, n }))
            }
            (None, None) => Ok(None),
        }
    }

    /// The indices it selects of a plan of `len` runs.
    pub fn indices(self, len: usize) -> Result<Vec<usize>> {
        match self {
            Selection::Index(i) if i >= len => {
                bail!("--index {i}: the plan has runs 0..{} ({len} runs)", len.saturating_sub(1))
            }
            Selection::Index(i) => Ok(vec![i]),
            Selection::Shard { k, n } => Ok((k..len).step_by(n).collect()),
        }
    }
}

/// Writes `plan` into `dir` (created if missing), or checks that the plan already there is the
/// same: another experiment's, or this one's edited since, is refused.
pub fn claim(dir: &Path, plan: &Plan) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("--out {}: is a file, expected a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("--out {}: cannot create", dir.display()))?;
    let path = dir.join(PLAN_JSON);
    if !path.exists() {
        return write_json(&path, plan);
    }
    let there: Plan = read_json(&path)?;
    if there.experiment != plan.experiment {
        bail!(
            "{}: a results folder of experiment `{}`, not `{}`: use another --out",
            dir.display(),
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

/// Whether run `r`'s result is already in `dir`, complete and of the planned config: `Ok(true)`
/// to skip it; a result of another config under its name is an error.
pub fn done(dir: &Path, r: &PlannedRun) -> Result<bool> {
    let path = dir.join(format!("{}.json", r.name));
    if !path.exists() {
        return Ok(false);
    }
    let result: RunResult = read_json(&path)?;
    match &result.config_hash {
        Some(h) if *h == r.config_hash && dir.join(format!("{}.safetensors", r.name)).exists() => {
            Ok(true)
        }
        other => bail!(
            "{}: a result of another config ({}), not run {}'s (config {}): remove it or use \
             another --out",
            path.display(),
            other.as_deref().unwrap_or("none recorded"),
            r.index,
            r.config_hash
        ),
    }
}

/// Checks that `dir` holds every planned run, complete and of its planned config, and nothing
/// else; returns the plan and the results in plan order. Every problem is listed.
pub fn check_complete(dir: &Path) -> Result<(Plan, Vec<RunResult>)> {
    let plan: Plan = read_json(&dir.join(PLAN_JSON)).with_context(|| {
        format!(
            "{}: not a results folder of `twinnet run --index/--shard` (no {PLAN_JSON})",
            dir.display()
        )
    })?;
    let mut problems = vec![];
    let mut results = vec![];
    for r in &plan.runs {
        let path = dir.join(format!("{}.json", r.name));
        if !path.exists() {
            problems.push(format!(
                "run {} `{}` is missing ({} absent)",
                r.index,
                r.name,
                path.display()
            ));
            continue;
        }
        match read_json::<RunResult>(&path) {
            Err(e) => problems.push(format!("run {} `{}`: {e:#}", r.index, r.name)),
            Ok(res) if res.config_hash.as_deref() != Some(&r.config_hash) => {
                problems.push(format!(
                    "run {} `{}`: config {} there, {} planned",
                    r.index,
                    r.name,
                    res.config_hash.as_deref().unwrap_or("none"),
                    r.config_hash
                ))
            }
            Ok(_) if !dir.join(format!("{}.safetensors", r.name)).exists() => problems
                .push(format!("run {} `{}`: its parameters file is missing", r.index, r.name)),
            Ok(res) => results.push(res),
        }
    }
    let planned: std::collections::HashSet<String> =
        plan.runs.iter().map(|r| format!("{}.json", r.name)).collect();
    let mut foreign: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".json") && n != PLAN_JSON && n != crate::summary::EXPERIMENT_JSON)
        .filter(|n| !planned.contains(n))
        .collect();
    foreign.sort();
    for f in foreign {
        problems.push(format!("{f} is not a run of this plan"));
    }
    if !problems.is_empty() {
        bail!("{}: not complete:\n  {}", dir.display(), problems.join("\n  "));
    }
    Ok((plan, results))
}

/// `twinnet collect DIR`: the checked results' summary, figures and experiment record.
pub fn collect(dir: &Path) -> Result<()> {
    let (plan, results) = check_complete(dir)?;
    let total_s = results.iter().map(|r| r.timing.train_s + r.timing.eval_s).sum();
    let cpu = results.first().map_or_else(String::new, |r| r.environment.cpu.clone());
    write_summary(dir, &plan, &results, total_s, cpu, format!("twinnet collect {}", dir.display()))
}

/// Writes into `dir` what completes a results folder of a checked plan: the experiment file,
/// `experiment.json` (with `total_s`, `cpu` and `command`) and the summary and figures.
pub fn write_summary(
    dir: &Path,
    plan: &Plan,
    results: &[RunResult],
    total_s: f64,
    cpu: String,
    command: String,
) -> Result<()> {
    let record = ExperimentRecord {
        name: plan.experiment.clone(),
        description: plan.description.clone(),
        runs: plan.runs.iter().map(|r| r.name.clone()).collect(),
        configs: plan.configs.clone(),
        seeds: plan.seeds.clone(),
        total_s,
        cpu,
        command,
    };
    twinnet_core::file::write_atomic(&dir.join("experiment.toml"), plan.source.as_bytes())
        .with_context(|| dir.join("experiment.toml").display().to_string())?;
    write_json(&dir.join(crate::summary::EXPERIMENT_JSON), &record)?;
    crate::summary::render(dir, &record, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections() {
        let s = |i: Option<&str>, sh: Option<&str>| Selection::parse(i, sh);
        assert_eq!(s(Some("3"), None).unwrap(), Some(Selection::Index(3)));
        assert_eq!(s(None, Some("1/3")).unwrap(), Some(Selection::Shard { k: 1, n: 3 }));
        assert_eq!(Selection::Shard { k: 1, n: 3 }.indices(8).unwrap(), [1, 4, 7]);
        assert_eq!(Selection::Index(2).indices(3).unwrap(), [2]);
        let e = Selection::Index(3).indices(3).unwrap_err().to_string();
        assert!(e.contains("--index 3") && e.contains("0..2"), "{e}");
        for bad in ["3/2", "2/2", "1/0", "x/2", "1-2"] {
            let e = s(None, Some(bad)).unwrap_err().to_string();
            assert!(e.contains(&format!("--shard {bad}")), "{e}");
        }
        assert!(s(Some("x"), None).unwrap_err().to_string().contains("--index x"));
        assert!(s(Some("1"), Some("0/2")).is_err());
        assert_eq!(s(None, None).unwrap(), None);
    }
}
