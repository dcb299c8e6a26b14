//! Progress: one indicatif bar per run on a terminal (all of an experiment's runs shown
//! together), plain lines when stderr is not a terminal, nothing with `--quiet`; a run that
//! `run --jobs` started as a process of its own reports each epoch to it as a line of JSON
//! ([`Progress::to_parent`], read back by [`parse_report`]) and the parent shows it.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use twinnet_core::EpochRecord;

/// How progress is shown.
#[derive(Debug)]
pub struct Progress {
    multi: Option<MultiProgress>,
    quiet: bool,
    to_parent: bool,
}

/// What starts a line reporting an epoch to a parent `run --jobs` (the rest is an
/// [`EpochRecord`] as JSON).
const EPOCH: &str = "twinnet-epoch ";
/// What starts the line reporting a run's final message to a parent `run --jobs`.
const FINISHED: &str = "twinnet-finished ";

/// A line of progress from a [`Progress::to_parent`] run.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The end of an epoch.
    Epoch(EpochRecord),
    /// The run's final message ([`RunBar::finish`]).
    Finished(String),
}

/// What a line written by a [`Progress::to_parent`] run reports, if it is such a line.
pub fn parse_report(line: &str) -> Option<Report> {
    if let Some(json) = line.strip_prefix(EPOCH) {
        return serde_json::from_str(json).ok().map(Report::Epoch);
    }
    line.strip_prefix(FINISHED).map(|m| Report::Finished(m.to_string()))
}

/// The progress of one run.
#[derive(Debug)]
pub struct RunBar {
    bar: Option<ProgressBar>,
    name: String,
    epochs: usize,
    every: usize,
    quiet: bool,
    to_parent: bool,
}

impl Progress {
    /// Bars on a terminal, lines elsewhere, nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let multi = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10)));
        Self { multi, quiet, to_parent: false }
    }

    /// Each epoch as a line of JSON on stderr, for the `run --jobs` that started this process;
    /// other lines (a divergence) as they are.
    pub fn to_parent() -> Self {
        Self { multi: None, quiet: false, to_parent: true }
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
        RunBar {
            bar,
            name: name.into(),
            epochs,
            every: (epochs / 10).max(1),
            quiet: self.quiet,
            to_parent: self.to_parent,
        }
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
    /// Shows that the run started (its bar stops saying "waiting").
    pub fn start(&self) {
        if let Some(b) = &self.bar {
            b.reset_elapsed();
            b.set_message("started");
        }
    }

    /// Shows the end of one epoch.
    pub fn epoch(&self, r: &EpochRecord) {
        if self.to_parent {
            eprintln!("{EPOCH}{}", serde_json::to_string(r).expect("an epoch record is JSON"));
            return;
        }
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
            _ if self.to_parent => eprintln!("{FINISHED}{msg}"),
            Some(b) => b.finish_with_message(msg.to_string()),
            None if !self.quiet => eprintln!("[{}] {msg}", self.name),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_read_back() {
        let r = EpochRecord {
            epoch: 3,
            step: 2814,
            train_loss: 0.25,
            train_accuracy: 0.9125,
            elapsed_s: 1.5,
            test_accuracy: Some(0.9),
            test_loss: Some(0.3),
        };
        let line = format!("{EPOCH}{}", serde_json::to_string(&r).unwrap());
        assert_eq!(parse_report(&line), Some(Report::Epoch(r)));
        assert_eq!(
            parse_report(&format!("{FINISHED}test 91.20%")),
            Some(Report::Finished("test 91.20%".into()))
        );
        assert_eq!(parse_report("run `a` diverged at epoch 2, step 9; continuing"), None);
        assert_eq!(parse_report(&format!("{EPOCH}{{not json")), None);
    }
}
