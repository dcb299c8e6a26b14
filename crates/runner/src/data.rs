//! The data a command reads: which dataset, from which folder, and what every result records
//! about it (its name and the sha256 of the four decompressed files), so that two results can
//! only be compared knowingly.

use crate::bail;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use twinnet_data::{DatasetName, Splits, FILES};

/// The dataset a result was computed on, as recorded in it (`data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataRecord {
    /// `mnist` or `fashion-mnist`: what the run asked for.
    pub dataset: DatasetName,
    /// The sha256 of each file's decompressed bytes, by file name.
    pub sha256: BTreeMap<String, String>,
    /// Whether those are the dataset's pinned checksums (`data/<dataset>.sha256`); `false` for
    /// other files in its format (a subset, a synthetic set), which the run still used.
    pub verified: bool,
}

/// A dataset, read.
#[derive(Debug)]
pub struct Data {
    /// Both splits.
    pub splits: Splits,
    /// What results record about it.
    pub record: DataRecord,
}

impl Data {
    /// The dataset's name.
    pub fn name(&self) -> DatasetName {
        self.record.dataset
    }
}

/// Reads `dataset` from `dir`, else from its default folder
/// ([`DatasetName::default_dir`]). Files that are exactly another known dataset are refused
/// (MNIST read as Fashion-MNIST would train and record nonsense); files matching no pinned
/// checksum (a subset, a synthetic set) are used and recorded as unverified, which summaries
/// and `twinnet train`'s report point out.
pub fn load(dir: Option<&Path>, dataset: DatasetName) -> Result<Data> {
    let dir: PathBuf = dir.map(Path::to_path_buf).unwrap_or_else(|| dataset.default_dir());
    let splits = Splits::load(&dir).map_err(|e| match dataset {
        DatasetName::FashionMnist if !dir.exists() => Error::Invalid(format!(
            "{e}\n(Fashion-MNIST: run `make data`, which installs it from Debian's package \
             dataset-fashion-mnist, or pass --data-dir DIR / set {} to a folder holding its \
             four files {})",
            dataset.dir_env(),
            FILES.join(", ")
        )),
        _ => e.into(),
    })?;
    let verified = splits.is(dataset);
    if !verified {
        if let Some(other) = splits.identify() {
            bail!(
                "{}: these files are {other}, not {dataset} (their sha256 match \
                 data/{other}.sha256): pass --dataset {other}, or --data-dir a folder holding \
                 {dataset}",
                dir.display()
            );
        }
    }
    let sha256 =
        FILES.iter().zip(&splits.sha256).map(|(f, s)| (f.to_string(), s.clone())).collect();
    Ok(Data { splits, record: DataRecord { dataset, sha256, verified } })
}
