//! The runner's errors: one enum, each variant saying what it is about (a file, a setting, the
//! data, a backend), with the causes as a chain (`source()`), never repeated in the message.
//!
//! [`Context`] adds where an error happened (`run 3 \`a-seed2\``, a file) as anyhow's does,
//! as a typed [`Error::Context`]; [`bail!`](crate::bail) returns an [`Error::Invalid`] with a
//! message that names the file, field or run.

use std::fmt::Display;
use std::path::{Path, PathBuf};

/// Everything the runner can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read, written, created, listed or moved.
    #[error("{}: {action}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was tried: `cannot read`, `cannot create`, ….
        action: &'static str,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The system refused something; the context says what and where.
    #[error(transparent)]
    System(#[from] std::io::Error),
    /// A number that does not parse; the context says which.
    #[error(transparent)]
    Number(#[from] std::num::ParseIntError),
    /// A JSON file that is not what it should hold.
    #[error("{}: not a valid twinnet {what}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What it should hold: `result`, `drift record`, ….
        what: &'static str,
        /// serde's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A setting that cannot work, named as on the command line.
    #[error(transparent)]
    Config(#[from] twinnet_core::ConfigError),
    /// Data that cannot be read or is not what was asked for.
    #[error(transparent)]
    Data(#[from] twinnet_data::DataError),
    /// A parameters file that cannot be read or written.
    #[error(transparent)]
    Params(#[from] twinnet_core::ParamsError),
    /// A figure that could not be drawn.
    #[error(transparent)]
    Plot(#[from] twinnet_plot::PlotError),
    /// A backend that could not be built.
    #[error(transparent)]
    Engine(#[from] twinnet_engine::EngineError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] twinnet_core::TrainError),
    /// A backend failed.
    #[error(transparent)]
    Backend(#[from] twinnet_core::BackendError),
    /// A page that could not be rendered.
    #[error(transparent)]
    Page(#[from] twinnet_page::PageError),
    /// An implementation in another process that cannot be started or spoken to.
    #[error(transparent)]
    Process(#[from] twinnet_process::ProcessError),
    /// A one-ulp nudge that names no parameter.
    #[error(transparent)]
    Nudge(#[from] twinnet_core::trajectory::NudgeError),
    /// Input that is wrong, said in full: the message names the file, field or run.
    #[error("{0}")]
    Invalid(String),
    /// SIGINT or SIGTERM stopped the work; nothing of it was written.
    #[error("interrupted: training stopped, nothing was written")]
    Interrupted,
    /// Where `source` happened.
    #[error("{context}")]
    Context {
        /// The file, run or step.
        context: String,
        /// What went wrong there.
        #[source]
        source: Box<Error>,
    },
}

/// The runner's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether this error, or one it wraps as context, is [`Error::Interrupted`].
    pub fn is_interrupted(&self) -> bool {
        match self {
            Error::Interrupted => true,
            Error::Context { source, .. } => source.is_interrupted(),
            _ => false,
        }
    }

    /// An I/O error on `path` while doing `action`.
    pub fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), action, source }
    }
}

/// An error and its causes on one line, `outer: inner: …`, each said once (what anyhow's
/// `{:#}` prints), for messages that list several errors.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// Adds where an error happened, as anyhow's `Context` does, keeping the error typed.
pub trait Context<T> {
    /// Wraps the error (or the absence) in `context`.
    fn context(self, context: impl Display) -> Result<T>;
    /// Wraps the error (or the absence) in the context `f` makes (only on failure).
    fn with_context<C: Display>(self, f: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| Error::Context {
            context: context.to_string(),
            source: Box::new(e.into()),
        })
    }
    fn with_context<C: Display>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| Error::Context { context: f().to_string(), source: Box::new(e.into()) })
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, context: impl Display) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(context.to_string()))
    }
    fn with_context<C: Display>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.ok_or_else(|| Error::Invalid(f().to_string()))
    }
}

/// Returns an [`Error::Invalid`] with a formatted message.
#[macro_export]
macro_rules! bail {
    ($($t:tt)*) => {
        return Err($crate::Error::Invalid(format!($($t)*)))
    };
}

/// Returns an [`Error::Invalid`] with a formatted message unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($t:tt)*) => {
        if !$cond {
            $crate::bail!($($t)*);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_is_a_chain_not_a_repetition() {
        let inner: Result<()> = Err(Error::Invalid("lr: must be > 0".into()));
        let e = inner.context("run `a`").unwrap_err();
        assert_eq!(e.to_string(), "run `a`");
        let src = std::error::Error::source(&e).unwrap().to_string();
        assert_eq!(src, "lr: must be > 0");
        let stopped: Result<()> = Err(Error::Interrupted);
        assert!(stopped.context("x").unwrap_err().is_interrupted());
    }
}
