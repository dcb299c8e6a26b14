//! What every figure shares: the embedded font, the palette, shading, and the helpers that draw
//! a labelled line and the legend.

use crate::DrawError;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

/// The family name the embedded font is registered under.
pub(crate) const FONT: &str = "sans-serif";
static DEJAVU: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The palette of every output (`twinnet_core::palette`), as plotters colours.
pub const PALETTE: [RGBColor; 10] = {
    let p = twinnet_core::palette::PALETTE;
    let mut out = [RGBColor(0, 0, 0); 10];
    let mut i = 0;
    while i < 10 {
        out[i] = RGBColor(p[i].0, p[i].1, p[i].2);
        i += 1;
    }
    out
};

/// Registers the embedded DejaVu Sans as [`FONT`], once per process.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU).is_err() {
            unreachable!("the embedded DejaVu Sans is a valid font");
        }
    });
}

/// Dash patterns `(dash, gap)` in pixels; `None` is a solid line.
pub(crate) const DASHES: [Option<(u32, u32)>; 3] = [None, Some((10, 5)), Some((3, 4))];

/// The colour and dash of line `i` of a panel: the palette's ten colours solid, then dashed,
/// then dotted, so no two of the first 30 lines share both.
pub(crate) fn line_style(i: usize) -> (RGBColor, Option<(u32, u32)>) {
    (PALETTE[i % PALETTE.len()], DASHES[(i / PALETTE.len()) % DASHES.len()])
}

/// A 2-pixel line in colour `c` and dash pattern `dash`, with a legend entry whose sample
/// repeats the pattern.
/// A log axis's span: `lo..hi` when both are positive and finite and `lo < hi`, else one
/// decade from `lo` when that is usable, else `1..10` (an empty or non-finite curve still
/// draws, on an axis plotters can tick).
pub(crate) fn log_span(lo: f64, hi: f64) -> (f64, f64) {
    let ok = |v: f64| v.is_finite() && v > 0.0;
    if ok(lo) && ok(hi) && lo < hi {
        (lo, hi)
    } else if ok(lo) && ok(lo * 10.0) {
        (lo, lo * 10.0)
    } else {
        (1.0, 10.0)
    }
}

/// A linear axis's upper end: `hi` when finite and above `lo`, else `lo + 1`.
pub(crate) fn linear_end(lo: f64, hi: f64) -> f64 {
    if hi.is_finite() && hi > lo {
        hi
    } else {
        lo + 1.0
    }
}

/// Draws `pts` (non-finite points left out) as one styled line with its legend entry.
pub(crate) fn styled_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    mut pts: Vec<(f64, f64)>,
    (c, dash): (RGBColor, Option<(u32, u32)>),
    label: &str,
) -> Result<(), DrawError>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    pts.retain(|p| p.0.is_finite() && p.1.is_finite());
    let anno = match dash {
        None => chart.draw_series(LineSeries::new(pts, c.stroke_width(2)))?,
        Some((size, gap)) => {
            chart.draw_series(DashedLineSeries::new(pts, size, gap, c.stroke_width(2)))?
        }
    };
    // The legend's sample: three pieces of `size`, `gap` apart (solid: touching).
    let (size, gap) = dash.map_or((8, 0), |(s, g)| (s.min(8) as i32, g.min(6) as i32));
    let piece = move |k: i32| {
        let x0 = k * (size + gap);
        PathElement::new(vec![(x0, 0), (x0 + size, 0)], c.stroke_width(3))
    };
    anno.label(label)
        .legend(move |(x, y)| EmptyElement::at((x, y)) + piece(0) + piece(1) + piece(2));
    Ok(())
}

/// The legend box, lower right, where training curves leave room.
pub(crate) fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    size: u32,
) -> Result<(), DrawError>
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
        .draw()?;
    Ok(())
}

/// White → dark blue as `f` goes 0 → 1.
pub(crate) fn shade(f: f64) -> RGBColor {
    let f = f.clamp(0.0, 1.0);
    let mix = |hi: f64, lo: f64| (hi - f * (hi - lo)).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// An x tick label: integers without a decimal point (`50`, not `50.0`), other values with at
/// most two decimals; on a log axis only the powers of ten are labelled (the other ticks keep
/// their grid line, unlabelled, so the labels do not run into each other).
pub(crate) fn tick_label(v: f64, log: bool) -> String {
    if log {
        let e = v.log10();
        return if v > 0.0 && (e - e.round()).abs() < 1e-9 {
            format!("{:.0}", 10f64.powi(e.round() as i32))
        } else {
            String::new()
        };
    }
    if (v - v.round()).abs() < 1e-9 {
        format!("{:.0}", v.round())
    } else {
        format!("{v:.2}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(50.0, false), "50");
        assert_eq!(tick_label(0.0, false), "0");
        assert_eq!(tick_label(2.5, false), "2.5");
        assert_eq!(tick_label(0.333, false), "0.33");
        assert_eq!(tick_label(1000.0, true), "1000");
        assert_eq!(tick_label(1.0, true), "1");
        assert_eq!(tick_label(50.0, true), "");
        assert_eq!(tick_label(200.0, true), "");
    }
}
