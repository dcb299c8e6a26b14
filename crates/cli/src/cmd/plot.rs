//! `twinnet plot DIR`.

use crate::args::DirArgs;
use twinnet_runner::layout::ResultsDir;

pub fn exec(a: DirArgs) -> anyhow::Result<()> {
    let summary = twinnet_runner::ops::plot::plot(&ResultsDir::new(a.dir))?;
    crate::outln!("{}", summary.display());
    Ok(())
}
