//! `twinnet eval --params P`.

use crate::args::EvalArgs;
use twinnet_runner::ops::eval::{eval, EvalOptions};

pub fn exec(a: EvalArgs) -> anyhow::Result<()> {
    let opts = EvalOptions {
        params: a.params.clone(),
        backend: a.backend,
        normalize: a.normalize,
        head: a.head,
        activation: a.activation,
        device: a.device,
        command: a.command,
        process_timeout: a.process_timeout,
        threads: a.threads,
        dataset: a.dataset,
        data_dir: a.common.data_dir,
        out: a.out,
    };
    let r = eval(&opts)?;
    crate::outln!(
        "{}: test accuracy {:.2}% ({} backend)\n",
        a.params.display(),
        100.0 * r.test.accuracy,
        r.backend
    );
    crate::out!("{}", r.test.classification_report);
    Ok(())
}
