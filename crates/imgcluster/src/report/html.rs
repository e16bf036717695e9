//! Self-contained HTML reports built from plain data.
//!
//! A [`Report`] is a title and a list of [`Section`]s; each section holds [`Block`]s: key
//! figures in big type, lists of facts, tables (with heat-map cells and small bars),
//! images, grids of captioned images, paragraphs, and columns of blocks side by side.
//! [`Report::to_html`] renders one HTML5 document with its style sheet inline and every
//! image as a base64 `data:` URI: no scripts, no network, no other files. All text is
//! escaped, so labels and file names can hold any character.
//!
//! The functions that turn metrics and data into blocks (confusion matrix, per-class
//! scores, cluster means, misclassified samples) are in [`super::blocks`].
//!
//! # Examples
//! ```
//! use imgcluster::report::html::{Block, Cell, KeyFigure, Report, Section, Table};
//! let report = Report::new("k-means on <digits>")
//!     .section(Section::new("Summary").block(Block::KeyFigures(vec![
//!         KeyFigure::new("accuracy", "53.18%").note("2659 of 5000"),
//!     ])))
//!     .section(Section::new("Classes").block(Block::Table(
//!         Table::new(["class", "recall"]).row([Cell::text("0"), Cell::bar(0.8, "80%")]),
//!     )));
//! let html = report.to_html();
//! assert!(html.starts_with("<!DOCTYPE html>"));
//! assert!(html.contains("k-means on &lt;digits&gt;"));
//! assert!(html.contains("53.18%"));
//! ```

use std::fmt::Write as _;

use super::base64;
use super::canvas::Rgb;
use super::colormap::{Colormap, ValueRange};
use super::error::ReportError;
use super::png::{encode_gray8, encode_rgb8};
use crate::image::GrayView;

/// The style sheet, inlined into every report.
const STYLE: &str = include_str!("html.css");

/// A whole report: a title, an optional subtitle, sections, and an optional footer.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Report {
    /// The document title, also the `<title>`.
    pub title: String,
    /// One line under the title. Default: none.
    pub subtitle: Option<String>,
    /// The sections, in order; a table of contents links to them.
    pub sections: Vec<Section>,
    /// A small line at the end of the page. Default: none.
    pub footer: Option<String>,
}

impl Report {
    /// A report with this title, no subtitle, no sections and no footer.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::html::Report;
    /// let r = Report::new("t");
    /// assert!(r.subtitle.is_none() && r.sections.is_empty() && r.footer.is_none());
    /// ```
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the subtitle.
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }

    /// Appends a section.
    pub fn section(mut self, section: Section) -> Self {
        self.sections.push(section);
        self
    }

    /// Sets the footer.
    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }

    /// The report as one self-contained HTML5 document (UTF-8).
    pub fn to_html(&self) -> String {
        let mut w = Html::default();
        w.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        w.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        w.raw("<title>");
        w.text(&self.title);
        w.raw("</title>\n<style>\n");
        w.raw(STYLE);
        w.raw("</style>\n</head>\n<body>\n<main>\n<header>\n<h1>");
        w.text(&self.title);
        w.raw("</h1>\n");
        if let Some(s) = &self.subtitle {
            w.raw("<p class=\"subtitle\">");
            w.text(s);
            w.raw("</p>\n");
        }
        if self.sections.len() > 1 {
            w.raw("<nav>");
            for (i, s) in self.sections.iter().enumerate() {
                let _ = write!(w.0, "<a href=\"#s{}\">", i + 1);
                w.text(&s.title);
                w.raw("</a>");
            }
            w.raw("</nav>\n");
        }
        w.raw("</header>\n");
        for (i, s) in self.sections.iter().enumerate() {
            s.render(i + 1, &mut w);
        }
        if let Some(f) = &self.footer {
            w.raw("<footer>");
            w.text(f);
            w.raw("</footer>\n");
        }
        w.raw("</main>\n</body>\n</html>\n");
        w.0
    }
}

/// A titled part of a report.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Section {
    /// The heading, also its entry in the table of contents.
    pub title: String,
    /// A short paragraph under the heading. Default: none.
    pub intro: Option<String>,
    /// The content, top to bottom.
    pub blocks: Vec<Block>,
}

