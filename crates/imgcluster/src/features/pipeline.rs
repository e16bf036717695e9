//! Pipelines: images in, clusters out, through composable stages.
//!
//! ```text
//! images ─[deskew?]─ pixels or HOG ─[PCA]─ ─[kNN graph → spectral embedding]─ k-means
//! ```
//!
//! Every stage is optional and documented with its rule in its own module
//! ([`HogSpec`](super::HogSpec), [`Pca`](super::Pca), [`KnnGraph`](super::KnnGraph),
//! [`SpectralEmbedding`](super::SpectralEmbedding)). [`Preset`] names the four pipelines of
//! the ablation, from OpenCV's tutorial to the best one:
//!
//! | preset | stages |
//! |---|---|
//! | [`Preset::TutorialRaw`] | pixels → k-means (the tutorial's settings) |
//! | [`Preset::TutorialDeskew`] | deskew (factor 0.6) → pixels → k-means (the tutorial's settings) |
//! | [`Preset::Hog`] | deskew (factor 0.5) → HOG → k-means++ |
//! | [`Preset::Best`] | deskew decided by the data → HOG → PCA → kNN graph → spectral embedding → k-means++ → label smoothing |
//!
//! With [`Deskew::Auto`] the stages run twice, with and without deskew, and the partition
//! with the smaller normalised cut (each measured on its own kNN graph) is kept.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{
    cosine_neighbours, hog_features, preprocess, FeatureKind, FeaturesError, GraphExtension,
    HogOptions, HogSpec, KnnGraph, KnnOptions, Pca, PcaOptions, SpectralEmbedding, SpectralOptions,
    Whiten,
};
use crate::dataset::{Dataset, Pixels};
use crate::image::GrayView;
use crate::imgproc::Polarity;
use crate::imgproc::{DeskewParams, DeskewValidParams};
use crate::kmeans::{
    CheckedKMeansParams, CheckedMiniBatchParams, Data, Init, KMeansFit, KMeansParams,
    MiniBatchParams, NearestCenter, TermCriteria,
};
use crate::model::{
    quantile, FitRecord, FittedPipeline, InputKind, KMeansRecord, MiniBatchInfo, OodRule, Training,
    TrainingInfo,
};
use crate::rng::CvRng;
use crate::threads::Threads;

/// The named pipelines of the ablation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// OpenCV's tutorial: k-means on the raw pixels (random centers, 10 attempts, at most
    /// 10 iterations, epsilon 1.0).
    TutorialRaw,
    /// OpenCV's tutorial after its deskew (shift factor 0.6).
    TutorialDeskew,
    /// Deskew about the image centre (factor 0.5), the HOG of [`HogOptions::new`] at the
    /// given image size (no upscale), k-means with k-means++ centers (10 attempts, up to 100
    /// iterations, OpenCV's default epsilon).
    Hog,
    /// [`Preset::Hog`]'s features (images under 16 pixels upscaled first,
    /// [`HogOptions::min_side`]), then PCA ([`PcaOptions::new`] with [`Whiten::Half`]), the
    /// kNN graph ([`KnnOptions::new`]: fuzzy union), the spectral embedding
    /// ([`SpectralOptions::new`]: eigenvalue weighting `λ^10`) in `2K` dimensions, k-means
    /// as in [`Preset::Hog`], then one round of label smoothing on the graph
    /// ([`GraphStage::default`]); deskew or not is decided by the normalised cut
    /// ([`Deskew::Auto`]).
    Best,
}

impl Preset {
    /// All presets, from the tutorial to the best.
    pub const ALL: [Preset; 4] = [
        Preset::TutorialRaw,
        Preset::TutorialDeskew,
        Preset::Hog,
        Preset::Best,
    ];

    /// The preset's name on the command line: `tutorial-raw`, `tutorial-deskew`, `hog`, `best`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::TutorialRaw => "tutorial-raw",
            Preset::TutorialDeskew => "tutorial-deskew",
            Preset::Hog => "hog",
            Preset::Best => "best",
        }
    }

    /// A one-line description of the stages.
    pub fn stages(self) -> &'static str {
        match self {
            Preset::TutorialRaw => "raw pixels + k-means (tutorial settings)",
            Preset::TutorialDeskew => "deskew + k-means (tutorial settings)",
            Preset::Hog => "deskew + HOG + k-means++",
            Preset::Best => "HOG + PCA + kNN graph + spectral + k-means++ + smoothing",
        }
    }
}

