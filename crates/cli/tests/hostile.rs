//! The campaign: every command fed mistaken and hostile input, each case in a sandbox of its
//! own, against twinnet's four promises:
//!
//! 1. exit 1 with a cause that names the file, field or run (one message, no panic, no debug
//!    dump);
//! 2. no hang: every case ends within [`LIMIT`] (or it is killed and fails);
//! 3. nothing outside `--out` touched: the sandbox (data, previous results, the user's own
//!    folder, the experiment files) is byte-for-byte what it was, with no temporary file left;
//! 4. earlier results intact (a previous results folder is part of every sandbox).
//!
//! A second test sends SIGTERM to commands stuck where no training loop polls the stop flag
//! (reading a FIFO as data): exit 130 within the grace period, nothing left behind.

mod common;
use common::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The longest a case may take.
const LIMIT: Duration = Duration::from_secs(60);

/// A tiny experiment: two ndarray runs, one epoch each on 100 images.
const TINY: &str =
    "description = \"tiny\"\n[defaults]\nepochs = 1\ntrain-limit = 100\nthreads = 1\n\
    [[run]]\nname = \"full\"\n[[run]]\nname = \"mini\"\nregime = \"minibatch\"\n";

/// A tiny drift experiment.
const DRIFT: &str =
    "description = \"d\"\n[[setting]]\nname = \"s\"\nepochs = 1\ntrain-limit = 100\n\
    [[source]]\nname = \"ulp\"\nnudge = { tensor = \"fc2.bias\", index = [1] }\n";

/// The template every case's sandbox is copied from: `data/` (synthetic MNIST), `tiny.toml`,
/// `prev/` (a results folder of `tiny` that twinnet wrote), `user/` (somebody's own folder),
/// `good.safetensors`, `sweep/` (a complete shared folder of `tiny`).
fn template() -> &'static Path {
    static T: OnceLock<tempfile::TempDir> = OnceLock::new();
    T.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        synthetic_mnist(&p.join("data"), 300, 60);
        std::fs::write(p.join("tiny.toml"), TINY).unwrap();
        std::fs::write(p.join("drift.toml"), DRIFT).unwrap();
        std::fs::create_dir(p.join("user")).unwrap();
        std::fs::write(p.join("user/thesis.tex"), "\\chapter{Results}\n").unwrap();
        std::fs::write(p.join("user/notes.json"), "{\"mine\": true}\n").unwrap();
        let ok = |args: &[&str]| {
            let o = twinnet(&p.join("data"), args);
            assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        };
        let s = |x: &str| p.join(x).to_str().unwrap().to_string();
        ok(&["run", &s("tiny.toml"), "--out", &s("prev"), "--quiet", "--jobs", "1"]);
        ok(&["run", &s("tiny.toml"), "--out", &s("sweep"), "--quiet", "--shard", "0/1"]);
        ok(&["init", "--out", &s("good.safetensors")]);
        t
    })
    .path()
}

/// Copies the template into a fresh folder (links copied as links).
fn sandbox() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    copy(template(), t.path());
    t
}

fn copy(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir(&dst).unwrap();
            copy(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Every entry under `dir`: its kind and content hash (or link target), by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
            let what = if ft.is_symlink() {
                format!("link {}", std::fs::read_link(&p).unwrap().display())
            } else if ft.is_dir() {
                stack.push(p);
                "dir".into()
            } else if ft.is_file() {
                format!("{:x}", Sha256::digest(std::fs::read(&p).unwrap()))
            } else {
                "special".into()
            };
            out.insert(rel, what);
        }
    }
    out
}

/// One hostile case: its setup (writes into the sandbox, returns the arguments) and what the
/// error must say.
struct Case {
    name: &'static str,
    setup: fn(&Path) -> Vec<String>,
    says: &'static [&'static str],
}

/// `s.join(x)` as text.
fn at(s: &Path, x: &str) -> String {
    s.join(x).to_str().unwrap().to_string()
}

/// Arguments from string slices.
fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// `twinnet run FILE --out s/new --quiet` on an experiment of text `toml`.
fn run_text(s: &Path, toml: &str) -> Vec<String> {
    std::fs::write(s.join("bad.toml"), toml).unwrap();
    args(&["run", &at(s, "bad.toml"), "--out", &at(s, "new"), "--quiet", "--jobs", "1"])
}

/// `tiny.toml` with `key = value` added to its defaults.
fn tiny_with(s: &Path, line: &str) -> Vec<String> {
    run_text(s, &TINY.replace("[defaults]\n", &format!("[defaults]\n{line}\n")))
}

/// `twinnet run tiny.toml` with extra flags.
fn run_tiny(s: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = args(&["run", &at(s, "tiny.toml"), "--quiet"]);
    a.extend(args(extra));
    a
}

/// `twinnet train` on 100 images, one epoch, with extra flags.
fn train(extra: &[&str]) -> Vec<String> {
    let mut a = args(&["train", "--epochs", "1", "--train-limit", "100", "--quiet"]);
    a.extend(args(extra));
    a
}

