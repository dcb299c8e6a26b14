//! A drift experiment's file, checked, and the distinct runs each setting needs.

use crate::bail;
use crate::error::{Context, Error, Result};
use crate::settings::{RunConfig, Settings};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;
use twinnet_core::trajectory::Nudge;
use twinnet_core::Params;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    description: String,
    #[serde(default)]
    setting: Vec<Settings>,
    #[serde(default)]
    source: Vec<SourceSpec>,
    /// The sources whose drifts make the floor: per update, the largest of them.
    #[serde(default)]
    floor: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceSpec {
    name: String,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    a: Settings,
    #[serde(default)]
    b: Settings,
    #[serde(default)]
    nudge: Option<Nudge>,
    /// Sources whose drift this one's is compared with (and, when the file names a floor, the
    /// floor): from which update on it stays within [`super::MEET_FACTOR`] ([`super::meets`]).
    #[serde(default)]
    meets: Vec<String>,
}

/// A parsed drift experiment.
#[derive(Debug, Clone)]
pub struct DriftExperiment {
    /// The file's stem.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The file's text.
    pub source: String,
    /// Every setting with its pairs.
    pub settings: Vec<SettingPlan>,
    /// The sources whose envelope is the floor ([`super::meets`]).
    pub floor: Vec<String>,
}

/// One setting: the distinct runs it needs and its pairs of them.
#[derive(Debug, Clone)]
pub struct SettingPlan {
    /// The setting's name.
    pub name: String,
    /// Its distinct runs (a run several pairs share is trained once).
    pub runs: Vec<PlannedRun>,
    /// The pairs, in file order.
    pub pairs: Vec<PairPlan>,
}

/// One distinct run of a setting.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    /// Its complete settings (named `<setting>/<backend>-<threads>t-seed<S>[-nudged]`).
    pub config: RunConfig,
    /// The weight it moves one ulp before training, if any.
    pub nudge: Option<Nudge>,
}

impl PlannedRun {
    /// The same run as `other`: the same settings apart from the name, the same nudge.
    fn same_run(&self, other: &PlannedRun) -> bool {
        self.nudge == other.nudge
            && RunConfig { name: String::new(), ..self.config.clone() }
                == RunConfig { name: String::new(), ..other.config.clone() }
    }
}

/// One source of difference in one setting.
#[derive(Debug, Clone)]
pub struct PairPlan {
    /// The source's name.
    pub source: String,
    /// Its legend text.
    pub label: String,
    /// Index of side a in [`SettingPlan::runs`].
    pub a: usize,
    /// Index of side b.
    pub b: usize,
    /// Sources to compare this one's drift with.
    pub meets: Vec<String>,
}

/// Whether `n` may name a setting or a source: letters, digits, `-`, `_`, `.`.
fn name_ok(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Whether two runs make the same updates on parameters of one shape, so that their
/// parameters can be compared after each update: regime, batch size, epochs, train limit and
/// hidden widths agree.
fn comparable(x: &RunConfig, y: &RunConfig) -> bool {
    x.regime == y.regime
        && x.epochs == y.epochs
        && x.train_limit == y.train_limit
        && x.hidden == y.hidden
        && (x.regime == twinnet_core::Regime::FullBatch || x.batch_size == y.batch_size)
}

impl DriftExperiment {
    /// Reads `path`; `overrides` (flags) win over every run's settings.
    pub fn load(path: &Path, overrides: &Settings) -> Result<Self> {
        let source = twinnet_core::file::read_text_capped(path, crate::experiment::MAX_FILE)
            .map_err(|e| Error::io(path, "cannot read the drift experiment file", e))?;
        Self::parse(path, &source, overrides)
    }

    /// Parses an experiment's text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, source: &str, overrides: &Settings) -> Result<Self> {
        let p = path.display();
        let file: File = toml::from_str(source).map_err(|e| Error::Invalid(format!("{p}: {e}")))?;
        if let Some(n) = &overrides.name {
            bail!("--name {n}: a drift experiment names its runs itself ({p})");
        }
        if file.setting.is_empty() || file.source.is_empty() {
            bail!("{p}: a drift experiment needs at least one [[setting]] and one [[source]]");
        }
        check_sources(path, &file.source)?;
        if let Some(f) = file.floor.iter().find(|f| !file.source.iter().any(|s| s.name == **f)) {
            bail!("{p}: floor: `{f}` is not a source of the file");
        }
        let mut settings = vec![];
        let mut seen = HashSet::new();
        for (i, setting) in file.setting.iter().enumerate() {
            let Some(sname) = setting.name.clone().filter(|n| name_ok(n)) else {
                bail!("{p}: setting #{} needs a `name` of letters, digits, `-`, `_`, `.`", i + 1);
            };
            if !seen.insert(sname.clone()) {
                bail!("{p}: two settings are named `{sname}`");
            }
            settings.push(plan_setting(path, &sname, setting, &file.source, overrides)?);
        }
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Self {
            name,
            description: file.description,
            source: source.to_string(),
            settings,
            floor: file.floor,
        })
    }
}

