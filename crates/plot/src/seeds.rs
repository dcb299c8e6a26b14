//! Figures of a configuration repeated over seeds: mean curves with a min–max band, and each
//! seed's test accuracy.

use crate::figure::{render, Figure};
use crate::style::{legend, line_style, linear_end, log_span, styled_line, tick_label, FONT};
use crate::DrawError;
use crate::{GroupView, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

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

/// Per epoch index where every seed evaluated the test set (`--eval-every`):
/// `(epoch, updates, mean test accuracy)` over the seeds.
fn test_means(g: &GroupView<'_>) -> Vec<(f64, f64, f64)> {
    let len = g.histories.iter().map(|h| h.len()).min().unwrap_or(0);
    (0..len)
        .filter_map(|i| {
            let accs: Option<Vec<f64>> = g.histories.iter().map(|h| h[i].test_accuracy).collect();
            let accs = accs?;
            let h0 = &g.histories[0][i];
            Some((h0.epoch as f64, h0.step as f64, accs.iter().sum::<f64>() / accs.len() as f64))
        })
        .collect()
}

/// Mean train accuracy over seeds with a min–max band, against epoch and against updates; and,
/// where the runs evaluated during training (`--eval-every`), the mean test accuracy, dashed.
pub fn draw_seed_curves(
    groups: &[GroupView<'_>],
    title: &str,
    stem: &Path,
) -> Result<(), PlotError> {
    if groups.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, &SeedCurves { groups, title })
}

struct SeedCurves<'a> {
    groups: &'a [GroupView<'a>],
    title: &'a str,
}

impl SeedCurves<'_> {
    /// Index ranges of the rows: one row up to [`crate::MAX_PER_ROW`], else even chunks.
    fn rows(&self) -> Vec<std::ops::Range<usize>> {
        let n = self.groups.len();
        let rows = n.div_ceil(crate::MAX_PER_ROW).max(1);
        let per = n.div_ceil(rows);
        (0..rows).map(|r| r * per..((r + 1) * per).min(n)).collect()
    }
}

impl Figure for SeedCurves<'_> {
    fn size(&self) -> (u32, u32) {
        (1500, 60 + 560 * self.rows().len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let (groups, title) = (self.groups, self.title);
        root.fill(&WHITE)?;
        let n = groups.first().map_or(0, |g| g.histories.len());
        let tests: Vec<_> = groups.iter().map(test_means).collect();
        let tested = tests.iter().any(|t| !t.is_empty());
        let what = if tested {
            "train accuracy (solid, band: min–max) and test accuracy (dashed)"
        } else {
            "train accuracy"
        };
        let root = root.titled(
            &format!(
                "{title}: {what}, mean over {n} seeds{}",
                if tested { "" } else { " (band: min–max)" }
            ),
            (FONT, 24),
        )?;
        let all: Vec<_> = groups.iter().map(band).collect();
        let lo = all.iter().flatten().map(|b| b.3).fold(1.0f64, f64::min);
        let y_lo = ((lo * 10.0).floor() / 10.0).clamp(0.0, 0.9);
        let rows = self.rows();
        let areas = root.split_evenly((rows.len(), 2));
        for (k, (area, by_updates)) in
            areas.iter().zip([false, true].into_iter().cycle()).enumerate()
        {
            let range = rows[k / 2].clone();
            let offset = range.start;
            let groups = &groups[range.clone()];
            let bands = &all[range.clone()];
            let tests = &tests[range];
            let x = |b: &(f64, f64, f64, f64, f64)| if by_updates { b.1 } else { b.0 };
            let x_max = all.iter().flatten().map(x).fold(1.0, f64::max);
            let x_min = all.iter().flatten().map(x).fold(f64::INFINITY, f64::min).max(1.0);
            let (x_min, x_max) = if by_updates { log_span(x_min, x_max) } else { (x_min, x_max) };
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
                        .y_desc(if tested { "accuracy" } else { "train accuracy" })
                        .label_style((FONT, 15))
                        .axis_desc_style((FONT, 16))
                        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                        .x_label_formatter(&|v| tick_label(*v, by_updates))
                        .draw()?;
                    for (i, (g, b)) in groups.iter().zip(bands).enumerate() {
                        let (c, dash) = line_style(offset + i);
                        let mut poly: Vec<(f64, f64)> = b.iter().map(|p| (x(p), p.4)).collect();
                        poly.extend(b.iter().rev().map(|p| (x(p), p.3)));
                        chart.draw_series(std::iter::once(Polygon::new(
                            poly,
                            c.mix(0.18).filled(),
                        )))?;
                        styled_line(
                            &mut chart,
                            b.iter().map(|p| (x(p), p.2)).collect(),
                            (c, dash),
                            g.label,
                        )?;
                        if let Some(t) = tests.get(i).filter(|t| !t.is_empty()) {
                            let x = |p: &(f64, f64, f64)| if by_updates { p.1 } else { p.0 };
                            let pts = t.iter().map(|p| (x(p), p.2)).collect();
                            let label = format!("{} (test)", g.label);
                            styled_line(&mut chart, pts, (c, Some((6, 4))), &label)?;
                        }
                    }
                    legend(&mut chart, 13)?;
                }};
            }
            if by_updates {
                body!(builder
                    .build_cartesian_2d((x_min * 0.8..x_max * 1.25).log_scale(), y_lo..1.0)?)
            } else {
                body!(builder.build_cartesian_2d(0.0..linear_end(0.0, x_max * 1.02), y_lo..1.0)?)
            }
        }
        Ok(())
    }
}

