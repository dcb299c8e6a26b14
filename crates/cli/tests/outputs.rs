//! #35 through the binary: outputs never replace what is not theirs (devices and FIFOs made in
//! a private folder, never the system's), `index` writes only over its own index, a result file
//! never starts a program, a closed stdout ends quietly, endless files are refused, errors say
//! the system's reason once, and an interrupted or killed twinnet leaves no process of the
//! program's and no scratch folder.

mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A character device with the null device's numbers, made in `dir` (`None` without root).
fn private_null(dir: &Path) -> Option<std::path::PathBuf> {
    let p = dir.join("null");
    let ok = Command::new("mknod").arg(&p).args(["c", "1", "3"]).status();
    ok.is_ok_and(|s| s.success()).then_some(p)
}

fn is_char_device(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_char_device())
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn numpy_net() -> std::path::PathBuf {
    repo().join("crates/process/tests/python/numpy_net.py")
}

#[test]
fn outputs_that_are_devices_or_fifos_are_written_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    synthetic_mnist(&data, 300, 60);
    let Some(null) = private_null(t) else {
        eprintln!("skipped: mknod needs root");
        return;
    };
    let params = t.join("p.safetensors");
    let o = twinnet(&data, &["init", "--out", s(&params)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let train = |flag: &str| {
        twinnet(&data, &["train", "--epochs", "1", "--train-limit", "100", "-q", flag, s(&null)])
    };
    for (what, o) in [
        ("train --out", train("--out")),
        ("train --save-params", train("--save-params")),
        ("init --out", twinnet(&data, &["init", "--out", s(&null)])),
        ("eval --out", twinnet(&data, &["eval", "--params", s(&params), "--out", s(&null)])),
        (
            "compare --json",
            twinnet(&data, &["compare", s(&params), s(&params), "--json", s(&null)]),
        ),
    ] {
        let _ = o; // compare of two parameter files is refused; the node must survive either way
        assert!(is_char_device(&null), "{what} replaced the device");
    }
    // `--out -` and /dev/stdout stream: the JSON arrives on stdout.
    let o = twinnet(&data, &["train", "--epochs", "1", "--train-limit", "100", "-q", "--out", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"schema_version\""));
    // A FIFO with a reader gets the whole JSON, and stays a FIFO.
    let fifo = t.join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let f = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(f).unwrap())
    };
    let o = twinnet(&data, &["eval", "--params", s(&params), "--out", s(&fifo)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&reader.join().unwrap()).unwrap();
    assert!(json["test"]["accuracy"].is_number());
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn check_json_never_overwrites_what_the_check_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    synthetic_mnist(&data, 300, 60);
    let script = t.join("net.py");
    std::fs::copy(numpy_net(), &script).unwrap();
    let before = std::fs::read(&script).unwrap();
    let cmd = format!("python3 {}", script.display());
    let data_file = data.join("train-images-idx3-ubyte.gz");
    let data_file =
        if data_file.exists() { data_file } else { data.join("train-images-idx3-ubyte") };
    let data_before = std::fs::read(&data_file).unwrap();
    for (out, says) in [(&script, "--command"), (&data_file, "--data-dir")] {
        let o =
            twinnet(&data, &["check", "--command", &cmd, "--train-limit", "300", "--json", s(out)]);
        assert_eq!(o.status.code(), Some(1));
        let e = stderr(&o);
        assert!(e.contains("is the input of") && e.contains(says), "{e}");
    }
    assert_eq!(std::fs::read(&script).unwrap(), before);
    assert_eq!(std::fs::read(&data_file).unwrap(), data_before);
}

