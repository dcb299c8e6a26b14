//! `twinnet collect DIR`.

use crate::args::DirArgs;
use twinnet_runner::layout::ResultsDir;

pub fn exec(a: DirArgs) -> anyhow::Result<()> {
    let dir = ResultsDir::new(a.dir);
    twinnet_runner::sweep::collect(&dir)?;
    crate::outln!("{}", dir.summary().display());
    Ok(())
}
