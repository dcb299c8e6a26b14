//! `run --jobs`: an experiment's runs as `twinnet run --index I` processes of their own, as
//! many at once as a [`Limit`] allows, with each one's progress shown by the parent.
//!
//! A process per run, not a thread: libtorch's thread count is process-wide, and a tch run's
//! sums (so its bits) depend on it, so runs with different counts cannot share a process.

use crate::progress::{parse_report, Progress, Report, RunBar};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// How many runs may run at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this many runs (`--jobs N`).
    Runs(usize),
    /// Runs whose busy cores ([`crate::settings::RunConfig::cores_busy`]) add up to at most this
    /// many (`run` without `--jobs`: the machine's cores); a run that needs more than that
    /// runs alone.
    Cores(usize),
}

impl Limit {
    /// Whether any two of runs keeping `cores[i]` cores busy could run at the same time.
    pub fn fits_two(&self, cores: &[usize]) -> bool {
        let mut c = cores.to_vec();
        c.sort_unstable();
        match (*self, c.as_slice()) {
            (_, [] | [_]) => false,
            (Limit::Runs(n), _) => n >= 2,
            (Limit::Cores(n), [a, b, ..]) => a + b <= n,
        }
    }

    /// Whether a run keeping `cost` cores busy may start beside `running` runs that keep
    /// `busy` cores busy. One run may always start when nothing runs.
    fn admits(&self, running: usize, busy: usize, cost: usize) -> bool {
        running == 0
            || match *self {
                Limit::Runs(n) => running < n,
                Limit::Cores(n) => busy + cost <= n,
            }
    }

    /// The most runs that can be running at once.
    fn most(&self) -> usize {
        match *self {
            Limit::Runs(n) | Limit::Cores(n) => n.max(1),
        }
    }
}

/// One run to start as a process.
#[derive(Debug)]
pub struct Job {
    /// Its index in the plan.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// The cores it keeps busy.
    pub cores: usize,
    /// The arguments of `twinnet` that run it (ending in `--progress-to-parent`).
    pub args: Vec<String>,
    /// Where its progress is shown.
    pub bar: RunBar,
}

/// What the scheduler shares between its workers.
#[derive(Debug, Default)]
struct State {
    /// Jobs not started yet, by position in the job list, in plan order.
    queue: VecDeque<usize>,
    running: usize,
    busy: usize,
    /// Process ids of the running children (signalled when `stop` is raised).
    pids: Vec<u32>,
    failures: Vec<String>,
    finished: usize,
}

/// Runs every job with `exe`, as many at once as `limit` allows, taking them in order (the
/// first that fits). Stops starting runs after a failure or when `stop` is raised, in which
/// case the running ones are sent SIGTERM (each stops after its current update and writes
/// nothing). Returns the failures, each naming its run, with its error output.
pub fn run_all(
    exe: &Path,
    jobs: &[Job],
    limit: Limit,
    progress: &Progress,
    stop: &AtomicBool,
) -> Vec<String> {
    let state = Mutex::new(State { queue: (0..jobs.len()).collect(), ..State::default() });
    let changed = Condvar::new();
    let total = jobs.len();
    let all_done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| forward_stop(&state, stop, &all_done));
        let workers: Vec<_> = (0..limit.most().min(total))
            .map(|_| {
                s.spawn(|| {
                    while let Some(job) = take(&state, &changed, limit, jobs, stop) {
                        let outcome = run_one(exe, job, &state, progress);
                        let mut st = state.lock().expect("lock");
                        st.running -= 1;
                        st.busy -= job.cores;
                        match outcome {
                            Ok(()) => {
                                st.finished += 1;
                                progress.println(&format!(
                                    "run {} `{}`: finished ({}/{total})",
                                    job.index, job.name, st.finished
                                ));
                            }
                            Err(_) if stop.load(Ordering::Relaxed) => {}
                            Err(e) => {
                                st.failures.push(format!("run {} `{}`: {e}", job.index, job.name))
                            }
                        }
                        changed.notify_all();
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        all_done.store(true, Ordering::Relaxed);
    });
    state.into_inner().expect("lock").failures
}

/// Waits for the first queued job that `limit` admits beside the running ones and counts it
/// as running (its cores busy). None when the queue is empty, a run failed or `stop` was raised.
fn take<'a>(
    state: &Mutex<State>,
    changed: &Condvar,
    limit: Limit,
    jobs: &'a [Job],
    stop: &AtomicBool,
) -> Option<&'a Job> {
    let mut st = state.lock().expect("lock");
    loop {
        if stop.load(Ordering::Relaxed) || !st.failures.is_empty() {
            return None;
        }
        let cores = |j: usize| jobs.get(j).map_or(0, |job| job.cores);
        let fits = st.queue.iter().position(|&j| limit.admits(st.running, st.busy, cores(j)));
        match fits.and_then(|k| st.queue.remove(k)).and_then(|j| jobs.get(j)) {
            Some(job) => {
                st.running += 1;
                st.busy += job.cores;
                return Some(job);
            }
            None if st.queue.is_empty() => return None,
            None => st = changed.wait_timeout(st, Duration::from_millis(100)).expect("lock").0,
        }
    }
}

