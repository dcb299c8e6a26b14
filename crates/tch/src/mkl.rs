//! Which kernels Intel MKL, libtorch's BLAS, runs on a CPU that is not Intel's.
//!
//! libtorch's CPU matrix products are MKL's `sgemm`. MKL chooses its kernels from the CPU's
//! feature flags (AVX2, AVX-512, ...) only after asking its exported function
//! `mkl_serv_intel_cpu_true` whether the vendor string is `GenuineIntel`; on any other CPU it
//! takes generic code paths whatever the flags say, which in our profiling made the small
//! products of a mini-batch step slower on an AMD CPU (not yet isolated by `make bench`).
//!
//! Every executable that links this crate therefore defines `mkl_serv_intel_cpu_true` to
//! answer yes, and exports it (`build-support/libtorch_link.rs` passes the linker
//! `--export-dynamic-symbol`), so the dynamic linker binds libtorch's calls to this definition
//! instead of MKL's: MKL then dispatches on the CPU's actual feature flags, exactly as it does on
//! an Intel CPU with the same flags. This is the long-standing workaround for MKL on AMD (the
//! `MKL_DEBUG_CPU_TYPE=5` variable that once did the same is ignored since MKL 2020.1). It
//! changes which instructions compute each product, hence the last bits of some sums, never what
//! is computed; the parity test against the ndarray backend runs with it.
//!
//! `TWINNET_MKL_VENDOR_CHECK=1` restores MKL's own answer (the CPU's vendor string), e.g. to
//! time stock libtorch; [`dispatch`] reports which is in effect.

use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// The environment variable that restores MKL's vendor check.
pub const VENDOR_CHECK_VAR: &str = "TWINNET_MKL_VENDOR_CHECK";

/// `true` when the CPU's vendor string is `GenuineIntel` (MKL's own test).
fn genuine_intel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let r = std::arch::x86_64::__cpuid(0);
        let vendor: Vec<u8> = [r.ebx, r.edx, r.ecx].iter().flat_map(|w| w.to_le_bytes()).collect();
        vendor == b"GenuineIntel"
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

fn vendor_check_kept() -> bool {
    std::env::var_os(VENDOR_CHECK_VAR).is_some_and(|v| v == "1")
}

/// MKL's question "is this a genuine Intel CPU?", answered yes unless
/// `TWINNET_MKL_VENDOR_CHECK=1` (see the module documentation).
#[no_mangle]
pub extern "C" fn mkl_serv_intel_cpu_true() -> c_int {
    static ANSWER: OnceLock<c_int> = OnceLock::new();
    *ANSWER.get_or_init(|| c_int::from(!vendor_check_kept() || genuine_intel()))
}

/// How MKL picks its kernels in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// An Intel CPU: MKL dispatches on its feature flags anyway.
    Intel,
    /// Another vendor's CPU, MKL dispatching on its feature flags through this crate's answer.
    FeatureFlags,
    /// Another vendor's CPU, MKL's generic kernels (`TWINNET_MKL_VENDOR_CHECK=1`, or an
    /// executable that does not export the answer).
    Generic,
}

impl Dispatch {
    /// A short description, for reports.
    pub fn describe(self) -> &'static str {
        match self {
            Dispatch::Intel => "Intel CPU: kernels by feature flags",
            Dispatch::FeatureFlags => "kernels by feature flags (MKL's vendor check answered)",
            Dispatch::Generic => "MKL's generic kernels (non-Intel CPU, vendor check kept)",
        }
    }
}

/// Whether the dynamic linker bound `mkl_serv_intel_cpu_true` to this crate's definition.
fn answer_is_ours() -> bool {
    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    // SAFETY: RTLD_DEFAULT is the null handle on glibc; the name is NUL-terminated.
    let found = unsafe { dlsym(std::ptr::null_mut(), c"mkl_serv_intel_cpu_true".as_ptr()) };
    std::ptr::eq(found as *const (), mkl_serv_intel_cpu_true as *const ())
}

/// Which kernels MKL runs in this process (see the module documentation).
pub fn dispatch() -> Dispatch {
    if genuine_intel() {
        Dispatch::Intel
    } else if answer_is_ours() && !vendor_check_kept() {
        Dispatch::FeatureFlags
    } else {
        Dispatch::Generic
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The build scripts' linker flags work: this test executable's definition is the one the
    /// dynamic linker hands out, so libtorch's MKL asks it.
    #[test]
    fn the_executable_answers_mkl() {
        assert!(answer_is_ours(), "mkl_serv_intel_cpu_true is not exported by the executable");
        assert_eq!(mkl_serv_intel_cpu_true(), c_int::from(!vendor_check_kept() || genuine_intel()));
        if !vendor_check_kept() {
            assert_ne!(dispatch(), Dispatch::Generic);
        }
    }
}