/// A stage of a pipeline's fit, as [`StageObserver`]s are told of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Deskewing the images.
    Deskew,
    /// HOG descriptors (or reading the pixels).
    Features,
    /// PCA fit and projection.
    Pca,
    /// The kNN graph.
    Knn,
    /// The spectral embedding.
    Spectral,
    /// k-means.
    KMeans,
    /// The normalised cut of the partition.
    Ncut,
}

impl Stage {
    /// A short name: `deskew`, `HOG`, `PCA`, `kNN graph`, `spectral embedding`,
    /// `k-means`, `normalised cut`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Deskew => "deskew",
            Stage::Features => "HOG",
            Stage::Pca => "PCA",
            Stage::Knn => "kNN graph",
            Stage::Spectral => "spectral embedding",
            Stage::KMeans => "k-means",
            Stage::Ncut => "normalised cut",
        }
    }
}

/// Told when each stage of a fit starts, for a progress display; it never changes a
/// result. Under [`Deskew::Auto`] the two variants run side by side, and `deskewed` says
/// which one a stage belongs to (`None` when the pipeline runs one variant).
pub trait StageObserver: Send + Sync {
    /// `stage` starts.
    fn stage(&self, stage: Stage, deskewed: Option<bool>);
}

/// The pipeline's optional observer: equal when it is the same one.
#[derive(Clone, Default)]
struct ObserverSink(Option<Arc<dyn StageObserver>>);

impl ObserverSink {
    fn tell(&self, stage: Stage, deskewed: Option<bool>) {
        if let Some(o) = &self.0 {
            o.stage(stage, deskewed);
        }
    }
}

impl PartialEq for ObserverSink {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl std::fmt::Debug for ObserverSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ObserverSink(Some(..))"
        } else {
            "ObserverSink(None)"
        })
    }
}

/// Whether the images are deskewed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deskew {
    /// No deskew.
    #[default]
    Off,
    /// Always deskew.
    On,
    /// Run the pipeline with and without deskew and keep the partition with the smaller
    /// normalised cut (deskew wins ties). Needs the graph stage.
    Auto,
}

/// The graph stages: the kNN graph and the spectral embedding built on it.
///
/// # Examples
/// ```
/// use imgcluster::features::GraphStage;
///
/// assert_eq!(GraphStage::default().dims_per_cluster, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GraphStage {
    /// The kNN graph.
    pub knn: KnnOptions,
    /// The embedding.
    pub spectral: SpectralOptions,
    /// Dimensions of the embedding per cluster: a pipeline of `K` clusters embeds in
    /// `min(dims_per_cluster · K, N)` dimensions (at least 1).
    ///
    /// Why 2: the eigenvectors past the `K`-th still separate classes that the first `K`
    /// merge (two digits drawn alike, a class with two styles); weighted by their
    /// eigenvalues ([`SpectralOptions::power`]) they add that without drowning the first
    /// `K`. Unweighted, `2K` dimensions were much worse than `K` on the digits.
    pub dims_per_cluster: usize,
    /// Rounds of label smoothing on the graph after k-means
    /// ([`KnnGraph::smooth_labels`]; 0: none). The centers are then the means of the
    /// smoothed clusters in the embedding, so prediction agrees with them.
    ///
    /// Why: k-means cuts the embedding with flat boundaries, and a sample near one that
    /// most of its graph neighbours lie beyond is on the wrong side; the graph knows
    /// better than the embedding there. One round moves only such samples, by their
    /// own neighbourhood, whatever the image size or class count.
    pub smoothing_rounds: usize,
}

impl Default for GraphStage {
    fn default() -> Self {
        Self {
            knn: KnnOptions::new(),
            spectral: SpectralOptions::new(),
            dims_per_cluster: 2,
            smoothing_rounds: 1,
        }
    }
}

