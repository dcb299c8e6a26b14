//! libtorch's process-wide settings, set in this one place and nowhere else.
//!
//! libtorch keeps two settings per process that change results: the intra-op thread count
//! (`torch.set_num_threads`: how its kernels split sums, hence their order) and the state of its
//! global random generator (`torch.manual_seed`). A [`Libtorch`] handle is the proof that the
//! thread count was set: every [`crate::TchBackend`] is built with one, so no constructor sets
//! either as a side effect. The generator is reseeded only by [`Libtorch::draw_params`], which
//! is what it is for.
//!
//! ```no_run
//! use twinnet_core::{Init, Threads};
//! use twinnet_tch::Libtorch;
//!
//! let torch = Libtorch::configure(Threads::ONE);
//! let p = torch.draw_params(Init::TorchDefault, 10, 0)?;
//! assert_eq!(p.hidden, 10);
//! # Ok::<(), twinnet_tch::TchBackendError>(())
//! ```

use crate::{layer_config, to_vec, TchBackendError};
use tch::nn;
use twinnet_core::{Init, Params, Threads, CLASSES, INPUTS};

/// libtorch, configured for this process: [`Libtorch::configure`] set its thread count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Libtorch {
    threads: Threads,
}

impl Libtorch {
    /// Sets libtorch's intra-op thread count for the whole process (`torch.set_num_threads`)
    /// and returns the handle backends are built with. Call it again to change the count
    /// between runs; it is the only place twinnet sets it.
    pub fn configure(threads: Threads) -> Self {
        tch::set_num_threads(threads.get() as i32);
        Self { threads }
    }

    /// The intra-op thread count in effect.
    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// Parameters drawn by libtorch's generator: `torch.manual_seed(seed)` (process-wide: it
    /// reseeds libtorch's global generator), then `fc1`'s weight and bias and `fc2`'s, each
    /// from `U[−b, b]` with `b` as [`twinnet_core::Params::init`] gives it (`0.5`, or
    /// `1/√fan_in` for `torch-default`), drawn on the CPU.
    pub fn draw_params(
        &self,
        init: Init,
        hidden: usize,
        seed: u64,
    ) -> Result<Params, TchBackendError> {
        if hidden == 0 {
            return Err(TchBackendError::Torch("hidden width must be at least 1".into()));
        }
        // One draw at a time in this process: another thread's draw between the seed and the
        // last tensor would take numbers from this sequence.
        static DRAW: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _draw = DRAW.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let h = hidden as i64;
        let fc1 = nn::linear(vs.root() / "fc1", INPUTS as i64, h, layer_config(init, INPUTS));
        let fc2 = nn::linear(vs.root() / "fc2", h, CLASSES as i64, layer_config(init, hidden));
        Ok(Params {
            hidden,
            w1: to_vec(&fc1.ws)?,
            b1: to_vec(fc1.bs.as_ref().expect("bias"))?,
            w2: to_vec(&fc2.ws)?,
            b2: to_vec(fc2.bs.as_ref().expect("bias"))?,
        })
    }
}