/// Starts `job`'s process, shows its progress on its bar and forwards its other lines, and
/// waits for it. Err: its error output (or why it could not start).
fn run_one(exe: &Path, job: &Job, state: &Mutex<State>, progress: &Progress) -> Result<(), String> {
    progress.println(&format!("run {} `{}`: started", job.index, job.name));
    job.bar.start();
    let mut child = Command::new(exe)
        .args(&job.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    state.lock().expect("lock").pids.push(child.id());
    let _killed_on_interrupt = crate::interrupt::register_child(child.id());
    let mut other = vec![];
    let stderr = child.stderr.take().expect("piped stderr");
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        match parse_report(&line) {
            Some(Report::Epoch(r)) => job.bar.epoch(&r),
            Some(Report::Finished(msg)) => job.bar.finish(&msg),
            None => {
                // Its closing error comes back as the failure; anything else (a divergence)
                // is shown now.
                if !line.starts_with("twinnet: ") {
                    progress.println(&format!("run {} `{}`: {line}", job.index, job.name));
                }
                other.push(line);
            }
        }
    }
    let status = child.wait();
    state.lock().expect("lock").pids.retain(|&p| p != child.id());
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(match other.is_empty() {
            true => format!("exited with {s}"),
            false => other.join("\n"),
        }),
        Err(e) => Err(e.to_string()),
    }
}

/// Passes a stop on to the running children (SIGTERM, once each) until `all_done`.
fn forward_stop(state: &Mutex<State>, stop: &AtomicBool, all_done: &AtomicBool) {
    let mut signalled: Vec<u32> = vec![];
    while !all_done.load(Ordering::Relaxed) {
        if stop.load(Ordering::Relaxed) {
            for &pid in &state.lock().expect("lock").pids {
                if !signalled.contains(&pid) {
                    terminate(pid);
                    signalled.push(pid);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asks process `pid` to stop (SIGTERM): a run stops after its current update, writing
/// nothing.
fn terminate(pid: u32) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{kill, Signal};
        use nix::unistd::Pid;
        // It may have exited meanwhile: nothing to stop then.
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_fit_by_cores_or_by_count() {
        // The report on 2 cores: ndarray full-batch (2) and tch mini-batch (1) do not fit.
        assert!(!Limit::Cores(2).fits_two(&[2, 1]));
        assert!(Limit::Cores(3).fits_two(&[2, 1]));
        // The ablation: two 1-core mini-batch runs do.
        assert!(Limit::Cores(2).fits_two(&[2, 1, 2, 1]));
        assert!(!Limit::Cores(8).fits_two(&[1]));
        assert!(Limit::Runs(2).fits_two(&[4, 4]));
        assert!(!Limit::Runs(1).fits_two(&[1, 1]));
    }

    #[test]
    fn admits_within_the_limit_and_always_one() {
        let c = Limit::Cores(2);
        assert!(c.admits(0, 0, 4), "a run wider than the machine runs alone");
        assert!(c.admits(1, 1, 1));
        assert!(!c.admits(1, 1, 2));
        assert!(!c.admits(1, 2, 1));
        let r = Limit::Runs(2);
        assert!(r.admits(1, 8, 8));
        assert!(!r.admits(2, 2, 1));
    }
}
