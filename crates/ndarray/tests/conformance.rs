//! The `Backend` contract (`twinnet_testkit::conformance`) on the ndarray backend, two threads.

use twinnet_core::{Backend, BackendError, Model, Threads};
use twinnet_data::Dataset;
use twinnet_ndarray::NdarrayBackend;

fn ndarray(model: &Model, train: &Dataset) -> Result<Box<dyn Backend>, BackendError> {
    Ok(Box::new(NdarrayBackend::new(model, train, Threads::new(2).expect("2 > 0"))))
}

twinnet_testkit::conformance_suite!(ndarray, matrix);
