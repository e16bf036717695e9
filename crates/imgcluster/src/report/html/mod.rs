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
//! Files: `document` (report, sections, blocks), `table`, `image`, `writer` (escaping), and
//! the style sheet `style.css`.
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

mod document;
mod image;
mod table;
mod writer;

pub use document::{Block, Column, Fact, KeyFigure, Report, Section};
pub use image::{Image, ImageRow};
pub use table::{Cell, Table, TableStyle};
pub use writer::escape;
