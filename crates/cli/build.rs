//! With the tch feature, bakes libtorch's folder into the binary's rpath so that `twinnet` runs
//! from any shell without LD_LIBRARY_PATH, and keeps libtorch_cuda linked so that CUDA is
//! initialised (tch-rs issues 907 and 964).
fn main() {
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
        if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
            println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}
