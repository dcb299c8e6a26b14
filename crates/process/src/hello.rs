//! The handshake: which protocol version the program speaks, what it can do, and what it says
//! of itself (as results record it).

use crate::child::Child;
use crate::error::ProcessError;
use crate::PROTOCOL;
use serde_json::{json, Value};
use twinnet_core::{BackendInfo, Model};

/// What `hello` established.
pub(crate) struct Hello {
    /// The implementation, as results record it.
    pub info: BackendInfo,
    /// Whether it can rewind (`capabilities: ["rewind"]`).
    pub rewind: bool,
}

/// The capability a program lists when it implements `settings.optimizer` (any optimizer but
/// plain SGD is refused to a program that does not).
pub const OPTIMIZERS: &str = "optimizers";

/// Says `hello` (version [`PROTOCOL`]) and checks the reply: version 2, or version 1 for the
/// report's family only (any other `model` is refused before `init`, by setting); an optimizer
/// other than plain SGD only for a program listing the [`OPTIMIZERS`] capability.
pub(crate) fn hello(
    child: &mut Child,
    command: &str,
    model: &Model,
) -> Result<Hello, ProcessError> {
    let optimizer = model.optimizer();
    let model = model.config();
    let id = child.send(json!({"op": "hello", "protocol": PROTOCOL}), true)?;
    let reply = child.recv("hello", id)?;
    let version = match reply["protocol"].as_u64() {
        Some(v @ (1 | 2)) => v,
        _ => {
            return Err(ProcessError::Version {
                command: command.into(),
                theirs: reply["protocol"].to_string(),
                ours: PROTOCOL,
            })
        }
    };
    if let (1, Some((field, value))) = (version, model.outside_report_network()) {
        return Err(ProcessError::Unsupported {
            command: command.into(),
            message: version_1_refusal(field, &value),
        });
    }
    let can = |what: &str| {
        reply["capabilities"].as_array().is_some_and(|c| c.iter().any(|x| x.as_str() == Some(what)))
    };
    if !optimizer.is_plain_sgd() && !can(OPTIMIZERS) {
        return Err(ProcessError::Unsupported {
            command: command.into(),
            message: format!(
                "--optimizer {optimizer}: the program does not list the `{OPTIMIZERS}` \
                 capability in its `hello`, so it trains with plain SGD only \
                 (docs/protocol.md; in Python, `serve(cls, optimizers=True)`)"
            ),
        });
    }
    let rewind = can("rewind");
    Ok(Hello { info: describe(command, &reply["implementation"], version), rewind })
}

/// Why a program speaking protocol version 1 cannot train a model whose `field` is `value`.
fn version_1_refusal(field: &str, value: &str) -> String {
    format!(
        "--{field} {value}: the program speaks protocol version 1, which carries the report's \
         network only (784 → h → 10, relu, softmax or double-softmax head); version 2 carries \
         any multilayer perceptron (docs/protocol.md)"
    )
}

/// What the implementation said of itself, as results record it, with the protocol `version`
/// it speaks.
fn describe(command: &str, imp: &Value, version: u64) -> BackendInfo {
    let s = |k: &str| imp[k].as_str().unwrap_or("unknown").to_string();
    let libraries: Vec<String> = imp["libraries"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?"))).collect())
        .unwrap_or_default();
    let library = format!(
        "process: {} ({}{}{})",
        s("name"),
        s("language"),
        if libraries.is_empty() { "" } else { "; " },
        libraries.join(", ")
    );
    let numerics = [
        ("command", command.to_string()),
        ("protocol", version.to_string()),
        ("threads", "may change the bits (the implementation's own sums)".to_string()),
    ];
    BackendInfo::new(library, s("device"), numerics)
}
