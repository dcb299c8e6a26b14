//! The inline SVG of a page: confusion heatmaps (each cell's count and rate on hover, its
//! `<title>`) and the seeds strip (every seed's test accuracy, collapsed classes marked).

use crate::PageError;
use minijinja::{context, Environment};
use serde::Serialize;

/// One run's (or one configuration's pooled) confusion matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// The run or configuration.
    pub label: String,
    /// Class names, in index order.
    pub classes: Vec<String>,
    /// `counts[true][predicted]`.
    pub counts: Vec<Vec<u64>>,
}

#[derive(Debug, Serialize)]
struct Cell {
    x: usize,
    y: usize,
    fill: String,
    ink: &'static str,
    count: u64,
    title: String,
}

/// Size of a heatmap cell, pixels.
const CELL: usize = 30;
/// Room for the labels on the left and top.
const MARGIN: usize = 34;

/// A white-to-blue ramp at `t` ∈ [0, 1] (the static figures' colour scale).
fn ramp(t: f64) -> String {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(247.0, 8.0), mix(251.0, 48.0), mix(255.0, 107.0))
}

impl Heatmap {
    pub(crate) fn render(&self, env: &Environment<'_>) -> Result<String, PageError> {
        let n = self.classes.len();
        let mut cells = vec![];
        for (r, row) in self.counts.iter().enumerate().take(n) {
            let total: u64 = row.iter().sum();
            for (c, &count) in row.iter().enumerate().take(n) {
                let rate = if total > 0 { count as f64 / total as f64 } else { 0.0 };
                let (t, p) = (
                    self.classes.get(r).cloned().unwrap_or_default(),
                    self.classes.get(c).cloned().unwrap_or_default(),
                );
                cells.push(Cell {
                    x: MARGIN + c * CELL,
                    y: MARGIN + r * CELL,
                    fill: ramp(rate),
                    ink: if rate > 0.5 { "#ffffff" } else { "#1b1b1b" },
                    count,
                    title: format!(
                        "true {t}, predicted {p}: {count} ({:.1}% of {t})",
                        100.0 * rate
                    ),
                });
            }
        }
        let labels: Vec<(usize, String)> = self
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| (MARGIN + i * CELL + CELL / 2, short(c)))
            .collect();
        Ok(env.get_template("heatmap.svg")?.render(context! {
            label => self.label,
            size => MARGIN + n * CELL + 4,
            margin => MARGIN,
            cell => CELL,
            cells => cells,
            labels => labels,
        })?)
    }
}

/// A class name short enough for an axis (its first word, at most 8 characters).
fn short(name: &str) -> String {
    name.split(['/', ' ']).next().unwrap_or(name).chars().take(8).collect()
}

/// The seeds strip: one row per configuration, one dot per seed.
#[derive(Debug, Clone, PartialEq)]
pub struct SeedStrip {
    /// The rows.
    pub rows: Vec<StripRow>,
}

/// One configuration's seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct StripRow {
    /// The configuration.
    pub name: String,
    /// Its colour.
    pub colour: String,
    /// Each seed: `(seed, test accuracy or None when diverged, collapsed classes' names)`.
    pub seeds: Vec<(u64, Option<f64>, Vec<String>)>,
}

#[derive(Debug, Serialize)]
struct Dot {
    x: f64,
    y: usize,
    colour: String,
    collapsed: bool,
    title: String,
}

impl SeedStrip {
    pub(crate) fn render(&self, env: &Environment<'_>) -> Result<String, PageError> {
        const LEFT: f64 = 230.0;
        const WIDTH: f64 = 640.0;
        const ROW: usize = 26;
        let accs = self.rows.iter().flat_map(|r| r.seeds.iter().filter_map(|s| s.1));
        let (lo, hi) = accs.fold((1.0f64, 0.0f64), |(l, h), a| (l.min(a), h.max(a)));
        let (lo, hi) = if lo < hi {
            ((lo * 20.0).floor() / 20.0, (hi * 20.0).ceil() / 20.0)
        } else {
            (0.0, 1.0)
        };
        let x = |a: f64| LEFT + (a - lo) / (hi - lo) * WIDTH;
        let mut dots = vec![];
        let mut names = vec![];
        for (i, r) in self.rows.iter().enumerate() {
            let y = 20 + i * ROW;
            names.push((y, r.name.clone()));
            for (seed, acc, collapsed) in &r.seeds {
                let Some(a) = acc else { continue };
                let mut title = format!("{} seed {seed}: {:.2}%", r.name, 100.0 * a);
                if !collapsed.is_empty() {
                    title.push_str(&format!(", never predicts {}", collapsed.join(", ")));
                }
                dots.push(Dot {
                    x: x(*a),
                    y,
                    colour: r.colour.clone(),
                    collapsed: !collapsed.is_empty(),
                    title,
                });
            }
        }
        let ticks: Vec<(f64, String)> = (0..=4)
            .map(|k| lo + (hi - lo) * k as f64 / 4.0)
            .map(|a| (x(a), format!("{:.0}%", 100.0 * a)))
            .collect();
        Ok(env.get_template("strip.svg")?.render(context! {
            width => LEFT + WIDTH + 30.0,
            height => 40 + self.rows.len() * ROW,
            left => LEFT,
            right => LEFT + WIDTH,
            bottom => 24 + self.rows.len() * ROW,
            names => names,
            dots => dots,
            ticks => ticks,
        })?)
    }
}
