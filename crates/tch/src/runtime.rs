//! libtorch's process-wide settings, set in this one place and nowhere else.
//!
//! libtorch keeps two settings per process that change results: the intra-op thread count
//! (`torch.set_num_threads`: how its kernels split sums, hence their order) and the state of its
//! global random generator (`torch.manual_seed`). A [`Libtorch`] handle is the proof that the
//! thread count was set: every [`crate::TchBackend`] is built with one, so no constructor sets
//! either as a side effect. The generator is reseeded only by [`draw_params`], which is what it
//! is for. (The third, the CPU code path, is [`crate::code_path`]'s.)
//!
//! ```no_run
//! use twinnet_core::{Init, Threads};
//! use twinnet_tch::{runtime, Libtorch};
//!
//! let torch = Libtorch::configure(Threads::ONE);
//! let p = runtime::draw_params(Init::TorchDefault, &[784, 10, 10], 0)?;
//! assert_eq!(p.hidden(), 10);
//! # Ok::<(), twinnet_tch::TchBackendError>(())
//! ```

use crate::{to_vec, TchBackendError};
use tch::{Kind, Tensor};
use twinnet_core::{Init, Params, Threads};

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
}

/// Parameters of the network of `widths` (input first) drawn by libtorch's generator exactly
/// as PyTorch draws them:
///
/// ```python
/// torch.manual_seed(seed)
/// layers = [nn.Linear(n_in, n_out) for n_in, n_out in zip(widths, widths[1:])]   # torch-default
/// ```
/// each layer's weight then bias, `fc1` first, with `nn.Linear.reset_parameters`'s bounds
/// computed as PyTorch computes them in `f64`:
/// ```text
/// weight: kaiming_uniform_(a = √5):  gain = √(2 / (1 + a²)),  bound = √3 · gain / √fan_in
/// bias:   bound = 1 / √fan_in
/// ```
/// The other inits draw every tensor in the same order, each with one call:
/// ```text
/// uniform:        uniform_(−0.5, 0.5)                       (the report's NumPy init)
/// normal:         normal_(0, 1)                             (network.py)
/// normal-scaled:  weight normal_(0, 1/√fan_in), bias normal_(0, 1)   (network2.py)
/// ```
/// The tensors are drawn on the CPU with libtorch's `uniform_` and `normal_`, the kernels
/// PyTorch uses, so the bits equal Python's (a test checks them against the project's
/// PyTorch). Reseeds libtorch's global generator (process-wide); draws hold a lock, so two
/// cannot interleave.
pub fn draw_params(init: Init, widths: &[usize], seed: u64) -> Result<Params, TchBackendError> {
    twinnet_core::check_widths(widths).map_err(|e| TchBackendError::Torch(e.to_string()))?;
    // One draw at a time in this process: another thread's draw between the seed and the
    // last tensor would take numbers from this sequence.
    static DRAW: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _draw = DRAW.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed as i64);
    let mut p = Params::zeros_widths(widths);
    for layer in &mut p.layers {
        let fan_in = layer.inputs as f64;
        let cpu = (Kind::Float, tch::Device::Cpu);
        let mut w = Tensor::empty([layer.outputs as i64, layer.inputs as i64], cpu);
        let mut b = Tensor::empty([layer.outputs as i64], cpu);
        match init {
            Init::Uniform | Init::TorchDefault => {
                let (w_bound, b_bound) = if init == Init::Uniform {
                    (0.5, 0.5)
                } else {
                    let a = 5f64.sqrt();
                    let gain = (2.0 / (1.0 + a.powi(2))).sqrt();
                    let std = gain / fan_in.sqrt();
                    (3f64.sqrt() * std, 1.0 / fan_in.sqrt())
                };
                let _ = w.uniform_(-w_bound, w_bound);
                let _ = b.uniform_(-b_bound, b_bound);
            }
            Init::Normal | Init::NormalScaled => {
                let w_sd = if init == Init::Normal { 1.0 } else { 1.0 / fan_in.sqrt() };
                let _ = w.normal_(0.0, w_sd);
                let _ = b.normal_(0.0, 1.0);
            }
        }
        layer.weight = to_vec(&w)?;
        layer.bias = to_vec(&b)?;
    }
    Ok(p)
}
