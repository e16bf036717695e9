//! Errors of the k-means module.

use thiserror::Error;

/// Invalid k-means parameters or data.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum KMeansError {
    /// The number of clusters is zero.
    #[error("the number of clusters k must be at least 1")]
    ZeroClusters,
    /// The number of attempts is zero.
    #[error("the number of attempts must be at least 1")]
    ZeroAttempts,
    /// The termination epsilon is NaN, infinite, or so large that its square overflows.
    #[error(
        "termination epsilon {} is not usable (NaN, infinite, or its square overflows)",
        crate::error::show_f64(*.epsilon)
    )]
    InvalidEpsilon {
        /// The epsilon given.
        epsilon: f64,
    },
    /// An initial label is not smaller than `k`.
    #[error("initial label {label} of sample {index} is out of range for k = {k}")]
    InitialLabelOutOfRange {
        /// Index of the sample.
        index: usize,
        /// Its label.
        label: u32,
        /// The number of clusters.
        k: usize,
    },
    /// The number of initial labels is not the number of samples.
    #[error("{got} initial labels given for {expected} samples")]
    InitialLabelsLength {
        /// The number of samples.
        expected: usize,
        /// The number of labels given.
        got: usize,
    },
    /// The sample dimension is zero.
    #[error("the sample dimension must be at least 1")]
    ZeroDims,
    /// The data length is not a multiple of the sample dimension.
    #[error("data of length {len} is not a whole number of samples of dimension {dims}")]
    RaggedData {
        /// Length of the data slice.
        len: usize,
        /// The sample dimension.
        dims: usize,
    },
    /// Fewer samples than clusters.
    #[error("{n} samples are too few for k = {k} clusters")]
    TooFewSamples {
        /// The number of samples.
        n: usize,
        /// The number of clusters.
        k: usize,
    },
    /// More samples than OpenCV's `int` indexing allows (`i32::MAX`).
    #[error("{n} samples are more than k-means supports ({max})", max = i32::MAX)]
    TooManySamples {
        /// The number of samples.
        n: usize,
    },
    /// A data value is NaN or infinite.
    #[error("data value at sample {row}, feature {col} is NaN or infinite")]
    NonFinite {
        /// Sample index.
        row: usize,
        /// Feature index within the sample.
        col: usize,
    },
    /// [`Init::Samples`](super::Init::Samples), [`Init::Centers`](super::Init::Centers) or
    /// [`Init::Parallel`](super::Init::Parallel) was asked for in
    /// [`Mode::OpenCv`](super::Mode::OpenCv), which OpenCV does not have.
    #[error("this initialisation exists only in fast mode")]
    InitNeedsFastMode,
    /// [`Init::Parallel`](super::Init::Parallel) with no rounds or an oversampling factor
    /// that is not a finite positive number.
    #[error(
        "k-means|| needs at least 1 round and a finite oversampling factor > 0 (got {rounds} \
         rounds, factor {})",
        crate::error::show_f64(*.oversampling)
    )]
    InvalidParallelInit {
        /// The rounds asked for.
        rounds: usize,
        /// The oversampling factor asked for.
        oversampling: f64,
    },
    /// A given initial center value is NaN or infinite.
    #[error("initial center value {index} is NaN or infinite")]
    NonFiniteCenter {
        /// Index in the row-major `k × dims` centers.
        index: usize,
    },
    /// The given initial centers are not `k × dims` values.
    #[error("{got} initial center values given, expected k x dims = {expected}")]
    InitialCentersLength {
        /// `k * dims`.
        expected: usize,
        /// The number given.
        got: usize,
    },
    /// A mini-batch setting is out of range.
    #[error("invalid mini-batch {name}: {reason}")]
    InvalidMiniBatch {
        /// The setting.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// Mini-batch k-means was asked for in [`Mode::OpenCv`](super::Mode::OpenCv): it uses
    /// fast mode's arithmetic and has no OpenCV counterpart.
    #[error("mini-batch k-means exists only in fast mode")]
    MiniBatchNeedsFastMode,
    /// [`Init::Labels`](super::Init::Labels) was given to mini-batch k-means, which seeds
    /// from a sample of the data.
    #[error("initial labels do not apply to mini-batch k-means")]
    InitNotForMiniBatch,
    /// Sample weights were given to [`Mode::OpenCv`](super::Mode::OpenCv) parameters.
    #[error("sample weights exist only in fast mode")]
    WeightsNeedFastMode,
    /// A sample weight is negative, NaN or infinite.
    #[error(
        "sample weight {} of sample {index} is not a finite non-negative number",
        crate::error::show_f64(*.weight)
    )]
    InvalidWeight {
        /// The sample.
        index: usize,
        /// Its weight.
        weight: f64,
    },
    /// Every sample weight is zero.
    #[error("the sample weights are all zero: at least one must be positive")]
    ZeroWeights,
    /// The number of sample weights is not the number of samples.
    #[error("{got} sample weights given for {expected} samples")]
    SampleWeightsLength {
        /// Samples.
        expected: usize,
        /// Weights.
        got: usize,
    },
    /// Fewer samples have a positive weight than there are clusters.
    #[error("{n} samples have a positive weight, too few for k = {k} clusters")]
    TooFewWeighted {
        /// Samples of positive weight.
        n: usize,
        /// Clusters.
        k: usize,
    },
    /// Mini-batch k-means was given sample weights.
    #[error("sample weights do not apply to mini-batch k-means")]
    WeightsNotForMiniBatch,
    /// A distributed fit ([`fit_distributed`](super::fit_distributed)) was asked for
    /// something it does not do.
    #[error("distributed k-means does not support {what}")]
    NotDistributed {
        /// What was asked for.
        what: &'static str,
    },
    /// A distributed fit stopped because another rank failed; that rank reports why.
    #[error("rank {rank} failed (its own error says why); every rank stops")]
    RankFailed {
        /// The first rank that failed.
        rank: usize,
    },
    /// A rank of a distributed fit holds no rows.
    #[error("rank {rank} holds no rows (use fewer processes than samples)")]
    EmptyRank {
        /// The rank.
        rank: usize,
    },
    /// Squared distances overflowed `f32` (the data values are too large), so no
    /// center or attempt could be chosen. OpenCV fails (or returns garbage) here too.
    #[error("squared distances overflow f32; scale the data down")]
    DistanceOverflow,
}
