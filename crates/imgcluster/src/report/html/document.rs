//! The document: report, sections, blocks, key figures, facts, columns.

use std::fmt::Write as _;

use super::image::{Image, ImageRow};
use super::table::Table;
use super::writer::Html;

/// The style sheet, inlined into every report.
const STYLE: &str = include_str!("style.css");

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

    pub(super) fn render(&self, number: usize, w: &mut Html) {
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
    pub(super) fn render(&self, w: &mut Html) {
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
        assert!(KeyFigure::new("a", "b").note.is_none());
        assert!(Column::new("", vec![]).blocks.is_empty());
    }
}