impl Section {
    /// An empty section with this heading.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the paragraph under the heading.
    pub fn intro(mut self, intro: impl Into<String>) -> Self {
        self.intro = Some(intro.into());
        self
    }

    /// Appends a block.
    pub fn block(mut self, block: Block) -> Self {
        self.blocks.push(block);
        self
    }

    fn render(&self, number: usize, w: &mut Html) {
        let _ = write!(w.0, "<section id=\"s{number}\">\n<h2>");
        w.text(&self.title);
        w.raw("</h2>\n");
        if let Some(intro) = &self.intro {
            w.raw("<p class=\"intro\">");
            w.text(intro);
            w.raw("</p>\n");
        }
        for b in &self.blocks {
            b.render(w);
        }
        w.raw("</section>\n");
    }
}

/// One piece of content.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Block {
    /// Numbers in big type, side by side (accuracy, NMI, …).
    KeyFigures(Vec<KeyFigure>),
    /// Name–value pairs (data set, parameters).
    Facts(Vec<Fact>),
    /// A table.
    Table(Table),
    /// One image.
    Image(Image),
    /// Rows of captioned images, each row with an optional label on its left.
    ImageGrid(Vec<ImageRow>),
    /// A paragraph.
    Text(String),
    /// Columns side by side (wrapping to one column on narrow screens).
    Columns(Vec<Column>),
}

impl Block {
    fn render(&self, w: &mut Html) {
        match self {
            Block::KeyFigures(figs) => {
                w.raw("<div class=\"keyfigs\">\n");
                for f in figs {
                    w.raw("<div class=\"keyfig\"><div class=\"label\">");
                    w.text(&f.label);
                    w.raw("</div><div class=\"value\">");
                    w.text(&f.value);
                    w.raw("</div>");
                    if let Some(n) = &f.note {
                        w.raw("<div class=\"note\">");
                        w.text(n);
                        w.raw("</div>");
                    }
                    w.raw("</div>\n");
                }
                w.raw("</div>\n");
            }
            Block::Facts(facts) => {
                w.raw("<dl class=\"facts\">\n");
                for f in facts {
                    w.raw("<dt>");
                    w.text(&f.name);
                    w.raw("</dt><dd>");
                    w.text(&f.value);
                    w.raw("</dd>\n");
                }
                w.raw("</dl>\n");
            }
            Block::Table(t) => t.render(w),
            Block::Image(img) => {
                w.raw("<div class=\"figure\">");
                img.render(w);
                w.raw("</div>\n");
            }
            Block::ImageGrid(rows) => {
                w.raw("<div class=\"imagegrid\">\n");
                for row in rows {
                    w.raw("<div class=\"imagerow\">");
                    if let Some(l) = &row.label {
                        w.raw("<div class=\"rowlabel\">");
                        w.text(l);
                        w.raw("</div>");
                    }
                    w.raw("<div class=\"tiles\">");
                    for img in &row.images {
                        img.render(w);
                    }
                    if row.images.is_empty() {
                        w.raw("<span class=\"none\">none</span>");
                    }
                    w.raw("</div></div>\n");
                }
                w.raw("</div>\n");
            }
            Block::Text(t) => {
                w.raw("<p>");
                w.text(t);
                w.raw("</p>\n");
            }
            Block::Columns(cols) => {
                let _ = writeln!(
                    w.0,
                    "<div class=\"columns\" style=\"--cols: {}\">",
                    cols.len().max(1)
                );
                for c in cols {
                    w.raw("<div class=\"column\">\n");
                    if !c.heading.is_empty() {
                        w.raw("<h3>");
                        w.text(&c.heading);
                        w.raw("</h3>\n");
                    }
                    for b in &c.blocks {
                        b.render(w);
                    }
                    w.raw("</div>\n");
                }
                w.raw("</div>\n");
            }
        }
    }
}

/// A number in big type with a label above it and an optional note below.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct KeyFigure {
    /// What the number is ("accuracy").
    pub label: String,
    /// The number as it should read ("53.18%").
    pub value: String,
    /// A line of context ("2659 of 5000"). Default: none.
    pub note: Option<String>,
}

impl KeyFigure {
    /// A key figure without a note.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
            note: None,
        }
    }

    /// Sets the note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// A name and its value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fact {
    /// The name ("samples").
    pub name: String,
    /// The value ("5000").
    pub value: String,
}

