//! The child process: started without a shell in a process group of its own ([`Group`]: it
//! and everything it starts end with it), spoken to one JSON line at a time, with a deadline on
//! every read and every write, and bounds on everything it can make twinnet hold: a protocol
//! line ([`MAX_LINE`]) and its stderr ([`StderrTail`]); the pipes are non-blocking
//! ([`crate::pipe`]).

use crate::error::ProcessError;
use crate::group::Group;
use crate::pipe::{reader_gone, set_nonblocking, wait_ready, Ready};
use crate::stderr::{cut_text, last_lines, StderrTail};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The variables that set a numerical library's threads when it loads: OpenMP, OpenBLAS, MKL,
/// Apple's Accelerate, numexpr.
pub(crate) const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
];

/// The longest protocol line accepted from a program (a reply is a few hundred bytes; an
/// error's message and traceback are cut well below this by `twinnet_backend`).
pub const MAX_LINE: usize = 1 << 20;

/// Why no reply line came.
enum NoLine {
    /// The deadline passed.
    Timeout,
    /// Its stdout reached its end.
    Closed,
    /// It exited while something it started still holds its stdout.
    ExitedHeld,
    /// A line longer than [`MAX_LINE`].
    TooLong,
    /// It closed its stdin and answered nothing for a second after.
    StdinClosed,
    /// Reading failed.
    Io(std::io::Error),
}

/// A running implementation.
#[derive(Debug)]
pub(crate) struct Child {
    /// The command as the user wrote it (for messages).
    pub(crate) command: String,
    proc: std::process::Child,
    /// Its process group (ended with this).
    group: Group,
    /// Its stdin, non-blocking (`None`: closed by us or by it).
    stdin: Option<ChildStdin>,
    /// Requests written but not yet pushed to the child: steps sent ahead go out together.
    pending: Vec<u8>,
    /// Its stdout, non-blocking, and what was read of it past the last line returned.
    stdout: ChildStdout,
    buffer: Vec<u8>,
    stderr: StderrTail,
    timeout: Duration,
    next_id: u64,
    /// The first request id still in `pending` (none: everything was flushed).
    unflushed: Option<u64>,
}

impl Child {
    /// Starts `argv` (already split), with `python_path` first on its `PYTHONPATH`.
    pub(crate) fn spawn(
        command: &str,
        argv: &[String],
        python_path: &Path,
        timeout: Duration,
        threads: usize,
    ) -> Result<Self, ProcessError> {
        let (program, args) = argv.split_first().ok_or_else(|| ProcessError::Command {
            command: command.into(),
            message: "names no program".into(),
        })?;
        let mut pp = std::ffi::OsString::from(python_path);
        if let Some(old) = std::env::var_os("PYTHONPATH").filter(|v| !v.is_empty()) {
            pp.push(":");
            pp.push(old);
        }
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("PYTHONPATH", pp)
            .env("PYTHONUNBUFFERED", "1")
            // The run's thread count for the libraries that read it when they load (NumPy's
            // BLAS, OpenMP): an implementation computes on the threads the run records.
            .envs(THREAD_VARS.map(|k| (k, threads.to_string())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            // A process group of its own: a Ctrl-C at the terminal reaches twinnet alone, which
            // stops at a clean point and then ends the group; everything the program starts
            // is in it and ends with it.
            cmd.process_group(0);
        }
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: the closure runs in the child between fork and exec and calls only
            // prctl(PR_SET_PDEATHSIG), which is async-signal-safe and touches no memory of ours.
            unsafe {
                cmd.pre_exec(|| {
                    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                        .map_err(std::io::Error::from)
                });
            }
        }
        let mut proc = cmd
            .spawn()
            .map_err(|source| ProcessError::Spawn { command: command.into(), source })?;
        let group = Group::new(proc.id());
        let stdout = proc.stdout.take().expect("piped stdout");
        let stdin = proc.stdin.take().expect("piped stdin");
        let io = |e: nix::Error| ProcessError::Spawn { command: command.into(), source: e.into() };
        set_nonblocking(&stdout).map_err(io)?;
        set_nonblocking(&stdin).map_err(io)?;
        let stderr = StderrTail::start(proc.stderr.take().expect("piped stderr"));
        Ok(Self {
            command: command.into(),
            proc,
            group,
            stdin: Some(stdin),
            pending: Vec::with_capacity(1 << 16),
            stdout,
            buffer: Vec::with_capacity(1 << 16),
            stderr,
            timeout,
            next_id: 1,
            unflushed: None,
        })
    }

