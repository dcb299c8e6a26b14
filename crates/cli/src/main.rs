//! `twinnet`: trains the report's 784 → 10 → 10 MNIST network on any backend — the
//! from-scratch ndarray one, libtorch through tch, or an implementation of your own in
//! another process — under identical settings, and turns runs into JSON results, figures and
//! summaries. A thin binary: `args` parses, one file per command under `cmd/` turns its
//! arguments into a call of `twinnet_runner` and prints what comes back.

// The doc comments of the clap types are `--help` text, rendered by clap: `<cache>` and
// `[default: …]` there are for the terminal, not rustdoc's HTML and links.
#![allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]

mod args;
mod cmd;

/// `print!` to standard output that ends the command quietly, with success, when the reader
/// is gone (`twinnet … | head -1`), as `ls` or ripgrep do; any other write error is reported.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::write_stdout(format_args!($($t)*)) };
}

/// `println!` as [`out!`].
#[macro_export]
macro_rules! outln {
    () => { $crate::write_stdout(format_args!("\n")) };
    ($($t:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($t)*))) };
}

/// Writes to standard output; a closed pipe ends the process with status 0 and no message.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("twinnet: error: cannot write to standard output: {e}");
            std::process::exit(1)
        }
    }
}

use args::{Cli, Cmd};
use clap::Parser as _;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised by SIGINT/SIGTERM; the work stops at the next point that checks it.
static STOP: AtomicBool = AtomicBool::new(false);

/// What every command may need besides its own arguments.
#[derive(Debug, Clone, Copy)]
pub struct Global {
    /// `--native-kernels` (passed on to the processes of `run --jobs`).
    pub native_kernels: bool,
    /// Raised by SIGINT/SIGTERM.
    pub stop: &'static AtomicBool,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print and succeed; a bad flag is an error like any other:
        // clap's message (naming the flag), exit 1.
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::FAILURE } else { ExitCode::SUCCESS };
        }
    };
    // libtorch's code path is process-wide and read once: chosen here, before any thread
    // (the signal handler's) starts and before anything runs libtorch.
    twinnet_engine::select_code_path(cli.native_kernels);
    let _ = ctrlc::set_handler(on_signal);
    let global = Global { native_kernels: cli.native_kernels, stop: &STOP };
    match dispatch(cli.cmd, global) {
        Ok(code) => code,
        Err(e) if interrupted(&e) => {
            eprintln!("twinnet: {e:#}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("twinnet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT/SIGTERM: the first raises [`STOP`] (training stops after its current update and
/// unwinds, leaving previous results intact and no temporary folder) and gives the work
/// [`twinnet_runner::interrupt::GRACE`] to do so; whatever has not stopped by then (reading a
/// FIFO, drawing, collecting), or a second signal, is ended by `interrupt::exit`, which
/// removes the temporary folders and children it knows of and exits with 130.
fn on_signal() {
    if STOP.swap(true, Ordering::SeqCst) {
        twinnet_runner::interrupt::exit();
    }
    std::thread::spawn(|| {
        std::thread::sleep(twinnet_runner::interrupt::GRACE);
        twinnet_runner::interrupt::exit();
    });
}

/// Whether `e` is (or wraps) the runner's interruption.
fn interrupted(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<twinnet_runner::Error>().is_some_and(twinnet_runner::Error::is_interrupted)
    })
}

fn dispatch(cmd: Cmd, g: Global) -> anyhow::Result<ExitCode> {
    match cmd {
        Cmd::Train(a) => cmd::train::exec(a, g),
        Cmd::Run(a) => cmd::run::exec(a, g),
        Cmd::Plot(a) => cmd::plot::exec(a),
        Cmd::Init(a) => cmd::init::exec(a),
        Cmd::Compare(a) => cmd::compare::exec(a),
        Cmd::Eval(a) => cmd::eval::exec(a),
        Cmd::Verify(a) => cmd::verify::exec(a, g),
        Cmd::Plan(a) => cmd::plan::exec(a),
        Cmd::Collect(a) => cmd::collect::exec(a),
        Cmd::Index(a) => cmd::index::exec(a),
        Cmd::Drift(a) => cmd::drift::exec(a, g),
        Cmd::Check(a) => cmd::check::exec(a, g),
    }?;
    Ok(ExitCode::SUCCESS)
}
