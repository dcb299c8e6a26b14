//! The work of each command, as `cargo::ops` holds cargo's: options in, a result out, nothing
//! printed but progress. The binary turns its flags into these options and prints what comes
//! back.

pub mod drift;
pub mod eval;
pub mod init;
pub mod plot;
pub mod run;
pub mod train;
pub mod verify;

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// `--out`, else `results/<name>` (creating `results/`).
pub fn out_folder(out: Option<&Path>, name: &str) -> Result<PathBuf> {
    match out {
        Some(o) => Ok(o.to_path_buf()),
        None => {
            let results = Path::new("results");
            std::fs::create_dir_all(results)
                .map_err(|e| Error::io(results, "cannot create the folder", e))?;
            Ok(results.join(name))
        }
    }
}