/// Smooths the partition of `fit` on `graph` for `rounds` rounds; when a label changes,
/// each center becomes the mean of its cluster's rows of `x` (an emptied cluster keeps
/// its center) and the compactness is measured again with the fit's distance.
fn smooth(
    fit: &mut KMeansFit,
    graph: &KnnGraph,
    x: &[f32],
    rounds: usize,
) -> Result<(), FeaturesError> {
    let labels = graph.smooth_labels(&fit.labels, fit.k, rounds)?;
    if labels == fit.labels {
        return Ok(());
    }
    let d = fit.dims;
    let mut sums = vec![0.0f64; fit.k * d];
    let mut counts = vec![0usize; fit.k];
    for (row, &c) in x.chunks_exact(d).zip(&labels) {
        counts[c as usize] += 1;
        for (s, &v) in sums[c as usize * d..][..d].iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    for (c, &count) in counts.iter().enumerate() {
        if count > 0 {
            for (dst, s) in fit.centers[c * d..][..d]
                .iter_mut()
                .zip(&sums[c * d..][..d])
            {
                *dst = (s / count as f64) as f32;
            }
        }
    }
    let nearest = NearestCenter::new(fit.mode, &fit.centers, d);
    fit.compactness = x
        .chunks_exact(d)
        .zip(&labels)
        .map(|(row, &c)| f64::from(nearest.distance(row, c as usize)))
        .sum();
    fit.labels = labels;
    Ok(())
}

/// Unchecked pipeline parameters; [`PipelineParams::check`] makes a [`Pipeline`].
///
/// # Examples
/// ```
/// use imgcluster::features::{Deskew, PipelineParams, Preset};
///
/// let p = PipelineParams::preset(Preset::Best, 10).check()?;
/// assert_eq!(p.deskew(), Deskew::Auto);
/// assert!(p.hog().is_some() && p.pca().is_some() && p.graph().is_some());
/// assert_eq!(p.kmeans().k(), 10);
/// # Ok::<(), imgcluster::features::FeaturesError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineParams {
    deskew: Deskew,
    deskew_params: DeskewParams,
    hog: Option<HogOptions>,
    pca: Option<PcaOptions>,
    graph: Option<GraphStage>,
    kmeans: KMeansParams,
    minibatch: Option<MiniBatchParams>,
    preset: Option<Preset>,
    threads: Threads,
    observer: ObserverSink,
}

/// Deskew parameters shearing about the image centre (factor 0.5), as the HOG pipelines use.
fn centred_deskew() -> DeskewParams {
    DeskewParams::new().factor(0.5)
}

/// k-means of the HOG pipelines: k-means++, 10 attempts, OpenCV's default criteria
/// (100 iterations, epsilon `f32::EPSILON`).
fn kmeans_pp(k: usize) -> KMeansParams {
    KMeansParams::new(k)
        .term(TermCriteria::new())
        .attempts(10)
        .init(Init::PlusPlus)
}

impl PipelineParams {
    /// k-means on the raw pixels with the tutorial's settings (the same as
    /// [`Preset::TutorialRaw`]), on [`Threads::Auto`].
    pub fn new(k: usize) -> Self {
        Self::preset(Preset::TutorialRaw, k)
    }

    /// The stages of `preset` with `k` clusters (see [`Preset`]), on [`Threads::Auto`].
    pub fn preset(preset: Preset, k: usize) -> Self {
        let base = Self {
            deskew: Deskew::Off,
            deskew_params: DeskewParams::new(),
            hog: None,
            pca: None,
            graph: None,
            kmeans: KMeansParams::new(k),
            minibatch: None,
            preset: Some(preset),
            threads: Threads::Auto,
            observer: ObserverSink::default(),
        };
        match preset {
            Preset::TutorialRaw => base,
            Preset::TutorialDeskew => Self {
                deskew: Deskew::On,
                ..base
            },
            Preset::Hog => Self {
                deskew: Deskew::On,
                deskew_params: centred_deskew(),
                // The ablation's middle step, as it was measured: gradients at the given size.
                hog: Some(HogOptions::new().min_side(None)),
                kmeans: kmeans_pp(k),
                ..base
            },
            Preset::Best => Self {
                deskew: Deskew::Auto,
                deskew_params: centred_deskew(),
                hog: Some(HogOptions::new()),
                pca: Some(PcaOptions::new().whiten(Whiten::Half)),
                graph: Some(GraphStage::default()),
                kmeans: kmeans_pp(k),
                ..base
            },
        }
    }

    /// Sets the deskew stage.
    pub fn deskew(mut self, deskew: Deskew) -> Self {
        self.deskew = deskew;
        self
    }

    /// Sets the deskew parameters.
    pub fn deskew_params(mut self, params: DeskewParams) -> Self {
        self.deskew_params = params;
        self
    }

    /// Sets (or removes) the HOG stage; without it the pixels are the features.
    pub fn hog(mut self, hog: Option<HogOptions>) -> Self {
        self.hog = hog;
        self
    }

    /// Sets (or removes) the PCA stage.
    pub fn pca(mut self, pca: Option<PcaOptions>) -> Self {
        self.pca = pca;
        self
    }

    /// Sets (or removes) the graph stages; with them k-means clusters the embedding, in
    /// [`GraphStage::dims_per_cluster`] dimensions per cluster.
    pub fn graph(mut self, graph: Option<GraphStage>) -> Self {
        self.graph = graph;
        self
    }

    /// Sets the final k-means (its threads are replaced by the pipeline's).
    pub fn kmeans(mut self, kmeans: KMeansParams) -> Self {
        self.kmeans = kmeans;
        self
    }

