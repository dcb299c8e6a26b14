//! One page per results folder: a single HTML file that works from `file://` with the network
//! off. Every script, style and number is inlined: uPlot 1.6.32 (vendored, pinned by sha256,
//! MIT) draws the curves, confusion matrices and the seeds strip are inline SVG, and the page's
//! own script (`assets/page.js`) reads the data from a JSON block of the page. The HTML is
//! assembled by templates (`templates/*.html`, minijinja), never by string concatenation.
//!
//! The caller (the runner) turns a results folder into a [`Page`]: the data the script draws
//! (runs' curves, seed groups, drift pairs: any JSON the script knows), the tables, and the
//! heatmaps ([`Heatmap`]); [`render`] makes the page, [`index`] the list of every folder.
//!
//! ```
//! use twinnet_page::{render, Page, Table};
//!
//! let page = Page {
//!     title: "report".into(),
//!     description: "The report's two models.".into(),
//!     produced: "twinnet run experiments/report.toml".into(),
//!     data: serde_json::json!({"kind": "experiment", "runs": []}),
//!     tables: vec![Table { title: "Runs".into(), header: vec!["run".into()], rows: vec![] }],
//!     heatmaps: vec![],
//!     strip: None,
//! };
//! let html = render(&page)?;
//! assert!(html.contains("<title>report · twinnet</title>"));
//! # Ok::<(), twinnet_page::PageError>(())
//! ```

mod svg;

pub use svg::{Heatmap, SeedStrip, StripRow};

use minijinja::{context, Environment};
use serde::Serialize;

/// The vendored uPlot's version.
pub const UPLOT_VERSION: &str = "1.6.32";
const UPLOT_JS: &str = include_str!("../vendor/uplot-1.6.32/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../vendor/uplot-1.6.32/uPlot.min.css");
const PAGE_JS: &str = include_str!("../assets/page.js");
const PAGE_CSS: &str = include_str!("../assets/page.css");
const PAGE_HTML: &str = include_str!("../templates/page.html");
const INDEX_HTML: &str = include_str!("../templates/index.html");
const HEATMAP_SVG: &str = include_str!("../templates/heatmap.svg");
const STRIP_SVG: &str = include_str!("../templates/strip.svg");

/// A page could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// A template failed (a bug: the templates are part of this crate).
    #[error("page template: {0}")]
    Template(#[from] minijinja::Error),
    /// The data does not serialize (non-finite numbers must be written as text first).
    #[error("page data: {0}")]
    Data(#[from] serde_json::Error),
}

/// A table of the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Its heading.
    pub title: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells (text).
    pub rows: Vec<Vec<String>>,
}

/// Everything one page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The folder's experiment name.
    pub title: String,
    /// What it shows.
    pub description: String,
    /// How, where and how fast it was produced.
    pub produced: String,
    /// What the page's script draws (`kind`, `runs`, `groups`, `drift`: see `assets/page.js`).
    pub data: serde_json::Value,
    /// Tables, in order.
    pub tables: Vec<Table>,
    /// Confusion heatmaps, side by side.
    pub heatmaps: Vec<Heatmap>,
    /// The seeds strip, for experiments repeated over seeds.
    pub strip: Option<SeedStrip>,
}

/// What marks a page twinnet wrote, in its `<head>`: `twinnet index` replaces an `index.html`
/// only when it carries [`INDEX_MARK`] (an index twinnet wrote), never a results folder's page
/// ([`PAGE_MARK`]) or a page of the user's.
pub const INDEX_MARK: &str = r#"<meta name="generator" content="twinnet index">"#;

/// What marks a results folder's page twinnet wrote.
pub const PAGE_MARK: &str = r#"<meta name="generator" content="twinnet page">"#;

/// A relative link to `name/index.html` that is a path whatever `name` holds: every byte but
/// ASCII letters, digits and `-._~` percent-encoded (so `javascript:x` is a folder, not a
/// scheme, and `?`, `#`, `/`, quotes and spaces are parts of the name), after `./`.
pub fn folder_href(name: &str) -> String {
    let mut out = String::from("./");
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.push_str("/index.html");
    out
}

/// A folder in the index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexEntry {
    /// Its name (the link's target is `<name>/index.html`, [`folder_href`]).
    pub name: String,
    /// What it shows.
    pub description: String,
    /// Its headline numbers, one line each.
    pub headlines: Vec<String>,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".svg") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, text) in [
        ("page.html", PAGE_HTML),
        ("index.html", INDEX_HTML),
        ("heatmap.svg", HEATMAP_SVG),
        ("strip.svg", STRIP_SVG),
    ] {
        env.add_template(name, text).expect("the crate's templates parse");
    }
    env
}

