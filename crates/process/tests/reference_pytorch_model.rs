//! The `Backend` contract (`twinnet_testkit::conformance`) on the report's
//! PyTorch model shipped with twinnet (`python3 -m twinnet_backend.pytorch_model`).

mod common;

use common::start;
use std::time::Duration;
use twinnet_core::{Backend, BackendError, Model};
use twinnet_data::Dataset;

fn reference(model: &Model, data: &Dataset) -> Result<Box<dyn Backend>, BackendError> {
    let command = "python3 -m twinnet_backend.pytorch_model";
    let b = start(command, model, data, twinnet_process::AHEAD, Duration::from_secs(120))
        .map_err(BackendError::failed)?;
    Ok(Box::new(b))
}

twinnet_testkit::conformance_suite!(reference);