    /// The final k-means's parameters, as set.
    pub fn kmeans_params(&self) -> &KMeansParams {
        &self.kmeans
    }

    /// Makes the final k-means mini-batch k-means with these settings (with
    /// [`Mode::Fast`](crate::kmeans::Mode::Fast) k-means parameters), or Lloyd's (`None`).
    pub fn minibatch(mut self, minibatch: Option<MiniBatchParams>) -> Self {
        self.minibatch = minibatch;
        self
    }

    /// Sets the threads of every stage; results never depend on it.
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// Tells `observer` when each stage of a fit starts (for a progress display).
    pub fn observer(mut self, observer: Arc<dyn StageObserver>) -> Self {
        self.observer = ObserverSink(Some(observer));
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`FeaturesError::KMeans`] for invalid k-means parameters,
    /// [`FeaturesError::Imgproc`] for invalid deskew parameters,
    /// [`FeaturesError::InvalidParam`] for [`Deskew::Auto`] without the graph stages, zero
    /// HOG bins, zero PCA components, or invalid kNN or spectral options.
    /// Checks that depend on the image size happen in [`Pipeline::fit`].
    pub fn check(self) -> Result<Pipeline, FeaturesError> {
        let kmeans = self.kmeans.threads(self.threads).check()?;
        let minibatch = self.minibatch.map(|m| m.check()).transpose()?;
        let deskew_params = self.deskew_params.check()?;
        let invalid = |name: &'static str, reason: &str| {
            Err(FeaturesError::InvalidParam {
                name,
                reason: reason.into(),
            })
        };
        if self.deskew == Deskew::Auto && self.graph.is_none() {
            return invalid(
                "deskew",
                "Auto compares normalised cuts, which needs the graph stages",
            );
        }
        if let Some(h) = &self.hog {
            h.check_shape_free()?;
        }
        if self.pca.is_some_and(|p| p.max_components == 0) {
            return invalid("max_components", "at least one component is needed");
        }
        if let Some(g) = &self.graph {
            if g.knn.k == 0 || g.knn.scale_neighbour == 0 {
                return invalid("knn", "k and scale_neighbour must be at least 1");
            }
            if g.dims_per_cluster == 0 {
                return invalid("dims_per_cluster", "must be at least 1");
            }
            let s = g.spectral;
            if !(s.tolerance.is_finite() && s.tolerance > 0.0)
                || s.max_restarts == 0
                || s.dense_up_to == 0
            {
                return invalid(
                    "spectral",
                    "tolerance must be finite and positive, max_restarts and dense_up_to at least 1",
                );
            }
        }
        Ok(Pipeline {
            deskew: self.deskew,
            deskew_params,
            hog: self.hog,
            pca: self.pca,
            graph: self.graph,
            kmeans,
            minibatch,
            preset: self.preset,
            threads: self.threads,
            observer: self.observer,
        })
    }
}

/// A checked pipeline, made by [`PipelineParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    deskew: Deskew,
    deskew_params: DeskewValidParams,
    hog: Option<HogOptions>,
    pca: Option<PcaOptions>,
    graph: Option<GraphStage>,
    kmeans: CheckedKMeansParams,
    minibatch: Option<CheckedMiniBatchParams>,
    preset: Option<Preset>,
    threads: Threads,
    observer: ObserverSink,
}

/// Wall time spent in each stage, summed over both variants under [`Deskew::Auto`] (which
/// run side by side on the same threads, so the sum can exceed the elapsed time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StageTimes {
    /// Deskewing the images.
    pub deskew: Duration,
    /// HOG descriptors (or converting the pixels).
    pub features: Duration,
    /// PCA fit and projection.
    pub pca: Duration,
    /// The kNN graph.
    pub knn: Duration,
    /// The spectral embedding.
    pub spectral: Duration,
    /// k-means.
    pub kmeans: Duration,
    /// Normalised cuts.
    pub ncut: Duration,
}

impl StageTimes {
    fn add(&mut self, o: &StageTimes) {
        self.deskew += o.deskew;
        self.features += o.features;
        self.pca += o.pca;
        self.knn += o.knn;
        self.spectral += o.spectral;
        self.kmeans += o.kmeans;
        self.ncut += o.ncut;
    }

