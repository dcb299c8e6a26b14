//! Progress: one indicatif bar per run on a terminal (all of an experiment's runs shown
//! together), plain lines when stderr is not a terminal, nothing with `--quiet`.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use twinnet_core::EpochRecord;

/// How progress is shown.
#[derive(Debug)]
pub struct Progress {
    multi: Option<MultiProgress>,
    quiet: bool,
}

/// The progress of one run.
#[derive(Debug)]
pub struct RunBar {
    bar: Option<ProgressBar>,
    name: String,
    epochs: usize,
    every: usize,
    quiet: bool,
}

impl Progress {
    /// Bars on a terminal, lines elsewhere, nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let multi = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)));
        Self { multi, quiet }
    }

    /// A bar (or line printer) for a run of `epochs` epochs, shown as waiting until it starts.
    pub fn add(&self, name: &str, epochs: usize) -> RunBar {
        let bar = self.multi.as_ref().map(|m| {
            let style = ProgressStyle::with_template(
                "{prefix:>24.bold} [{bar:30.cyan/blue}] {pos:>4}/{len} epochs {msg} ({elapsed}, ETA {eta})",
            )
            .expect("valid template")
            .progress_chars("=> ");
            let b = m.add(ProgressBar::new(epochs as u64));
            b.set_style(style);
            b.set_prefix(name.to_string());
            b.set_message("waiting");
            b
        });
        RunBar { bar, name: name.into(), epochs, every: (epochs / 10).max(1), quiet: self.quiet }
    }

    /// Prints a line above the bars (or to stderr).
    pub fn println(&self, line: &str) {
        match &self.multi {
            Some(m) => {
                let _ = m.println(line);
            }
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
}

impl RunBar {
    /// Shows the end of one epoch.
    pub fn epoch(&self, r: &EpochRecord) {
        let msg = format!("acc {:.2}% loss {:.4}", 100.0 * r.train_accuracy, r.train_loss);
        match &self.bar {
            Some(b) => {
                b.set_position(r.epoch as u64);
                b.set_message(msg);
            }
            None if !self.quiet
                && (r.epoch.is_multiple_of(self.every) || r.epoch == self.epochs) =>
            {
                eprintln!(
                    "[{}] epoch {}/{} train {msg} ({:.1} s)",
                    self.name, r.epoch, self.epochs, r.elapsed_s
                );
            }
            None => {}
        }
    }

    /// Marks the run finished with a final message.
    pub fn finish(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.finish_with_message(msg.to_string()),
            None if !self.quiet => eprintln!("[{}] {msg}", self.name),
            None => {}
        }
    }
}
