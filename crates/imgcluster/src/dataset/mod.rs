//! Image data sets: an in-memory [`Dataset`] and loaders for the formats people have.
//!
//! * [`grid`] — an OpenCV-style "grid" PNG (such as `digits.png`), and the embedded digits.
//! * [`npy`] — NumPy `.npy` arrays (N×D or N×H×W; u8, f32 or f64) and label arrays.
//! * [`pngio`] — decoding any PNG to 8-bit gray.

mod error;
pub mod grid;
pub mod npy;
pub mod pngio;
mod samples;

pub use error::DatasetError;
pub use samples::{Dataset, Pixels, Split};
