//! `twinnet init`.

use crate::args::InitArgs;

pub fn exec(a: InitArgs) -> anyhow::Result<()> {
    twinnet_runner::ops::init::init(a.hidden.clone(), a.init, a.init_rng, a.seed, &a.out)?;
    crate::outln!("{}", a.out.display());
    Ok(())
}
