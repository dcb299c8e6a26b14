//! The noise floor: how far pairs of trajectories drift apart, against parameter updates, on
//! log–log axes; one panel per setting, one line per source of difference. Below each, the
//! train-accuracy difference per epoch of the same pairs (log x, linear y).

use crate::figure::{render, Figure};
use crate::style::{styled_line, tick_label, DASHES, FONT, PALETTE};
use crate::DrawError;
use crate::PlotError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// One pair of trajectories: what separates them and how far apart they are.
#[derive(Debug, Clone)]
pub struct DriftLine<'a> {
    /// Legend text: the source of difference.
    pub label: &'a str,
    /// `(updates, relative parameter difference)`; zeros (identical bits) are not drawn, and a
    /// line of zeros only is named in the legend as such.
    pub drift: &'a [(f64, f64)],
    /// `(updates, train accuracy of b − train accuracy of a)` at each epoch's end.
    pub accuracy: &'a [(f64, f64)],
}

/// One setting: its title and its pairs.
#[derive(Debug, Clone)]
pub struct DriftPanel<'a> {
    /// Panel title, e.g. the setting's name.
    pub title: &'a str,
    /// One line per source.
    pub lines: Vec<DriftLine<'a>>,
}

/// Draws the drift figure to `stem.png` and `stem.svg`.
pub fn draw_drift(panels: &[DriftPanel<'_>], title: &str, stem: &Path) -> Result<(), PlotError> {
    if panels.is_empty() || panels.iter().all(|p| p.lines.is_empty()) {
        return Err(PlotError::Empty);
    }
    render(stem, &Drift { panels, title })
}

struct Drift<'a> {
    panels: &'a [DriftPanel<'a>],
    title: &'a str,
}

/// Line `i`'s colour and dash: pairs of sources share a dash pattern, so lines that lie on
/// top of each other (rounding-level sources often do) stay visible.
fn style(i: usize) -> (RGBColor, Option<(u32, u32)>) {
    (PALETTE[i % PALETTE.len()], DASHES[(i / 2) % DASHES.len()])
}

impl Figure for Drift<'_> {
    fn size(&self) -> (u32, u32) {
        (760 * self.panels.len() as u32, 1100)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        root.fill(&WHITE)?;
        let root = root.titled(self.title, (FONT, 26))?;
        let columns = root.split_evenly((1, self.panels.len()));
        for (area, panel) in columns.iter().zip(self.panels) {
            let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 * 62 / 100);
            drift_panel(&top, panel)?;
            accuracy_panel(&bottom, panel)?;
        }
        Ok(())
    }
}

fn x_range(panel: &DriftPanel<'_>) -> (f64, f64) {
    let xs = panel.lines.iter().flat_map(|l| l.drift.iter().chain(l.accuracy)).map(|p| p.0);
    let hi = xs.filter(|x| x.is_finite()).fold(1.0f64, f64::max);
    (0.8, hi * 1.25)
}

fn drift_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &DriftPanel<'_>,
) -> Result<(), DrawError> {
    let ys = panel
        .lines
        .iter()
        .flat_map(|l| l.drift.iter().map(|p| p.1))
        .filter(|&y| y > 0.0 && y.is_finite());
    let (lo, hi) = ys.fold((f64::MAX, f64::MIN), |(lo, hi), y| (lo.min(y), hi.max(y)));
    let (lo, hi) = if lo > hi { (1e-9, 1.0) } else { (lo, hi) };
    let y_lo = 10f64.powf(lo.log10().floor());
    let y_hi = 10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0));
    let (x_lo, x_hi) = x_range(panel);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .caption(format!("{}: drift between trajectories", panel.title), (FONT, 21))
        .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("parameter updates (log scale)")
        .y_desc("‖θa − θb‖ / ‖θa‖ (log scale)")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .x_label_formatter(&|v| tick_label(*v, true))
        .y_label_formatter(&|v| {
            let e = v.log10();
            if (e - e.round()).abs() < 1e-9 {
                format!("1e{}", e.round() as i32)
            } else {
                String::new()
            }
        })
        .draw()?;
    for (i, l) in panel.lines.iter().enumerate() {
        let pts: Vec<(f64, f64)> = l.drift.iter().copied().filter(|p| p.1 > 0.0).collect();
        let label = if pts.is_empty() && !l.drift.is_empty() {
            format!("{}: identical bits (drift 0, not drawn)", l.label)
        } else {
            l.label.to_string()
        };
        styled_line(&mut chart, pts, style(i), &label)?;
    }
    // Middle left: drift starts low and rises to the right, a seed's stays on top.
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font((FONT, 14))
        .draw()?;
    Ok(())
}

fn accuracy_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &DriftPanel<'_>,
) -> Result<(), DrawError> {
    let m = panel
        .lines
        .iter()
        .flat_map(|l| l.accuracy.iter().map(|p| p.1.abs()))
        .filter(|d| d.is_finite())
        .fold(1e-3f64, f64::max);
    let m = (m * 100.0 * 1.1).ceil() / 100.0;
    let (x_lo, x_hi) = x_range(panel);
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(72)
        .caption("train-accuracy difference per epoch (b − a)", (FONT, 19))
        .build_cartesian_2d((x_lo..x_hi).log_scale(), -m..m)?;
    chart
        .configure_mesh()
        .x_desc("parameter updates (log scale)")
        .y_desc("difference (points)")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .x_label_formatter(&|v| tick_label(*v, true))
        .y_label_formatter(&|v| match tick_label(v * 100.0, false) {
            t if t == "0" || t == "-0" => "0".to_string(),
            t if *v > 0.0 => format!("+{t}"),
            t => t,
        })
        .draw()?;
    for (i, l) in panel.lines.iter().enumerate() {
        let (c, dash) = style(i);
        let pts = l.accuracy.to_vec();
        match dash {
            None => chart.draw_series(LineSeries::new(pts, c.stroke_width(2)))?,
            Some((s, g)) => {
                chart.draw_series(DashedLineSeries::new(pts, s, g, c.stroke_width(2)))?
            }
        };
    }
    Ok(())
}
