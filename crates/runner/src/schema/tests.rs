//! Tests of the parent module.

use super::*;
use crate::fixtures::run;

#[test]
fn a_version_1_file_is_upgraded_and_a_newer_one_refused() {
    let dir = tempfile::tempdir().unwrap();
    let r = run("a", 0, Some(0.8));
    // Version 1: the same fields, no schema_version (every committed result before it).
    let mut v = serde_json::to_value(&r).unwrap();
    v.as_object_mut().unwrap().remove("schema_version");
    let old = dir.path().join("old.json");
    write_json(&old, &v).unwrap();
    assert_eq!(read_versioned::<RunResult>(&old, "result").unwrap(), r);
    // A file from a newer twinnet.
    v["schema_version"] = (SCHEMA_VERSION + 1).into();
    let new = dir.path().join("new.json");
    write_json(&new, &v).unwrap();
    let e = read_versioned::<RunResult>(&new, "result").unwrap_err().to_string();
    assert!(e.contains("new.json") && e.contains("newer twinnet"), "{e}");
    // A missing required field is named.
    v["schema_version"] = SCHEMA_VERSION.into();
    v.as_object_mut().unwrap().remove("config_hash");
    write_json(&new, &v).unwrap();
    let e = read_versioned::<RunResult>(&new, "result").unwrap_err();
    assert!(crate::error::chain(&e).contains("missing field `config_hash`"), "{e}");
}

#[test]
fn results_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    for r in [run("a", 0, Some(0.8)), run("b", 1, None)] {
        let p = dir.path().join("r.json");
        write_json(&p, &r).unwrap();
        assert_eq!(read_versioned::<RunResult>(&p, "result").unwrap(), r);
    }
}