    /// Writes `request` (an object) with the next id; returns the id. `flush`: push it to the
    /// child now; otherwise it goes with the next group (at most 16 requests wait).
    pub(crate) fn send(&mut self, mut request: Value, flush: bool) -> Result<u64, ProcessError> {
        let id = self.next_id;
        self.next_id += 1;
        let op = request["op"].as_str().unwrap_or("?").to_string();
        request["id"] = id.into();
        serde_json::to_writer(&mut self.pending, &request).expect("requests serialize");
        self.pending.push(b'\n');
        let first = *self.unflushed.get_or_insert(id);
        // Steps sent ahead go out in groups (one write, one wake-up of the child for many);
        // `recv` flushes whatever its reply depends on.
        if flush || id - first >= 15 {
            self.flush(&op)?;
        }
        Ok(id)
    }

    /// Pushes what was written to the child, waiting at most the timeout for it to read.
    pub(crate) fn flush(&mut self, op: &str) -> Result<(), ProcessError> {
        let deadline = Instant::now() + self.timeout;
        let mut done = 0;
        while done < self.pending.len() {
            let Some(w) = &mut self.stdin else { return Err(self.gone(op, "closed its stdin")) };
            match w.write(&self.pending[done..]) {
                Ok(n) => done += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if !wait_ready(&*w, Ready::Write, deadline) {
                        if Instant::now() >= deadline {
                            return Err(self.timed_out(op, "did not read"));
                        }
                        if self.has_exited() {
                            return Err(self.gone(op, "closed its stdin"));
                        }
                    }
                }
                Err(_) => return Err(self.gone(op, "closed its stdin")),
            }
        }
        self.pending.clear();
        self.unflushed = None;
        Ok(())
    }

    /// Whether the program has exited (reaped: its status is kept by `proc`).
    fn has_exited(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(Some(_)))
    }

    /// The error for a program that is gone or stopped talking: `what` it did (closed its
    /// stdin or stdout); how it ended, if it did. Its group is ended.
    fn gone(&mut self, op: &str, what: &str) -> ProcessError {
        // Give it a moment to be reaped, so that its status and last words are known.
        let deadline = Instant::now() + Duration::from_millis(500);
        let status = loop {
            match self.proc.try_wait() {
                Ok(Some(s)) => break format!("{what}; exited, {s}"),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => break format!("{what}, still running"),
            }
        };
        self.end();
        std::thread::sleep(Duration::from_millis(50));
        ProcessError::Exited {
            command: self.command.clone(),
            op: op.into(),
            status,
            stderr: self.stderr_tail(),
        }
    }

    /// The error for a deadline passed; its group is ended.
    fn timed_out(&mut self, op: &str, what: &str) -> ProcessError {
        self.end();
        ProcessError::Timeout {
            command: self.command.clone(),
            op: op.into(),
            what: what.into(),
            seconds: self.timeout.as_secs_f64(),
            stderr: self.stderr_tail(),
        }
    }

    /// Waits for the reply to request `id` (`op`), at most the timeout; the reply's fields on
    /// success, the implementation's error otherwise.
    pub(crate) fn recv(&mut self, op: &str, id: u64) -> Result<Value, ProcessError> {
        if self.unflushed.is_some_and(|first| first <= id) {
            self.flush(op)?;
        }
        let line = match self.read_line() {
            Ok(l) => l,
            Err(NoLine::Closed) => return Err(self.gone(op, "closed its stdout")),
            Err(NoLine::ExitedHeld) => {
                return Err(self.gone(op, "exited while a process it started holds its stdout"))
            }
            Err(NoLine::Timeout) => return Err(self.timed_out(op, "did not answer")),
            Err(NoLine::StdinClosed) => return Err(self.gone(op, "closed its stdin")),
            Err(NoLine::TooLong) => {
                self.end();
                return Err(ProcessError::Garbage {
                    command: self.command.clone(),
                    op: op.into(),
                    line: format!("(a line longer than {} MiB)", MAX_LINE >> 20),
                    stderr: self.stderr_tail(),
                });
            }
            Err(NoLine::Io(e)) => {
                self.end();
                return Err(ProcessError::Io {
                    path: format!("the stdout of `{}`", self.command).into(),
                    action: "cannot read",
                    source: e,
                });
            }
        };
        let garbage = |this: &Self| {
            let cut: String = line.chars().take(200).collect();
            ProcessError::Garbage {
                command: this.command.clone(),
                op: op.into(),
                line: cut,
                stderr: this.stderr_tail(),
            }
        };
        let v: Value = match serde_json::from_str(&line) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Err(garbage(self)),
        };
        if v.get("id").and_then(Value::as_u64) != Some(id) {
            return Err(ProcessError::Invalid {
                command: self.command.clone(),
                op: op.into(),
                message: format!(
                    "the reply's id is {}, expected {id} (replies come in order)",
                    v["id"]
                ),
            });
        }
        match v.get("ok").and_then(Value::as_bool) {
            Some(true) => Ok(v),
            Some(false) => {
                let tb = v["traceback"].as_str().unwrap_or("").trim_end();
                Err(ProcessError::Failed {
                    command: self.command.clone(),
                    op: op.into(),
                    error: cut_text(v["error"].as_str().unwrap_or("(no message)"), 2000),
                    traceback: if tb.is_empty() {
                        String::new()
                    } else {
                        format!("\n{}", last_lines(tb, 40, 4000))
                    },
                })
            }
            None => Err(garbage(self)),
        }
    }

    /// The next line of stdout, waiting at most the timeout.
    fn read_line(&mut self) -> Result<String, NoLine> {
        let deadline = Instant::now() + self.timeout;
        let mut searched = 0;
        let mut stdin_closed: Option<Instant> = None;
        loop {
            if let Some(i) = self.buffer[searched..].iter().position(|&b| b == b'\n') {
                let end = searched + i;
                let line = String::from_utf8_lossy(&self.buffer[..end]).into_owned();
                self.buffer.drain(..=end);
                return Ok(line);
            }
            searched = self.buffer.len();
            if searched > MAX_LINE {
                return Err(NoLine::TooLong);
            }
            let mut chunk = [0u8; 1 << 16];
            match self.stdout.read(&mut chunk) {
                Ok(0) => return Err(NoLine::Closed),
                Ok(n) => self.buffer.extend_from_slice(chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if !wait_ready(&self.stdout, Ready::Read, deadline) {
                        if Instant::now() >= deadline {
                            return Err(NoLine::Timeout);
                        }
                        // A program that closed its stdin can still answer what it read;
                        // silent for a second after, it is said to have closed it.
                        if self.stdin.as_ref().is_some_and(reader_gone) {
                            let since = *stdin_closed.get_or_insert_with(Instant::now);
                            if since.elapsed() > Duration::from_secs(1) {
                                return Err(NoLine::StdinClosed);
                            }
                        }
                        if self.has_exited() {
                            // Whatever it wrote before it exited is readable now.
                            return match self.stdout.read(&mut chunk) {
                                Ok(n) if n > 0 => {
                                    self.buffer
                                        .extend_from_slice(chunk.get(..n).unwrap_or_default());
                                    continue;
                                }
                                Ok(_) => Err(NoLine::Closed),
                                Err(_) => Err(NoLine::ExitedHeld),
                            };
                        }
                    }
                }
                Err(e) => return Err(NoLine::Io(e)),
            }
        }
    }

    /// Ends it and everything it started, now.
    pub(crate) fn end(&mut self) {
        self.stdin = None;
        self.group.kill();
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }

    /// The last lines it wrote to stderr, as the end of an error message.
    pub(crate) fn stderr_tail(&self) -> String {
        self.stderr.text()
    }

    /// Asks it to shut down (at most a second), then ends its whole group.
    pub(crate) fn shutdown(&mut self) {
        if let Ok(id) = self.send(serde_json::json!({"op": "shutdown"}), true) {
            let t = self.timeout;
            self.timeout = Duration::from_secs(1);
            let _ = self.recv("shutdown", id);
            self.timeout = t;
        }
        self.stdin = None;
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if self.has_exited() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.end();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.has_exited() {
            self.end();
        } else {
            self.shutdown();
        }
    }
}
