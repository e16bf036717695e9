//! The error type of the feature stages and pipelines.

use crate::dataset::DatasetError;
use crate::imgproc::ImgprocError;
use crate::kmeans::KMeansError;

/// Errors of the feature stages ([`HogSpec`](super::HogSpec), [`Pca`](super::Pca),
/// [`KnnGraph`](super::KnnGraph), [`SpectralEmbedding`](super::SpectralEmbedding)) and of
/// [`Pipeline`](super::Pipeline).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeaturesError {
    /// The stage needs images but the data set holds plain vectors (or the wrong pixel type).
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// An image operation failed.
    #[error(transparent)]
    Imgproc(#[from] ImgprocError),
    /// The final k-means step failed.
    #[error(transparent)]
    KMeans(#[from] KMeansError),
    /// A parameter is outside its valid range.
    #[error("parameter `{name}` is invalid: {reason}")]
    InvalidParam {
        /// Name of the parameter.
        name: &'static str,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// Images too small for a stage (HOG needs at least 2×2 pixels for its gradients).
    #[error("{stage} needs images of at least {min}x{min} pixels, got {height}x{width}")]
    ImageTooSmall {
        /// The stage that refused the images.
        stage: &'static str,
        /// Image height.
        height: usize,
        /// Image width.
        width: usize,
        /// Smallest accepted side.
        min: usize,
    },
    /// Too few samples for a stage.
    #[error("{stage} needs at least {needed} samples, got {n}")]
    TooFewSamples {
        /// The stage that refused the data.
        stage: &'static str,
        /// Number of samples given.
        n: usize,
        /// Smallest accepted number.
        needed: usize,
    },
    /// A data buffer whose length is not `n × dims`, or whose width differs from what a
    /// fitted stage expects.
    #[error("{stage}: {len} values do not form rows of {dims}")]
    Shape {
        /// The stage that refused the data.
        stage: &'static str,
        /// Length of the buffer.
        len: usize,
        /// Expected values per row.
        dims: usize,
    },
    /// A NaN or infinite input value (first in row-major order).
    #[error("{stage}: value at row {row}, column {col} is not finite")]
    NonFinite {
        /// The stage that refused the data.
        stage: &'static str,
        /// Row of the value.
        row: usize,
        /// Column of the value.
        col: usize,
    },
    /// An eigensolver did not converge.
    #[error("{stage}: the eigensolver found {found} of the {wanted} eigenvectors asked for")]
    NotConverged {
        /// The stage whose eigensolver failed.
        stage: &'static str,
        /// Eigenvectors found.
        found: usize,
        /// Eigenvectors asked for.
        wanted: usize,
    },
}

/// Checks that `data` holds whole rows of `dims` finite values and returns the row count.
pub(crate) fn check_rows<T: Copy + Into<f64>>(
    stage: &'static str,
    data: &[T],
    dims: usize,
) -> Result<usize, FeaturesError> {
    if dims == 0 || !data.len().is_multiple_of(dims) {
        return Err(FeaturesError::Shape {
            stage,
            len: data.len(),
            dims,
        });
    }
    if let Some(i) = data.iter().position(|&x| !x.into().is_finite()) {
        return Err(FeaturesError::NonFinite {
            stage,
            row: i / dims,
            col: i % dims,
        });
    }
    Ok(data.len() / dims)
}
