//! `twinnet drift EXP`.

use crate::args::DriftArgs;
use crate::Global;
use twinnet_runner::ops::drift::{drift, DriftOptions};

pub fn exec(a: DriftArgs, g: Global) -> anyhow::Result<()> {
    let opts = DriftOptions {
        experiment: a.experiment,
        overrides: a.settings,
        out: a.out,
        data_dir: a.common.data_dir,
        quiet: a.common.quiet,
    };
    crate::outln!("{}", drift(&opts, g.stop)?.display());
    Ok(())
}
