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
//! [`open_mapped`] maps a u8 or f32 `.npy` array instead of reading it ([`MappedNpy`]), for
//! data larger than the memory.
//!
//! Helpers: [`pngio`] and [`imageio`] decode PNG and JPEG files to 8-bit gray, [`resize`]
//! brings images to one size.

pub mod csv;
mod error;
pub mod folder;
pub mod grid;
pub mod idx;
pub mod imageio;
pub mod input;
mod mapped;
pub mod memory;
pub mod npy;
mod open;
pub mod pngio;
pub mod resize;
mod samples;

pub use error::DatasetError;
pub use mapped::{open_mapped, open_mapped_part, MappedNpy, MappedValues};
pub use open::{
    open, open_input, open_labels, open_labels_for, sniff, sniff_input, Format, OpenOptions,
};
pub use samples::{dense_labels, Dataset, Pixels, Split};
