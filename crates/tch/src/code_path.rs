//! Which CPU code path libtorch computes on: pinned (the same bits on every x86-64 CPU with
//! AVX2, Intel or AMD) or native (each CPU's fastest). Process-wide, chosen once, before
//! libtorch or MKL first runs: [`select`].
//!
//! libtorch picks its code by CPU twice. Its own vectorized kernels (ATen) dispatch on the CPU's
//! capability (AVX-512 or AVX2), overridable with `ATEN_CPU_CAPABILITY`; its matrix products
//! are Intel MKL's, which picks kernels by CPU too, and offers *conditional numerical
//! reproducibility* for exactly this: `MKL_CBWR=AVX2` runs the AVX2 branch, with fixed cache
//! sizes and deterministic reductions, on every CPU that has AVX2. MKL honours a branch other
//! than AUTO only on what it takes for an Intel CPU, so on AMD CPUs pinning needs twinnet's
//! answer to MKL's vendor check ([`crate::mkl`], the `mkl-vendor-override` feature): without it
//! MKL falls back to AUTO, which [`mkl_cbwr_branch`] then reports.
//!
//! Pinned: `ATEN_CPU_CAPABILITY=avx2` and `MKL_CBWR=AVX2`. On the project's AVX-512 machine a
//! full-batch iteration costs up to a quarter more than native and a mini-batch epoch about the
//! same (`make bench` times both); emulating an AVX2-only CPU (`MKL_ENABLE_INSTRUCTIONS=AVX2`)
//! gives the pinned bits exactly (a test).
//!
//! The thread count still matters: libtorch's and MKL's sums are split by thread, so a result
//! is reproducible for its recorded `threads`, not across thread counts.

/// The code path libtorch runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePath {
    /// The AVX2 code of ATen and MKL on every CPU that has AVX2: the same bits on all of them.
    Pinned,
    /// Each CPU's own fastest code (libtorch's default): bits depend on the CPU.
    Native,
}

static SELECTED: std::sync::OnceLock<CodePath> = std::sync::OnceLock::new();

/// The path [`select`] chose for this process (`None`: never called, libtorch's default).
pub fn selected() -> Option<CodePath> {
    SELECTED.get().copied()
}

impl CodePath {
    /// `pinned` or `native`.
    pub fn as_str(self) -> &'static str {
        match self {
            CodePath::Pinned => "pinned",
            CodePath::Native => "native",
        }
    }
}

/// The environment variable ATen reads for its CPU capability.
pub const ATEN_CPU_CAPABILITY: &str = "ATEN_CPU_CAPABILITY";
/// The environment variable MKL reads for its reproducibility branch.
pub const MKL_CBWR: &str = "MKL_CBWR";

/// Selects `path` for this process by setting ATen's and MKL's variables (pinned) or leaving
/// them as they are (native). Call it first thing in `main`, before any thread starts and
/// before anything runs libtorch: both libraries read their variable once, at first use.
pub fn select(path: CodePath) {
    let _ = SELECTED.set(path);
    if path == CodePath::Pinned {
        // Set before any other thread exists (the caller's contract) and before libtorch reads
        // them; `set_var` is safe in edition 2021 but racy with concurrent readers.
        std::env::set_var(ATEN_CPU_CAPABILITY, "avx2");
        std::env::set_var(MKL_CBWR, "AVX2");
    }
}

/// Whether the CPU has what the pinned path needs (AVX2 and FMA).
pub fn cpu_supports_pinned() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The ATen CPU capability in effect, by ATen's rule: `ATEN_CPU_CAPABILITY` when the CPU
/// supports it, else the best the CPU supports (`avx512`: AVX-512 F, BW, VL and DQ; `avx2`:
/// AVX2 and FMA; else `default`).
pub fn aten_cpu_capability() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let avx2 = has!("avx2") && has!("fma");
        let avx512 =
            avx2 && has!("avx512f") && has!("avx512bw") && has!("avx512vl") && has!("avx512dq");
        let best = if avx512 {
            "avx512"
        } else if avx2 {
            "avx2"
        } else {
            "default"
        };
        match std::env::var(ATEN_CPU_CAPABILITY).as_deref() {
            Ok("avx2") if avx2 => "avx2",
            Ok("default") => "default",
            Ok("avx512") if avx512 => "avx512",
            _ => best,
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    "default"
}

/// MKL's reproducibility branch in effect, asked of MKL itself (`mkl_cbwr_get`): `OFF` (no
/// reproducibility mode), `AUTO` (a branch was asked for but not honoured), `AVX2`, … with
/// `,STRICT` when strict mode is on.
/// Ask after a libtorch matrix product has run (a backend's first step).
pub fn mkl_cbwr_branch() -> String {
    extern "C" {
        // MKL's `mkl_cbwr_get` under the name libtorch_cpu exports (MKL is linked into it).
        fn mkl_serv_cbwr_get(option: std::os::raw::c_int) -> std::os::raw::c_int;
    }
    // SAFETY: a query of MKL's settings with the documented option MKL_CBWR_ALL (-1: branch
    // and flags); it reads a global and takes no pointer.
    let all = unsafe { mkl_serv_cbwr_get(-1) };
    let branch = match all & 0xffff {
        0 => "unset",
        1 => "OFF",
        2 => "AUTO",
        3 => "COMPATIBLE",
        4 => "SSE2",
        6 => "SSSE3",
        7 => "SSE4_1",
        8 => "SSE4_2",
        9 => "AVX",
        10 => "AVX2",
        12 => "AVX512",
        14 => "AVX512_E1",
        _ => "other",
    };
    if all & 0x10000 != 0 {
        format!("{branch},STRICT")
    } else {
        branch.to_string()
    }
}
