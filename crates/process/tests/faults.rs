//! Implementations that go wrong: each failure is a clear error naming the command, the message
//! it was answering and its last lines of stderr, and no child is left behind.

mod common;

use common::{numpy_command, start};
use std::path::Path;
use std::time::{Duration, Instant};
use twinnet_core::{Backend, Batch, Model};
use twinnet_process::ProcessError;

fn model() -> Model {
    twinnet_testkit::conformance::models().remove(0)
}

/// A Python script in a temporary folder, as a command.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    format!("python3 {}", p.display())
}

/// Whether a process whose command line mentions `needle` is alive.
fn alive(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(needle))
    })
}

/// A `serve`d class whose step runs `step` (Python statements).
fn serving(step: &str) -> String {
    format!(
        "import sys, time\nimport numpy as np\nfrom twinnet_backend import serve\n\
         class Net:\n    def __init__(self, p, s):\n        self.p = p\n        self.h = s['hidden']\n\
         \x20   def step(self, x, y, lr):\n        {step}\n        return 1.0, 0\n\
         \x20   def evaluate(self, x, y):\n        return 1.0, np.zeros(len(y), dtype=np.int64)\n\
         \x20   def params(self):\n        return self.p\n\
         serve(Net)\n"
    )
}

#[test]
fn every_fault_is_named_and_leaves_no_child() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = twinnet_testkit::conformance::data();
    let m = model();
    let t = Duration::from_secs(3);
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("missing program", "no-such-program-twinnet --x".into(), &["no-such-program-twinnet", "cannot start"]),
        ("exits at once", script(d, "exit.py", "import sys\nsys.stderr.write('giving up early\\n')\nsys.exit(3)\n"), &["exit.py", "exited", "`hello`", "giving up early"]),
        ("prints garbage", script(d, "garbage.py", "import sys\nfor l in sys.stdin:\n    print('hello there', flush=True)\n"), &["garbage.py", "not a protocol reply", "hello there"]),
        ("another protocol version", script(d, "v2.py", "import sys, json\nfor l in sys.stdin:\n    r = json.loads(l)\n    print(json.dumps({'id': r['id'], 'ok': True, 'protocol': 2}), flush=True)\n"), &["v2.py", "protocol version 2", "version 1"]),
        ("hangs", script(d, "hang.py", "import time\ntime.sleep(3600)\n"), &["hang.py", "did not answer `hello` within 3 s"]),
        ("raises in init", script(d, "raise.py", "from twinnet_backend import serve\nclass Net:\n    def __init__(self, p, s):\n        raise ValueError('no GPU here')\nserve(Net)\n"), &["raise.py", "failed in `init`", "ValueError: no GPU here", "Traceback"]),
    ];
    for (what, cmd, says) in cases {
        let t0 = Instant::now();
        let e = start(&cmd, &m, &data, 0, t).unwrap_err().to_string();
        for s in says {
            assert!(e.contains(s), "{what}: `{s}` not in: {e}");
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{what}: took {:?}", t0.elapsed());
        let needle = cmd.split_whitespace().last().unwrap();
        std::thread::sleep(Duration::from_millis(200));
        assert!(!alive(needle) || needle.contains("no-such"), "{what}: the child is still alive");
    }
}

#[test]
fn faults_during_training_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = twinnet_testkit::conformance::data();
    let m = model();
    let t = Duration::from_secs(3);
    let step = |cmd: &str| -> String {
        let mut b = start(cmd, &m, &data, 0, t).unwrap();
        let e = b.step(Batch::Indices(&[0, 1, 2]), 0.1).unwrap_err();
        e.to_string()
    };
    let e =
        step(&script(d, "die.py", &serving("sys.stderr.write('out of memory\\n'); sys.exit(9)")));
    assert!(e.contains("die.py") && e.contains("`step`") && e.contains("out of memory"), "{e}");
    let e = step(&script(d, "slow.py", &serving("time.sleep(3600)")));
    assert!(e.contains("slow.py") && e.contains("did not answer `step` within 3 s"), "{e}");
    assert!(!alive("slow.py"), "a hung child is killed");
    let e =
        step(&script(d, "boom.py", &serving("raise RuntimeError('shape mismatch in my layer')")));
    assert!(e.contains("failed in `step`") && e.contains("RuntimeError: shape mismatch"), "{e}");
    // Parameters of the wrong shape.
    let wrong =
        serving("pass").replace("return self.p", "return {k: v[:1] for k, v in self.p.items()}");
    let mut b = start(&script(d, "shape.py", &wrong), &m, &data, 0, t).unwrap();
    let e = b.params().unwrap_err().to_string();
    assert!(e.contains("shape.py") && e.contains("`params`") && e.contains("shape"), "{e}");
    // Names that are not PyTorch's.
    let names = serving("pass").replace("return self.p", "return {'w1': 0}");
    let mut b = start(&script(d, "names.py", &names), &m, &data, 0, t).unwrap();
    let e = b.params().unwrap_err().to_string();
    assert!(e.contains("names.py") && e.contains("fc1.weight"), "{e}");
    // A NaN loss is a number the training loop judges (divergence), not a protocol error.
    let nan = serving("pass").replace("return 1.0, 0", "return float('nan'), 0");
    let mut b = start(&script(d, "nan.py", &nan), &m, &data, 0, t).unwrap();
    assert!(b.step(Batch::All, 0.1).unwrap().loss.is_nan());
    // A wrong count of predictions.
    let preds = serving("pass").replace("np.zeros(len(y)", "np.zeros(len(y) + 1");
    let mut b = start(&script(d, "preds.py", &preds), &m, &data, 0, t).unwrap();
    let e = b.evaluate(&data).unwrap_err().to_string();
    assert!(e.contains("preds.py") && e.contains("predictions"), "{e}");
}

/// Dropping the backend ends the child (shutdown, then kill); so does a killed parent
/// (PR_SET_PDEATHSIG), which the binary's tests check.
#[test]
fn dropping_the_backend_ends_the_child() {
    let data = twinnet_testkit::conformance::data();
    let b = start(&numpy_command("--tag drop-test"), &model(), &data, 0, Duration::from_secs(30))
        .unwrap();
    assert!(alive("drop-test"));
    drop(b);
    std::thread::sleep(Duration::from_millis(300));
    assert!(!alive("drop-test"));
    let _ = ProcessError::Command { command: String::new(), message: String::new() };
}
