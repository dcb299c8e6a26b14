//! `docs/protocol.md` is complete: a program that knows only the document's examples — each
//! operation's example reply, with the side effects the document states — serves a whole run
//! (an epoch's order, steps sent ahead and taken back, parameters, an evaluation, shutdown),
//! and twinnet sends it no operation the document does not describe.

mod common;

use common::start;
use std::collections::BTreeMap;
use std::time::Duration;
use twinnet_core::{Backend, Batch};

/// Each `### \`op\`` section's example reply (its second JSON block), by operation.
fn examples() -> BTreeMap<String, serde_json::Value> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/protocol.md"),
    )
    .unwrap();
    let mut out = BTreeMap::new();
    for section in doc.split("\n### `").skip(1) {
        let op = section.split('`').next().unwrap().to_string();
        let blocks: Vec<&str> =
            section.split("```json\n").skip(1).map(|b| b.split("\n```").next().unwrap()).collect();
        assert!(blocks.len() >= 2, "`{op}`: the document gives no request and reply example");
        let request: serde_json::Value = serde_json::from_str(blocks[0])
            .unwrap_or_else(|e| panic!("`{op}`'s request example is not JSON: {e}"));
        assert_eq!(request["op"], op.as_str());
        let reply: serde_json::Value = serde_json::from_str(blocks[1])
            .unwrap_or_else(|e| panic!("`{op}`'s reply example is not JSON: {e}"));
        out.insert(op, reply);
    }
    out
}

/// Answers every request with the document's example reply for its `op` (the id, and a step's
/// `size`, made the request's), doing what the document says each operation does to files;
/// an `op` with no example is logged and refused, as the document says unknown ones are.
const PROGRAM: &str = r#"
import json, os, sys
import numpy as np
examples = json.load(open(sys.argv[1]))
unknown = open(sys.argv[2], "a")
params = order = train_y = None
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    if op not in examples:
        unknown.write(op + "\n"); unknown.flush()
        print(json.dumps({"id": req["id"], "ok": False, "error": f"unknown op `{op}`"}), flush=True)
        continue
    reply = dict(examples[op], id=req["id"])
    if op == "init":
        params = {k: np.load(v) for k, v in req["params"].items()}
        train_y = np.load(req["train"]["y"])
    elif op == "order":
        order = np.load(req["path"])
    elif op == "step":
        b = req["batch"]
        rows = train_y if b == "all" else order[b["order"][0]:b["order"][1]] if isinstance(b, dict) else b
        reply["size"] = len(rows)
        reply["correct"] = min(reply["correct"], len(rows))
    elif op == "params":
        for k, a in params.items():
            with open(os.path.join(req["dir"], k + ".npy"), "wb") as f:
                np.lib.format.write_array(f, a, version=(2, 0))
    elif op == "evaluate":
        np.save(req["predictions"], np.zeros(len(np.load(req["y"])), dtype=np.int64))
    print(json.dumps(reply), flush=True)
    if op == "shutdown":
        sys.exit(0)
"#;

#[test]
fn a_program_written_from_the_document_alone_serves_a_run() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("examples.json");
    std::fs::write(&ex, serde_json::to_string(&examples()).unwrap()).unwrap();
    let unknown = dir.path().join("unknown.txt");
    std::fs::write(&unknown, "").unwrap();
    let program = dir.path().join("from_the_doc.py");
    std::fs::write(&program, PROGRAM).unwrap();
    let cmd = format!("python3 {} {} {}", program.display(), ex.display(), unknown.display());
    let data = twinnet_testkit::conformance::data();
    let model = twinnet_testkit::conformance::models().remove(0);
    let mut b =
        start(&cmd, &model, &data, twinnet_process::AHEAD, Duration::from_secs(30)).unwrap();
    let order: Vec<u32> = (0..data.len() as u32).rev().collect();
    b.will_need_epoch(&order, 4);
    for batch in order.chunks(4).take(3) {
        let s = b.step(Batch::Indices(batch), 0.1).unwrap();
        assert_eq!(s.size, batch.len());
    }
    // Mid-epoch: the steps sent ahead are taken back (`rewind`), then the parameters read
    // (written by the program as .npy version 2.0).
    assert_eq!(&b.params().unwrap(), model.params());
    b.step(Batch::All, 0.1).unwrap();
    assert_eq!(b.evaluate(&data).unwrap().predictions.len(), data.len());
    drop(b);
    let unknown = std::fs::read_to_string(&unknown).unwrap();
    assert!(
        unknown.is_empty(),
        "twinnet sent operations the document does not describe: {unknown}"
    );
    let documented = examples();
    for op in ["hello", "init", "order", "step", "evaluate", "params", "rewind", "shutdown"] {
        assert!(documented.contains_key(op), "`{op}` has no section");
    }
}

/// A program that refuses `order` still gets its steps sent ahead, as lists of rows.
#[test]
fn a_refused_order_still_sends_steps_ahead() {
    let dir = tempfile::tempdir().unwrap();
    let mut ex = examples();
    ex.remove("order");
    let path = dir.path().join("examples.json");
    std::fs::write(&path, serde_json::to_string(&ex).unwrap()).unwrap();
    let unknown = dir.path().join("unknown.txt");
    std::fs::write(&unknown, "").unwrap();
    let program = dir.path().join("no_order.py");
    // Logs each step's batch form, to see lists sent ahead (checkpoint true).
    let logging = PROGRAM.replace(
        "    elif op == \"step\":\n",
        "    elif op == \"step\":\n        unknown.write('ahead-list\\n' if req['checkpoint'] and isinstance(req['batch'], list) else '')\n",
    );
    std::fs::write(&program, logging).unwrap();
    let cmd = format!("python3 {} {} {}", program.display(), path.display(), unknown.display());
    let data = twinnet_testkit::conformance::data();
    let model = twinnet_testkit::conformance::models().remove(0);
    let mut b =
        start(&cmd, &model, &data, twinnet_process::AHEAD, Duration::from_secs(30)).unwrap();
    let order: Vec<u32> = (0..data.len() as u32).collect();
    b.will_need_epoch(&order, 4);
    for batch in order.chunks(4).take(3) {
        b.step(Batch::Indices(batch), 0.1).unwrap();
    }
    b.params().unwrap();
    drop(b);
    let log = std::fs::read_to_string(&unknown).unwrap();
    assert!(log.starts_with("order\n"), "{log}");
    assert!(log.contains("ahead-list"), "no step was sent ahead as a list: {log}");
}
