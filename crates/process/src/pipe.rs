//! The pipes to a program, without blocking: waits with a deadline (and a look at whether the
//! program exited every [`EXIT_CHECK`]), and whether the other end is gone.

use std::process::ChildStdin;
use std::time::{Duration, Instant};

/// How often a wait looks whether the program has exited (so that a process it started,
/// holding its stdout open, cannot make twinnet wait out the whole deadline).
pub(crate) const EXIT_CHECK: Duration = Duration::from_millis(100);

/// Which readiness a wait is for.
#[derive(Clone, Copy)]
pub(crate) enum Ready {
    Read,
    Write,
}

/// Waits until `fd` is ready (`true`), or [`EXIT_CHECK`] or the deadline pass (`false`).
#[cfg(unix)]
pub(crate) fn wait_ready(fd: &impl std::os::fd::AsFd, ready: Ready, deadline: Instant) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let left = deadline.saturating_duration_since(Instant::now()).min(EXIT_CHECK);
    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
    let flags = match ready {
        Ready::Read => PollFlags::POLLIN,
        Ready::Write => PollFlags::POLLOUT,
    };
    let mut fds = [PollFd::new(fd.as_fd(), flags)];
    // Readiness, or the pipe's other end closed (POLLHUP/POLLERR: the next read or write says
    // which); an interrupted poll is a wait that ended early.
    matches!(poll(&mut fds, PollTimeout::from(ms)), Ok(n) if n > 0)
}

/// Whether the reading end of the pipe `fd` writes to is closed (poll reports `POLLERR`).
#[cfg(unix)]
pub(crate) fn reader_gone(fd: &ChildStdin) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLOUT)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
        && fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLERR | PollFlags::POLLHUP))
}

/// Makes a pipe's reads and writes return at once (`WouldBlock`) instead of waiting.
#[cfg(unix)]
pub(crate) fn set_nonblocking(fd: &impl std::os::fd::AsFd) -> Result<(), nix::Error> {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    let flags = OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL)?);
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
    Ok(())
}
