//! Bakes libtorch's folder into the rpath of everything this package links (its tests), so
//! they run without LD_LIBRARY_PATH. The `twinnet` binary's build.rs does the same.
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        // Keep libtorch_cuda linked although no symbol of it is used directly, or CUDA is
        // never initialised (tch-rs issues 907 and 964).
        if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
