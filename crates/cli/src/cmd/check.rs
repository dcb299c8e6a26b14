//! `twinnet check --command CMD`.

use crate::args::CheckArgs;
use crate::Global;
use twinnet_runner::check::{check, CheckModel, CheckOptions};
use twinnet_runner::schema::write_output_json;
use twinnet_runner::staging::check_writable;

pub fn exec(a: CheckArgs, g: Global) -> anyhow::Result<()> {
    if let Some(j) = &a.json {
        check_writable(j, "json")?;
    }
    anyhow::ensure!(
        a.process_timeout.is_finite() && a.process_timeout > 0.0 && a.process_timeout <= 1e7,
        "--process-timeout: must be seconds in (0, 1e7], got {}",
        a.process_timeout
    );
    anyhow::ensure!(a.updates >= 1 && a.iterations >= 1, "--updates and --iterations: at least 1");
    let opts = CheckOptions {
        against: a.against,
        timeout: std::time::Duration::from_secs_f64(a.process_timeout),
        train_limit: a.train_limit,
        updates: a.updates,
        iterations: a.iterations,
        data_dir: a.common.data_dir,
        model: CheckModel {
            hidden: a.hidden,
            activation: a.activation,
            head: a.head,
            init: a.init,
            lr: a.lr,
            batch_size: a.batch_size,
            normalize: a.normalize,
            optimizer: a.optimizer.settings(),
        },
        ..CheckOptions::new(&a.command)
    };
    if let Some(j) = &a.json {
        opts.check_output(j)?;
    }
    let report = check(&opts, g.stop)?;
    crate::out!("{}", report.text());
    if let Some(j) = &a.json {
        write_output_json(j, &report)?;
    }
    anyhow::ensure!(report.passed(), "check: {} did not pass (see above)", a.command);
    Ok(())
}
