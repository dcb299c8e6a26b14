//! The `Backend` contract (`twinnet_testkit::conformance`) on the tch backend, one thread.

use twinnet_core::{Backend, BackendError, Model, Threads};
use twinnet_data::Dataset;
use twinnet_tch::{Libtorch, TchBackend, TchDevice};

fn tch(model: &Model, train: &Dataset) -> Result<Box<dyn Backend>, BackendError> {
    let torch = Libtorch::configure(Threads::ONE);
    Ok(Box::new(TchBackend::new(&torch, model, train, TchDevice::Cpu)?))
}

twinnet_testkit::conformance_suite!(tch, matrix);
