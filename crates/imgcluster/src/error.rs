//! The library's error type: one enum per module, folded into [`Error`].

use thiserror::Error as ThisError;

/// Any error the library returns.
#[derive(Debug, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// Invalid k-means parameters or data.
    #[error(transparent)]
    KMeans(#[from] crate::kmeans::KMeansError),
    /// An image operation got invalid input.
    #[error(transparent)]
    Imgproc(#[from] crate::imgproc::ImgprocError),
    /// A data set could not be read or is malformed.
    #[error(transparent)]
    Dataset(#[from] crate::dataset::DatasetError),
    /// Metrics got inconsistent input.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
    /// A figure or report could not be produced.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// An image could not be decoded or quantized.
    #[error(transparent)]
    Quantize(#[from] crate::quantize::QuantizeError),
    /// A feature pipeline got invalid input.
    #[error(transparent)]
    Features(#[from] crate::features::FeaturesError),
    /// A model could not be read, or does not fit the data.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
}

/// `Result` with the library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A number for an error message, short whatever its size: `0.6`, `-1`, `1e308`, `2.5e-9`.
///
/// Rust's `{}` writes `1e308` with 309 digits; this writes large and tiny magnitudes in
/// scientific notation and the others as `{}` does.
///
/// # Examples
/// ```
/// use imgcluster::error::show_f64;
/// assert_eq!(show_f64(1e308), "1e308");
/// assert_eq!(show_f64(0.6), "0.6");
/// assert_eq!(show_f64(-1.0), "-1");
/// assert_eq!(show_f64(f64::NAN), "NaN");
/// ```
pub fn show_f64(x: f64) -> String {
    let a = x.abs();
    if a.is_finite() && a != 0.0 && !(1e-5..1e16).contains(&a) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}
