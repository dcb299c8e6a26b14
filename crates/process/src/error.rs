//! What can go wrong with an implementation in another process: each error names the command,
//! the message it was answering, and ends with the last lines it wrote to stderr.

use std::path::PathBuf;

/// Everything the process backend can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The command is empty or cannot be split as a shell would.
    #[error("--command `{command}`: {message}")]
    Command {
        /// The command as given.
        command: String,
        /// What is wrong with it.
        message: String,
    },
    /// The program could not be started (not found, not executable).
    #[error("`{command}`: cannot start the program")]
    Spawn {
        /// The command.
        command: String,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The program closed its stdin or stdout, or exited, instead of answering.
    #[error("`{command}` stopped before answering `{op}`: it {status}{stderr}")]
    Exited {
        /// The command.
        command: String,
        /// The message it did not answer.
        op: String,
        /// What it did and how it ended.
        status: String,
        /// Its last lines of stderr.
        stderr: String,
    },
    /// No answer (or no reading of a request) within the deadline; the program was killed.
    #[error("`{command}` {what} `{op}` within {seconds} s (killed, with every process it started; raise the limit with --process-timeout){stderr}")]
    Timeout {
        /// The command.
        command: String,
        /// What it did not do: "did not answer", "did not read".
        what: String,
        /// The message it did not answer.
        op: String,
        /// The deadline.
        seconds: f64,
        /// Its last lines of stderr.
        stderr: String,
    },
    /// A line that is not a reply of the protocol.
    #[error("`{command}` answered `{op}` with a line that is not a protocol reply (one JSON object per line on stdout: print anything else to stderr): `{line}`{stderr}")]
    Garbage {
        /// The command.
        command: String,
        /// The message it was answering.
        op: String,
        /// The line, cut short.
        line: String,
        /// Its last lines of stderr.
        stderr: String,
    },
    /// The implementation reported an error (a Python exception, say).
    #[error("`{command}` failed in `{op}`: {error}{traceback}")]
    Failed {
        /// The command.
        command: String,
        /// The message it was answering.
        op: String,
        /// Its error.
        error: String,
        /// Its traceback, if it sent one.
        traceback: String,
    },
    /// The program's protocol version cannot carry the model (version 1: the report's network
    /// only); refused before `init`.
    #[error("`{command}`: {message}")]
    Unsupported {
        /// The command.
        command: String,
        /// Which setting, and why.
        message: String,
    },
    /// Another version of the protocol.
    #[error("`{command}` speaks protocol version {theirs}; this twinnet speaks versions 1 to {ours} (docs/protocol.md)")]
    Version {
        /// The command.
        command: String,
        /// Its version.
        theirs: String,
        /// Ours.
        ours: u32,
    },
    /// An answer that breaks the protocol (wrong shapes, names, counts, values).
    #[error("`{command}` answered `{op}` wrongly: {message}")]
    Invalid {
        /// The command.
        command: String,
        /// The message it was answering.
        op: String,
        /// What is wrong.
        message: String,
    },
    /// A file of the exchange could not be written or read.
    #[error("{}: {action}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was tried.
        action: &'static str,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
}

impl ProcessError {
    /// An I/O error on `path`.
    pub(crate) fn io(path: &std::path::Path, action: &'static str, source: std::io::Error) -> Self {
        ProcessError::Io { path: path.to_path_buf(), action, source }
    }
}
