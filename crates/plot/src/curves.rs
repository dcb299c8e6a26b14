//! Training curves: train accuracy of every run against epoch, wall-clock seconds and
//! parameter updates, one panel each.

use crate::figure::{render, Figure};
use crate::style::{legend, line_style, linear_end, log_span, styled_line, tick_label, FONT};
use crate::DrawError;
use crate::{PlotError, RunView};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use twinnet_core::EpochRecord;

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
) -> Result<(), DrawError> {
    let x_max =
        runs.iter().flat_map(|r| r.history.iter().map(|h| axis.value(h))).fold(1e-9f64, f64::max);
    let tested = runs.iter().any(|r| r.history.iter().any(|h| h.test_accuracy.is_some()));
    let mut builder = ChartBuilder::on(area);
    builder.margin(12).x_label_area_size(48).y_label_area_size(62).caption(
        format!(
            "{} vs {}",
            if tested { "train (solid) and test (dashed) accuracy" } else { "train accuracy" },
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
                .y_desc(if tested { "accuracy" } else { "train accuracy" })
                .label_style((FONT, 15))
                .axis_desc_style((FONT, 16))
                .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .x_label_formatter(&|v| tick_label(*v, matches!(axis, XAxis::Updates)))
                .draw()?;
            for (i, r) in runs.iter().enumerate() {
                let pts: Vec<(f64, f64)> =
                    r.history.iter().map(|h| (axis.value(h), h.train_accuracy)).collect();
                styled_line(&mut chart, pts, line_style(i), r.label)?;
                // Test accuracy where the run evaluated during training (--eval-every): the
                // run's color, dashed.
                let test: Vec<(f64, f64)> = r
                    .history
                    .iter()
                    .filter_map(|h| h.test_accuracy.map(|a| (axis.value(h), a)))
                    .collect();
                if !test.is_empty() {
                    let (color, _) = line_style(i);
                    let label = format!("{} (test)", r.label);
                    styled_line(&mut chart, test, (color, Some((6, 4))), &label)?;
                }
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
                .fold(f64::INFINITY, f64::min)
                .max(1.0);
            let (lo, hi) = log_span(lo, x_max);
            body!(builder.build_cartesian_2d((lo * 0.8..hi * 1.25).log_scale(), y_lo..1.0)?)
        }
        _ => body!(builder.build_cartesian_2d(0.0..linear_end(0.0, x_max * 1.02), y_lo..1.0)?),
    }
    Ok(())
}

/// Train accuracy of every run against epoch, seconds and updates, one chart each, written to
/// `stem.png` and `stem.svg`.
pub fn draw_curves(runs: &[RunView<'_>], title: &str, stem: &Path) -> Result<(), PlotError> {
    if runs.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, &Curves { runs, title })
}

struct Curves<'a> {
    runs: &'a [RunView<'a>],
    title: &'a str,
}

impl Figure for Curves<'_> {
    fn size(&self) -> (u32, u32) {
        (1800, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let (runs, title) = (self.runs, self.title);
        let acc_min = runs
            .iter()
            .flat_map(|r| r.history.iter().flat_map(|h| [Some(h.train_accuracy), h.test_accuracy]))
            .flatten()
            .filter(|a| a.is_finite())
            .fold(1.0f64, f64::min);
        let y_lo = ((acc_min * 10.0).floor() / 10.0).clamp(0.0, 0.9);
        root.fill(&WHITE)?;
        let root = root.titled(&format!("{title}: training curves"), (FONT, 28))?;
        for (area, axis) in
            root.split_evenly((1, 3)).iter().zip([XAxis::Epoch, XAxis::Seconds, XAxis::Updates])
        {
            curve_panel(area, runs, axis, y_lo)?;
        }
        Ok(())
    }
}