    /// The stages and their times, in pipeline order, with their names.
    pub fn named(&self) -> [(&'static str, Duration); 7] {
        [
            ("deskew", self.deskew),
            ("features", self.features),
            ("pca", self.pca),
            ("knn", self.knn),
            ("spectral", self.spectral),
            ("kmeans", self.kmeans),
            ("ncut", self.ncut),
        ]
    }
}

/// What one variant (deskewed or not) produced before k-means.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The images after the image stage (deskewed or as given), labels kept.
    pub images: Dataset,
    /// What k-means clusters: N × `dims`, row-major; `None` when it clusters the values
    /// of `images` themselves (no HOG, PCA or graph stage).
    pub features: Option<Vec<f32>>,
    /// Values per sample k-means clusters.
    pub dims: usize,
    /// The kNN graph, when the pipeline has the graph stages.
    pub graph: Option<KnnGraph>,
    /// Wall time per stage.
    pub times: StageTimes,
}

impl Embedded {
    /// What k-means clusters, as `f32` (a copy of the images' values when
    /// [`Embedded::features`] is `None`).
    pub fn features_f32(&self) -> std::borrow::Cow<'_, [f32]> {
        match &self.features {
            Some(f) => std::borrow::Cow::Borrowed(f),
            None => match self.images.pixels() {
                Pixels::F32(v) => std::borrow::Cow::Borrowed(v),
                Pixels::U8(_) => std::borrow::Cow::Owned(self.images.to_f32()),
            },
        }
    }
}

/// The normalised cuts that decided [`Deskew::Auto`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeskewDecision {
    /// Normalised cut of the partition of the deskewed images, on their kNN graph.
    pub ncut_deskewed: f64,
    /// Normalised cut of the partition of the images as given, on their kNN graph.
    pub ncut_plain: f64,
}

impl DeskewDecision {
    /// Whether the deskewed variant won (`ncut_deskewed <= ncut_plain`).
    pub fn deskewed(&self) -> bool {
        self.ncut_deskewed <= self.ncut_plain
    }
}

/// The share of training samples within the out-of-distribution limits ([`OodRule`]).
const OOD_QUANTILE: f64 = 0.999;

/// The Euclidean distance of every training sample to its nearest center, as prediction
/// measures it.
fn training_distances(v: &Variant) -> Vec<f64> {
    use rayon::prelude::*;
    let d = v.fit.dims;
    let nearest = NearestCenter::new(v.fit.mode, &v.fit.centers, d);
    let dist = |x: &[f32]| f64::from(nearest.nearest(x).1).sqrt();
    match (&v.embedded.features, v.embedded.images.pixels()) {
        // Bytes widened a row at a time, without an f32 copy of the data set.
        (None, Pixels::U8(px)) => px
            .par_chunks_exact(d)
            .map(|row| dist(&row.iter().map(|&b| f32::from(b)).collect::<Vec<f32>>()))
            .collect(),
        _ => v
            .embedded
            .features_f32()
            .par_chunks_exact(d)
            .map(dist)
            .collect(),
    }
}

/// One variant's stages, fitted, and its k-means.
struct Variant {
    embedded: Embedded,
    deskew: bool,
    pca: Option<Pca>,
    extension: Option<GraphExtension>,
    /// With the graph stage: each training sample's similarity to its most similar other.
    nearest: Option<Vec<f64>>,
    fit: KMeansFit,
    minibatch: Option<MiniBatchInfo>,
    ncut: Option<f64>,
    times: StageTimes,
}

/// The stages before k-means, fitted.
struct EmbedFit {
    embedded: Embedded,
    pca: Option<Pca>,
    extension: Option<GraphExtension>,
    nearest: Option<Vec<f64>>,
}

impl Pipeline {
    /// The deskew stage.
    pub fn deskew(&self) -> Deskew {
        self.deskew
    }

    /// The deskew parameters (used when the stage is on).
    pub fn deskew_params(&self) -> &DeskewValidParams {
        &self.deskew_params
    }

    /// The HOG stage, if any.
    pub fn hog(&self) -> Option<&HogOptions> {
        self.hog.as_ref()
    }

    /// The PCA stage, if any.
    pub fn pca(&self) -> Option<&PcaOptions> {
        self.pca.as_ref()
    }

    /// The graph stages, if any.
    pub fn graph(&self) -> Option<&GraphStage> {
        self.graph.as_ref()
    }

    /// The final k-means.
    pub fn kmeans(&self) -> &CheckedKMeansParams {
        &self.kmeans
    }

    /// The mini-batch settings, when k-means is mini-batch k-means.
    pub fn minibatch(&self) -> Option<&CheckedMiniBatchParams> {
        self.minibatch.as_ref()
    }

    /// The preset the pipeline was made from, if any.
    pub fn preset(&self) -> Option<Preset> {
        self.preset
    }

