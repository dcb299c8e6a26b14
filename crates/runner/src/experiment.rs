//! Experiment files: TOML under `experiments/`, a list of runs that share defaults.
//!
//! ```toml
//! description = "what the experiment shows"   # required
//! [defaults]                                  # optional: settings of every run
//! epochs = 500
//! [[run]]                                     # one or more
//! name = "numpy"                              # required, unique
//! backend = "ndarray"                         # any setting of `twinnet train`, kebab-case
//! ```
//! Unknown keys are errors (a typo must not be silently ignored), and `init-from` paths are
//! relative to the experiment file.

use crate::bail;
use crate::error::{Error, Result};
use crate::settings::{RunConfig, Settings};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use twinnet_data::DatasetName;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    #[serde(default)]
    seeds: Option<SeedSpec>,
    #[serde(default)]
    defaults: Settings,
    run: Vec<Settings>,
}

/// `seeds = [0, 1, 2]` or `seeds = "0..10"` (end excluded).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SeedSpec {
    List(Vec<u64>),
    Text(String),
}

/// The most runs one experiment may plan (configurations × seeds).
pub const MAX_RUNS: usize = 100_000;

/// Parses `"0..10"` (0 to 9) or `"0,3,7"`: at least one seed, at most [`MAX_RUNS`], none
/// twice (counted before anything is allocated).
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let bad = || format!("`{s}` is not a seed list: write A..B (B excluded) or A,B,C");
    let seeds: Vec<u64> = match s.split_once("..") {
        Some((a, b)) => {
            let (a, b): (u64, u64) =
                (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            if b.saturating_sub(a) > MAX_RUNS as u64 {
                return Err(format!(
                    "`{s}` names {} seeds, at most {MAX_RUNS} (the most runs one experiment may plan)",
                    b - a
                ));
            }
            (a..b).collect()
        }
        None => {
            s.split(',').map(|x| x.trim().parse().map_err(|_| bad())).collect::<Result<_, _>>()?
        }
    };
    check_seeds(&seeds).map_err(|m| format!("`{s}`: {m}"))?;
    Ok(seeds)
}

/// At least one seed, none twice (two runs of one configuration with one seed are one run).
fn check_seeds(seeds: &[u64]) -> Result<(), String> {
    if seeds.is_empty() {
        return Err("names no seed".into());
    }
    let mut sorted = seeds.to_vec();
    sorted.sort_unstable();
    if let Some([s, _]) = sorted.windows(2).find(|w| matches!(w, [a, b] if a == b)) {
        return Err(format!("seed {s} is given twice"));
    }
    Ok(())
}

/// A parsed experiment: its name (the file's stem), description and complete runs.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's stem: results go to `results/<name>/`.
    pub name: String,
    /// What the experiment shows.
    pub description: String,
    /// Its runs, in file order, with defaults applied and flags on top; with seeds, each
    /// configuration once per seed (named `<name>-seed<S>`), configuration after configuration.
    pub runs: Vec<RunConfig>,
    /// The configurations as written (equal to `runs` without seeds).
    pub configs: Vec<RunConfig>,
    /// The seeds every configuration is repeated over (empty: run once, with its own seed).
    pub seeds: Vec<u64>,
    /// The file's text (copied into the results folder).
    pub source: String,
}

/// The largest experiment file read (the largest committed one is a few KiB).
pub const MAX_FILE: u64 = 1 << 20;

impl Experiment {
    /// Reads `path`; `overrides` and `seeds` (from the command line) win over the file's.
    pub fn load(path: &Path, overrides: &Settings, seeds: Option<Vec<u64>>) -> Result<Self> {
        let source = twinnet_core::file::read_text_capped(path, MAX_FILE)
            .map_err(|e| Error::io(path, "cannot read the experiment file", e))?;
        let e = Self::parse(path, &source, overrides)?;
        match seeds {
            Some(seeds) => e.with_seeds(seeds),
            None => Ok(e),
        }
    }

    /// Repeats every configuration over `seeds` (distinct; at most [`MAX_RUNS`] runs in all).
    pub fn with_seeds(mut self, seeds: Vec<u64>) -> Result<Self> {
        check_seeds(&seeds)
            .map_err(|m| Error::Invalid(format!("{}: seeds: {m}", self.path.display())))?;
        let runs = self.configs.len().saturating_mul(seeds.len());
        if runs > MAX_RUNS {
            bail!(
                "{}: {} configuration(s) × {} seeds = {runs} runs, at most {MAX_RUNS}",
                self.path.display(),
                self.configs.len(),
                seeds.len()
            );
        }
        self.runs = self
            .configs
            .iter()
            .flat_map(|b| {
                seeds.iter().map(move |&s| RunConfig {
                    seed: s,
                    name: format!("{}-seed{s}", b.name),
                    ..b.clone()
                })
            })
            .collect();
        self.seeds = seeds;
        Ok(self)
    }

