//! The colours runs are drawn in, one place for every output: the PNG/SVG figures
//! (`twinnet-plot`) and the HTML pages (`twinnet-page`) give run `i` colour `PALETTE[i % 10]`.

/// Ten colours that stay distinct for colour-blind readers (matplotlib's tab10, in its order),
/// as `(red, green, blue)`.
pub const PALETTE: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// Colour `i` of [`PALETTE`] as CSS writes it (`#1f77b4`).
pub fn css(i: usize) -> String {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn css_colours_are_the_palette() {
        assert_eq!(super::css(0), "#1f77b4");
        assert_eq!(super::css(13), "#d62728");
    }
}
