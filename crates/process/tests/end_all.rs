//! `end_all`, what the interrupt handler calls before it exits (destructors do not run then):
//! every program started, and everything it started, ends; every scratch folder is removed.
//! A test binary of its own, since it ends every program of the process.

mod common;

use common::{alive, start};
use std::time::{Duration, Instant};

#[test]
fn end_all_ends_every_group_and_removes_every_scratch_folder() {
    let dir = tempfile::tempdir().unwrap();
    // Scratch folders go into a folder of this test's (the only test of this binary).
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    std::env::set_var("TMPDIR", &tmp);
    let script = dir.path().join("forks.py");
    std::fs::write(
        &script,
        "import subprocess, sys\n\
         subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)', 'grandchild-end-all'])\n\
         from twinnet_backend import serve\n\
         class Net:\n    def __init__(self, p, s):\n        self.p = p\n\
         \x20   def step(self, x, y, lr):\n        return 1.0, 0\n\
         \x20   def evaluate(self, x, y):\n        return 1.0, [0] * len(y)\n\
         \x20   def params(self):\n        return self.p\n\
         serve(Net)\n",
    )
    .unwrap();
    let data = twinnet_testkit::conformance::data();
    let model = twinnet_testkit::conformance::models().remove(0);
    let cmd = format!("python3 {}", script.display());
    let b = start(&cmd, &model, &data, 0, Duration::from_secs(10)).unwrap();
    let t = Instant::now();
    while !alive("grandchild-end-all") {
        assert!(t.elapsed() < Duration::from_secs(10), "the grandchild did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let scratch: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("twinnet-process-"))
        .map(|e| e.path())
        .collect();
    assert!(!scratch.is_empty());
    twinnet_process::end_all();
    let t = Instant::now();
    while alive("grandchild-end-all") || alive("forks.py") {
        assert!(t.elapsed() < Duration::from_secs(5), "a process outlived end_all");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(scratch.iter().all(|p| !p.exists()), "a scratch folder is left");
    std::mem::forget(b);
}
