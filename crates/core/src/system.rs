//! The machine: facts that results record, and cache hints for the backends.

/// The CPU model from `/proc/cpuinfo` (or the architecture where there is none).
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The memory the system can still give a process (`MemAvailable` in `/proc/meminfo`), in
/// bytes; `None` where it cannot be read.
pub fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// The CPU features that decide which code computes twinnet's numbers, those present among
/// `avx2 fma avx512f` (space-separated; empty off x86-64).
pub fn cpu_features() -> String {
    #[cfg(target_arch = "x86_64")]
    {
        let has = [
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("fma", std::arch::is_x86_feature_detected!("fma")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ];
        has.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect::<Vec<_>>().join(" ")
    }
    #[cfg(not(target_arch = "x86_64"))]
    String::new()
}

/// Hints the CPU to bring `xs` into its first-level cache, or its second-level one when `L2`
/// (a no-op off x86-64).
#[inline(always)]
pub fn prefetch<const L2: bool>(xs: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in xs.chunks(64) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0, _MM_HINT_T1};
        let at = line.as_ptr() as *const i8;
        // SAFETY: prefetching is a hint; the address is inside `xs`.
        unsafe {
            if L2 {
                _mm_prefetch::<_MM_HINT_T1>(at)
            } else {
                _mm_prefetch::<_MM_HINT_T0>(at)
            }
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = xs;
}

/// The logical cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
