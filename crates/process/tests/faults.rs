//! Implementations that go wrong: each failure is a clear error naming the command, the message
//! it was answering and its last lines of stderr, and no child is left behind.

mod common;

use common::{alive, numpy_command, start};
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
        ("another protocol version", script(d, "v3.py", "import sys, json\nfor l in sys.stdin:\n    r = json.loads(l)\n    print(json.dumps({'id': r['id'], 'ok': True, 'protocol': 3}), flush=True)\n"), &["v3.py", "protocol version 3", "versions 1 to 2"]),
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

/// A program that starts processes of its own (a shell wrapper, a pool): they end with it, on
/// an error, on a timeout and when the backend is dropped.
#[test]
fn what_a_program_starts_ends_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = twinnet_testkit::conformance::data();
    let m = model();
    let t = Duration::from_secs(5);
    let forking = |tag: &str, step: &str| {
        let body = serving(step).replace(
            "class Net:",
            &format!(
                "import subprocess\nsubprocess.Popen([sys.executable, '-c', \
                 'import time; time.sleep(3600)', 'grandchild-{tag}'])\nclass Net:"
            ),
        );
        script(d, &format!("{tag}.py"), &body)
    };
    let gone = |tag: &str| {
        let t0 = Instant::now();
        while alive(&format!("grandchild-{tag}")) {
            assert!(t0.elapsed() < Duration::from_secs(5), "{tag}: a grandchild outlived it");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Dropped after a normal exchange.
    let b = start(&forking("dropped", "pass"), &m, &data, 0, t).unwrap();
    assert!(alive("grandchild-dropped"));
    drop(b);
    gone("dropped");
    // An error in a step.
    let mut b = start(&forking("raises", "raise ValueError('no')"), &m, &data, 0, t).unwrap();
    assert!(b.step(Batch::Indices(&[0]), 0.1).is_err());
    drop(b);
    gone("raises");
    // A timeout.
    let mut b = start(&forking("hangs", "time.sleep(3600)"), &m, &data, 0, t).unwrap();
    let e = b.step(Batch::Indices(&[0]), 0.1).unwrap_err().to_string();
    assert!(e.contains("did not answer `step`"), "{e}");
    gone("hangs");
    drop(b);
    // end_all, what an interrupt calls before it exits, is tested in a binary of its own
    // (tests/end_all.rs): it ends every program of the process, those of tests running beside.
}

/// Bounded reads and writes: whatever a program writes or refuses to read, twinnet holds a
/// bounded amount, waits at most the deadline, and names what happened.
#[test]
fn misbehaving_pipes_are_bounded_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = twinnet_testkit::conformance::data();
    let m = model();
    let t = Duration::from_secs(5);
    let hello = "import sys, json, os, time\n\
        r = json.loads(sys.stdin.readline())\n\
        print(json.dumps({'id': r['id'], 'ok': True, 'protocol': 1}), flush=True)\n";
    let init = "r = json.loads(sys.stdin.readline())\n\
        print(json.dumps({'id': r['id'], 'ok': True}), flush=True)\n";

    // It exits, but a process it started still holds its stdout: named at once, not after the
    // deadline as a hang.
    let t0 = Instant::now();
    let cmd = "sh -c 'sleep 3600 & exit 3' held-stdout".to_string();
    let e = start(&cmd, &m, &data, 0, Duration::from_secs(30)).unwrap_err().to_string();
    assert!(e.contains("exited") && e.contains("`hello`"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(5), "waited {:?}", t0.elapsed());

    // An endless line on stdout: refused at 1 MiB.
    let cmd =
        script(d, "endless.py", "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n");
    let e = start(&cmd, &m, &data, 0, t).unwrap_err().to_string();
    assert!(e.contains("endless.py") && e.contains("longer than 1 MiB"), "{e}");
    assert!(e.len() < 5000, "{} bytes", e.len());

    // 50 MB of stderr without a newline, then an exit: the message keeps a bounded tail.
    let cmd =
        script(d, "flood.py", "import sys\nsys.stderr.write('y' * 50_000_000)\nsys.exit(1)\n");
    let e = start(&cmd, &m, &data, 0, Duration::from_secs(20)).unwrap_err().to_string();
    assert!(e.contains("flood.py") && e.contains("yyy"), "{}", &e[..e.len().min(500)]);
    assert!(e.len() < 5000, "{} bytes", e.len());

    // It stops reading its stdin while twinnet writes a large batch: the write has the same
    // deadline as a read.
    let cmd = script(d, "deaf.py", &format!("{hello}{init}time.sleep(3600)\n"));
    let mut b = start(&cmd, &m, &data, 0, t).unwrap();
    let big = vec![0u32; 200_000];
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let e = b.step(Batch::Indices(&big), 0.1).map(|_| ()).unwrap_err().to_string();
        tx.send(e).unwrap();
    });
    let e = rx.recv_timeout(Duration::from_secs(20)).expect("the write hung past the deadline");
    assert!(e.contains("deaf.py") && e.contains("did not read `step` within 5 s"), "{e}");

    // It closes its stdin, before or after twinnet's next request reached the pipe: said so,
    // not "its stdout closed", and not a hang until the deadline.
    for (name, pause) in [("closes.py", ""), ("closes-later.py", "time.sleep(0.5)\n")] {
        let body = format!("{hello}{pause}os.close(0)\ntime.sleep(3600)\n");
        let e = start(&script(d, name, &body), &m, &data, 0, Duration::from_secs(30))
            .unwrap_err()
            .to_string();
        assert!(e.contains(name) && e.contains("closed its stdin") && e.contains("`init`"), "{e}");
    }
    let cmd = script(d, "closes.py", &format!("{hello}os.close(0)\ntime.sleep(3600)\n"));
    let e = start(&cmd, &m, &data, 0, t).unwrap_err().to_string();
    assert!(
        e.contains("closes.py") && e.contains("closed its stdin") && e.contains("`init`"),
        "{e}"
    );

    // A byte that is not UTF-8 on stderr, then a steady trickle of stderr: twinnet keeps
    // reading it (a reader that stopped would leave the program blocked on a full pipe).
    let noisy = serving("sys.stderr.write('z' * 2000 + '\\n')").replace(
        "class Net:",
        "sys.stderr.buffer.write(b'\\xff\\xfe not utf-8\\n')\nsys.stderr.flush()\nclass Net:",
    );
    let mut b = start(&script(d, "noisy.py", &noisy), &m, &data, 0, t).unwrap();
    for _ in 0..200 {
        b.step(Batch::Indices(&[0, 1]), 0.1).unwrap();
    }

    // params() returning None when a checkpoint is kept: blamed on params(), not on the step.
    let none = serving("pass").replace("return self.p", "return None");
    let mut b = start(&script(d, "none.py", &none), &m, &data, 4, t).unwrap();
    b.will_need_epoch(&(0..data.len() as u32).collect::<Vec<_>>(), 2);
    // The first step is awaited; the ones sent ahead behind it keep checkpoints.
    b.step(Batch::Indices(&[0, 1]), 0.1).unwrap();
    let e = b.step(Batch::Indices(&[2, 3]), 0.1).unwrap_err().to_string();
    assert!(e.contains("params() must return a dict") && e.contains("got None"), "{e}");
    assert!(e.contains("checkpoint"), "{e}");

    // A 20 MB exception: cut, once.
    let huge = serving("raise ValueError('w' * 20_000_000)");
    let mut b = start(&script(d, "huge.py", &huge), &m, &data, 0, t).unwrap();
    let e = b.step(Batch::Indices(&[0]), 0.1).unwrap_err().to_string();
    assert!(e.contains("huge.py") && e.contains("ValueError: www"), "{}", &e[..e.len().min(500)]);
    assert!(e.len() < 20_000, "{} bytes", e.len());
}

