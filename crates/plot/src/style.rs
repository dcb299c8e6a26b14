//! What every figure shares: the embedded font, the palette, shading, and the helpers that draw
//! a labelled line and the legend.

use crate::figure::DrawError;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

/// The family name the embedded font is registered under.
pub(crate) const FONT: &str = "sans-serif";
static DEJAVU: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

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

/// Registers the embedded DejaVu Sans as [`FONT`], once per process.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU).is_err() {
            unreachable!("the embedded DejaVu Sans is a valid font");
        }
    });
}

/// A 2-pixel line with a legend entry.
pub(crate) fn labelled_line<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    pts: Vec<(f64, f64)>,
    c: RGBColor,
    label: &str,
) -> Result<(), DrawError>
where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .draw_series(LineSeries::new(pts, c.stroke_width(2)))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
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
