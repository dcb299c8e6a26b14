//! `twinnet verify EXP`.

use crate::args::VerifyArgs;
use crate::Global;
use twinnet_runner::ops::verify::{verify, VerifyOptions};

pub fn exec(a: VerifyArgs, g: Global) -> anyhow::Result<()> {
    let opts = VerifyOptions {
        experiment: a.experiment,
        against: a.against,
        data_dir: a.common.data_dir,
        quiet: a.common.quiet,
        native_kernels: g.native_kernels,
        exe: Some(std::env::current_exe()?),
    };
    crate::outln!("{}", verify(&opts, g.stop)?);
    Ok(())
}
