//! twinnet's figures, each written as PNG and SVG:
//!
//! - [`draw_curves`]: train accuracy of every run against epoch, wall-clock seconds and
//!   parameter updates (log scale: full-batch makes 1 update per epoch, mini-batch 64 makes 938);
//! - [`draw_confusions`]: one confusion heatmap per run, side by side like the report's Figure 1,
//!   counts in the cells, one colour scale for every panel, per-class recall along the side.
//!
//! Text is drawn with DejaVu Sans embedded in the binary, so a figure renders the same on every
//! machine and the same JSON always gives byte-identical files.
//!
//! ```no_run
//! use twinnet_plot::{draw_curves, RunView};
//! let runs: Vec<RunView> = vec![]; // one per run: label, history, updates per epoch, confusion
//! draw_curves(&runs, "report", std::path::Path::new("results/report/curves"))?;
//! # Ok::<(), twinnet_plot::PlotError>(())
//! ```

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;
use std::path::{Path, PathBuf};
use std::sync::Once;
use twinnet_core::{Confusion, EpochRecord, CLASSES};

const FONT: &str = "sans-serif";
static DEJAVU: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// Errors while drawing or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters failed to draw or encode.
    #[error("{path}: cannot draw figure: {message}")]
    Draw { path: PathBuf, message: String },
    /// The finished file could not be moved into place.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Nothing to draw.
    #[error("no run to draw")]
    Empty,
}

/// What a figure needs to know about one run.
#[derive(Debug, Clone, Copy)]
pub struct RunView<'a> {
    /// Legend and panel title.
    pub label: &'a str,
    /// The training curve.
    pub history: &'a [EpochRecord],
    /// Confusion matrix on the test set (`None` for a diverged run).
    pub confusion: Option<&'a Confusion>,
}

/// Ten colours that stay distinct for colour-blind readers (matplotlib's tab10).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU).is_err() {
            unreachable!("the embedded DejaVu Sans is a valid font");
        }
    });
}

fn draw_err<E: std::fmt::Debug>(path: &Path) -> impl FnOnce(E) -> PlotError + '_ {
    move |e| PlotError::Draw { path: path.into(), message: format!("{e:?}") }
}

/// A 2-pixel line with a legend entry.
fn labelled_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    pts: Vec<(f64, f64)>,
    c: RGBColor,
    label: &str,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(pts, c.stroke_width(2)))
        .map_err(|e| format!("{e:?}"))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    Ok(())
}

/// The legend box, lower right, where training curves leave room.
fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    size: u32,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, size))
        .draw()
        .map_err(|e| format!("{e:?}"))
}

/// The three x axes of the curves figure.
#[derive(Debug, Clone, Copy)]
enum XAxis {
    Epoch,
    Seconds,
    Updates,
}

impl XAxis {
    fn value(self, r: &EpochRecord) -> f64 {
        match self {
            XAxis::Epoch => r.epoch as f64,
            XAxis::Seconds => r.elapsed_s,
            XAxis::Updates => r.step as f64,
        }
    }
    fn label(self) -> &'static str {
        match self {
            XAxis::Epoch => "epoch (pass over the training set)",
            XAxis::Seconds => "wall-clock seconds of training",
            XAxis::Updates => "parameter updates (log scale)",
        }
    }
}

