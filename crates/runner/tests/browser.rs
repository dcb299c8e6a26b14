//! The pages in a real browser: headless Chromium (Debian's `chromium`, which `make test`
//! installs) opens each page from `file://` through the DevTools protocol
//! (`crates/page/tests/browser/check.mjs`, Node's own WebSocket) and the page must load with no
//! console error and no request, hold every run's name, hide a series when its legend entry is
//! clicked, show values when hovered, and not be blank.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use twinnet_runner::experiment::Experiment;
use twinnet_runner::ops::drift::{drift, DriftOptions};
use twinnet_runner::ops::run::{run, RunOptions};
use twinnet_runner::settings::Settings;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Chromium: `$TWINNET_CHROMIUM`, else Debian's.
fn chromium() -> PathBuf {
    std::env::var_os("TWINNET_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

#[derive(Debug, serde::Deserialize)]
struct Seen {
    names: Vec<String>,
    #[serde(rename = "domNames")]
    dom_names: Vec<String>,
    charts: usize,
    toggle: Option<serde_json::Value>,
    hover: Vec<String>,
    #[serde(rename = "consoleErrors")]
    console_errors: Vec<String>,
    requests: Vec<String>,
}

/// Opens `page` in Chromium; returns what it saw, the screenshot written to `shot`.
fn open(page: &Path, shot: &Path) -> Seen {
    let script = root().join("crates/page/tests/browser/check.mjs");
    let out = Command::new("node")
        .arg("--experimental-websocket")
        .arg("--no-warnings")
        .arg(&script)
        .arg(chromium())
        .arg(std::fs::canonicalize(page).unwrap())
        .arg(shot)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("{}: {e}: {stdout}\n{}", page.display(), String::from_utf8_lossy(&out.stderr))
    })
}

/// Whether a PNG shows something: many distinct colours, not one flat fill.
fn not_blank(png: &Path) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let px = info.color_type.samples();
    let mut colours: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    colours.sort_unstable();
    colours.dedup();
    colours.len()
}

fn check(page: &Path, runs: &[&str], shot: &Path) {
    let seen = open(page, shot);
    let p = page.display();
    assert!(seen.console_errors.is_empty(), "{p}: console errors {:?}", seen.console_errors);
    assert!(seen.requests.is_empty(), "{p}: requests {:?}", seen.requests);
    assert!(seen.charts >= 1, "{p}: no chart");
    for r in runs {
        assert!(seen.names.iter().any(|n| n == r), "{p}: run `{r}` not in the page's data");
        assert!(seen.dom_names.iter().any(|n| n.contains(r)), "{p}: run `{r}` not in the legend");
    }
    let t = seen.toggle.expect("a chart to toggle");
    assert_eq!(
        (t["before"].as_bool(), t["after"].as_bool(), t["restored"].as_bool()),
        (Some(true), Some(false), Some(true)),
        "{p}: {t}"
    );
    assert!(
        seen.hover.iter().any(|v| v != "–" && !v.is_empty()),
        "{p}: hovering shows no value: {:?}",
        seen.hover
    );
    let colours = not_blank(shot);
    assert!(colours > 50, "{p}: the screenshot is blank ({colours} colours)");
}

#[test]
#[ignore = "needs Chromium and Node"]
fn pages_work_in_a_real_browser() {
    let start = std::time::Instant::now();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    twinnet_testkit::synthetic_mnist(&data, 300, 60);
    let stop = AtomicBool::new(false);
    // An experiment over seeds, and one without.
    for (name, text, runs) in [
        ("seeded", "description = \"s\"\nseeds = [0, 1]\n[defaults]\nepochs = 3\n[[run]]\nname = \"full\"\n[[run]]\nname = \"mini\"\nregime = \"minibatch\"\n", vec!["full-seed0", "mini-seed1"]),
        ("plain", "description = \"p\"\n[defaults]\nepochs = 3\n[[run]]\nname = \"a\"\n[[run]]\nname = \"b\"\nhead = \"double-softmax\"\n", vec!["a", "b"]),
    ] {
        let file = tmp.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let exp = Experiment::load(&file, &Settings::default(), None).unwrap();
        let out = tmp.path().join(name);
        let opts = RunOptions { out: Some(out.clone()), data_dir: Some(data.clone()), quiet: true, jobs: Some(1), ..RunOptions::new(exp) };
        run(&opts, &stop).unwrap();
        check(&out.join("index.html"), &runs, &tmp.path().join(format!("{name}.png")));
    }
    // A drift folder whose source's label would end or comment out the inline script if it
    // were not escaped (#35): the charts must still draw, with no console error.
    let file = tmp.path().join("d.toml");
    std::fs::write(&file, "description = \"d\"\n[[setting]]\nname = \"s\"\nepochs = 2\n[[source]]\nname = \"ulp\"\nlabel = \"ulp <!--<script></script>\\u2028\"\nnudge = { tensor = \"fc2.bias\", index = [1] }\n").unwrap();
    let out = tmp.path().join("d");
    let opts = DriftOptions {
        experiment: file,
        out: Some(out.clone()),
        data_dir: Some(data),
        quiet: true,
        ..DriftOptions::default()
    };
    drift(&opts, &stop).unwrap();
    let seen = open(&out.join("index.html"), &tmp.path().join("d.png"));
    assert!(seen.console_errors.is_empty() && seen.requests.is_empty(), "{seen:?}");
    assert!(seen.dom_names.iter().any(|n| n.contains("ulp")), "{seen:?}");
    // The committed report page; its screenshot is the README's (docs/report-page.png).
    let report = root().join("results/report/index.html");
    let shot = std::env::var_os("TWINNET_REPORT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("report.png"));
    check(&report, &["numpy-model", "pytorch-model"], &shot);
    eprintln!("browser checks: {:.1} s", start.elapsed().as_secs_f64());
}
