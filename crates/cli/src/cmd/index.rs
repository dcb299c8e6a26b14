//! `twinnet index DIR`.

use crate::args::DirArgs;

pub fn exec(a: DirArgs) -> anyhow::Result<()> {
    crate::outln!("{}", twinnet_runner::page::write_index(&a.dir)?.display());
    Ok(())
}
