//! Confusion heatmaps: one per run, side by side like the report's Figure 1.

use crate::figure::{render, Figure};
use crate::style::{shade, FONT};
use crate::DrawError;
use crate::{PlotError, RunView};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use twinnet_core::CLASSES;

/// One confusion heatmap per run, side by side, written to `stem.png` and `stem.svg`;
/// `classes` names the ten classes by label (`"0"`…`"9"` for digits, or e.g. Fashion-MNIST's
/// `"T-shirt/top"`…: longer names label the rows as `0 T-shirt/top`, and the columns by number).
///
/// Cells hold the counts; their colour is the count's share of the true class's test images
/// (row-normalised, 0–100%), on one scale for every panel, so panels compare at a glance. The
/// column on the right gives each class's recall.
pub fn draw_confusions(
    runs: &[RunView<'_>],
    title: &str,
    classes: &[&str; CLASSES],
    stem: &Path,
) -> Result<(), PlotError> {
    if runs.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, &Confusions { runs, title, classes })
}

struct Confusions<'a> {
    runs: &'a [RunView<'a>],
    title: &'a str,
    classes: &'a [&'a str; CLASSES],
}

impl Confusions<'_> {
    /// Rows × columns of panels: one row up to [`crate::MAX_PER_ROW`] runs, else a grid.
    fn grid(&self) -> (usize, usize) {
        let n = self.runs.len();
        let rows = n.div_ceil(crate::MAX_PER_ROW).max(1);
        (rows, n.div_ceil(rows))
    }
    /// Names longer than a digit need room and are written turned.
    fn long_names(&self) -> bool {
        self.classes.iter().any(|c| c.chars().count() > 2)
    }
    fn noun(&self) -> &'static str {
        if self.classes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_digit())) {
            "digit"
        } else {
            "class"
        }
    }
}

impl Figure for Confusions<'_> {
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = self.grid();
        let (w, h) = if self.long_names() { (740, 700) } else { (640, 680) };
        (w * cols as u32, 40 + h * rows as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let (runs, title) = (self.runs, self.title);
        root.fill(&WHITE)?;
        let head = if runs.len() > 1 {
            format!(
                "{title}: test confusion matrices (colour = share of the true {}, same scale in every panel)",
                self.noun()
            )
        } else {
            format!("{title}: test confusion matrix (colour = share of the true {})", self.noun())
        };
        let root = root.titled(&head, (FONT, 22))?;
        for (area, run) in root.split_evenly(self.grid()).iter().zip(runs) {
            heatmap(area, run, self)?;
        }
        Ok(())
    }
}

/// One run's panel: counts, shares as colour, recall on the right.
fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &RunView<'_>,
    fig: &Confusions<'_>,
) -> Result<(), DrawError> {
    let names = fig.classes;
    let Some(c) = run.confusion else {
        let style =
            TextStyle::from((FONT, 22).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        let (w, h) = area.dim_in_pixel();
        area.draw(&Text::new(
            format!("{}: diverged, no test result", run.label),
            (w as i32 / 2, h as i32 / 2),
            style,
        ))?;
        return Ok(());
    };
    let collapsed = c.collapsed();
    let caption = if collapsed.is_empty() {
        format!("{} ({:.2}%)", run.label, 100.0 * c.accuracy())
    } else {
        let ks: Vec<&str> = collapsed.iter().map(|&k| names[k as usize]).collect();
        format!("{} ({:.2}%, never predicts {})", run.label, 100.0 * c.accuracy(), ks.join(", "))
    };
    let n = CLASSES as i32;
    let long = fig.long_names();
    let (x_room, y_room) = if long { (46, 130) } else { (46, 46) };
    // x: predicted 0..9, then one column for recall; y: true class, 9 at the bottom, then a header row.
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .caption(caption, (FONT, 19))
        .x_label_area_size(x_room)
        .y_label_area_size(y_room)
        .build_cartesian_2d((0..n).into_segmented(), (0..n).into_segmented())?;
    let noun = fig.noun();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(CLASSES + 2)
        .y_labels(CLASSES + 2)
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) if *k < n && long => k.to_string(),
            SegmentValue::CenterOf(k) if *k < n => names[*k as usize].to_string(),
            _ => String::new(),
        })
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(k) if *k < n && long => {
                format!("{} {}", n - 1 - k, names[(n - 1 - k) as usize])
            }
            SegmentValue::CenterOf(k) if *k < n => names[(n - 1 - k) as usize].to_string(),
            _ => String::new(),
        })
        .x_desc(if long {
            format!("predicted {noun} (numbered as the rows)")
        } else {
            format!("predicted {noun}")
        })
        .y_desc(format!("true {noun}"))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()?;
    let seg = SegmentValue::Exact;
    let center = |x: i32, y: i32| (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y));
    let pc = c.per_class();
    for t in 0..n {
        let support = pc[t as usize].support.max(1) as f64;
        let y = n - 1 - t;
        for p in 0..n {
            let count = c.0[t as usize][p as usize];
            let f = count as f64 / support;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(seg(p), seg(y)), (seg(p + 1), seg(y + 1))],
                shade(f).filled(),
            )))?;
            let color = if f > 0.5 { WHITE } else { BLACK };
            let style = TextStyle::from((FONT, 13).into_font())
                .color(&color)
                .pos(Pos::new(HPos::Center, VPos::Center));
            chart.draw_series(std::iter::once(Text::new(
                count.to_string(),
                center(p, y),
                style,
            )))?;
        }
        let recall = pc[t as usize].recall;
        let style = TextStyle::from((FONT, 14).into_font())
            .color(if recall == 0.0 { &RED } else { &BLACK })
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart.draw_series(std::iter::once(Text::new(
            format!("{:.1}%", 100.0 * recall),
            center(n, y),
            style,
        )))?;
    }
    let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(std::iter::once(Text::new("recall", center(n, n), style)))?;
    Ok(())
}
