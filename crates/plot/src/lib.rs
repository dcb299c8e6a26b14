//! twinnet's figures, each written as PNG and SVG:
//!
//! - [`draw_curves`]: train accuracy of every run against epoch, wall-clock seconds and
//!   parameter updates (log scale: full-batch makes 1 update per epoch, mini-batch 64 makes 938);
//! - [`draw_confusions`]: one confusion heatmap per run, side by side like the report's Figure 1,
//!   counts in the cells, one colour scale for every panel, per-class recall along the side;
//! - [`draw_seed_curves`] and [`draw_seed_strip`]: a configuration repeated over seeds;
//! - [`draw_drift`]: the noise floor, how far pairs of trajectories drift apart (log–log).
//!
//! Text is drawn with DejaVu Sans embedded in the binary, so a figure renders the same on every
//! machine and the same JSON always gives byte-identical files.
//!
//! Modules: `figure` (the one way a figure is drawn to PNG and SVG), `style` (font, palette,
//! shared helpers), `curves`, `confusion`, `seeds`, `noise_floor` (one kind of figure each).
//!
//! ```no_run
//! use twinnet_plot::{draw_curves, RunView};
//! let runs: Vec<RunView> = vec![]; // one per run: label, history, confusion
//! draw_curves(&runs, "report", std::path::Path::new("results/report/curves"))?;
//! # Ok::<(), twinnet_plot::PlotError>(())
//! ```

mod confusion;
mod curves;
mod figure;
mod noise_floor;
mod seeds;
mod style;

pub use confusion::draw_confusions;
pub use curves::draw_curves;
pub use noise_floor::{draw_drift, DriftLine, DriftPanel};
pub use seeds::{draw_seed_curves, draw_seed_strip};
pub use style::PALETTE;

use std::path::PathBuf;
use twinnet_core::{Confusion, EpochRecord};

/// The most configurations one panel (or one row of confusion matrices) holds: a figure of
/// more is drawn as small multiples, rows of at most this many on shared axes.
pub const MAX_PER_ROW: usize = 6;

/// Errors while drawing or writing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters failed to draw or encode.
    #[error("{path}: cannot draw figure: {message}")]
    Draw { path: PathBuf, message: String },
    /// The finished file could not be moved into place (the system's reason is the source).
    #[error("{path}: cannot write the figure")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Nothing to draw.
    #[error("no run to draw")]
    Empty,
}

/// A drawing error of plotters, as text (its error types are generic over the backend).
#[derive(Debug)]
pub(crate) struct DrawError(pub(crate) String);

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for DrawError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        DrawError(e.to_string())
    }
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
                test_accuracy: None,
                test_loss: None,
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
        let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        draw_confusions(&runs, "test", &digits, &dir.path().join("confusion")).unwrap();
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

    /// Width and height from a PNG's IHDR chunk.
    fn png_size(path: &std::path::Path) -> (u32, u32) {
        let b = std::fs::read(path).unwrap();
        let be = |i: usize| u32::from_be_bytes(b[i..i + 4].try_into().unwrap());
        (be(16), be(20))
    }

    /// Many configurations: small multiples of at most 6 per row, a strip that keeps a page's
    /// width, and class names in the confusion figure.
    #[test]
    fn many_configurations_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        let h: Vec<Vec<EpochRecord>> =
            (0..13).map(|k| history(20, 938, 0.1 + k as f64 * 0.02)).collect();
        let names: Vec<String> = (0..13).map(|k| format!("configuration-{k}")).collect();
        let groups: Vec<GroupView> = (0..13)
            .map(|k| GroupView {
                label: &names[k],
                histories: vec![&h[k], &h[(k + 1) % 13]],
                test_accuracies: vec![Some(0.8 + k as f64 * 0.01), Some(0.81)],
            })
            .collect();
        draw_seed_curves(&groups, "t", &dir.path().join("curves")).unwrap();
        // 13 configurations: 3 rows of panels (5, 5, 3).
        assert_eq!(png_size(&dir.path().join("curves.png")), (1500, 60 + 3 * 560));
        draw_seed_curves(&groups[..6], "t", &dir.path().join("six")).unwrap();
        assert_eq!(png_size(&dir.path().join("six.png")), (1500, 60 + 560));
        draw_seed_strip(&groups, "t", &dir.path().join("seeds")).unwrap();
        assert_eq!(png_size(&dir.path().join("seeds.png")), (1000, 150 + 44 * 13));
        let svg = std::fs::read_to_string(dir.path().join("seeds.svg")).unwrap();
        assert!(svg.contains("configuration-12"));

        let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
        let c = Confusion::new(&labels, &labels);
        let run = [RunView { label: "r", history: &h[0], confusion: Some(&c) }];
        let fashion = twinnet_data::DatasetName::FashionMnist.class_names();
        draw_confusions(&run, "f", &fashion, &dir.path().join("confusion")).unwrap();
        let svg = std::fs::read_to_string(dir.path().join("confusion.svg")).unwrap();
        assert!(svg.contains("9 Ankle boot") && svg.contains("true class"), "{}", &svg[..300]);
        // 13 confusion matrices: a grid of 3 rows of 5.
        let runs: Vec<RunView> = (0..13)
            .map(|k| RunView { label: &names[k], history: &h[k], confusion: Some(&c) })
            .collect();
        draw_confusions(&runs, "g", &["0"; 10], &dir.path().join("grid")).unwrap();
        assert_eq!(png_size(&dir.path().join("grid.png")), (5 * 640, 40 + 3 * 680));
    }

    /// No two of the first 30 lines of a panel share colour and dash.
    #[test]
    fn line_styles_are_distinct() {
        let styles: Vec<String> = (0..30).map(|i| format!("{:?}", style::line_style(i))).collect();
        let unique: std::collections::HashSet<&String> = styles.iter().collect();
        assert_eq!(unique.len(), 30);
    }
}
