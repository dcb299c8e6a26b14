//! Links libtorch into this crate's tests: rpath, and CUDA when wanted (see
//! build-support/libtorch_link.rs).
include!("../../build-support/libtorch_link.rs");

fn main() {
    link_libtorch();
}
