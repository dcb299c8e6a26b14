//! Everything a program starts dies with it: each program runs in a process group of its own,
//! and that whole group is ended — on success, on error, on timeout, on an interrupt, and (on
//! Linux) when twinnet itself is killed.
//!
//! ```text
//! twinnet ──┬── the program (group leader, PR_SET_PDEATHSIG = SIGKILL)
//!           │        └── whatever it starts (same group: a shell's children, a pool, nohup)
//!           └── a guard: `sh` in a group of its own, reading a pipe only twinnet holds;
//!               when the pipe closes without a word (twinnet died, even of SIGKILL), it
//!               sends SIGKILL to the program's whole group
//! ```
//!
//! The kernel's parent-death signal reaches only the direct child, never what it forked, hence
//! the guard. When twinnet ends a program itself it kills the group first, then the guard (so
//! the guard never signals a group id that may have been reused). [`end_all`] ends every live
//! group and removes every scratch folder at once: the interrupt handler calls it before it
//! exits, when destructors no longer run.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What is alive now: process groups (leader pid, guard pid) and scratch folders.
#[derive(Debug, Default)]
struct Live {
    groups: Vec<(u32, Option<u32>)>,
    folders: Vec<PathBuf>,
}

static LIVE: Mutex<Live> = Mutex::new(Live { groups: Vec::new(), folders: Vec::new() });

fn live() -> std::sync::MutexGuard<'static, Live> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// A program's process group, ended when this is dropped (or by [`end_all`]).
#[derive(Debug)]
pub(crate) struct Group {
    leader: u32,
    guard: Option<std::process::Child>,
}

impl Group {
    /// The group led by `leader` (started with `process_group(0)`), guarded against twinnet's
    /// own death where `/bin/sh` exists.
    pub(crate) fn new(leader: u32) -> Self {
        let guard = spawn_guard(leader);
        live().groups.push((leader, guard.as_ref().map(std::process::Child::id)));
        Self { leader, guard }
    }

    /// SIGKILL to every process of the group (those already gone are skipped by the kernel).
    pub(crate) fn kill(&self) {
        kill_group(self.leader);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        kill_group(self.leader);
        if let Some(g) = &mut self.guard {
            let _ = g.kill();
            let _ = g.wait();
        }
        live().groups.retain(|&(l, _)| l != self.leader);
    }
}

/// A scratch folder removed when this is dropped (or by [`end_all`]).
#[derive(Debug)]
pub(crate) struct Scratch(tempfile::TempDir);

impl Scratch {
    /// A new folder `twinnet-process-*` in the system's temporary folder.
    pub(crate) fn new() -> std::io::Result<Self> {
        let d = tempfile::Builder::new().prefix("twinnet-process-").tempdir()?;
        live().folders.push(d.path().to_path_buf());
        Ok(Self(d))
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let p = self.0.path().to_path_buf();
        live().folders.retain(|f| *f != p);
    }
}

/// Ends every program this process started and still runs (its whole group, then its guard)
/// and removes every scratch folder: for an interrupt handler about to exit, when destructors
/// will not run.
pub fn end_all() {
    let l = live();
    for &(leader, guard) in &l.groups {
        kill_group(leader);
        if let Some(g) = guard {
            kill_pid(g);
        }
    }
    for f in &l.folders {
        let _ = std::fs::remove_dir_all(f);
    }
}

#[cfg(unix)]
fn kill_group(leader: u32) {
    use nix::sys::signal::{killpg, Signal};
    let _ = killpg(nix::unistd::Pid::from_raw(leader as i32), Signal::SIGKILL);
}

#[cfg(unix)]
fn kill_pid(pid: u32) {
    use nix::sys::signal::{kill, Signal};
    let _ = kill(nix::unistd::Pid::from_raw(pid as i32), Signal::SIGKILL);
}

/// The guard: `sh` in a process group of its own (a Ctrl-C at the terminal does not reach
/// it), blocked reading a pipe whose only writer is twinnet; at end of file it kills group
/// `leader`. `None` where no `/bin/sh` can be started (the group is then ended by twinnet
/// alone, which covers every end but a SIGKILL of twinnet).
#[cfg(target_os = "linux")]
fn spawn_guard(leader: u32) -> Option<std::process::Child> {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    Command::new("/bin/sh")
        .args(["-c", r#"read -r _; kill -KILL "-$0" 2>/dev/null"#, &leader.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .env_clear()
        .process_group(0)
        .spawn()
        .ok()
}

#[cfg(all(unix, not(target_os = "linux")))]
fn spawn_guard(_: u32) -> Option<std::process::Child> {
    None
}

#[cfg(not(unix))]
fn spawn_guard(_: u32) -> Option<std::process::Child> {
    None
}

#[cfg(not(unix))]
fn kill_group(_: u32) {}

#[cfg(not(unix))]
fn kill_pid(_: u32) {}
