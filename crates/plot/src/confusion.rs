//! Confusion heatmaps: one per run, side by side like the report's Figure 1.

use crate::figure::{render, DrawError, Figure};
use crate::style::{shade, FONT};
use crate::{PlotError, RunView};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use twinnet_core::CLASSES;

/// One confusion heatmap per run, side by side, written to `stem.png` and `stem.svg`.
///
/// Cells hold the counts; their colour is the count's share of the true digit's test images
/// (row-normalised, 0–100%), on one scale for every panel, so panels compare at a glance. The
/// column on the right gives each digit's recall.
pub fn draw_confusions(runs: &[RunView<'_>], title: &str, stem: &Path) -> Result<(), PlotError> {
    if runs.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, &Confusions { runs, title })
}

struct Confusions<'a> {
    runs: &'a [RunView<'a>],
    title: &'a str,
}

impl Figure for Confusions<'_> {
    fn size(&self) -> (u32, u32) {
        (640 * self.runs.len() as u32, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let (runs, title) = (self.runs, self.title);
        root.fill(&WHITE)?;
        let head = format!("{title}: test confusion matrices (colour = share of the true digit, same scale in every panel)");
        let root = root.titled(&head, (FONT, 22))?;
        for (area, run) in root.split_evenly((1, runs.len())).iter().zip(runs) {
            heatmap(area, run)?;
        }
        Ok(())
    }
}

/// One run's panel: counts, shares as colour, recall on the right.
fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &RunView<'_>,
) -> Result<(), DrawError> {
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
        .build_cartesian_2d((0..n).into_segmented(), (0..n).into_segmented())?;
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
