//! Image data sets: an in-memory [`Dataset`] and loaders for the formats people have.
//!
//! [`open`] reads any of them, recognising the format from the content ([`sniff`]):
//!
//! * [`grid`] — an OpenCV-style "grid" PNG (such as `digits.png`), and the embedded digits.
//! * [`npy`] — NumPy `.npy` arrays (N×D or N×H×W; u8, f32 or f64) and label arrays.
//! * [`idx`] — MNIST's IDX files (images and labels), plain or gzipped.
//! * [`folder`] — a folder with one sub-folder of PNG/JPEG images per class (torchvision's
//!   `ImageFolder`), with class names.
//! * [`csv`] — CSV files, one sample per row, with an optional header and label column.
//!
//! Helpers: [`pngio`] and [`imageio`] decode PNG and JPEG files to 8-bit gray, [`resize`]
//! brings images to one size.

pub mod csv;
mod error;
pub mod folder;
pub mod grid;
pub mod idx;
pub mod imageio;
pub mod memory;
pub mod npy;
mod open;
pub mod pngio;
pub mod resize;
mod samples;

pub use error::DatasetError;
pub use open::{open, open_labels, sniff, Format, OpenOptions};
pub use samples::{Dataset, Pixels, Split};
