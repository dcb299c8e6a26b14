//! The `Backend` contract (`twinnet_testkit::conformance`) on the report's
//! NumPy model shipped with twinnet (`python3 -m twinnet_backend.numpy_model`).

mod common;

use common::start;
use std::time::Duration;
use twinnet_core::{Backend, BackendError, Model};
use twinnet_data::Dataset;

fn reference(model: &Model, data: &Dataset) -> Result<Box<dyn Backend>, BackendError> {
    let command = "python3 -m twinnet_backend.numpy_model";
    let b = start(command, model, data, twinnet_process::AHEAD, Duration::from_secs(120))
        .map_err(BackendError::failed)?;
    Ok(Box::new(b))
}

twinnet_testkit::conformance_suite!(reference);

/// The report's two programs refuse a head, a depth or an activation they do not implement
/// (they used to train softmax for any head but `double-softmax`), naming it.
#[test]
fn the_report_programs_refuse_what_they_do_not_implement() {
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python");
    let cases = [
        (r#"{"head": "sigmoid-quadratic"}"#, "no head 'sigmoid-quadratic'"),
        (r#"{"layers": [784, 10, 5, 10], "hidden": None}"#, "not layers [784, 10, 5, 10]"),
        (r#"{"activation": "tanh"}"#, "not activation 'tanh'"),
    ];
    for module in ["numpy_model", "pytorch_model"] {
        for (change, needle) in cases {
            let script = r#"
import numpy as np
from twinnet_backend.MODULE import Net
p = {"fc1.weight": np.zeros((10, 784), np.float32), "fc1.bias": np.zeros(10, np.float32),
     "fc2.weight": np.zeros((10, 10), np.float32), "fc2.bias": np.zeros(10, np.float32)}
s = {"head": "softmax", "hidden": 10, "layers": [784, 10, 10], "activation": "relu",
     "threads": 1, "lr": 0.1}
s.update(CHANGE)
try:
    Net(p, s)
except ValueError as e:
    print(e)
else:
    raise SystemExit("trained a network it does not implement")
"#
            .replace("MODULE", module)
            .replace("CHANGE", change);
            let out = std::process::Command::new("python3")
                .arg("-c")
                .arg(&script)
                .env("PYTHONPATH", &python)
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "{module}: {}", String::from_utf8_lossy(&out.stderr));
            assert!(said.contains(needle), "{module} {change}: {said}");
        }
    }
}