impl Fact {
    /// A fact.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// How a table is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TableStyle {
    /// Rows with thin rules, text left, numbers right (the default).
    #[default]
    Rows,
    /// Compact square cells with centred text, for heat maps such as confusion matrices.
    Heatmap,
}

/// A table: a header row, body rows, an optional caption.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Table {
    /// Column headings; empty for no header row.
    pub header: Vec<String>,
    /// The body, row by row; rows may be shorter than the header.
    pub rows: Vec<Vec<Cell>>,
    /// A line under the table. Default: none.
    pub caption: Option<String>,
    /// Layout. Default: [`TableStyle::Rows`].
    pub style: TableStyle,
}

impl Table {
    /// A table with these column headings and no rows.
    pub fn new<I, S>(header: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Appends a row.
    pub fn row(mut self, cells: impl IntoIterator<Item = Cell>) -> Self {
        self.rows.push(cells.into_iter().collect());
        self
    }

    /// Sets the caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Sets the layout.
    pub fn style(mut self, style: TableStyle) -> Self {
        self.style = style;
        self
    }

    fn render(&self, w: &mut Html) {
        let class = match self.style {
            TableStyle::Rows => "rows",
            TableStyle::Heatmap => "heatmap",
        };
        let _ = write!(w.0, "<div class=\"tablewrap\"><table class=\"{class}\">");
        if let Some(c) = &self.caption {
            w.raw("<caption>");
            w.text(c);
            w.raw("</caption>");
        }
        w.raw("\n");
        if !self.header.is_empty() {
            w.raw("<thead><tr>");
            for h in &self.header {
                w.raw("<th scope=\"col\">");
                w.text(h);
                w.raw("</th>");
            }
            w.raw("</tr></thead>\n");
        }
        w.raw("<tbody>\n");
        for row in &self.rows {
            w.raw("<tr>");
            for cell in row {
                cell.render(w);
            }
            w.raw("</tr>\n");
        }
        w.raw("</tbody></table></div>\n");
    }
}

/// One table cell.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Cell {
    /// Text, aligned left.
    Text(String),
    /// A number, aligned right with figures of equal width.
    Number(String),
    /// A row heading.
    Header(String),
    /// Text on a coloured background, in black or white, whichever reads better.
    Shaded {
        /// The text.
        text: String,
        /// The background.
        background: Rgb,
    },
    /// A small horizontal bar filled to `fraction` (clamped to `0..=1`, NaN as 0), then text.
    Bar {
        /// How full the bar is.
        fraction: f64,
        /// The text after the bar.
        text: String,
    },
    /// Nothing.
    Empty,
}

impl Cell {
    /// [`Cell::Text`].
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    /// [`Cell::Number`].
    pub fn number(s: impl Into<String>) -> Self {
        Cell::Number(s.into())
    }

    /// [`Cell::Header`].
    pub fn header(s: impl Into<String>) -> Self {
        Cell::Header(s.into())
    }

    /// [`Cell::Shaded`].
    pub fn shaded(text: impl Into<String>, background: Rgb) -> Self {
        Cell::Shaded {
            text: text.into(),
            background,
        }
    }

    /// [`Cell::Bar`].
    pub fn bar(fraction: f64, text: impl Into<String>) -> Self {
        Cell::Bar {
            fraction,
            text: text.into(),
        }
    }

    fn render(&self, w: &mut Html) {
        match self {
            Cell::Text(t) => {
                w.raw("<td>");
                w.text(t);
                w.raw("</td>");
            }
            Cell::Number(t) => {
                w.raw("<td class=\"num\">");
                w.text(t);
                w.raw("</td>");
            }
            Cell::Header(t) => {
                w.raw("<th scope=\"row\">");
                w.text(t);
                w.raw("</th>");
            }
            Cell::Shaded { text, background } => {
                let fg = background.contrasting();
                let _ = write!(
                    w.0,
                    "<td class=\"shaded\" style=\"background:{};color:{}\">",
                    hex(*background),
                    hex(fg)
                );
                w.text(text);
                w.raw("</td>");
            }
            Cell::Bar { fraction, text } => {
                let f = if fraction.is_nan() {
                    0.0
                } else {
                    fraction.clamp(0.0, 1.0)
                };
                let _ = write!(
                    w.0,
                    "<td class=\"barcell\"><span class=\"bar\"><span style=\"width:{:.1}%\"></span></span>",
                    f * 100.0
                );
                w.raw("<span class=\"bartext\">");
                w.text(text);
                w.raw("</span></td>");
            }
            Cell::Empty => w.raw("<td></td>"),
        }
    }
}

