//! Feature stages and pipelines: what is done to the images before, and around, k-means.
//!
//! * [`preprocess`] / [`FeatureKind`] — the tutorial's image stage (raw or deskewed pixels).
//! * [`HogOptions`] → [`HogSpec`] → [`hog_features`] — histograms of oriented gradients.
//! * [`Pca`] — centred principal component analysis (`faer` eigensolver).
//! * [`cosine_neighbours`], [`KnnGraph`] — exact cosine kNN lists and the self-tuning,
//!   symmetric kNN graph; [`KnnGraph::normalized_cut`] scores a partition on it.
//! * [`SpectralEmbedding`] — the leading eigenvectors of the normalised graph.
//! * [`PipelineParams`] → [`Pipeline`] → [`Pipeline::fit`] →
//!   [`FittedPipeline`](crate::model::FittedPipeline) — the stages composed, with the
//!   [`Preset`]s of the ablation from OpenCV's tutorial to the best pipeline; the fitted
//!   pipeline predicts new samples, through [`GraphExtension`] for the spectral stage.
//! * [`cluster_means`] — the mean image of each cluster.
//!
//! Every stage takes its parallelism as a [`Threads`](crate::Threads) value and gives the
//! same result for any thread count.

mod error;
mod hog;
mod knn;
mod linalg;
mod means;
mod nystrom;
mod pca;
mod pipeline;
mod preprocess;
mod spectral;

pub use error::FeaturesError;
pub use hog::{
    hog_features, normalize_in_place, upscale_cubic, Binning, Cells, HogOptions, HogSpec,
    Normalize, Orientation, Pooling, DEFAULT_MIN_SIDE,
};
pub use knn::{cosine_neighbours, KnnGraph, KnnOptions, Neighbours, Union};
pub use means::cluster_means;
pub use nystrom::{GraphExtension, GraphExtensionParts};
pub use pca::{Pca, PcaOptions, Whiten};
pub use pipeline::{
    Deskew, DeskewDecision, Embedded, GraphStage, Pipeline, PipelineParams, Preset, Stage,
    StageObserver, StageTimes,
};
pub use preprocess::{preprocess, FeatureKind};
pub use spectral::{SpectralEmbedding, SpectralOptions};
