//! What goes with each backend besides its arithmetic: the thread count a run gets unless told
//! otherwise, how many cores a run keeps busy (what `run`'s scheduler counts), and whether the
//! thread count changes the bits (what `verify` and the config hash may ignore).

use twinnet_core::{BackendKind, Regime};

/// libtorch's intra-op threads for a full-batch tch run unless `--threads` says otherwise.
/// Fixed, not the machine's core count: libtorch's and MKL's sums are split by thread, so the
/// count changes the bits, and a default that followed the machine would make results depend
/// on it. 2 because `make bench` finds a full-batch iteration faster on 2 threads than on 1
/// (its scaling table).
pub const TCH_FULL_BATCH_THREADS: usize = 2;

/// libtorch's intra-op threads for a mini-batch tch run unless `--threads` says otherwise:
/// its 64-row steps are too small to split well (`make bench`'s scaling table: a mini-batch
/// epoch is slower on 2 threads than on 1), and, as above, the count changes the bits.
pub const TCH_MINIBATCH_THREADS: usize = 1;

/// The policy of one backend kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    kind: BackendKind,
}

impl Policy {
    /// The policy of `kind`.
    pub const fn of(kind: BackendKind) -> Self {
        Self { kind }
    }

    /// The default thread count of a run in `regime`.
    ///
    /// - ndarray: every core, up to [`twinnet_ndarray::MAX_THREADS`] (the most an update
    ///   uses). Its results do not depend on the count (`thread_count_changes_no_bit` in its
    ///   tests), so the default may follow the machine.
    /// - tch: [`TCH_FULL_BATCH_THREADS`] or [`TCH_MINIBATCH_THREADS`], fixed (its results
    ///   depend on the count).
    pub fn default_threads(self, regime: Regime) -> usize {
        match (self.kind, regime) {
            (BackendKind::Ndarray, _) => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(twinnet_ndarray::MAX_THREADS),
            (BackendKind::Tch, Regime::FullBatch) => TCH_FULL_BATCH_THREADS,
            (BackendKind::Tch, Regime::Minibatch) => TCH_MINIBATCH_THREADS,
            // An implementation of one's own gets one thread unless told (`settings.threads`),
            // as results of an unknown implementation may depend on the count.
            (BackendKind::Process, _) => 1,
        }
    }

    /// The cores a run keeps busy when each update reads `rows` examples on `threads` threads:
    /// tch its threads; ndarray only as many of its threads as its batch is cut into parts
    /// ([`twinnet_ndarray::threads_used`]: one for a 64-row mini-batch, two for a full batch of
    /// 60,000).
    pub fn cores_busy(self, rows: usize, threads: usize) -> usize {
        match self.kind {
            BackendKind::Ndarray => twinnet_ndarray::threads_used(rows, threads),
            BackendKind::Tch | BackendKind::Process => threads.max(1),
        }
    }

    /// Whether the thread count changes the backend's bits. When it does not (ndarray), the
    /// count is left out of a run's config hash and of `verify`'s comparison, and the default
    /// may follow the machine.
    pub fn threads_change_bits(self) -> bool {
        match self.kind {
            BackendKind::Ndarray => false,
            BackendKind::Tch | BackendKind::Process => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_by_backend_and_regime() {
        let tch = Policy::of(BackendKind::Tch);
        assert_eq!(tch.default_threads(Regime::FullBatch), 2);
        assert_eq!(tch.default_threads(Regime::Minibatch), 1);
        let nd = Policy::of(BackendKind::Ndarray);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(nd.default_threads(Regime::FullBatch), cores.min(twinnet_ndarray::MAX_THREADS));
        assert!(tch.threads_change_bits() && !nd.threads_change_bits());
    }

    #[test]
    fn cores_busy_by_batch() {
        let nd = Policy::of(BackendKind::Ndarray);
        assert_eq!(nd.cores_busy(64, 2), 1);
        assert_eq!(nd.cores_busy(60_000, 2), 2);
        assert_eq!(Policy::of(BackendKind::Tch).cores_busy(64, 3), 3);
    }
}