/// Source names are unique and well formed; `meets` names other sources.
fn check_sources(path: &Path, sources: &[SourceSpec]) -> Result<()> {
    let p = path.display();
    let mut seen = HashSet::new();
    for s in sources {
        if !name_ok(&s.name) {
            bail!("{p}: source name `{}` must be letters, digits, `-`, `_`, `.`", s.name);
        }
        if !seen.insert(&s.name) {
            bail!("{p}: two sources are named `{}`", s.name);
        }
    }
    for s in sources {
        if let Some(m) = s.meets.iter().find(|m| !seen.contains(m) || **m == s.name) {
            bail!("{p}: source `{}`: meets: `{m}` is not another source of the file", s.name);
        }
    }
    Ok(())
}

/// The distinct runs and the pairs of one setting.
fn plan_setting(
    path: &Path,
    sname: &str,
    setting: &Settings,
    sources: &[SourceSpec],
    overrides: &Settings,
) -> Result<SettingPlan> {
    let p = path.display();
    let base = path.parent().unwrap_or(Path::new(""));
    let mut plan = SettingPlan { name: sname.to_string(), runs: vec![], pairs: vec![] };
    for src in sources {
        let side = |s: &Settings, nudge: Option<&Nudge>| -> Result<PlannedRun> {
            let mut c = overrides.clone().or(&s.clone().or(setting)).resolve();
            c.name = String::new();
            c.log_every = 1;
            c.init_from = c.init_from.map(|f| {
                if overrides.init_from.is_some() || f.is_absolute() {
                    f
                } else {
                    base.join(f)
                }
            });
            if let Some(n) = nudge {
                n.apply(&mut Params::zeros_widths(&c.model_config().widths()))
                    .with_context(|| format!("{p}: source `{}`", src.name))?;
            }
            Ok(PlannedRun { config: c, nudge: nudge.cloned() })
        };
        let (a, b) = (side(&src.a, None)?, side(&src.b, src.nudge.as_ref())?);
        if !comparable(&a.config, &b.config) {
            bail!(
                "{p}: source `{}` in setting `{sname}`: its two runs make different updates or \
                 have parameters of different shapes (regime, batch size, epochs, train limit \
                 and hidden widths must agree)",
                src.name
            );
        }
        if a == b {
            bail!("{p}: source `{}` in setting `{sname}`: its two runs are the same run", src.name);
        }
        let (ia, ib) = (index_of(&mut plan.runs, a), index_of(&mut plan.runs, b));
        name_runs(sname, &mut plan.runs);
        plan.pairs.push(PairPlan {
            source: src.name.clone(),
            label: src.label.clone().unwrap_or_else(|| src.name.clone()),
            a: ia,
            b: ib,
            meets: src.meets.clone(),
        });
    }
    Ok(plan)
}

/// The index of `run` among `runs`, added if no run there is the same run.
fn index_of(runs: &mut Vec<PlannedRun>, run: PlannedRun) -> usize {
    match runs.iter().position(|x| x.same_run(&run)) {
        Some(i) => i,
        None => {
            runs.push(run);
            runs.len() - 1
        }
    }
}

/// Names the runs not yet named: `<setting>/<backend>-<threads>t-seed<S>[-nudged]`, made
/// unique by the run's index.
fn name_runs(setting: &str, runs: &mut [PlannedRun]) {
    for k in 0..runs.len() {
        let Some(r) = runs.get(k).filter(|r| r.config.name.is_empty()) else { continue };
        let c = &r.config;
        let mut n = format!("{setting}/{}-{}t-seed{}", c.backend, c.threads, c.seed);
        if r.nudge.is_some() {
            n.push_str("-nudged");
        }
        if runs.iter().any(|r| r.config.name == n) {
            n = format!("{n}-{k}");
        }
        if let Some(r) = runs.get_mut(k) {
            r.config.name = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_runs_are_trained_once() {
        let src = r#"
description = "d"
[[setting]]
name = "s"
epochs = 3
[[source]]
name = "f"
a = { backend = "ndarray" }
b = { backend = "tch" }
[[source]]
name = "u"
a = { backend = "ndarray" }
b = { backend = "ndarray" }
nudge = { tensor = "fc2.bias", index = [1] }
[[source]]
name = "s1"
b = { seed = 1 }
"#;
        let e = DriftExperiment::parse(Path::new("x/nf.toml"), src, &Settings::default()).unwrap();
        let s = &e.settings[0];
        // ndarray (shared by all three), tch, ndarray nudged, ndarray seed 1.
        assert_eq!(s.runs.len(), 4, "{:?}", s.runs);
        let ix: Vec<(usize, usize)> = s.pairs.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(ix, [(0, 1), (0, 2), (0, 3)]);
        assert!(s.runs.iter().all(|r| r.config.log_every == 1 && r.config.epochs == 3));
        assert_eq!(s.runs[2].nudge.as_ref().unwrap().tensor, "fc2.bias");
        assert!(s.runs[0].config.name.starts_with("s/ndarray-"), "{}", s.runs[0].config.name);
    }
}