#[test]
fn index_writes_only_over_its_own_index() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    synthetic_mnist(&data, 300, 60);
    let exp = t.join("tiny.toml");
    std::fs::write(
        &exp,
        "description = \"tiny\"\n[defaults]\nepochs = 1\ntrain-limit = 100\n[[run]]\nname = \"a\"\n",
    )
    .unwrap();
    let root = t.join("results");
    std::fs::create_dir(&root).unwrap();
    // A folder whose name would be a script URL.
    let folder = root.join("javascript:alert(1)");
    let o = twinnet(&data, &["run", s(&exp), "--out", s(&folder), "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(folder.join("index.html")).unwrap();
    // Its own page is refused as an index target.
    let o = twinnet(&data, &["index", s(&folder)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is a results folder"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(folder.join("index.html")).unwrap(), page);
    // The user's own index.html is left as it is.
    std::fs::write(root.join("index.html"), "<h1>my notes</h1>").unwrap();
    let o = twinnet(&data, &["index", s(&root)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not a page twinnet wrote"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(root.join("index.html")).unwrap(), "<h1>my notes</h1>");
    // Its own index is replaced, and links by a relative, encoded path.
    std::fs::remove_file(root.join("index.html")).unwrap();
    for _ in 0..2 {
        let o = twinnet(&data, &["index", s(&root)]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let index = std::fs::read_to_string(root.join("index.html")).unwrap();
    assert!(index.contains("href=\"./javascript%3Aalert%281%29/index.html\""), "{index}");
}

#[test]
fn a_result_file_never_starts_a_program() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    synthetic_mnist(&data, 300, 60);
    let marker = t.join("ran");
    let cmd = format!("python3 {}", numpy_net().display());
    let result = t.join("r.json");
    let o = twinnet(
        &data,
        &[
            "train",
            "--backend",
            "process",
            "--command",
            &cmd,
            "--epochs",
            "1",
            "--train-limit",
            "100",
            "-q",
            "--out",
            s(&result),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Somebody edits the shared file to run something else.
    let mut r = json(&result);
    r["config"]["command"] = format!("touch {}", marker.display()).into();
    std::fs::write(&result, serde_json::to_string(&r).unwrap()).unwrap();
    let o = twinnet(&data, &["train", "--config-from", s(&result), "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("give it again with --command"), "{}", stderr(&o));
    assert!(!marker.exists(), "the stored command ran");
    // Named again on the command line, it runs.
    let o = twinnet(&data, &["train", "--config-from", s(&result), "--command", &cmd, "-q"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn plain_mistakes_are_said_once_and_plainly() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let data = t.join("data");
    synthetic_mnist(&data, 300, 60);
    // A closed stdout ends the command quietly.
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(["train", "--epochs", "1", "--train-limit", "100", "-q"])
        .env("TWINNET_DATA_DIR", &data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(c.stdout.take());
    let o = c.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
    // An endless experiment file.
    let o = twinnet(&data, &["plan", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("larger than 1 MiB"), "{}", stderr(&o));
    // verify of a missing experiment file names it, not --against.
    let o = twinnet(&data, &["verify", s(&t.join("nope.toml")), "--against", s(t)]);
    assert!(stderr(&o).contains("nope.toml: no such experiment file"), "{}", stderr(&o));
    // A data file that is a symbolic link loop is broken, not absent.
    let d2 = t.join("looped");
    std::fs::create_dir(&d2).unwrap();
    for f in std::fs::read_dir(&data).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), d2.join(f.file_name())).unwrap();
    }
    let victim = std::fs::read_dir(&d2)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("train-images"))
        .unwrap();
    std::fs::remove_file(&victim).unwrap();
    std::os::unix::fs::symlink(&victim, &victim).unwrap();
    let o = twinnet(&d2, &["train", "--epochs", "1", "-q"]);
    let e = stderr(&o);
    assert!(e.contains("cannot read") && e.contains("symbolic links"), "{e}");
    // The system's reason, once.
    let o = twinnet(&data, &["eval", "--params", s(&t.join("none.safetensors"))]);
    let e = stderr(&o);
    assert_eq!(e.matches("No such file or directory").count(), 1, "{e}");
}

/// A long `train --backend process` through a shell wrapper that also starts a helper
/// carrying `tag`, with its own temporary folder `tmpdir`.
fn forked_train(data: &Path, tag: &str, tmpdir: &Path) -> std::process::Child {
    let cmd = format!(
        "sh -c 'python3 -c \"import time; time.sleep(3600)\" helper-{tag} & exec python3 {} --tag {tag}'",
        numpy_net().display()
    );
    let (helper, program) = (format!("helper-{tag}"), format!("--tag {tag}"));
    long_process_train(data, &cmd, &[&helper, &program], &[("TMPDIR", tmpdir)])
}

fn gone(tag: &str) -> bool {
    let t = Instant::now();
    while alive(&format!("helper-{tag}")) || alive(&format!("--tag {tag}")) {
        if t.elapsed() > Duration::from_secs(8) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn interrupted_or_killed_twinnet_leaves_no_process_and_no_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    synthetic_mnist(&data, 1000, 100);
    for (tag, signal) in
        [("t-int", libc::SIGINT), ("t-term", libc::SIGTERM), ("t-kill", libc::SIGKILL)]
    {
        let scratch = tmp.path().join(tag);
        std::fs::create_dir(&scratch).unwrap();
        let mut c = forked_train(&data, tag, &scratch);
        // SAFETY: `kill` with a child's pid and a valid signal number.
        unsafe { libc::kill(c.id() as i32, signal) };
        let status = c.wait().unwrap();
        if signal != libc::SIGKILL {
            assert_eq!(status.code(), Some(130), "{tag}");
        }
        assert!(
            gone(tag),
            "{tag}: a process the program started outlived twinnet: {}",
            String::from_utf8_lossy(
                &Command::new("ps")
                    .args(["-eo", "pid,ppid,pgid,stat,args"])
                    .output()
                    .unwrap()
                    .stdout
            )
        );
        if signal != libc::SIGKILL {
            assert!(listing(&scratch).is_empty(), "{tag}: left {:?}", listing(&scratch));
        }
    }
}
