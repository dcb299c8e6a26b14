//! What an interrupt must clean up, wherever the work is when it comes.
//!
//! The training loop checks the stop flag after every update and unwinds cleanly (the staged
//! folder is dropped, so removed). Other stages do not poll it (reading data, drawing figures,
//! checking a folder), so the binary's signal handler gives the work a grace period
//! ([`GRACE`]) and then calls [`exit`]: it removes every temporary folder registered here,
//! kills every child registered here, and exits with 130. Moving results into place holds the
//! registry's lock ([`critical`]), so an interrupt never lands between the two renames that
//! replace a folder.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// How long the work has to stop on its own after SIGINT/SIGTERM before [`exit`] ends it.
pub const GRACE: Duration = Duration::from_secs(3);

/// The exit status of an interrupted command (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, Default)]
struct Registry {
    folders: Vec<PathBuf>,
    children: Vec<u32>,
}

static REGISTRY: Mutex<Registry> =
    Mutex::new(Registry { folders: Vec::new(), children: Vec::new() });

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temporary folder removed by [`exit`] while this guard lives.
#[derive(Debug)]
pub struct FolderGuard(PathBuf);

impl Drop for FolderGuard {
    fn drop(&mut self) {
        registry().folders.retain(|p| *p != self.0);
    }
}

/// Registers `path` (a folder of this process's making) for removal on an interrupt.
pub fn register_folder(path: &Path) -> FolderGuard {
    registry().folders.push(path.to_path_buf());
    FolderGuard(path.to_path_buf())
}

/// A child process killed by [`exit`] while this guard lives.
#[derive(Debug)]
pub struct ChildGuard(u32);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        registry().children.retain(|&p| p != self.0);
    }
}

/// Registers child process `pid` to be killed on an interrupt.
pub fn register_child(pid: u32) -> ChildGuard {
    registry().children.push(pid);
    ChildGuard(pid)
}

/// Runs `f` with the registry locked: [`exit`] waits for it (moving results into place).
pub fn critical<T>(f: impl FnOnce() -> T) -> T {
    let _held = registry();
    f()
}

/// Kills the registered children, removes the registered temporary folders, and exits with
/// [`EXIT_INTERRUPTED`]. Waits for a [`critical`] section to end first.
pub fn exit() -> ! {
    let reg = registry();
    for &pid in &reg.children {
        kill(pid);
    }
    // Programs behind the process backend (their whole process groups) and their scratch
    // folders: destructors do not run past this point.
    twinnet_process::end_all();
    for f in &reg.folders {
        let _ = std::fs::remove_dir_all(f);
    }
    eprintln!("twinnet: interrupted: stopped, nothing was written");
    std::process::exit(EXIT_INTERRUPTED)
}

/// SIGKILL to `pid` (it may have exited meanwhile).
fn kill(pid: u32) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}
