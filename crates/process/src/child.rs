//! The child process: started without a shell, owned by its parent (killed when the parent
//! drops it, and by the kernel when the parent dies), spoken to one JSON line at a time, its
//! stderr kept (the last lines) for the parent's error messages.

use crate::error::ProcessError;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
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

/// Lines of the child's stderr kept for error messages.
const STDERR_LINES: usize = 20;

/// A running implementation.
#[derive(Debug)]
pub(crate) struct Child {
    /// The command as the user wrote it (for messages).
    pub(crate) command: String,
    proc: std::process::Child,
    /// Requests, buffered: steps sent ahead go out together with the one awaited.
    stdin: Option<BufWriter<ChildStdin>>,
    /// Replies, read by this thread (no reader thread: one wake-up fewer per step), with a
    /// deadline from `poll`.
    stdout: BufReader<ChildStdout>,
    stderr: Arc<Mutex<VecDeque<String>>>,
    timeout: Duration,
    next_id: u64,
    /// The first request id still in `stdin`'s buffer (none: everything was flushed).
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
            // stops at a clean point and then ends the child.
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
        let stdout = BufReader::with_capacity(1 << 16, proc.stdout.take().expect("piped stdout"));
        let stderr_pipe = proc.stderr.take().expect("piped stderr");
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let keep = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                let mut k = keep.lock().unwrap_or_else(|e| e.into_inner());
                if k.len() == STDERR_LINES {
                    k.pop_front();
                }
                k.push_back(line);
            }
        });
        Ok(Self {
            command: command.into(),
            stdin: proc.stdin.take().map(|w| BufWriter::with_capacity(1 << 16, w)),
            proc,
            stdout,
            stderr,
            timeout,
            next_id: 1,
            unflushed: None,
        })
    }

    /// Its process id.
    pub(crate) fn id(&self) -> u32 {
        self.proc.id()
    }

    /// The last lines it wrote to stderr, as the end of an error message.
    pub(crate) fn stderr_tail(&self) -> String {
        let k = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        if k.is_empty() {
            return String::new();
        }
        let lines: Vec<String> = k.iter().map(|l| format!("  | {l}")).collect();
        format!("\n  its last lines of stderr:\n{}", lines.join("\n"))
    }

    /// Writes `request` (an object) with the next id; returns the id. `flush`: push it to the
    /// child now; otherwise it goes with the next group (at most 16 requests wait).
    pub(crate) fn send(&mut self, mut request: Value, flush: bool) -> Result<u64, ProcessError> {
        let id = self.next_id;
        self.next_id += 1;
        let op = request["op"].as_str().unwrap_or("?").to_string();
        request["id"] = id.into();
        let mut line = serde_json::to_string(&request).expect("requests serialize");
        line.push('\n');
        let written = match &mut self.stdin {
            Some(w) => w.write_all(line.as_bytes()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        };
        if written.is_err() {
            return Err(self.exited(&op));
        }
        let first = *self.unflushed.get_or_insert(id);
        // Steps sent ahead go out in groups (one write, one wake-up of the child for many);
        // `recv` flushes whatever its reply depends on.
        if flush || id - first >= 15 {
            self.flush(&op)?;
        }
        Ok(id)
    }

    /// Flushes what was written.
    pub(crate) fn flush(&mut self, op: &str) -> Result<(), ProcessError> {
        let flushed = self.stdin.as_mut().is_some_and(|w| w.flush().is_ok());
        if flushed {
            self.unflushed = None;
            Ok(())
        } else {
            Err(self.exited(op))
        }
    }

    /// The error for a child that is gone.
    fn exited(&mut self, op: &str) -> ProcessError {
        // Give it a moment to be reaped, so that its status and last words are known.
        let deadline = Instant::now() + Duration::from_millis(500);
        let status = loop {
            match self.proc.try_wait() {
                Ok(Some(s)) => break s.to_string(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => break "still running, its stdout closed".into(),
            }
        };
        std::thread::sleep(Duration::from_millis(50));
        ProcessError::Exited {
            command: self.command.clone(),
            op: op.into(),
            status,
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
            Ok(Some(l)) => l,
            Ok(None) => return Err(self.exited(op)),
            Err(()) => {
                self.kill();
                return Err(ProcessError::Timeout {
                    command: self.command.clone(),
                    op: op.into(),
                    seconds: self.timeout.as_secs_f64(),
                    stderr: self.stderr_tail(),
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
                    error: v["error"].as_str().unwrap_or("(no message)").into(),
                    traceback: if tb.is_empty() { String::new() } else { format!("\n{tb}") },
                })
            }
            None => Err(garbage(self)),
        }
    }

    /// The next line of stdout: `Ok(None)` at its end, `Err(())` when the deadline passed
    /// with no complete line.
    fn read_line(&mut self) -> Result<Option<String>, ()> {
        let deadline = Instant::now() + self.timeout;
        let mut line = Vec::new();
        loop {
            // Whatever is buffered first; wait (at most until the deadline) only for more.
            if self.stdout.buffer().is_empty() && !wait_readable(self.stdout.get_ref(), deadline) {
                return Err(());
            }
            let available = match self.stdout.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return Ok(None),
            };
            if available.is_empty() {
                return Ok(None);
            }
            match available.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    line.extend_from_slice(&available[..i]);
                    self.stdout.consume(i + 1);
                    return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
                }
                None => {
                    let n = available.len();
                    line.extend_from_slice(available);
                    self.stdout.consume(n);
                }
            }
        }
    }

    /// Kills it now.
    pub(crate) fn kill(&mut self) {
        self.stdin = None;
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }

    /// Asks it to shut down (at most a second), then kills it.
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
            if let Ok(Some(_)) = self.proc.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.kill();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Ok(None) = self.proc.try_wait() {
            self.shutdown();
        }
    }
}

/// Waits until `fd` can be read without blocking, or `deadline` passes (`false`).
#[cfg(unix)]
fn wait_readable(fd: &ChildStdout, deadline: Instant) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(n) if n > 0 => return true,
            Ok(_) if Instant::now() >= deadline => return false,
            _ => {}
        }
    }
}

#[cfg(not(unix))]
fn wait_readable(_: &ChildStdout, _: Instant) -> bool {
    true
}
