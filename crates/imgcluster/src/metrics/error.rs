//! The error type of the metrics module.

use thiserror::Error;

/// Errors returned by the metrics module.
///
/// Every variant carries the data needed to locate the problem in the caller's input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// There are no samples: scores are undefined on empty input.
    #[error("no samples: metrics need at least one labelled sample")]
    Empty,
    /// The true labels and the predicted labels (classes or cluster ids) differ in length.
    #[error("length mismatch: {truth} true labels but {predicted} predicted labels")]
    LengthMismatch {
        /// Number of true labels.
        truth: usize,
        /// Number of predicted labels (classes or cluster ids).
        predicted: usize,
    },
    /// A true label is not below the number of classes.
    #[error("true label {label} at index {index} is out of range: there are {n_classes} classes")]
    TruthOutOfRange {
        /// Position of the offending label.
        index: usize,
        /// The offending label.
        label: u32,
        /// Number of classes; labels must be in `0..n_classes`.
        n_classes: usize,
    },
    /// A predicted class is not below the number of classes.
    #[error(
        "predicted class {label} at index {index} is out of range: there are {n_classes} classes"
    )]
    PredictedOutOfRange {
        /// Position of the offending label.
        index: usize,
        /// The offending label.
        label: u32,
        /// Number of classes; predicted classes must be in `0..n_classes`.
        n_classes: usize,
    },
    /// A cluster id is not below the number of clusters.
    #[error("cluster id {label} at index {index} is out of range: there are {k} clusters")]
    ClusterOutOfRange {
        /// Position of the offending cluster id.
        index: usize,
        /// The offending cluster id.
        label: u32,
        /// Number of clusters; cluster ids must be in `0..k`.
        k: usize,
    },
    /// A cluster→class mapping sends a cluster to a class that does not exist.
    #[error("mapping sends cluster {cluster} to class {class}, but there are {n_classes} classes")]
    MappedClassOutOfRange {
        /// The cluster whose class is out of range.
        cluster: usize,
        /// The offending class.
        class: u32,
        /// Number of classes.
        n_classes: usize,
    },
    /// A mapping and a contingency table disagree on the number of clusters or classes.
    #[error(
        "mapping is for {mapping_k} clusters and {mapping_classes} classes, \
         but the table has {table_k} clusters and {table_classes} classes"
    )]
    MappingMismatch {
        /// Clusters in the mapping.
        mapping_k: usize,
        /// Classes in the mapping.
        mapping_classes: usize,
        /// Clusters in the table.
        table_k: usize,
        /// Classes in the table.
        table_classes: usize,
    },
    /// A flat array of counts does not have `rows × cols` entries.
    #[error("expected {expected} counts ({rows} × {cols}), got {actual}")]
    ShapeMismatch {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
        /// `rows × cols`.
        expected: usize,
        /// Number of counts given.
        actual: usize,
    },
    /// Counts add up to more than `max` samples (see
    /// [`MAX_SAMPLES`](super::MAX_SAMPLES)).
    #[error("counts add up to more than {max} samples")]
    TooManySamples {
        /// The largest total allowed.
        max: u64,
    },
    /// A table of `rows × cols` counts is too large to allocate.
    #[error("a {rows} × {cols} table of counts is too large to allocate")]
    TableTooLarge {
        /// Number of rows.
        rows: usize,
        /// Number of columns.
        cols: usize,
    },
}
