//! One file per command: its arguments become a call of `twinnet_runner`, and what comes back
//! is printed.

pub mod check;
pub mod collect;
pub mod compare;
pub mod drift;
pub mod eval;
pub mod index;
pub mod init;
pub mod plan;
pub mod plot;
pub mod run;
pub mod train;
pub mod verify;
