//! An experiment's runs, numbered: the plan, each run's config hash, and which runs a task
//! selects (`--index`, `--shard`).

use crate::bail;
use crate::error::{Context, Result};
use crate::experiment::Experiment;
use crate::settings::RunConfig;
use serde::{Deserialize, Serialize};

/// Environment variables that hand a task its index: Slurm job arrays', then Kubernetes
/// Indexed Jobs'.
pub const INDEX_ENV: [&str; 2] = ["SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"];

/// The hash of a run's config: the first 16 hex digits of the sha256 of its JSON. The thread
/// count of a backend whose bits do not depend on it (ndarray, [`twinnet_engine::Policy`]) is
/// left out (its default follows the machine, which may differ between the nodes of a sweep).
pub fn config_hash(c: &RunConfig) -> String {
    let mut c = c.clone();
    if !twinnet_engine::Policy::of(c.backend).threads_change_bits() {
        c.threads = 0;
    }
    // How long twinnet waits for an implementation's replies changes no result.
    c.process_timeout = None;
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
                    bail!("{}", bad());
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

impl crate::schema::Check for Plan {
    fn check(&self) -> Result<(), String> {
        use crate::schema::require;
        let k = self.seeds.len().max(1);
        require(self.configs.len().checked_mul(k) == Some(self.runs.len()), || {
            format!(
                "{} runs for {} configuration(s) × {k} seed(s)",
                self.runs.len(),
                self.configs.len()
            )
        })?;
        for (i, r) in self.runs.iter().enumerate() {
            require(r.index == i, || format!("run {i} has index {}", r.index))?;
            crate::layout::check_run_name(&r.name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `run --index` writes as plan.json, `collect` reads back, checked.
    #[test]
    fn plans_round_trip() {
        use crate::schema::Check;
        let exp = crate::experiment::Experiment::parse(
            std::path::Path::new("x.toml"),
            "description = \"d\"\nseeds = \"0..3\"\n[[run]]\nname = \"a\"\n[[run]]\nname = \"b\"\n",
            &crate::settings::Settings::default(),
        )
        .unwrap();
        let plan = Plan::of(&exp);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        crate::schema::write_json(&path, &plan).unwrap();
        let back: Plan = crate::schema::read_json(&path, "plan").unwrap();
        assert_eq!(back, plan);
        assert!(back.check().is_ok());
        let mut bad = plan.clone();
        bad.runs.pop();
        assert!(bad.check().unwrap_err().contains("5 runs for 2 configuration(s) × 3 seed(s)"));
    }

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