/// JSON that can sit inside a `<script>` element whatever its strings hold: `<`, `>` and `&`
/// are written as JSON escapes (`\u003c`…), so no `</script>`, `<!--` or `<script>` can end
/// or change the element, and U+2028/U+2029 (line ends to old JavaScript) as escapes too. The
/// one place inline JSON is made; the value read back is unchanged.
fn script_json(v: &serde_json::Value) -> Result<String, PageError> {
    let text = serde_json::to_string(v)?;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// The page's HTML.
pub fn render(page: &Page) -> Result<String, PageError> {
    let env = environment();
    let heatmaps =
        page.heatmaps.iter().map(|h| h.render(&env)).collect::<Result<Vec<String>, PageError>>()?;
    let strip = page.strip.as_ref().map(|s| s.render(&env)).transpose()?;
    let html = env.get_template("page.html")?.render(context! {
        title => page.title,
        description => page.description,
        produced => page.produced,
        tables => page.tables,
        heatmaps => heatmaps.into_iter().map(minijinja::Value::from_safe_string).collect::<Vec<_>>(),
        strip => strip.map(minijinja::Value::from_safe_string),
        data => minijinja::Value::from_safe_string(script_json(&page.data)?),
        mark => minijinja::Value::from_safe_string(PAGE_MARK.into()),
        uplot_js => minijinja::Value::from_safe_string(UPLOT_JS.to_string()),
        uplot_css => minijinja::Value::from_safe_string(UPLOT_CSS.to_string()),
        page_js => minijinja::Value::from_safe_string(PAGE_JS.to_string()),
        page_css => minijinja::Value::from_safe_string(PAGE_CSS.to_string()),
        uplot_version => UPLOT_VERSION,
    })?;
    Ok(html)
}

/// The index of every results folder, linking to each one's page.
pub fn index(title: &str, entries: &[IndexEntry]) -> Result<String, PageError> {
    let env = environment();
    let entries: Vec<minijinja::Value> = entries
        .iter()
        .map(|e| {
            context! { name => e.name, description => e.description,
            href => minijinja::Value::from_safe_string(folder_href(&e.name)),
            headlines => e.headlines }
        })
        .collect();
    Ok(env.get_template("index.html")?.render(context! {
        title => title,
        mark => minijinja::Value::from_safe_string(INDEX_MARK.into()),
        entries => entries,
        page_css => minijinja::Value::from_safe_string(PAGE_CSS.to_string()),
    })?)
}

/// How many colours the palette has (`twinnet_core::palette`, the figures' too): a run's
/// dash pattern changes every this many runs, so that no two of up to 30 runs share both.
const COLOURS: usize = twinnet_core::palette::PALETTE.len();

/// The dash pattern of run `i` (`[]`: solid).
pub fn dash(i: usize) -> Vec<u32> {
    match (i / COLOURS) % 3 {
        0 => vec![],
        1 => vec![8, 4],
        _ => vec![2, 3],
    }
}

/// The colour of run `i`, as in the figures.
pub fn colour(i: usize) -> String {
    twinnet_core::palette::css(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    /// The vendored files are the ones pinned (vendor/uplot-1.6.32/SHA256SUMS).
    #[test]
    fn vendored_uplot_is_the_pinned_one() {
        let sums = include_str!("../vendor/uplot-1.6.32/SHA256SUMS");
        let files: [(&str, &[u8]); 3] = [
            ("uPlot.iife.min.js", UPLOT_JS.as_bytes()),
            ("uPlot.min.css", UPLOT_CSS.as_bytes()),
            ("LICENSE", include_bytes!("../vendor/uplot-1.6.32/LICENSE")),
        ];
        for (name, bytes) in files {
            let want = sums
                .lines()
                .find(|l| l.ends_with(name))
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            let got: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn data_cannot_close_its_script() {
        let v = serde_json::json!({"name": "</script><script>alert(1)", "label": "<!--<script>",
                                   "amp": "a & b", "lines": "x\u{2028}y\u{2029}z"});
        let s = script_json(&v).unwrap();
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!s.contains(bad), "{bad:?} in {s}");
        }
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v, "the data reads back unchanged");
    }

    #[test]
    fn folder_links_are_relative_paths_whatever_the_name() {
        assert_eq!(folder_href("report"), "./report/index.html");
        assert_eq!(folder_href("javascript:alert(1)"), "./javascript%3Aalert%281%29/index.html");
        assert_eq!(folder_href("a b\"<é"), "./a%20b%22%3C%C3%A9/index.html");
        let html = index(
            "t",
            &[IndexEntry {
                name: "javascript:alert(1)//\"><b>".into(),
                description: String::new(),
                headlines: vec![],
            }],
        )
        .unwrap();
        assert!(html.contains(INDEX_MARK));
        assert!(
            html.contains(r#"href="./javascript%3Aalert%281%29%2F%2F%22%3E%3Cb%3E/index.html""#),
            "{html}"
        );
        assert!(!html.contains("<b>") && !html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn a_page_has_no_url_but_its_own() {
        let page = Page {
            title: "t".into(),
            description: "d <b>".into(),
            produced: "p".into(),
            data: serde_json::json!({"kind": "experiment", "runs": []}),
            tables: vec![],
            heatmaps: vec![],
            strip: None,
        };
        let html = render(&page).unwrap();
        assert!(html.contains("d &lt;b&gt;"), "text is escaped");
        // Nothing that would fetch: no external script, style, image or import (URLs in comments
        // and the SVG namespace are names, not requests; the browser test watches the network).
        for bad in ["src=\"http", "href=\"http", "url(http", "url(//", "@import", "src=\"//"] {
            assert!(!html.contains(bad), "{bad} in the page");
        }
        assert!(!html.contains("<script src") && !html.contains("<link "));
    }
}
