//! The error type of the figure module.

use thiserror::Error;

/// Why a figure could not be drawn or encoded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A size or count that must be positive is zero (`what` names it, e.g. `"k"`, `"scale"`).
    #[error("{what} must be positive, got 0")]
    ZeroSize {
        /// The argument or option that is zero.
        what: &'static str,
    },
    /// A slice does not have the length the other arguments imply.
    #[error("{what} has length {actual}, expected {expected}")]
    LengthMismatch {
        /// The slice whose length is wrong.
        what: &'static str,
        /// The length implied by the other arguments.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// A list that must not be empty is empty.
    #[error("{what} is empty")]
    Empty {
        /// The empty list.
        what: &'static str,
    },
    /// Image number `index` of a list has no pixels.
    #[error("image {index} of {what} is {width}x{height}: images must have pixels")]
    EmptyImage {
        /// The list holding the image.
        what: &'static str,
        /// Position of the image in the list.
        index: usize,
        /// Its width.
        width: usize,
        /// Its height.
        height: usize,
    },
    /// A value to colour is NaN or infinite.
    #[error("value {index} is not finite ({value})")]
    NonFinite {
        /// Position of the value.
        index: usize,
        /// The value itself.
        value: f64,
    },
    /// A fixed value range is not finite or has `min > max`.
    #[error("invalid value range {min}..={max}: bounds must be finite with min <= max")]
    InvalidRange {
        /// Lower bound given.
        min: f64,
        /// Upper bound given.
        max: f64,
    },
    /// The figure would exceed [`MAX_PIXELS`](crate::report::canvas::MAX_PIXELS).
    #[error("figure of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")]
    TooLarge {
        /// Requested width (saturated on overflow).
        width: usize,
        /// Requested height (saturated on overflow).
        height: usize,
        /// The limit.
        max_pixels: usize,
    },
    /// Bytes given as a PNG image do not start with a PNG signature and header.
    #[error("not a PNG image")]
    NotPng,
    /// Sample `index` is in a cluster (or class) outside `0..k`.
    #[error("sample {index} is in cluster {cluster}, expected one below {k}")]
    ClusterOutOfRange {
        /// Position of the sample.
        index: usize,
        /// Its cluster or class.
        cluster: u32,
        /// The number of clusters or classes.
        k: usize,
    },
    /// The data do not hold what the figure shows (`what`: "8-bit images", …).
    #[error("the data set does not hold {what}")]
    NotImages {
        /// What is needed.
        what: &'static str,
    },
    /// The PNG encoder failed.
    #[error("PNG encoding failed")]
    Encode(#[from] png::EncodingError),
    /// Scores could not be computed (labels or clusters out of range).
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// Cluster mean images could not be computed.
    #[error(transparent)]
    Features(#[from] crate::features::FeaturesError),
}