/// A program that speaks protocol version 1 keeps working for the report's network, and is
/// refused for any other before `init`, naming the setting and the version.
#[test]
fn version_1_programs_train_the_reports_network_only() {
    let dir = tempfile::tempdir().unwrap();
    // A version-1 program: it answers `hello` with version 1 and `init` with an error if it
    // is ever sent one for a network it cannot hold (it must not be).
    let v1 = script(
        dir.path(),
        "v1.py",
        "import sys, json\nfor l in sys.stdin:\n    r = json.loads(l)\n    \
         if r['op'] == 'hello':\n        out = {'protocol': 1}\n    \
         elif r['op'] == 'init':\n        s = r['settings']\n        \
         out = {} if isinstance(s['hidden'], int) else {'ok': False, 'error': 'no hidden'}\n    \
         else:\n        out = {}\n    \
         print(json.dumps({'id': r['id'], 'ok': True, **out}), flush=True)\n",
    );
    let data = twinnet_testkit::conformance::data();
    let t = Duration::from_secs(10);
    let b = start(&v1, &model(), &data, 0, t).expect("the report's network on version 1");
    drop(b.describe());
    for m in twinnet_testkit::conformance::matrix_models() {
        let Some((field, value)) = m.config().outside_report_network() else { continue };
        let e = start(&v1, &m, &data, 0, t).unwrap_err().to_string();
        assert!(e.contains(&format!("--{field} {value}")), "{e}");
        assert!(e.contains("protocol version 1"), "{e}");
    }
}