    /// The threads every stage runs on.
    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// Runs the stages before k-means on `ds`, deskewing first when `deskew` is true.
    ///
    /// # Errors
    /// [`FeaturesError::Dataset`] when a stage needs 8-bit images and `ds` holds vectors
    /// (deskew) or anything but images (HOG); the errors of each stage
    /// ([`HogSpec::new`], [`Pca::fit`], [`KnnGraph::build`], [`SpectralEmbedding::fit`]).
    pub fn embed(&self, ds: &Dataset, deskew: bool) -> Result<Embedded, FeaturesError> {
        let threads = self.threads;
        threads.install(|| self.embed_here(ds, deskew, None).map(|e| e.embedded))
    }

    /// [`Pipeline::embed`] inside the pipeline's thread pool, keeping the fitted stages.
    fn embed_here(
        &self,
        ds: &Dataset,
        deskew: bool,
        variant: Option<bool>,
    ) -> Result<EmbedFit, FeaturesError> {
        let threads = self.threads;
        let tell = |stage| self.observer.tell(stage, variant);
        let mut times = StageTimes::default();
        let t = Instant::now();
        if deskew {
            tell(Stage::Deskew);
        }
        let images = if deskew {
            preprocess(ds, &FeatureKind::Deskew(self.deskew_params), threads)?
        } else {
            ds.clone()
        };
        times.deskew = t.elapsed();

        let t = Instant::now();
        if self.hog.is_some() {
            tell(Stage::Features);
        }
        let (features, mut dims) = match &self.hog {
            Some(opts) => {
                let (h, w) = images
                    .image_shape()
                    .ok_or_else(|| crate::dataset::DatasetError::NotImages(images.describe()))?;
                let spec = HogSpec::new(h, w, opts)?;
                (Some(hog_features(&images, &spec, threads)?), spec.len())
            }
            None => (None, images.dims()),
        };
        times.features = t.elapsed();

        let t = Instant::now();
        let (pca, scores) = match &self.pca {
            Some(opts) => {
                tell(Stage::Pca);
                let owned;
                let x: &[f32] = match &features {
                    Some(f) => f,
                    None => {
                        owned = images.to_f32();
                        &owned
                    }
                };
                let (pca, z) = Pca::fit_transform(x, dims, opts, threads)?;
                dims = pca.n_components();
                (Some(pca), Some(z))
            }
            None => (None, None),
        };
        times.pca = t.elapsed();

        let Some(stage) = &self.graph else {
            let features = match scores {
                Some(z) => Some(z.iter().map(|&v| v as f32).collect()),
                None => features,
            };
            let embedded = Embedded {
                images,
                features,
                dims,
                graph: None,
                times,
            };
            return Ok(EmbedFit {
                embedded,
                pca,
                extension: None,
                nearest: None,
            });
        };
        let t = Instant::now();
        tell(Stage::Knn);
        let points: Vec<f64> = match (scores, &features) {
            (Some(z), _) => z,
            (None, Some(f)) => f.iter().map(|&v| f64::from(v)).collect(),
            (None, None) => images.to_f32().iter().map(|&v| f64::from(v)).collect(),
        };
        if stage.knn.scale_neighbour == 0 {
            return Err(FeaturesError::InvalidParam {
                name: "scale_neighbour",
                reason: "must be at least 1".into(),
            });
        }
        let nb = cosine_neighbours(&points, dims, stage.knn.k, threads)?;
        let graph = KnnGraph::from_neighbours(&nb, &stage.knn);
        times.knn = t.elapsed();
        let t = Instant::now();
        tell(Stage::Spectral);
        let k = self
            .kmeans
            .k()
            .saturating_mul(stage.dims_per_cluster)
            .min(graph.n_nodes());
        let embedding = SpectralEmbedding::fit(&graph, k, &stage.spectral)?;
        let extension =
            GraphExtension::new(&points, dims, &nb, &stage.knn, graph.degrees(), &embedding);
        times.spectral = t.elapsed();
        Ok(EmbedFit {
            embedded: Embedded {
                images,
                features: Some(embedding.to_f32()),
                dims: k,
                graph: Some(graph),
                times,
            },
            pca,
            extension: Some(extension),
            nearest: Some((0..nb.len()).map(|i| nb.similarities(i)[0]).collect()),
        })
    }