/// Images on one line, with an optional label on its left.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ImageRow {
    /// The label ("true 4"); its first line is emphasised and line breaks (`\n`) are
    /// kept. Default: none.
    pub label: Option<String>,
    /// The images, left to right (wrapping when the line is full).
    pub images: Vec<Image>,
}

impl ImageRow {
    /// A row of these images without a label.
    pub fn new(images: Vec<Image>) -> Self {
        Self {
            label: None,
            images,
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// A PNG image to embed, shown at a given size in CSS pixels.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Image {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Displayed width in CSS pixels (the image shrinks to fit narrow layouts).
    pub width: usize,
    /// Displayed height in CSS pixels.
    pub height: usize,
    /// Text for readers who cannot see the image, also shown as a tooltip. Default: empty.
    pub alt: String,
    /// Text under the image; line breaks (`\n`) are kept. Default: none.
    pub caption: Option<String>,
    /// Upscale with sharp pixels (nearest neighbour) instead of smoothing; right for small
    /// images such as 20×20 digits. Default: false for [`Image::from_png`], true for
    /// [`Image::gray`] and [`Image::colored`].
    pub pixelated: bool,
}

impl Image {
    /// An image from PNG bytes, shown at its own size.
    ///
    /// # Errors
    /// [`ReportError::NotPng`] when `png` does not start with a PNG signature and header.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{encode_gray8, html::Image};
    /// let img = Image::from_png(encode_gray8(3, 2, &[0; 6])?)?;
    /// assert_eq!((img.width, img.height), (3, 2));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn from_png(png: Vec<u8>) -> Result<Self, ReportError> {
        let (width, height) = png_size(&png).ok_or(ReportError::NotPng)?;
        Ok(Self {
            png,
            width,
            height,
            alt: String::new(),
            caption: None,
            pixelated: false,
        })
    }

    /// An 8-bit gray image as it is (0 black, 255 white), shown `scale` times its size
    /// with sharp pixels. The PNG holds the image at its own size, so embedding many small
    /// images stays cheap.
    ///
    /// # Errors
    /// [`ReportError::ZeroSize`] for an empty image or a zero `scale`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::GrayImage;
    /// use imgcluster::report::html::Image;
    /// let digit = GrayImage::new(20, 20);
    /// let img = Image::gray(digit.view(), 3)?;
    /// assert_eq!((img.width, img.height, img.pixelated), (60, 60, true));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn gray(img: GrayView<'_>, scale: usize) -> Result<Self, ReportError> {
        if scale == 0 {
            return Err(ReportError::ZeroSize { what: "scale" });
        }
        let png = encode_gray8(img.width(), img.height(), img.data())?;
        Ok(Self::scaled(png, img.width(), img.height(), scale))
    }