fn curve_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunView<'_>],
    axis: XAxis,
    y_lo: f64,
) -> Result<(), String> {
    let x_max =
        runs.iter().flat_map(|r| r.history.iter().map(|h| axis.value(h))).fold(1e-9f64, f64::max);
    let mut builder = ChartBuilder::on(area);
    builder.margin(12).x_label_area_size(48).y_label_area_size(62).caption(
        format!(
            "train accuracy vs {}",
            match axis {
                XAxis::Epoch => "epoch",
                XAxis::Seconds => "time",
                XAxis::Updates => "updates",
            }
        ),
        (FONT, 22),
    );
    macro_rules! body {
        ($chart:expr) => {{
            let mut chart = $chart;
            chart
                .configure_mesh()
                .x_desc(axis.label())
                .y_desc("train accuracy")
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 16))
                .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .draw()
                .map_err(|e| format!("{e:?}"))?;
            for (i, r) in runs.iter().enumerate() {
                let c = PALETTE[i % PALETTE.len()];
                let pts: Vec<(f64, f64)> =
                    r.history.iter().map(|h| (axis.value(h), h.train_accuracy)).collect();
                labelled_line(&mut chart, pts, c, r.label)?;
            }
            legend(&mut chart, 14)?;
        }};
    }
    match axis {
        XAxis::Updates => {
            let lo = runs
                .iter()
                .flat_map(|r| r.history.first())
                .map(|h| h.step as f64)
                .fold(f64::MAX, f64::min)
                .max(1.0);
            body!(builder
                .build_cartesian_2d((lo * 0.8..x_max * 1.25).log_scale(), y_lo..1.0)
                .map_err(|e| format!("{e:?}"))?)
        }
        _ => body!(builder
            .build_cartesian_2d(0.0..x_max * 1.02, y_lo..1.0)
            .map_err(|e| format!("{e:?}"))?),
    }
    Ok(())
}

/// Train accuracy of every run against epoch, seconds and updates, one chart each, written to
/// `stem.png` and `stem.svg`.
pub fn draw_curves(runs: &[RunView<'_>], title: &str, stem: &Path) -> Result<(), PlotError> {
    if runs.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, (1800, 600), &|a| curves_on(a, runs, title), &|a| curves_on(a, runs, title))
}

fn curves_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    runs: &[RunView<'_>],
    title: &str,
) -> Result<(), String> {
    let acc_min = runs
        .iter()
        .flat_map(|r| r.history.iter().map(|h| h.train_accuracy))
        .filter(|a| a.is_finite())
        .fold(1.0f64, f64::min);
    let y_lo = ((acc_min * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
    let root = root
        .titled(&format!("{title}: training curves"), (FONT, 28))
        .map_err(|e| format!("{e:?}"))?;
    for (area, axis) in
        root.split_evenly((1, 3)).iter().zip([XAxis::Epoch, XAxis::Seconds, XAxis::Updates])
    {
        curve_panel(area, runs, axis, y_lo)?;
    }
    Ok(())
}

type DrawPng<'a> = &'a dyn for<'b> Fn(DrawingArea<BitMapBackend<'b>, Shift>) -> Result<(), String>;
type DrawSvg<'a> = &'a dyn for<'b> Fn(DrawingArea<SVGBackend<'b>, Shift>) -> Result<(), String>;

