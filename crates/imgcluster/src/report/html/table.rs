//! Tables: rows of text, numbers, heat-map cells and small bars.

use std::fmt::Write as _;

use super::writer::Html;
use crate::report::canvas::Rgb;

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

    pub(super) fn render(&self, w: &mut Html) {
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

    pub(super) fn render(&self, w: &mut Html) {
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
/// `#rrggbb`.
fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c.r, c.g, c.b)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_pinned() {
        let t = Table::new(["a"]);
        assert_eq!(t.header, ["a"]);
        assert_eq!(t.style, TableStyle::Rows);
        assert!(t.rows.is_empty() && t.caption.is_none());
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
}
