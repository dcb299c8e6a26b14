//! `twinnet train`: one run from flags (or a result's config), evaluated, its result and
//! parameters optionally written.

use crate::data;
use crate::error::{Error, Result};
use crate::execute::{execute, Finished};
use crate::progress::Progress;
use crate::schema::{read_versioned, write_output_json, RunResult};
use crate::settings::Settings;
use crate::staging::{check_not_an_input, check_writable};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

/// What `twinnet train` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    /// The flags' settings (they win over `config_from`'s).
    pub settings: Settings,
    /// Re-run this result's config.
    pub config_from: Option<PathBuf>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// No progress output.
    pub quiet: bool,
    /// Write the result JSON here.
    pub out: Option<PathBuf>,
    /// Write the trained parameters here.
    pub save_params: Option<PathBuf>,
}

/// Trains and evaluates one run; writes `--out` and `--save-params` (a diverged run's too),
/// then fails with where and why if the run diverged.
pub fn train(opts: &TrainOptions, stop: &AtomicBool) -> Result<Finished> {
    let base = match &opts.config_from {
        Some(p) => {
            let config = read_versioned::<RunResult>(p, "result")?.config;
            // A result file is data that people share: the program it names is never started
            // because a file says so, only when the user names it again.
            if let (Some(stored), None) = (&config.command, &opts.settings.command) {
                crate::bail!(
                    "--config-from {}: its run started the program `{stored}`; twinnet never \
                     runs a command because a results file names it (a shared file could name \
                     anything): give it again with --command if you mean to run it",
                    p.display()
                );
            }
            Settings::from_config(&config)
        }
        None => Settings::default(),
    };
    let mut cfg = opts.settings.clone().or(&base).resolve();
    cfg.name = cfg.display_name();
    let mut inputs: Vec<(&str, &Path)> = vec![];
    if let Some(p) = &opts.config_from {
        inputs.push(("config-from", p));
    }
    if let Some(p) = &cfg.init_from {
        inputs.push(("init-from", p));
    }
    for (p, flag) in [(&opts.out, "out"), (&opts.save_params, "save-params")] {
        if let Some(p) = p {
            check_writable(p, flag)?;
            check_not_an_input(p, flag, &inputs)?;
        }
    }
    if let (Some(o), Some(s)) = (&opts.out, &opts.save_params) {
        check_not_an_input(o, "out", &[("save-params", s)])?;
    }
    let data = data::load(opts.data_dir.as_deref(), cfg.dataset)?;
    let run = cfg.validate(data.splits.train.len())?;
    let progress = Progress::new(opts.quiet);
    let bar = progress.add(&cfg.name, cfg.epochs);
    let done = execute(&run, &data, &bar, stop)?;
    if let Some(p) = &opts.out {
        write_output_json(p, &done.result)?;
    }
    if let Some(p) = &opts.save_params {
        done.params.save(p)?;
    }
    if let Some(d) = &done.result.divergence {
        let hint = match &cfg.init_from {
            Some(f) if d.step == 1 => format!(
                "the starting weights from {} already give this loss at the first update: \
                 check that file",
                f.display()
            ),
            _ => "try a smaller --lr".into(),
        };
        return Err(Error::Invalid(format!(
            "{}: diverged: loss became {} at epoch {}, step {} ({hint})",
            cfg.name, d.loss, d.epoch, d.step
        )));
    }
    Ok(done)
}
