//! The kernels' input: raw `u8` pixel rows, their normalization applied as they are loaded,
//! and each row's span of nonzero pixels (outside it the products are exact zeros).

use twinnet_core::system::prefetch;

/// Raw `u8` pixels `[n, d]` and their normalization `x = a·p + c` (see
/// [`Normalize::affine`](twinnet_data::Normalize::affine)), applied in registers as each pixel
/// is loaded: one fused multiply-add per loaded vector, which then feeds ten or twenty more.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    /// Row-major pixels.
    pub p: &'a [u8],
    /// Scale `a`.
    pub a: f32,
    /// Offset `c`.
    pub c: f32,
    /// Optionally, where each row's nonzero pixels lie ([`Span::of_rows`]). When `c = 0` a
    /// zero pixel is a zero feature, whose products are zero: the kernels then skip the
    /// vectors of a row outside its span (MNIST digits leave about 30% of each image
    /// blank). No term that is not exactly zero is skipped, and the others are added in the
    /// same order, so the sums do not change (up to the sign of a zero).
    pub spans: Option<&'a [Span]>,
}

impl<'a> Pixels<'a> {
    /// The pixels `p`, normalized as `norm` asks, with or without their spans.
    pub fn new(p: &'a [u8], norm: twinnet_data::Normalize, spans: Option<&'a [Span]>) -> Self {
        let (a, c) = norm.affine();
        Self { p, a, c, spans }
    }
}

/// The pixels `lo..hi` of a row outside which all its pixels are zero (`lo = hi = 0` for a
/// blank row).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    /// First nonzero pixel.
    pub lo: u32,
    /// One past the last nonzero pixel.
    pub hi: u32,
}

impl Span {
    /// The span of every row of `p` (`[n, d]`).
    pub fn of_rows(p: &[u8], d: usize) -> Vec<Span> {
        p.chunks_exact(d)
            .map(|row| match row.iter().position(|&v| v != 0) {
                None => Span::default(),
                Some(lo) => {
                    let hi = d - row.iter().rev().position(|&v| v != 0).unwrap_or(0);
                    Span { lo: lo as u32, hi: hi as u32 }
                }
            })
            .collect()
    }
}

/// The pixels `lo..hi` that row `i` needs computed: its span where zero pixels may be
/// skipped (`c = 0`), else all of them.
#[inline(always)]
pub(super) fn span(x: &Pixels<'_>, i: u32, d: usize) -> (usize, usize) {
    match x.spans {
        Some(s) if x.c == 0.0 => {
            let s = s[i as usize];
            (s.lo as usize, s.hi as usize)
        }
        _ => (0, d),
    }
}

/// How many rows ahead the forward product asks for the rows it will read.
pub(super) const AHEAD: usize = 8;

/// Asks the CPU to bring the pixels the kernels will read of rows `idx` of `x` (`[n, d]`;
/// only their spans where those are skipped) into its second-level cache: for the next
/// mini-batch, while this one is computed. A hint only; panics if a row is out of range.
pub fn prefetch_rows(x: &Pixels<'_>, d: usize, idx: &[u32]) {
    for &i in idx {
        let (lo, hi) = span(x, i, d);
        prefetch::<true>(&x.p[i as usize * d..][lo..hi]);
    }
}
