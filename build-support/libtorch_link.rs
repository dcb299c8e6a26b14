// Shared by the build scripts of every package that links libtorch (`include!`d, not a module).
//
// 1. Bakes libtorch's folder into the rpath, so binaries and tests run from any shell without
//    LD_LIBRARY_PATH.
// 2. Links libtorch_cuda with --no-as-needed when CUDA is wanted: no symbol of it is used
//    directly, so the linker would drop it and CUDA would never be initialised (tch-rs issues
//    907 and 964). Loading it costs ~400 MB of resident memory, so it is linked only when the
//    build machine has an NVIDIA driver (/proc/driver/nvidia) or TWINNET_CUDA=1 asks for it;
//    TWINNET_CUDA=0 forces a CPU-only link.
// 3. Exports twinnet-tch's `mkl_serv_intel_cpu_true` from the executable, so that libtorch's MKL
//    calls it and picks its kernels by the CPU's feature flags on AMD CPUs too (see
//    crates/tch/src/mkl.rs); `-u` keeps it even where nothing else references it. Only when
//    twinnet-tch's `mkl-vendor-override` feature is on (its own build: CARGO_FEATURE_...; a
//    dependent's: the DEP_TWINNET_TCH_... metadata twinnet-tch's build script passes on).
fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=TWINNET_CUDA");
    let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
        .or_else(|_| std::env::var("DEP_TWINNET_TCH_LIBTORCH_LIB"));
    let Ok(lib) = lib else { return };
    println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    let mkl_override = std::env::var_os("CARGO_FEATURE_MKL_VENDOR_OVERRIDE").is_some()
        || std::env::var_os("DEP_TWINNET_TCH_MKL_VENDOR_OVERRIDE").is_some();
    if mkl_override {
        let answer = "mkl_serv_intel_cpu_true";
        println!("cargo:rustc-link-arg=-Wl,-u,{answer},--export-dynamic-symbol={answer}");
    }
    let wanted = match std::env::var("TWINNET_CUDA").as_deref() {
        Ok("1") => true,
        Ok("0") => false,
        _ => std::path::Path::new("/proc/driver/nvidia").exists(),
    };
    if wanted && std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