/// One row per configuration: a dot per seed's test accuracy and a bar at the mean; about
/// 1000 pixels wide whatever the number of configurations (each adds a row), so it reads at a
/// web page's width with the names written horizontally.
pub fn draw_seed_strip(
    groups: &[GroupView<'_>],
    title: &str,
    stem: &Path,
) -> Result<(), PlotError> {
    if groups.is_empty() {
        return Err(PlotError::Empty);
    }
    render(stem, &SeedStrip { groups, title })
}

struct SeedStrip<'a> {
    groups: &'a [GroupView<'a>],
    title: &'a str,
}

impl Figure for SeedStrip<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 150 + 44 * self.groups.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError> {
        let (groups, title) = (self.groups, self.title);
        root.fill(&WHITE)?;
        let accs: Vec<Vec<f64>> =
            groups.iter().map(|g| g.test_accuracies.iter().flatten().copied().collect()).collect();
        let lo = accs.iter().flatten().fold(1.0f64, |m, &a| m.min(a));
        let hi = accs.iter().flatten().fold(0.0f64, |m, &a| m.max(a));
        let (x_lo, x_hi) =
            (((lo - 0.01) * 50.0).floor() / 50.0, (((hi + 0.01) * 50.0).ceil() / 50.0).min(1.0));
        let n = groups.len() as i32;
        let longest = groups.iter().map(|g| g.label.chars().count()).max().unwrap_or(0) as u32;
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .caption(format!("{title}: test accuracy of every seed (bar: mean)"), (FONT, 22))
            .x_label_area_size(56)
            .y_label_area_size(24 + 9 * longest)
            .build_cartesian_2d(x_lo..x_hi.max(x_lo + 0.02), (0..n - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(groups.len() + 1)
            .y_label_formatter(&|v| match v {
                // The first configuration on top.
                SegmentValue::CenterOf(k) => {
                    groups.get((n - 1 - *k) as usize).map_or(String::new(), |g| g.label.to_string())
                }
                _ => String::new(),
            })
            .x_desc("test accuracy")
            .x_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .draw()?;
        for (i, a) in accs.iter().enumerate() {
            let (c, _) = line_style(i);
            let row = SegmentValue::CenterOf(n - 1 - i as i32);
            chart.draw_series(
                a.iter().map(|&v| Circle::new((v, row.clone()), 5, c.mix(0.7).filled())),
            )?;
            if !a.is_empty() {
                let mean = a.iter().sum::<f64>() / a.len() as f64;
                let style = TextStyle::from((FONT, 26).into_font())
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(
                    "|".to_string(),
                    (mean, row),
                    style,
                )))?;
            }
        }
        Ok(())
    }
}