/// Edits `prev/<file>` as JSON, then `twinnet plot prev`.
fn plot_edited(s: &Path, file: &str, edit: fn(&mut serde_json::Value)) -> Vec<String> {
    let p = s.join("prev").join(file);
    let mut v = json(&p);
    edit(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    args(&["plot", &at(s, "prev")])
}

/// A safetensors file of the four tensors with these shapes, all `value`.
fn params_file(path: &Path, shapes: [&[usize]; 4], value: f32) {
    use safetensors::tensor::{serialize_to_file, Dtype, TensorView};
    let names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];
    let data: Vec<Vec<u8>> = shapes
        .iter()
        .map(|s| {
            let n: usize = s.iter().product();
            (0..n).flat_map(|_| value.to_le_bytes()).collect()
        })
        .collect();
    let views: Vec<(&str, TensorView<'_>)> = names
        .iter()
        .zip(&shapes)
        .zip(&data)
        .map(|((n, s), d)| (*n, TensorView::new(Dtype::F32, s.to_vec(), d).unwrap()))
        .collect();
    serialize_to_file(views, None, path).unwrap();
}

/// A drift experiment with one more source.
fn drift_with(s: &Path, extra: &str) -> Vec<String> {
    std::fs::write(s.join("bad.toml"), format!("{DRIFT}{extra}")).unwrap();
    args(&["drift", &at(s, "bad.toml"), "--out", &at(s, "new"), "--quiet"])
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // ---- run: the experiment file
        Case { name: "run: missing experiment file", setup: |s| args(&["run", &at(s, "nope.toml"), "--out", &at(s, "new")]), says: &["nope.toml", "cannot read the experiment file"] },
        Case { name: "run: experiment is a folder", setup: |s| args(&["run", &at(s, "user"), "--out", &at(s, "new")]), says: &["user", "cannot read"] },
        Case { name: "run: bad TOML", setup: |s| run_text(s, "description = \"x\"\n[[run]\n"), says: &["bad.toml", "line 2"] },
        Case { name: "run: unknown key", setup: |s| tiny_with(s, "epoch = 3"), says: &["bad.toml", "unknown field `epoch`"] },
        Case { name: "run: no run", setup: |s| run_text(s, "description = \"x\"\n"), says: &["bad.toml", "run"] },
        Case { name: "run: run named like the folder's own file", setup: |s| run_text(s, "description = \"x\"\n[[run]]\nname = \"experiment\"\n"), says: &["bad.toml", "`experiment`", "own files"] },
        Case { name: "run: run named with a path", setup: |s| run_text(s, "description = \"x\"\n[[run]]\nname = \"../escape\"\n"), says: &["bad.toml", "../escape"] },
        Case { name: "run: run name with a slash", setup: |s| run_text(s, "description = \"x\"\n[[run]]\nname = \"a/b\"\n"), says: &["bad.toml", "a/b"] },
        Case { name: "run: two runs with one name", setup: |s| run_text(s, "description = \"x\"\n[[run]]\nname = \"a\"\n[[run]]\nname = \"a\"\n"), says: &["two runs are named `a`"] },
        Case { name: "run: negative lr", setup: |s| tiny_with(s, "lr = -1.0"), says: &["run `full`", "lr"] },
        Case { name: "run: NaN lr", setup: |s| tiny_with(s, "lr = nan"), says: &["lr", "finite"] },
        Case { name: "run: zero epochs", setup: |s| tiny_with(s, "epochs = 0"), says: &["epochs"] },
        Case { name: "run: enormous epochs", setup: |s| run_text(s, &TINY.replace("epochs = 1", "epochs = 9223372036854775807")), says: &["epochs", "updates one run may make"] },
        Case { name: "run: enormous hidden", setup: |s| tiny_with(s, "hidden = 9223372036854775807"), says: &["hidden", "memory"] },
        Case { name: "run: enormous threads", setup: |s| run_text(s, &TINY.replace("threads = 1", "threads = 9223372036854775807")), says: &["threads", "at most"] },
        Case { name: "run: zero log-every", setup: |s| tiny_with(s, "log-every = 0"), says: &["log-every"] },
        Case { name: "run: batch larger than the data", setup: |s| tiny_with(s, "batch-size = 101\nregime = \"minibatch\""), says: &["batch-size"] },
        Case { name: "run: cuda on ndarray", setup: |s| tiny_with(s, "device = \"cuda\""), says: &["device", "cuda"] },
        Case { name: "run: unknown head", setup: |s| tiny_with(s, "head = \"sigmoid\""), says: &["sigmoid", "softmax"] },
        Case { name: "run: train-limit beyond the data", setup: |s| tiny_with(s, "train-limit = 301"), says: &["train-limit"] },
        Case { name: "run: repeated seeds in the file", setup: |s| run_text(s, &TINY.replace("[defaults]", "seeds = [1, 1]\n[defaults]")), says: &["seed 1 is given twice"] },
        Case { name: "run: too many seeds in the file", setup: |s| run_text(s, &TINY.replace("[defaults]", "seeds = \"0..18446744073709551615\"\n[defaults]")), says: &["seeds", "at most"] },
        Case { name: "run: mixed datasets", setup: |s| run_text(s, &format!("{TINY}dataset = \"fashion-mnist\"\n")), says: &["one experiment, one dataset"] },
        Case { name: "run: missing init-from", setup: |s| tiny_with(s, "init-from = \"nope.safetensors\""), says: &["nope.safetensors"] },
        Case { name: "run: NaN init-from", setup: |s| { params_file(&s.join("nan.safetensors"), [&[10, 784], &[10], &[10, 10], &[10]], f32::NAN); tiny_with(s, "init-from = \"nan.safetensors\"") }, says: &["nan.safetensors", "non-finite"] },
        Case { name: "run: init-from of another width", setup: |s| tiny_with(s, "init-from = \"good.safetensors\"\nhidden = 12"), says: &["good.safetensors"] },
        // ---- run: --out and the folders
        Case { name: "run: --out is the user's folder", setup: |s| run_tiny(s, &["--out", &at(s, "user")]), says: &["user", "not a results folder", "thesis.tex"] },
        Case { name: "run: --out is the experiments' folder", setup: |s| run_tiny(s, &["--out", s.to_str().unwrap()]), says: &["not a results folder", "it holds data"] },
        Case { name: "run: --out is a file", setup: |s| run_tiny(s, &["--out", &at(s, "tiny.toml")]), says: &["is a file"] },
        Case { name: "run: --out under a missing folder", setup: |s| run_tiny(s, &["--out", &at(s, "no/such/out")]), says: &["does not exist"] },
        Case { name: "run: --out is a link to results", setup: |s| { std::os::unix::fs::symlink(s.join("prev"), s.join("link")).unwrap(); run_tiny(s, &["--out", &at(s, "link")]) }, says: &["symbolic link"] },
        Case { name: "run: --out holds the experiment file", setup: |s| { std::fs::copy(s.join("tiny.toml"), s.join("prev/again.toml")).unwrap(); args(&["run", &at(s, "prev/again.toml"), "--out", &at(s, "prev"), "--quiet"]) }, says: &["holds the experiment file"] },
        Case { name: "run: --out holds the init-from file", setup: |s| { std::fs::copy(s.join("good.safetensors"), s.join("prev/start.safetensors")).unwrap(); std::fs::write(s.join("x.toml"), TINY.replace("[defaults]\n", "[defaults]\ninit-from = \"prev/start.safetensors\"\n")).unwrap(); args(&["run", &at(s, "x.toml"), "--out", &at(s, "prev"), "--quiet"]) }, says: &["holds the init-from file"] },
        Case { name: "run: a planted .partial link", setup: |s| { std::os::unix::fs::symlink(s.join("user"), s.join(".new.partial")).unwrap(); run_tiny(s, &["--out", &at(s, "new"), "--jobs", "2"]) }, says: &[".new.partial", "not a folder of an unfinished run"] },
        Case { name: "run: --jobs 2 with a bad run leaves no .partial", setup: |s| { std::fs::write(s.join("x.toml"), format!("{TINY}lr = -2.0\n")).unwrap(); args(&["run", &at(s, "x.toml"), "--out", &at(s, "new"), "--quiet", "--jobs", "2"]) }, says: &["run `mini`", "lr"] },
        Case { name: "run: --resume into the user's folder", setup: |s| run_tiny(s, &["--out", &at(s, "user"), "--resume"]), says: &["user", "not a results folder"] },
        // ---- run: flags
        Case { name: "run: --seeds beyond any machine", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--seeds", "0..18446744073709551615"]), says: &["--seeds", "at most"] },
        Case { name: "run: --seeds repeated", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--seeds", "3,4,3"]), says: &["--seeds", "seed 3 is given twice"] },
        Case { name: "run: --seeds empty range", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--seeds", "5..5"]), says: &["--seeds", "no seed"] },
        Case { name: "run: --name that would do nothing", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--name", "x"]), says: &["--name"] },
        Case { name: "run: --jobs 0", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--jobs", "0"]), says: &["--jobs"] },
        Case { name: "run: --hidden beyond any machine", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--hidden", "18446744073709551615"]), says: &["hidden"] },
        Case { name: "run: --epochs beyond any machine", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--epochs", "18446744073709551615"]), says: &["epochs"] },
        Case { name: "run: --threads 0", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--threads", "0"]), says: &["threads"] },
        Case { name: "run: --lr not a number", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--lr", "fast"]), says: &["--lr"] },
        Case { name: "run: --progress-to-parent alone", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--progress-to-parent"]), says: &["--progress-to-parent"] },
        // ---- run: the data
        Case { name: "run: missing data folder", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--data-dir", &at(s, "nodata")]), says: &["nodata", "data folder not found"] },
        Case { name: "run: data folder is a file", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--data-dir", &at(s, "tiny.toml")]), says: &["tiny.toml"] },
        Case { name: "run: a data file is a FIFO", setup: |s| { let d = s.join("data2"); copy_data(s, &d); std::fs::remove_file(d.join("t10k-labels-idx1-ubyte")).unwrap(); nix_mkfifo(&d.join("t10k-labels-idx1-ubyte")); run_tiny(s, &["--out", &at(s, "new"), "--data-dir", d.to_str().unwrap()]) }, says: &["t10k-labels-idx1-ubyte", "not a regular file"] },
        Case { name: "run: a data file is a folder", setup: |s| { let d = s.join("data2"); copy_data(s, &d); std::fs::remove_file(d.join("t10k-labels-idx1-ubyte")).unwrap(); std::fs::create_dir(d.join("t10k-labels-idx1-ubyte")).unwrap(); run_tiny(s, &["--out", &at(s, "new"), "--data-dir", d.to_str().unwrap()]) }, says: &["t10k-labels-idx1-ubyte", "directory"] },
        Case { name: "run: truncated images", setup: |s| { let d = s.join("data2"); copy_data(s, &d); let f = d.join("train-images-idx3-ubyte"); let b = std::fs::read(&f).unwrap(); std::fs::write(&f, &b[..b.len() / 2]).unwrap(); run_tiny(s, &["--out", &at(s, "new"), "--data-dir", d.to_str().unwrap()]) }, says: &["train-images-idx3-ubyte", "truncated"] },
        Case { name: "run: a label that is no digit", setup: |s| { let d = s.join("data2"); copy_data(s, &d); let f = d.join("train-labels-idx1-ubyte"); let mut b = std::fs::read(&f).unwrap(); b[8] = 11; std::fs::write(&f, b).unwrap(); run_tiny(s, &["--out", &at(s, "new"), "--data-dir", d.to_str().unwrap()]) }, says: &["train-labels-idx1-ubyte", "label 11"] },
        Case { name: "run: an empty test set", setup: |s| { let d = s.join("data2"); copy_data(s, &d); std::fs::write(d.join("t10k-images-idx3-ubyte"), twinnet_data::idx::encode_images(&[], 28, 28)).unwrap(); std::fs::write(d.join("t10k-labels-idx1-ubyte"), twinnet_data::idx::encode_labels(&[])).unwrap(); run_tiny(s, &["--out", &at(s, "new"), "--data-dir", d.to_str().unwrap()]) }, says: &["t10k-images-idx3-ubyte", "holds no image"] },
        Case { name: "run: gzip that is not", setup: |s| { let d = s.join("data2"); copy_data(s, &d); std::fs::remove_file(d.join("train-labels-idx1-ubyte")).unwrap(); std::fs::write(d.join("train-labels-idx1-ubyte.gz"), b"\x1f\x8b\x08garbage").unwrap(); run_tiny(s, &["--out", &at(s, "new"), "--data-dir", d.to_str().unwrap()]) }, says: &["train-labels-idx1-ubyte.gz", "gzip"] },
        // ---- run --index/--shard
        Case { name: "run: --index outside the plan", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--index", "99"]), says: &["--index 99"] },
        Case { name: "run: --index without --out", setup: |s| run_tiny(s, &["--index", "0"]), says: &["--out"] },
        Case { name: "run: --shard 3/2", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--shard", "3/2"]), says: &["--shard 3/2"] },
        Case { name: "run: --index and --shard", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--index", "0", "--shard", "0/2"]), says: &["--index and --shard"] },
        Case { name: "run: --index into the user's folder", setup: |s| run_tiny(s, &["--out", &at(s, "user"), "--index", "0"]), says: &["user", "not a sweep's folder"] },
        Case { name: "run: --index into another experiment's sweep", setup: |s| { std::fs::write(s.join("other.toml"), TINY).unwrap(); args(&["run", &at(s, "other.toml"), "--out", &at(s, "sweep"), "--index", "0", "--quiet"]) }, says: &["sweep", "experiment `tiny`, not `other`"] },
        Case { name: "run: --index env without a scheduler", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--index", "env"]), says: &["SLURM_ARRAY_TASK_ID"] },
        Case { name: "run: --index with --jobs", setup: |s| run_tiny(s, &["--out", &at(s, "new"), "--index", "0", "--jobs", "2"]), says: &["--jobs/--resume"] },
        // ---- train
        Case { name: "train: --out is a folder", setup: |s| train(&["--out", &at(s, "user")]), says: &["--out", "is a folder"] },
        Case { name: "train: --out and --save-params one file", setup: |s| train(&["--out", &at(s, "x"), "--save-params", &at(s, "x")]), says: &["--out", "--save-params"] },
        Case { name: "train: --out is --config-from", setup: |s| train(&["--config-from", &at(s, "prev/full.json"), "--out", &at(s, "prev/full.json")]), says: &["--out", "--config-from"] },
        Case { name: "train: --save-params is --init-from", setup: |s| train(&["--init-from", &at(s, "good.safetensors"), "--save-params", &at(s, "good.safetensors")]), says: &["--save-params", "--init-from"] },
        Case { name: "train: --config-from missing", setup: |s| train(&["--config-from", &at(s, "nope.json")]), says: &["nope.json", "cannot read"] },
        Case { name: "train: --config-from not a result", setup: |s| train(&["--config-from", &at(s, "user/notes.json")]), says: &["notes.json", "not a valid twinnet result"] },
        Case { name: "train: --config-from from a newer twinnet", setup: |s| { let p = s.join("prev/full.json"); let mut v = json(&p); v["schema_version"] = 99.into(); std::fs::write(s.join("newer.json"), v.to_string()).unwrap(); train(&["--config-from", &at(s, "newer.json")]) }, says: &["newer.json", "newer twinnet"] },
        Case { name: "train: --save-params into a missing folder", setup: |s| train(&["--save-params", &at(s, "no/such/p.safetensors")]), says: &["--save-params", "does not exist"] },
        Case { name: "train: --init-from of wrong shapes", setup: |s| { params_file(&s.join("odd.safetensors"), [&[10, 783], &[10], &[10, 10], &[10]], 0.0); train(&["--init-from", &at(s, "odd.safetensors")]) }, says: &["odd.safetensors", "fc1.weight"] },
        Case { name: "train: --hidden beyond any machine", setup: |_| train(&["--hidden", "18446744073709551615"]), says: &["hidden", "memory"] },
        Case { name: "train: --lr inf", setup: |_| train(&["--lr", "inf"]), says: &["lr"] },
        Case { name: "train: --batch-size 0", setup: |_| train(&["--regime", "minibatch", "--batch-size", "0"]), says: &["batch-size"] },
        Case { name: "train: unknown backend", setup: |_| train(&["--backend", "jax"]), says: &["--backend", "jax"] },
        Case { name: "train: unknown flag", setup: |_| train(&["--learning-rate", "0.1"]), says: &["--learning-rate"] },
        // ---- eval
        Case { name: "eval: missing parameters", setup: |s| args(&["eval", "--params", &at(s, "nope.safetensors")]), says: &["nope.safetensors"] },
        Case { name: "eval: parameters not safetensors", setup: |s| args(&["eval", "--params", &at(s, "tiny.toml")]), says: &["tiny.toml"] },
        Case { name: "eval: NaN parameters", setup: |s| { params_file(&s.join("nan.safetensors"), [&[10, 784], &[10], &[10, 10], &[10]], f32::NAN); args(&["eval", "--params", &at(s, "nan.safetensors")]) }, says: &["nan.safetensors", "non-finite"] },
        Case { name: "eval: widths that disagree", setup: |s| { params_file(&s.join("odd.safetensors"), [&[10, 784], &[10], &[10, 12], &[10]], 0.0); args(&["eval", "--params", &at(s, "odd.safetensors")]) }, says: &["odd.safetensors"] },
        Case { name: "eval: --out is --params", setup: |s| args(&["eval", "--params", &at(s, "good.safetensors"), "--out", &at(s, "good.safetensors")]), says: &["--out", "--params"] },
        Case { name: "eval: heatmap over the parameters", setup: |s| { std::fs::copy(s.join("good.safetensors"), s.join("pic.png")).unwrap(); args(&["eval", "--params", &at(s, "pic.png"), "--out", &at(s, "pic.json")]) }, says: &["--out", "--params"] },
        Case { name: "eval: heatmap over a stranger's picture", setup: |s| { std::fs::write(s.join("pic.png"), b"my holiday").unwrap(); args(&["eval", "--params", &at(s, "good.safetensors"), "--out", &at(s, "pic.json")]) }, says: &["pic.png", "heatmap"] },
        Case { name: "eval: cuda on ndarray", setup: |s| args(&["eval", "--params", &at(s, "good.safetensors"), "--device", "cuda"]), says: &["device", "cuda"] },
        Case { name: "eval: --threads 0", setup: |s| args(&["eval", "--params", &at(s, "good.safetensors"), "--threads", "0"]), says: &["threads"] },
        // ---- plot: records read back, checked as a whole
        Case { name: "plot: missing folder", setup: |s| args(&["plot", &at(s, "nope")]), says: &["nope"] },
        Case { name: "plot: the user's folder", setup: |s| args(&["plot", &at(s, "user")]), says: &["user", "experiment.json"] },
        Case { name: "plot: experiment.json not JSON", setup: |s| { std::fs::write(s.join("prev/experiment.json"), "{oops").unwrap(); args(&["plot", &at(s, "prev")]) }, says: &["experiment.json", "not a valid twinnet experiment record"] },
        Case { name: "plot: a run named with a path", setup: |s| plot_edited(s, "experiment.json", |v| v["runs"][0] = "../../escape".into()), says: &["experiment.json", "../../escape"] },
        Case { name: "plot: runs that do not fit the configurations", setup: |s| plot_edited(s, "experiment.json", |v| { v["runs"].as_array_mut().unwrap().pop(); }), says: &["experiment.json", "1 runs for 2 configuration(s)"] },
        Case { name: "plot: repeated seeds", setup: |s| plot_edited(s, "experiment.json", |v| { v["seeds"] = serde_json::json!([1, 1]); v["configs"] = serde_json::json!(["full"]); }), says: &["experiment.json", "seeds [1, 1] repeat"] },
        Case { name: "plot: a newer schema", setup: |s| plot_edited(s, "experiment.json", |v| v["schema_version"] = 3.into()), says: &["experiment.json", "newer twinnet"] },
        Case { name: "plot: per_class of three classes", setup: |s| plot_edited(s, "full.json", |v| { v["test"]["per_class"].as_array_mut().unwrap().truncate(3); }), says: &["full.json", "per_class holds 3"] },
        Case { name: "plot: a collapsed class 12", setup: |s| plot_edited(s, "full.json", |v| v["test"]["collapsed"] = serde_json::json!([12])), says: &["full.json", "collapsed"] },
        Case { name: "plot: a confusion row short", setup: |s| plot_edited(s, "full.json", |v| { v["test"]["confusion"][0].as_array_mut().unwrap().pop(); }), says: &["full.json"] },
        Case { name: "plot: an accuracy of 2", setup: |s| plot_edited(s, "full.json", |v| v["history"][0]["train_accuracy"] = 2.0.into()), says: &["full.json", "train accuracy"] },
        Case { name: "plot: a test accuracy of null", setup: |s| plot_edited(s, "full.json", |v| v["test"]["accuracy"] = serde_json::Value::Null), says: &["full.json", "not a valid twinnet result"] },
        Case { name: "plot: completed without test", setup: |s| plot_edited(s, "full.json", |v| { v.as_object_mut().unwrap().remove("test"); }), says: &["full.json", "status"] },
        Case { name: "plot: a missing run file", setup: |s| { std::fs::remove_file(s.join("prev/mini.json")).unwrap(); args(&["plot", &at(s, "prev")]) }, says: &["mini.json", "cannot read"] },
        Case { name: "plot: a drift pair outside its runs", setup: |s| { write_drift(s, |v| v["settings"][0]["pairs"][0]["b"] = 7.into()); args(&["plot", &at(s, "dr")]) }, says: &["drift.json", "not both among"] },
        Case { name: "plot: a drift ratio of null", setup: |s| { write_drift(s, |v| v["settings"][0]["pairs"][0]["drift"][0][1] = serde_json::Value::Null); args(&["plot", &at(s, "dr")]) }, says: &["drift.json", "not a valid twinnet drift record"] },
        Case { name: "plot: a drift meeting an unknown source", setup: |s| { write_drift(s, |v| v["settings"][0]["pairs"][0]["meets"] = serde_json::json!([{"source": "x", "first_within": null, "ratio_at_end": "NaN"}])); args(&["plot", &at(s, "dr")]) }, says: &["drift.json", "meets `x`"] },
        // ---- compare
        Case { name: "compare: --json is side a", setup: |s| args(&["compare", &at(s, "prev/full.json"), &at(s, "prev/mini.json"), "--json", &at(s, "prev/full.json")]), says: &["--json", "--a"] },
        Case { name: "compare: --json is a run side b read", setup: |s| args(&["compare", &at(s, "prev/full.json"), &format!("{}:mini", at(s, "prev")), "--json", &at(s, "prev/mini.json")]), says: &["--json", "--b"] },
        Case { name: "compare: --target 0", setup: |s| args(&["compare", &at(s, "prev/full.json"), &at(s, "prev/mini.json"), "--target", "0"]), says: &["--target"] },
        Case { name: "compare: a missing side", setup: |s| args(&["compare", &at(s, "nope.json"), &at(s, "prev/mini.json")]), says: &["nope.json"] },
        Case { name: "compare: an unknown configuration", setup: |s| args(&["compare", &format!("{}:zzz", at(s, "prev")), &at(s, "prev/mini.json")]), says: &["no configuration `zzz`"] },
        Case { name: "compare: a side that is not a result", setup: |s| args(&["compare", &at(s, "user/notes.json"), &at(s, "prev/mini.json")]), says: &["notes.json", "not a valid twinnet result"] },
        Case { name: "compare: a folder of two configurations", setup: |s| args(&["compare", &at(s, "prev"), &at(s, "prev/mini.json")]), says: &["2 configurations"] },
        // ---- verify, plan, collect, init
        Case { name: "verify: missing experiment file", setup: |s| args(&["verify", &at(s, "nope.toml"), "--against", &at(s, "prev")]), says: &["nope.toml"] },
        Case { name: "verify: --against the user's folder", setup: |s| args(&["verify", &at(s, "tiny.toml"), "--against", &at(s, "user")]), says: &["--against", "no committed results"] },
        Case { name: "verify: a moved result", setup: |s| { let p = s.join("prev/mini.json"); let mut v = json(&p); v["test"]["accuracy"] = 0.5.into(); std::fs::write(&p, v.to_string()).unwrap(); args(&["verify", &at(s, "tiny.toml"), "--against", &at(s, "prev"), "--quiet"]) }, says: &["mini: test.accuracy", "0.5 committed"] },
        Case { name: "plan: missing experiment file", setup: |s| args(&["plan", &at(s, "nope.toml")]), says: &["nope.toml"] },
        Case { name: "plan: seeds beyond any machine", setup: |s| args(&["plan", &at(s, "tiny.toml"), "--seeds", "0..99999999999"]), says: &["--seeds", "at most"] },
        Case { name: "collect: no plan", setup: |s| args(&["collect", &at(s, "user")]), says: &["user", "plan.json"] },
        Case { name: "collect: a plan that is not", setup: |s| { std::fs::write(s.join("sweep/plan.json"), "[1, 2]").unwrap(); args(&["collect", &at(s, "sweep")]) }, says: &["plan.json", "not a valid twinnet plan"] },
        Case { name: "collect: a planned run named with a path", setup: |s| { let p = s.join("sweep/plan.json"); let mut v = json(&p); v["runs"][0]["name"] = "../x".into(); std::fs::write(&p, v.to_string()).unwrap(); args(&["collect", &at(s, "sweep")]) }, says: &["plan.json", "../x"] },
        Case { name: "collect: a missing run", setup: |s| { std::fs::remove_file(s.join("sweep/mini.json")).unwrap(); args(&["collect", &at(s, "sweep")]) }, says: &["run 1 `mini` is missing"] },
        Case { name: "collect: a stranger's result", setup: |s| { std::fs::copy(s.join("sweep/full.json"), s.join("sweep/other.json")).unwrap(); args(&["collect", &at(s, "sweep")]) }, says: &["other.json is not a run of this plan"] },
        Case { name: "init: --out into a missing folder", setup: |s| args(&["init", "--out", &at(s, "no/such/p.safetensors")]), says: &["--out", "does not exist"] },
        Case { name: "init: --out is a folder", setup: |s| args(&["init", "--out", &at(s, "user")]), says: &["--out", "is a folder"] },
        Case { name: "init: --hidden beyond any machine", setup: |s| args(&["init", "--hidden", "18446744073709551615", "--out", &at(s, "p.safetensors")]), says: &["hidden"] },
        // ---- drift
        Case { name: "drift: missing file", setup: |s| args(&["drift", &at(s, "nope.toml"), "--out", &at(s, "new")]), says: &["nope.toml"] },
        Case { name: "drift: no source", setup: |s| { std::fs::write(s.join("bad.toml"), "description = \"d\"\n[[setting]]\nname = \"s\"\n").unwrap(); args(&["drift", &at(s, "bad.toml"), "--out", &at(s, "new")]) }, says: &["bad.toml", "at least one"] },
        Case { name: "drift: sides of different widths", setup: |s| drift_with(s, "[[source]]\nname = \"w\"\nb = { hidden = 12 }\n"), says: &["source `w`", "hidden width"] },
        Case { name: "drift: sides of different updates", setup: |s| drift_with(s, "[[source]]\nname = \"u\"\nb = { regime = \"minibatch\" }\n"), says: &["source `u`", "different updates"] },
        Case { name: "drift: a nudge outside the tensor", setup: |s| drift_with(s, "[[source]]\nname = \"n\"\nnudge = { tensor = \"fc2.bias\", index = [10] }\n"), says: &["source `n`", "nudge"] },
        Case { name: "drift: a nudge of no tensor", setup: |s| drift_with(s, "[[source]]\nname = \"n\"\nnudge = { tensor = \"fc3.bias\", index = [0] }\n"), says: &["fc3.bias"] },
        Case { name: "drift: meets an unknown source", setup: |s| drift_with(s, "[[source]]\nname = \"m\"\nb = { seed = 1 }\nmeets = [\"zzz\"]\n"), says: &["meets", "zzz"] },
        Case { name: "drift: identical sides", setup: |s| drift_with(s, "[[source]]\nname = \"same\"\n"), says: &["same run"] },
        Case { name: "drift: enormous epochs", setup: |s| { std::fs::write(s.join("bad.toml"), DRIFT.replace("epochs = 1", "epochs = 9223372036854775807")).unwrap(); args(&["drift", &at(s, "bad.toml"), "--out", &at(s, "new"), "--quiet"]) }, says: &["epochs"] },
        Case { name: "drift: --out is the user's folder", setup: |s| args(&["drift", &at(s, "drift.toml"), "--out", &at(s, "user")]), says: &["user", "not a results folder"] },
        Case { name: "drift: --name that would do nothing", setup: |s| args(&["drift", &at(s, "drift.toml"), "--out", &at(s, "new"), "--name", "x"]), says: &["--name"] },
    ]
}

/// Copies the sandbox's data into `to`.
fn copy_data(s: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    copy(&s.join("data"), to);
}

/// Makes a FIFO at `p`.
fn nix_mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A drift results folder `dr` (a real one, from the template's drift experiment), edited.
fn write_drift(s: &Path, edit: fn(&mut serde_json::Value)) {
    static DR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let made = DR.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let out = t.path().join("dr");
        let (d, o) = (template().join("drift.toml"), out.to_str().unwrap().to_string());
        let r = twinnet(
            &template().join("data"),
            &["drift", d.to_str().unwrap(), "--out", &o, "--quiet"],
        );
        assert!(r.status.success(), "{}", stderr(&r));
        t
    });
    std::fs::create_dir(s.join("dr")).unwrap();
    copy(&made.path().join("dr"), &s.join("dr"));
    let p = s.join("dr/drift.json");
    let mut v = json(&p);
    edit(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Runs `twinnet args` (data from the sandbox, cwd the sandbox) for at most [`LIMIT`].
fn run_bounded(s: &Path, args: &[String]) -> (Option<i32>, String, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_twinnet"))
        .args(args)
        .current_dir(s)
        .env("TWINNET_DATA_DIR", s.join("data"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("JOB_COMPLETION_INDEX")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut s);
        s
    });
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code();
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    (code, reader.join().unwrap(), start.elapsed())
}

/// What no message may hold: a panic, a debug dump of an error type.
const NEVER: [&str; 6] =
    ["panicked", "RUST_BACKTRACE", "Io {", "Os {", "DrawingError(", "BackendError("];

#[test]
fn every_hostile_case_keeps_the_four_promises() {
    let cases = cases();
    let start = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let chunks: Vec<_> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut failed = vec![];
                    for c in chunk {
                        let sb = sandbox();
                        let s = sb.path();
                        let a = (c.setup)(s);
                        let before = snapshot(s);
                        let (code, err, took) = run_bounded(s, &a);
                        let after = snapshot(s);
                        let mut why = vec![];
                        match code {
                            None => why.push(format!("no exit within {LIMIT:?} (a hang)")),
                            Some(1) => {}
                            Some(c) => why.push(format!("exit {c}, not 1")),
                        }
                        for needle in c.says {
                            if !err.contains(needle) {
                                why.push(format!("the message does not say `{needle}`"));
                            }
                        }
                        if let Some(n) = NEVER.iter().find(|n| err.contains(**n)) {
                            why.push(format!("the message holds `{n}`"));
                        }
                        if before != after {
                            let changed: Vec<_> = before
                                .keys()
                                .chain(after.keys())
                                .filter(|k| before.get(*k) != after.get(*k))
                                .collect();
                            why.push(format!("the sandbox changed: {changed:?}"));
                        }
                        if !why.is_empty() {
                            failed.push(format!(
                                "{}: {} ({took:?})\n    {a:?}\n    stderr: {err}",
                                c.name,
                                why.join("; ")
                            ));
                        }
                    }
                    failed
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    eprintln!("{} hostile cases in {:.1} s", cases.len(), start.elapsed().as_secs_f64());
    assert!(
        failures.is_empty(),
        "{} of {} cases broke a promise:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// SIGTERM to a command stuck where no training loop polls the stop flag (its experiment file
/// a FIFO nobody writes, as `<(…)` would be if its writer hung): exit 130 within the grace
/// period, nothing left behind, the previous results intact.
#[test]
fn a_signal_stops_a_command_stuck_outside_training() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let sb = sandbox();
        let s = sb.path();
        nix_mkfifo(&s.join("stuck.toml"));
        let before = snapshot(s);
        let mut child = Command::new(env!("CARGO_BIN_EXE_twinnet"))
            .args(["run", &at(s, "stuck.toml"), "--out", &at(s, "prev"), "--jobs", "1"])
            .current_dir(s)
            .env("TWINNET_DATA_DIR", s.join("data"))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until it is blocked opening the FIFO (the kernel's `wait_for_partner`): past its
        // start, its signal handler installed (on a loaded machine that can take seconds).
        let wchan = format!("/proc/{}/wchan", child.id());
        let t0 = Instant::now();
        while !std::fs::read_to_string(&wchan).is_ok_and(|w| w.contains("partner")) {
            assert!(t0.elapsed() < Duration::from_secs(20), "it never waited on the FIFO");
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(child.try_wait().unwrap().is_none(), "it should be waiting on the FIFO");
        let sent = Instant::now();
        // SAFETY: `kill` with a child's pid and a valid signal number.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(sent.elapsed() < Duration::from_secs(20), "no exit 20 s after the signal");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(130), "signal {signal}");
        assert_eq!(snapshot(s), before, "signal {signal}: something changed or was left");
    }
}
