//! Links libtorch: rpath, and CUDA when wanted (see build-support/libtorch_link.rs); tells the
//! executables that link this crate whether the MKL override is on.
include!("../../build-support/libtorch_link.rs");

fn main() {
    if std::env::var_os("CARGO_FEATURE_MKL_VENDOR_OVERRIDE").is_some() {
        println!("cargo:mkl_vendor_override=1");
    }
    // libtorch's folder, for the rpath of the executables that link this crate (they see it
    // as DEP_TWINNET_TCH_LIBTORCH_LIB and need no direct dependency on torch-sys).
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        println!("cargo:libtorch_lib={lib}");
    }
    link_libtorch();
}