    /// Fits the pipeline to `ds`: every stage learns from it (PCA, the graph and its
    /// embedding, the deskew decision under [`Deskew::Auto`]), then k-means clusters what
    /// the stages made of it. k-means starts from a copy of `rng` (in each variant, under
    /// [`Deskew::Auto`]), so equal generators give equal results.
    ///
    /// The result predicts the cluster of new samples ([`FittedPipeline::predict`]), keeps
    /// the training samples' clusters ([`FittedPipeline::training_labels`]) and saves to a
    /// file ([`FittedPipeline::save`]). Its record names the preset, if any, and the k-means
    /// settings; the seed and the data set's name are the caller's to add
    /// ([`FittedPipeline::record_mut`]).
    ///
    /// # Errors
    /// As [`Pipeline::embed`], and [`FeaturesError::KMeans`] when k-means fails (for
    /// instance more clusters than samples).
    ///
    /// # Examples
    /// ```
    /// use imgcluster::dataset::Dataset;
    /// use imgcluster::features::{PipelineParams, Preset};
    /// use imgcluster::{CvRng, Threads};
    ///
    /// // Two kinds of 8×8 images: a vertical bar and a horizontal bar, 20 of each, each
    /// // shifted a little.
    /// let bars = |n: usize, vertical: bool| {
    ///     let mut px = Vec::new();
    ///     for i in 0..n {
    ///         let s = 2 + i % 3;
    ///         for y in 0..8 {
    ///             for x in 0..8 {
    ///                 let on = if vertical { x == s || x == s + 1 } else { y == s || y == s + 1 };
    ///                 px.push(if on { 255 } else { 0 });
    ///             }
    ///         }
    ///     }
    ///     px
    /// };
    /// let ds = Dataset::from_images(40, 8, 8, [bars(20, true), bars(20, false)].concat())?;
    /// let p = PipelineParams::preset(Preset::Hog, 2).check()?;
    /// let model = p.fit(&ds, &CvRng::from_set_rng_seed(1))?;
    /// let l = model.training_labels().unwrap();
    /// assert!(l[..20].iter().all(|&c| c == l[0]) && l[20..].iter().all(|&c| c == l[20]));
    /// assert_ne!(l[0], l[20]);
    /// // New images go to the cluster of their kind.
    /// let new = Dataset::from_images(2, 8, 8, [bars(1, false), bars(1, true)].concat())?;
    /// let p = model.predict(&new, Threads::Fixed(1))?;
    /// assert_eq!((p[0].cluster, p[1].cluster), (l[20], l[0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit(&self, ds: &Dataset, rng: &CvRng) -> Result<FittedPipeline, FeaturesError> {
        // One pool for every stage (stages on a worker of a pool of their size run there).
        self.threads.install(|| self.fit_here(ds, rng))
    }

    fn fit_here(&self, ds: &Dataset, rng: &CvRng) -> Result<FittedPipeline, FeaturesError> {
        let (kept, decision, times) = match self.deskew {
            Deskew::Off => {
                let v = self.fit_variant(ds, false, None, rng)?;
                let times = v.times;
                (v, None, times)
            }
            Deskew::On => {
                let v = self.fit_variant(ds, true, None, rng)?;
                let times = v.times;
                (v, None, times)
            }
            Deskew::Auto => {
                // Both variants side by side, sharing the pool's threads.
                let (with, without) = rayon::join(
                    || self.fit_variant(ds, true, Some(true), rng),
                    || self.fit_variant(ds, false, Some(false), rng),
                );
                let (with, without) = (with?, without?);
                let decision = DeskewDecision {
                    ncut_deskewed: with.ncut.unwrap_or(f64::INFINITY),
                    ncut_plain: without.ncut.unwrap_or(f64::INFINITY),
                };
                let mut times = with.times;
                times.add(&without.times);
                let kept = if decision.deskewed() { with } else { without };
                (kept, Some(decision), times)
            }
        };
        Ok(self.fitted(ds, kept, decision, times))
    }

    /// The fitted pipeline of the kept variant.
    fn fitted(
        &self,
        ds: &Dataset,
        v: Variant,
        decision: Option<DeskewDecision>,
        times: StageTimes,
    ) -> FittedPipeline {
        let ood = OodRule {
            max_distance: quantile(training_distances(&v), OOD_QUANTILE).unwrap_or(0.0),
            min_similarity: v
                .nearest
                .clone()
                .and_then(|s| quantile(s, 1.0 - OOD_QUANTILE)),
        };
        let record = FitRecord {
            preset: self.preset.map(|p| p.name().to_string()),
            kmeans: KMeansRecord::of_fit(&self.kmeans, &v.fit, v.minibatch),
            training: TrainingInfo {
                source: None,
                n_samples: ds.len(),
                train_ratio: None,
            },
            deskew_decision: decision,
            ncut: v.ncut,
        };
        FittedPipeline {
            input: match ds.pixels() {
                Pixels::U8(_) => InputKind::U8,
                Pixels::F32(_) => InputKind::F32,
            },
            image_shape: ds.image_shape(),
            input_dims: ds.dims(),
            deskew: v.deskew.then_some(self.deskew_params),
            hog: self.hog,
            pca: v.pca,
            graph: v.extension,
            centers: v.fit.centers.clone(),
            k: v.fit.k,
            dims: v.fit.dims,
            classes: None,
            record,
            polarity: ds.images_u8().ok().and_then(|(px, h, w)| {
                Polarity::majority(px.chunks_exact(h * w).map(|img| GrayView::new(w, h, img)))
            }),
            conform_polarity: true,
            ood: Some(ood),
            training: Some(Box::new(Training {
                embedded: v.embedded,
                fit: v.fit,
                times,
            })),
        }
    }

    /// k-means on what the stages made: bytes as bytes (no `f32` copy; the result is the
    /// same), Lloyd or mini-batch.
    fn kmeans_fit(
        &self,
        e: &Embedded,
        rng: &CvRng,
    ) -> Result<(KMeansFit, Option<MiniBatchInfo>), FeaturesError> {
        let p = self.kmeans.clone().with_rng(rng.clone());
        let data = match &e.features {
            Some(f) => Data::f32(f, e.dims),
            None => Data::from(&e.images),
        };
        Ok(match &self.minibatch {
            None => (p.fit(data)?, None),
            Some(mb) => {
                let r = p.fit_minibatch(mb, data)?;
                let info = MiniBatchInfo::from(&r);
                (r.fit, Some(info))
            }
        })
    }

    fn fit_variant(
        &self,
        ds: &Dataset,
        deskew: bool,
        variant: Option<bool>,
        rng: &CvRng,
    ) -> Result<Variant, FeaturesError> {
        let EmbedFit {
            embedded,
            pca,
            extension,
            nearest,
        } = self.embed_here(ds, deskew, variant)?;
        let mut times = embedded.times;
        let t = Instant::now();
        self.observer.tell(Stage::KMeans, variant);
        let (mut fit, minibatch) = self.kmeans_fit(&embedded, rng)?;
        if let (Some(stage), Some(g)) = (&self.graph, &embedded.graph) {
            smooth(
                &mut fit,
                g,
                &embedded.features_f32(),
                stage.smoothing_rounds,
            )?;
        }
        times.kmeans = t.elapsed();
        let t = Instant::now();
        if embedded.graph.is_some() {
            self.observer.tell(Stage::Ncut, variant);
        }
        let ncut = match &embedded.graph {
            Some(g) => Some(g.normalized_cut(&fit.labels, fit.k)?),
            None => None,
        };
        times.ncut = t.elapsed();
        Ok(Variant {
            embedded,
            deskew,
            pca,
            extension,
            nearest,
            fit,
            minibatch,
            ncut,
            times,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_names() {
        let names: Vec<&str> = Preset::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["tutorial-raw", "tutorial-deskew", "hog", "best"]);
        let raw = PipelineParams::new(10);
        assert_eq!(raw, PipelineParams::preset(Preset::TutorialRaw, 10));
        assert_eq!(raw.kmeans, KMeansParams::new(10));
        let best = PipelineParams::preset(Preset::Best, 7).check().unwrap();
        assert_eq!(best.deskew_params().factor(), 0.5);
        assert_eq!(best.kmeans().attempts(), 10);
        assert_eq!(best.kmeans().max_iter(), 100);
        assert_eq!(best.kmeans().init(), &Init::PlusPlus);
        let tut = PipelineParams::preset(Preset::TutorialDeskew, 10)
            .check()
            .unwrap();
        assert_eq!(tut.deskew(), Deskew::On);
        assert_eq!(tut.deskew_params().factor(), 0.6);
    }

    #[test]
    fn invalid_combinations_are_rejected() {
        let p = PipelineParams::new(3).deskew(Deskew::Auto).check();
        assert!(matches!(
            p,
            Err(FeaturesError::InvalidParam { name: "deskew", .. })
        ));
        let p = PipelineParams::new(0).check();
        assert!(matches!(p, Err(FeaturesError::KMeans(_))));
        let p = PipelineParams::new(3)
            .hog(Some(HogOptions::new().bins(0)))
            .check();
        assert!(p.is_err());
        let p = PipelineParams::new(3)
            .pca(Some(PcaOptions::new().max_components(0)))
            .check();
        assert!(p.is_err());
        let g = GraphStage {
            knn: KnnOptions::new().k(0),
            ..GraphStage::default()
        };
        assert!(PipelineParams::new(3).graph(Some(g)).check().is_err());
    }
}
