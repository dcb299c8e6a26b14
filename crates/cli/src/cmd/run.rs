//! `twinnet run EXP`.

use crate::args::RunArgs;
use crate::Global;
use twinnet_runner::experiment::Experiment;
use twinnet_runner::ops::run::{run, RunDone, RunOptions};
use twinnet_runner::sweep::Selection;

pub fn exec(a: RunArgs, g: Global) -> anyhow::Result<()> {
    let seeds = a.seeds.map(|s| s.0);
    let experiment = Experiment::load(&a.experiment, &a.settings, seeds.clone())?;
    let opts = RunOptions {
        overrides: a.settings,
        seeds,
        out: a.out,
        data_dir: a.common.data_dir,
        quiet: a.common.quiet,
        selection: Selection::parse(a.index.as_deref(), a.shard.as_deref())?,
        jobs: a.jobs,
        resume: a.resume,
        progress_to_parent: a.progress_to_parent,
        native_kernels: g.native_kernels,
        exe: Some(std::env::current_exe()?),
        ..RunOptions::new(experiment)
    };
    match run(&opts, g.stop)? {
        RunDone::Folder { summary } => crate::outln!("{}", summary.display()),
        RunDone::Selected { out, skipped } => {
            for (i, name) in skipped {
                crate::outln!("run {i} `{name}`: already done, skipped");
            }
            crate::outln!("{}", out.display());
        }
    }
    Ok(())
}
