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
    check_index_replaceable(root)?;
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
    let html = twinnet_page::index("twinnet results", &entries).map_err(Error::Page)?;
    let path = root.join(INDEX_HTML);
    twinnet_core::file::write_atomic(&path, html.as_bytes())
        .map_err(|e| Error::io(&path, "cannot write", e))?;
    Ok(path)
}

/// What an `index.html` twinnet wrote before pages carried [`twinnet_page::INDEX_MARK`] says.
const OLD_INDEX: &str = "Every results folder, with its headline numbers;";

/// Fails unless `root/index.html` may be written: nothing is there, or an index twinnet wrote
/// (its mark, or an older index's words). A results folder's own page and a page of anyone
/// else's are refused, naming what they are; so is `root` itself being a results folder.
fn check_index_replaceable(root: &Path) -> Result<()> {
    let path = root.join(INDEX_HTML);
    if crate::staging::is_results_folder(root) {
        crate::bail!(
            "{}: is a results folder (its index.html is that folder's page): `twinnet index` \
             takes the folder that holds results folders, e.g. `twinnet index results`",
            root.display()
        );
    }
    let meta = match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&path, "cannot inspect", e)),
        Ok(m) => m,
    };
    let head = if meta.is_file() {
        use std::io::Read;
        let mut head = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(1 << 20).read_to_end(&mut head))
            .map_err(|e| Error::io(&path, "cannot read", e))?;
        String::from_utf8_lossy(&head).into_owned()
    } else {
        String::new()
    };
    if head.contains(twinnet_page::INDEX_MARK) || head.contains(OLD_INDEX) {
        return Ok(());
    }
    let what = if !meta.is_file() {
        "not a plain file"
    } else if head.contains(twinnet_page::PAGE_MARK) {
        "a results folder's page, not an index"
    } else {
        "not a page twinnet wrote"
    };
    crate::bail!(
        "{}: {what}; `twinnet index` writes only over an index it wrote, so it is left as it \
         is: move it away, or give another folder",
        path.display()
    )
}