/// Renders a figure to `stem.png` and `stem.svg`, each through a temporary file and a rename,
/// so an interrupted run never leaves half a figure.
fn render(
    stem: &Path,
    size: (u32, u32),
    png_draw: DrawPng<'_>,
    svg_draw: DrawSvg<'_>,
) -> Result<(), PlotError> {
    register_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    let tmp = |p: &Path, ext: &str| {
        p.with_file_name(format!(
            ".{}.tmp.{ext}",
            p.file_name().unwrap_or_default().to_string_lossy()
        ))
    };
    let (png_tmp, svg_tmp) = (tmp(&png, "png"), tmp(&svg, "svg"));
    let result = (|| {
        {
            let root = BitMapBackend::new(&png_tmp, size).into_drawing_area();
            png_draw(root.clone()).map_err(draw_err(&png))?;
            root.present().map_err(draw_err(&png))?;
        }
        {
            let root = SVGBackend::new(&svg_tmp, size).into_drawing_area();
            svg_draw(root.clone()).map_err(draw_err(&svg))?;
            root.present().map_err(draw_err(&svg))?;
        }
        for (from, to) in [(&png_tmp, &png), (&svg_tmp, &svg)] {
            std::fs::rename(from, to)
                .map_err(|source| PlotError::Io { path: to.clone(), source })?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&png_tmp);
        let _ = std::fs::remove_file(&svg_tmp);
    }
    result
}

/// One confusion heatmap per run, side by side, written to `stem.png` and `stem.svg`.
///
/// Cells hold the counts; their colour is the count's share of the true digit's test images
/// (row-normalised, 0–100%), on one scale for every panel, so panels compare at a glance. The
/// column on the right gives each digit's recall.
pub fn draw_confusions(runs: &[RunView<'_>], title: &str, stem: &Path) -> Result<(), PlotError> {
    if runs.is_empty() {
        return Err(PlotError::Empty);
    }
    let size = (640 * runs.len() as u32, 720);
    render(stem, size, &|a| confusions_on(a, runs, title), &|a| confusions_on(a, runs, title))
}

fn confusions_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    runs: &[RunView<'_>],
    title: &str,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| format!("{e:?}"))?;
    let head = format!("{title}: test confusion matrices (colour = share of the true digit, same scale in every panel)");
    let root = root.titled(&head, (FONT, 22)).map_err(|e| format!("{e:?}"))?;
    for (area, run) in root.split_evenly((1, runs.len())).iter().zip(runs) {
        heatmap(area, run)?;
    }
    Ok(())
}

/// White → dark blue as `f` goes 0 → 1.
fn shade(f: f64) -> RGBColor {
    let f = f.clamp(0.0, 1.0);
    let mix = |hi: f64, lo: f64| (hi - f * (hi - lo)).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &RunView<'_>,
) -> Result<(), String> {
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    let Some(c) = run.confusion else {
        let style =
            TextStyle::from((FONT, 22).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            format!("{}: diverged, no test result", run.label),
            (w as i32 / 2, h as i32 / 2),
            style,
        ))
        .map_err(e)?;
        return Ok(());
    };
    let collapsed = c.collapsed();
    let caption = if collapsed.is_empty() {
        format!("{} ({:.2}%)", run.label, 100.0 * c.accuracy())
    } else {
        let ks: Vec<String> = collapsed.iter().map(|k| k.to_string()).collect();
        format!("{} ({:.2}%, never predicts {})", run.label, 100.0 * c.accuracy(), ks.join(", "))
    };
    let n = CLASSES as i32;
    // x: predicted 0..9, then one column for recall; y: true digit, 9 at the bottom, then a header row.
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .caption(caption, (FONT, 19))
        .x_label_area_size(46)
        .y_label_area_size(46)
        .build_cartesian_2d((0..n).into_segmented(), (0..n).into_segmented())
        .map_err(|e| format!("{e:?}"))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(CLASSES + 2)
        .y_labels(CLASSES + 2)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) if *k < n => k.to_string(),
            _ => String::new(),
        })
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) if *k < n => (n - 1 - k).to_string(),
            _ => String::new(),
        })
        .x_desc("predicted digit")
        .y_desc("true digit")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(|e| format!("{e:?}"))?;
    let seg = SegmentValue::Exact;
    let center = |x: i32, y: i32| (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y));
    let pc = c.per_class();
    for t in 0..n {
        let support = pc[t as usize].support.max(1) as f64;
        let y = n - 1 - t;
        for p in 0..n {
            let count = c.0[t as usize][p as usize];
            let f = count as f64 / support;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(seg(p), seg(y)), (seg(p + 1), seg(y + 1))],
                    shade(f).filled(),
                )))
                .map_err(|e| format!("{e:?}"))?;
            let color = if f > 0.5 { WHITE } else { BLACK };
            let style = TextStyle::from((FONT, 13).into_font())
                .color(&color)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(count.to_string(), center(p, y), style)))
                .map_err(|e| format!("{e:?}"))?;
        }
        let recall = pc[t as usize].recall;
        let style = TextStyle::from((FONT, 14).into_font())
            .color(if recall == 0.0 { &RED } else { &BLACK })
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{:.1}%", 100.0 * recall),
                center(n, y),
                style,
            )))
            .map_err(|e| format!("{e:?}"))?;
    }
    let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    chart
        .draw_series(std::iter::once(Text::new("recall", center(n, n), style)))
        .map_err(|e| format!("{e:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(n: usize, per_epoch: usize, rate: f64) -> Vec<EpochRecord> {
        (1..=n)
            .map(|e| EpochRecord {
                epoch: e,
                step: e * per_epoch,
                train_loss: 1.0 / e as f64,
                train_accuracy: 1.0 - 0.9 * (-rate * e as f64).exp(),
                elapsed_s: e as f64 * 0.01 * per_epoch as f64,
            })
            .collect()
    }

    #[test]
    fn figures_are_written_and_deterministic() {
        let dir = tempfile::tempdir().unwrap();
        let (h1, h2) = (history(50, 1, 0.05), history(50, 938, 0.5));
        let labels: Vec<u8> = (0..200).map(|i| (i % 10) as u8).collect();
        let preds: Vec<u8> = labels.iter().map(|&l| if l == 9 { 4 } else { l }).collect();
        let c = Confusion::new(&labels, &preds);
        let runs = [
            RunView { label: "full-batch", history: &h1, confusion: Some(&c) },
            RunView { label: "minibatch", history: &h2, confusion: None },
        ];
        let stem = dir.path().join("curves");
        draw_curves(&runs, "test", &stem).unwrap();
        draw_confusions(&runs, "test", &dir.path().join("confusion")).unwrap();
        let png = std::fs::read(stem.with_extension("png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let svg = std::fs::read_to_string(dir.path().join("confusion.svg")).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("never predicts 9"), "{}", &svg[..200]);
        // Drawing again gives the same bytes.
        draw_curves(&runs, "test", &stem).unwrap();
        assert_eq!(std::fs::read(stem.with_extension("png")).unwrap(), png);
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "{names:?}");
        assert!(matches!(draw_curves(&[], "x", &stem), Err(PlotError::Empty)));
    }
}

/// What the seed figures need to know about one configuration repeated over seeds.
#[derive(Debug, Clone)]
pub struct GroupView<'a> {
    /// Legend and axis label.
    pub label: &'a str,
    /// The training curve of each seed (the same epochs in each).
    pub histories: Vec<&'a [EpochRecord]>,
    /// Test accuracy of each seed (`None`: diverged).
    pub test_accuracies: Vec<Option<f64>>,
}

