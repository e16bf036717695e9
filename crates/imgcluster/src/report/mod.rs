//! Figures as PNG bytes (cluster centers, image grids, deskew strips, confusion heat maps)
//! and self-contained HTML reports ([`html`], with content from [`blocks`]).
//!
//! For a scored fit ([`ScoredFit`](crate::model::ScoredFit)) the whole page is one call:
//! [`fit_report`] (what `imgcluster classify --report` writes), [`tutorial_report`] (two
//! fits side by side), [`predict_report`] (a prediction run); [`fit_figures`] gives its
//! PNG figures.
//!
//! Every figure is a function that returns the bytes of an 8-bit RGB PNG; writing files is
//! the caller's business. Figures are deterministic (same input, same bytes), images are
//! upscaled by an integer factor with nearest-neighbour sampling, and values are coloured
//! exactly as matplotlib's `imshow` colours them ([`Colormap`]). Labels use an embedded
//! bitmap font ([`font`]), so no font files or system libraries are involved.

mod base64;
pub mod blocks;
pub mod canvas;
pub mod colormap;
mod error;
pub mod figures;
mod fit_figures;
pub mod font;
pub mod heatmap;
pub mod html;
mod pages;
mod png;
mod viridis;

pub use canvas::{Canvas, Rgb};
pub use colormap::{Colormap, ValueRange};
pub use error::ReportError;
pub use figures::{centers_grid, deskew_strip, image_grid, GridOptions, TileStyle};
pub use fit_figures::{deskew_examples, fit_figures};
pub use heatmap::{confusion_heatmap, HeatmapOptions};
pub use pages::{fit_report, predict_report, tutorial_report, PredictView, Timings};
pub use png::{encode_gray8, encode_rgb8};
