//! The error type of the image operations.

/// Errors of the image operations ([`warp_affine`](super::warp_affine),
/// [`deskew`](super::deskew), [`DeskewParams::check`](super::DeskewParams::check)).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ImgprocError {
    /// An entry of an affine matrix is NaN or infinite.
    #[error("affine matrix entry ({row}, {col}) is not finite: {value}")]
    NonFiniteMatrix {
        /// Row of the entry (0 or 1).
        row: usize,
        /// Column of the entry (0, 1 or 2).
        col: usize,
        /// The offending value.
        value: f64,
    },
    /// A caller's output buffer does not have the required length.
    #[error("output buffer holds {actual} bytes, but {width}x{height} = {expected} are needed")]
    BufferSize {
        /// Width of the output image.
        width: usize,
        /// Height of the output image.
        height: usize,
        /// Required length (`width * height`).
        expected: usize,
        /// Length of the buffer that was passed.
        actual: usize,
    },
    /// An image size whose pixel count overflows `usize`.
    #[error("image size {width}x{height} is too large")]
    ImageTooLarge {
        /// Requested width.
        width: usize,
        /// Requested height.
        height: usize,
    },
    /// A parameter is outside its valid range.
    #[error("parameter `{name}` = {} is invalid: {reason}", crate::error::show_f64(*.value))]
    InvalidParam {
        /// Name of the parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the parameter must satisfy.
        reason: &'static str,
    },
}
