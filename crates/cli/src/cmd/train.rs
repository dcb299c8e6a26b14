//! `twinnet train`.

use crate::args::TrainArgs;
use crate::Global;
use twinnet_runner::ops::train::{train, TrainOptions};

pub fn exec(a: TrainArgs, g: Global) -> anyhow::Result<()> {
    let opts = TrainOptions {
        settings: a.settings,
        config_from: a.config_from,
        data_dir: a.common.data_dir,
        quiet: a.common.quiet,
        out: a.out,
        save_params: a.save_params,
    };
    let done = train(&opts, g.stop)?;
    let r = &done.result;
    let Some(t) = &r.test else { anyhow::bail!("{}: no test evaluation", r.config.name) };
    crate::outln!(
        "{}: test accuracy {:.2}% (train {:.1} s)\n",
        r.config.name,
        100.0 * t.accuracy,
        r.timing.train_s
    );
    if !r.data.verified {
        let d = r.data.dataset;
        crate::outln!("(data: not {d}'s pinned files (data/{d}.sha256): recorded as unverified)\n");
    }
    crate::out!("{}", t.classification_report);
    if !t.collapsed.is_empty() {
        let d = r.config.dataset;
        let names: Vec<String> = t.collapsed.iter().map(|&k| d.class_label(k as usize)).collect();
        crate::outln!("\ncollapsed: {} never predicted", names.join(", "));
    }
    Ok(())
}