/// Per epoch index: `(epoch, updates, mean, min, max)` of train accuracy over the seeds.
fn band(g: &GroupView<'_>) -> Vec<(f64, f64, f64, f64, f64)> {
    let len = g.histories.iter().map(|h| h.len()).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let accs: Vec<f64> = g.histories.iter().map(|h| h[i].train_accuracy).collect();
            let mean = accs.iter().sum::<f64>() / accs.len() as f64;
            let (lo, hi) =
                accs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
            let h0 = &g.histories[0][i];
            (h0.epoch as f64, h0.step as f64, mean, lo, hi)
        })
        .collect()
}

/// Mean train accuracy over seeds with a min–max band, against epoch and against updates.
pub fn draw_seed_curves(
    groups: &[GroupView<'_>],
    title: &str,
    stem: &Path,
) -> Result<(), PlotError> {
    if groups.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, (1500, 620), &|a| seed_curves_on(a, groups, title), &|a| {
        seed_curves_on(a, groups, title)
    })
}

fn seed_curves_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    groups: &[GroupView<'_>],
    title: &str,
) -> Result<(), String> {
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(e)?;
    let n = groups.first().map_or(0, |g| g.histories.len());
    let root = root
        .titled(
            &format!("{title}: train accuracy, mean over {n} seeds (band: min–max)"),
            (FONT, 24),
        )
        .map_err(e)?;
    let bands: Vec<_> = groups.iter().map(band).collect();
    let lo = bands.iter().flatten().map(|b| b.3).fold(1.0f64, f64::min);
    let y_lo = ((lo * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    for (area, by_updates) in root.split_evenly((1, 2)).iter().zip([false, true]) {
        let x = |b: &(f64, f64, f64, f64, f64)| if by_updates { b.1 } else { b.0 };
        let x_max = bands.iter().flatten().map(x).fold(1.0, f64::max);
        let x_min = bands.iter().flatten().map(x).fold(f64::MAX, f64::min).max(1.0);
        let mut builder = ChartBuilder::on(area);
        builder.margin(12).x_label_area_size(48).y_label_area_size(62);
        let caption = if by_updates { "vs parameter updates (log scale)" } else { "vs epoch" };
        builder.caption(caption, (FONT, 20));
        macro_rules! body {
            ($chart:expr) => {{
                let mut chart = $chart;
                chart
                    .configure_mesh()
                    .x_desc(if by_updates { "parameter updates" } else { "epoch" })
                    .y_desc("train accuracy")
                    .label_style((FONT, 15))
                    .axis_desc_style((FONT, 16))
                    .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                    .draw()
                    .map_err(|e| format!("{e:?}"))?;
                for (i, (g, b)) in groups.iter().zip(&bands).enumerate() {
                    let c = PALETTE[i % PALETTE.len()];
                    let mut poly: Vec<(f64, f64)> = b.iter().map(|p| (x(p), p.4)).collect();
                    poly.extend(b.iter().rev().map(|p| (x(p), p.3)));
                    chart
                        .draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))
                        .map_err(|e| format!("{e:?}"))?;
                    labelled_line(&mut chart, b.iter().map(|p| (x(p), p.2)).collect(), c, g.label)?;
                }
                legend(&mut chart, 13)?;
            }};
        }
        if by_updates {
            body!(builder
                .build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), y_lo..1.0)
                .map_err(|e| format!("{e:?}"))?)
        } else {
            body!(builder
                .build_cartesian_2d(0.0..x_max * 1.02, y_lo..1.0)
                .map_err(|e| format!("{e:?}"))?)
        }
    }
    Ok(())
}

