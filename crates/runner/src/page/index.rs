//! `results/index.html`: every results folder with its headline numbers.

use super::INDEX_HTML;
use crate::drift::DriftRecord;
use crate::error::{Error, Result};
use crate::layout::ResultsDir;
use crate::schema::read_versioned;
use std::path::{Path, PathBuf};
use twinnet_core::stats::mean_sd;
use twinnet_page::IndexEntry;

/// Writes `root/index.html`: every results folder under `root` (one with an experiment or
/// drift record) with its headline numbers, linking to its page. Returns its path.
pub fn write_index(root: &Path) -> Result<PathBuf> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .map_err(|e| Error::io(root, "cannot list", e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut entries = vec![];
    for name in names {
        let dir = ResultsDir::new(root.join(&name));
        if dir.is_drift() {
            let r: DriftRecord = read_versioned(&dir.drift_json(), "drift record")?;
            let headlines = r
                .settings
                .iter()
                .map(|s| format!("{}: {} pairs of {} runs", s.name, s.pairs.len(), s.runs.len()))
                .collect();
            entries.push(IndexEntry { name, description: r.description.trim().into(), headlines });
        } else if dir.experiment_json().is_file() {
            let (r, results) = crate::summary::load(&dir)?;
            let headlines = r
                .configurations()
                .iter()
                .map(|(c, range)| {
                    let accs: Vec<f64> = range
                        .clone()
                        .filter_map(|i| results.get(i))
                        .filter_map(|x| x.test.as_ref().map(|t| t.accuracy))
                        .collect();
                    match (accs.len(), accs.first()) {
                        (0, _) | (_, None) => format!("{c}: diverged"),
                        (1, Some(a)) => format!("{c}: {:.2}% test accuracy", 100.0 * a),
                        (n, _) => {
                            let (m, sd) = mean_sd(&accs);
                            format!(
                                "{c}: {:.2}% ± {:.2} test accuracy over {n} seeds",
                                100.0 * m,
                                100.0 * sd
                            )
                        }
                    }
                })
                .collect();
            entries.push(IndexEntry { name, description: r.description.trim().into(), headlines });
        }
    }
    let html = twinnet_page::index("twinnet results", &entries)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    let path = root.join(INDEX_HTML);
    twinnet_core::file::write_atomic(&path, html.as_bytes())
        .map_err(|e| Error::io(&path, "cannot write", e))?;
    Ok(path)
}