    /// `width` × `height` values coloured like matplotlib's `imshow` with `colormap` over
    /// `range`, shown `scale` times their size with sharp pixels.
    ///
    /// # Errors
    /// [`ReportError::ZeroSize`] for a zero side or `scale`; [`ReportError::LengthMismatch`]
    /// when `values` does not hold `width * height` values; [`ReportError::NonFinite`];
    /// [`ReportError::InvalidRange`].
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{html::Image, Colormap, ValueRange};
    /// let img = Image::colored(&[0.0, 1.0, 2.0, 3.0], 2, 2, Colormap::Viridis, ValueRange::Auto, 10)?;
    /// assert_eq!((img.width, img.height), (20, 20));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn colored(
        values: &[f32],
        width: usize,
        height: usize,
        colormap: Colormap,
        range: ValueRange,
        scale: usize,
    ) -> Result<Self, ReportError> {
        if scale == 0 {
            return Err(ReportError::ZeroSize { what: "scale" });
        }
        let expected = width.saturating_mul(height);
        if values.len() != expected {
            return Err(ReportError::LengthMismatch {
                what: "values",
                expected,
                actual: values.len(),
            });
        }
        let rgb: Vec<u8> = colormap
            .apply(values, range)?
            .into_iter()
            .flat_map(|c| [c.r, c.g, c.b])
            .collect();
        let png = encode_rgb8(width, height, &rgb)?;
        Ok(Self::scaled(png, width, height, scale))
    }

    fn scaled(png: Vec<u8>, width: usize, height: usize, scale: usize) -> Self {
        Self {
            png,
            width: width.saturating_mul(scale),
            height: height.saturating_mul(scale),
            alt: String::new(),
            caption: None,
            pixelated: true,
        }
    }

    /// Sets the alternative text.
    pub fn alt(mut self, alt: impl Into<String>) -> Self {
        self.alt = alt.into();
        self
    }

    /// Sets the caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Sets the displayed size in CSS pixels.
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    fn render(&self, w: &mut Html) {
        w.raw("<figure>");
        let class = if self.pixelated {
            " class=\"pixelated\""
        } else {
            ""
        };
        let _ = write!(
            w.0,
            "<img{class} width=\"{}\" height=\"{}\" alt=\"",
            self.width, self.height
        );
        w.text(&self.alt);
        if !self.alt.is_empty() {
            w.raw("\" title=\"");
            w.text(&self.alt);
        }
        w.raw("\" src=\"data:image/png;base64,");
        w.raw(&base64::encode(&self.png));
        w.raw("\">");
        if let Some(c) = &self.caption {
            w.raw("<figcaption>");
            w.text(c);
            w.raw("</figcaption>");
        }
        w.raw("</figure>\n");
    }
}

/// A column of blocks under an optional heading, for [`Block::Columns`].
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Column {
    /// The heading; empty for none.
    pub heading: String,
    /// The content.
    pub blocks: Vec<Block>,
}

impl Column {
    /// A column with this heading and these blocks.
    pub fn new(heading: impl Into<String>, blocks: Vec<Block>) -> Self {
        Self {
            heading: heading.into(),
            blocks,
        }
    }
}

/// Escapes `s` for HTML text and quoted attribute values.
///
/// # Examples
/// ```
/// use imgcluster::report::html::escape;
/// assert_eq!(escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
///            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// `#rrggbb`.
fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.r, c.g, c.b)
}

/// Width and height from a PNG's signature and IHDR chunk.
fn png_size(png: &[u8]) -> Option<(usize, usize)> {
    if png.len() < 24 || !png.starts_with(b"\x89PNG\r\n\x1a\n") || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    Some((be(&png[16..20]), be(&png[20..24])))
}

/// The document being written: raw markup or escaped text.
#[derive(Default)]
struct Html(String);

impl Html {
    fn raw(&mut self, s: &str) {
        self.0.push_str(s);
    }

    fn text(&mut self, s: &str) {
        push_escaped(&mut self.0, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_pinned() {
        let r = Report::new("x");
        assert_eq!(r.title, "x");
        assert!(r.subtitle.is_none() && r.sections.is_empty() && r.footer.is_none());
        let s = Section::new("s");
        assert!(s.intro.is_none() && s.blocks.is_empty());
        let t = Table::new(["a"]);
        assert_eq!(t.style, TableStyle::Rows);
        assert!(t.rows.is_empty() && t.caption.is_none());
        assert!(KeyFigure::new("a", "b").note.is_none());
        let png = encode_gray8(1, 1, &[0]).unwrap();
        let img = Image::from_png(png).unwrap();
        assert!(!img.pixelated && img.alt.is_empty() && img.caption.is_none());
    }

    #[test]
    fn bars_are_clamped() {
        let mut w = Html::default();
        Cell::bar(1.7, "x").render(&mut w);
        Cell::bar(f64::NAN, "y").render(&mut w);
        Cell::bar(-1.0, "z").render(&mut w);
        assert_eq!(w.0.matches("width:100.0%").count(), 1);
        assert_eq!(w.0.matches("width:0.0%").count(), 2);
    }

    #[test]
    fn png_size_reads_the_header() {
        let png = encode_rgb8(7, 3, &[0; 63]).unwrap();
        assert_eq!(png_size(&png), Some((7, 3)));
        assert_eq!(png_size(b"GIF89a"), None);
        assert!(matches!(
            Image::from_png(b"\x89PNG".to_vec()),
            Err(ReportError::NotPng)
        ));
    }
}