/// One column per configuration: a dot per seed's test accuracy and a bar at the mean.
pub fn draw_seed_strip(
    groups: &[GroupView<'_>],
    title: &str,
    stem: &Path,
) -> Result<(), PlotError> {
    if groups.is_empty() {
        return Err(PlotError::Empty);
    }
    let w = (220 * groups.len() as u32).max(900);
    render(stem, (w, 640), &|a| strip_on(a, groups, title), &|a| strip_on(a, groups, title))
}

fn strip_on<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    groups: &[GroupView<'_>],
    title: &str,
) -> Result<(), String> {
    let e = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| format!("{e:?}");
    root.fill(&WHITE).map_err(e)?;
    let accs: Vec<Vec<f64>> =
        groups.iter().map(|g| g.test_accuracies.iter().flatten().copied().collect()).collect();
    let lo = accs.iter().flatten().fold(1.0f64, |m, &a| m.min(a));
    let hi = accs.iter().flatten().fold(0.0f64, |m, &a| m.max(a));
    let (y_lo, y_hi) =
        (((lo - 0.01) * 50.0).floor() / 50.0, (((hi + 0.01) * 50.0).ceil() / 50.0).min(1.0));
    let n = groups.len() as i32;
    let mut chart = ChartBuilder::on(&root)
        .margin(14)
        .caption(format!("{title}: test accuracy of every seed (bar: mean)"), (FONT, 24))
        .x_label_area_size(120)
        .y_label_area_size(70)
        .build_cartesian_2d((0..n - 1).into_segmented(), y_lo..y_hi.max(y_lo + 0.02))
        .map_err(|e| format!("{e:?}"))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups.len() + 1)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) => {
                groups.get(*k as usize).map_or(String::new(), |g| g.label.to_string())
            }
            _ => String::new(),
        })
        .x_label_style(TextStyle::from((FONT, 13).into_font()).transform(FontTransform::Rotate90))
        .y_desc("test accuracy")
        .y_label_formatter(&|v| format!("{:.1}%", v * 100.0))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(|e| format!("{e:?}"))?;
    for (i, a) in accs.iter().enumerate() {
        let c = PALETTE[i % PALETTE.len()];
        let k = a.len().max(1) as f64;
        let pts: Vec<(SegmentValue<i32>, f64)> =
            a.iter().map(|&v| (SegmentValue::CenterOf(i as i32), v)).collect();
        chart
            .draw_series(pts.into_iter().map(|p| Circle::new(p, 5, c.mix(0.7).filled())))
            .map_err(|e| format!("{e:?}"))?;
        if !a.is_empty() {
            let mean = a.iter().sum::<f64>() / k;
            let style = TextStyle::from((FONT, 20).into_font())
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    "—".to_string(),
                    (SegmentValue::CenterOf(i as i32), mean),
                    style,
                )))
                .map_err(|e| format!("{e:?}"))?;
        }
    }
    Ok(())
}
