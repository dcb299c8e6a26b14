//! The one way a figure is drawn and written: a [`Figure`] draws itself on any plotters
//! backend, and [`render`] draws it twice, to PNG and to SVG, each through a temporary file
//! and a rename (an interrupted run never leaves half a figure).

use crate::style::register_font;
use crate::{DrawError, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// A figure: its size in pixels and how it draws itself on a backend.
pub(crate) trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError>;
}

/// Renders `fig` to `stem.png` and `stem.svg`, each through a temporary file and a rename.
pub(crate) fn render(stem: &Path, fig: &impl Figure) -> Result<(), PlotError> {
    register_font();
    let size = fig.size();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    // Temporary files of unpredictable names, created exclusively beside their final place
    // (a link planted there cannot redirect the drawing), removed when dropped unless kept.
    let tmp = |p: &Path, ext: &str| {
        let dir = p.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(&format!(".tmp.{ext}"))
            .tempfile_in(dir)
            .map_err(|source| PlotError::Io { path: p.to_path_buf(), source })
    };
    fn failed(path: &Path) -> impl FnOnce(DrawError) -> PlotError + '_ {
        move |e| PlotError::Draw { path: path.to_path_buf(), message: e.0 }
    }
    let (png_tmp, svg_tmp) = (tmp(&png, "png")?, tmp(&svg, "svg")?);
    {
        let root = BitMapBackend::new(png_tmp.path(), size).into_drawing_area();
        fig.draw(root.clone()).map_err(failed(&png))?;
        root.present().map_err(|e| failed(&png)(e.into()))?;
    }
    {
        let root = SVGBackend::new(svg_tmp.path(), size).into_drawing_area();
        fig.draw(root.clone()).map_err(failed(&svg))?;
        root.present().map_err(|e| failed(&svg)(e.into()))?;
    }
    for (from, to) in [(png_tmp, &png), (svg_tmp, &svg)] {
        let io = |source| PlotError::Io { path: to.clone(), source };
        from.as_file().set_permissions(twinnet_core::file::permissions_for(to)).map_err(io)?;
        from.persist(to).map_err(|e| io(e.error))?;
    }
    Ok(())
}