    /// Parses the text of an experiment file; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, source: &str, overrides: &Settings) -> Result<Self> {
        let file: File = toml::from_str(source)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        if let Some(n) = &overrides.name {
            bail!(
                "--name {n}: an experiment's runs are named in its file ({}); --name names the \
                 one run of `twinnet train`",
                path.display()
            );
        }
        let seeds = match &file.seeds {
            None => None,
            Some(SeedSpec::List(v)) if v.is_empty() => {
                bail!("{}: seeds: the list is empty", path.display())
            }
            Some(SeedSpec::List(v)) => Some(v.clone()),
            Some(SeedSpec::Text(t)) => Some(
                parse_seeds(t)
                    .map_err(|m| Error::Invalid(format!("{}: seeds: {m}", path.display())))?,
            ),
        };
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if file.run.is_empty() {
            bail!("{}: no [[run]] table: an experiment needs at least one run", path.display());
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let mut seen = HashSet::new();
        let mut runs = vec![];
        for (i, r) in file.run.into_iter().enumerate() {
            let Some(run_name) = r.name.clone().filter(|n| !n.is_empty()) else {
                bail!("{}: run #{} has no `name` (a required key)", path.display(), i + 1);
            };
            if let Err(why) = crate::layout::check_run_name(&run_name) {
                bail!("{}: {why}", path.display());
            }
            if !seen.insert(run_name.clone()) {
                bail!("{}: two runs are named `{run_name}`", path.display());
            }
            let mut s = overrides.clone().or(&r.or(&file.defaults));
            s.name = Some(run_name);
            s.init_from = s.init_from.map(|p| resolve(base, &p, overrides.init_from.is_some()));
            runs.push(s.resolve());
        }
        let e = Self {
            path: path.to_path_buf(),
            name,
            description: file.description,
            configs: runs.clone(),
            runs,
            seeds: vec![],
            source: source.to_string(),
        };
        match seeds {
            Some(s) => e.with_seeds(s),
            None => Ok(e),
        }
    }
}

impl Experiment {
    /// The one dataset every run reads (an experiment reads its data once): two runs on
    /// different datasets are an error naming both.
    pub fn dataset(&self) -> Result<DatasetName> {
        let mut seen: Option<(DatasetName, &str)> = None;
        for c in &self.runs {
            match seen {
                Some((s, first)) if s != c.dataset => bail!(
                    "{}: run `{first}` reads {s} but run `{}` reads {}: one experiment, one dataset",
                    self.path.display(),
                    c.name,
                    c.dataset
                ),
                None => seen = Some((c.dataset, &c.name)),
                _ => {}
            }
        }
        Ok(seen.map_or(DatasetName::default(), |s| s.0))
    }
}

/// A path from the file is relative to the file; one from the command line is taken as given.
fn resolve(base: &Path, p: &Path, from_flag: bool) -> PathBuf {
    if from_flag || p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinnet_core::{BackendKind, Regime};

    fn parse(src: &str) -> Result<Experiment> {
        Experiment::parse(Path::new("experiments/x.toml"), src, &Settings::default())
    }

    #[test]
    fn defaults_runs_and_overrides() {
        let src = r#"
description = "d"
[defaults]
epochs = 7
[[run]]
name = "a"
backend = "tch"
regime = "minibatch"
init-from = "p.safetensors"
[[run]]
name = "b"
epochs = 2
"#;
        let e = parse(src).unwrap();
        assert_eq!(e.name, "x");
        assert_eq!(
            (e.runs[0].backend, e.runs[0].regime, e.runs[0].epochs),
            (BackendKind::Tch, Regime::Minibatch, 7)
        );
        assert_eq!(e.runs[0].init_from.as_deref(), Some(Path::new("experiments/p.safetensors")));
        assert_eq!(e.runs[1].epochs, 2);
        let flags = Settings { epochs: Some(1), ..Default::default() };
        let e = Experiment::parse(Path::new("x.toml"), src, &flags).unwrap();
        assert!(e.runs.iter().all(|r| r.epochs == 1));
    }

    #[test]
    fn seeds_expand_every_configuration() {
        let src =
            "description = \"d\"\nseeds = \"3..5\"\n[[run]]\nname = \"a\"\n[[run]]\nname = \"b\"\n";
        let e = parse(src).unwrap();
        let names: Vec<&str> = e.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a-seed3", "a-seed4", "b-seed3", "b-seed4"]);
        assert_eq!(e.runs.iter().map(|r| r.seed).collect::<Vec<_>>(), [3, 4, 3, 4]);
        assert_eq!(e.configs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(e.seeds, [3, 4]);
        assert!(e
            .clone()
            .with_seeds(vec![1, 1])
            .unwrap_err()
            .to_string()
            .contains("seed 1 is given twice"));
        let e = e.with_seeds(vec![9]).unwrap();
        assert_eq!(
            e.runs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["a-seed9", "b-seed9"]
        );
        assert_eq!(parse_seeds("0,2, 5").unwrap(), [0, 2, 5]);
        assert!(parse_seeds("5..5").is_err() && parse_seeds("x").is_err());
        assert!(parse_seeds("0..18446744073709551615").unwrap_err().contains("at most 100000"));
        assert!(parse_seeds("3,4,3").unwrap_err().contains("seed 3 is given twice"));
        assert!(parse("description = \"d\"\nseeds = []\n[[run]]\nname = \"a\"\n").is_err());
    }

    #[test]
    fn errors() {
        let err = parse("description = \"d\"\n[[run]]\nname = \"a\"\nepoch = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `epoch`") && err.contains("line 4"), "{err}");
        let err = parse("description = \"d\"\n[[run]]\nname = \"a\"\n[[run]]\nname = \"a\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("two runs are named `a`"), "{err}");
        let err = parse("description = \"d\"\n[[run]]\nepochs = 3\n").unwrap_err().to_string();
        assert!(err.contains("run #1 has no `name`"), "{err}");
        let err = parse("[[run]]\nname = \"a\"\n").unwrap_err().to_string();
        assert!(err.contains("missing field `description`"), "{err}");
        let err = parse("description = \"d\"\n[[run]\n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = parse("description = \"d\"\n[[run]]\nname = \"a\"\nhead = \"sigmoid\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sigmoid") && err.contains("double-softmax"), "{err}");
    }
}
