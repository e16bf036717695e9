//! The fitted pipeline: every learned stage, and prediction.

use rayon::prelude::*;

use super::ModelError;
use crate::dataset::resize::resize;
use crate::dataset::{Dataset, Pixels};
use crate::features::{
    hog_features, preprocess, DeskewDecision, Embedded, FeatureKind, GraphExtension, HogOptions,
    HogSpec, Pca, StageTimes,
};
use crate::image::GrayView;
use crate::imgproc::{conform_polarity, DeskewValidParams, Polarity};
use crate::kmeans::{
    CheckedKMeansParams, Init, KMeansFit, MiniBatchFit, MiniBatchStop, Mode, NearestCenter,
};
use crate::metrics::{ClusterMapping, Contingency, Evaluation, Mapping, MetricsError};
use crate::Threads;

/// The kind of values the pipeline was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// 8-bit values (images): new image files can be classified.
    U8,
    /// 32-bit floats (feature vectors): only data of the same length can be classified.
    F32,
}

impl InputKind {
    /// `u8` or `f32`.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::U8 => "u8",
            InputKind::F32 => "f32",
        }
    }
}

/// How the initial centers of the k-means fit were chosen (a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitKind {
    /// Random centers in the data's bounding box (`KMEANS_RANDOM_CENTERS`).
    #[default]
    RandomBox,
    /// k-means++ (`KMEANS_PP_CENTERS`).
    PlusPlus,
    /// Given initial labels (`KMEANS_USE_INITIAL_LABELS`).
    Labels,
    /// `k` random samples (fast mode's `random`).
    Samples,
    /// Given initial centers.
    Centers,
    /// k-means|| (Spark MLlib's scalable k-means++).
    Parallel,
}

impl InitKind {
    /// The kind of `init`.
    pub fn of(init: &Init) -> Self {
        match init {
            Init::RandomBox => InitKind::RandomBox,
            Init::PlusPlus => InitKind::PlusPlus,
            Init::Samples => InitKind::Samples,
            Init::Centers(_) => InitKind::Centers,
            Init::Parallel { .. } => InitKind::Parallel,
            Init::Labels { .. } => InitKind::Labels,
        }
    }

    /// `random`, `pp`, `labels`, `samples`, `centers` or `parallel`.
    pub fn name(self) -> &'static str {
        match self {
            InitKind::RandomBox => "random",
            InitKind::PlusPlus => "pp",
            InitKind::Labels => "labels",
            InitKind::Samples => "samples",
            InitKind::Centers => "centers",
            InitKind::Parallel => "parallel",
        }
    }
}

/// How far a mini-batch fit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MiniBatchInfo {
    /// Samples per batch.
    pub batch_size: usize,
    /// Center updates.
    pub steps: usize,
    /// Epochs those steps make.
    pub epochs: usize,
    /// Why the steps stopped.
    pub stop: MiniBatchStop,
}

impl From<&MiniBatchFit> for MiniBatchInfo {
    fn from(r: &MiniBatchFit) -> Self {
        Self {
            batch_size: r.batch_size,
            steps: r.steps,
            epochs: r.epochs,
            stop: r.stop,
        }
    }
}

/// The k-means settings and results of the fit (a record: prediction uses only the
/// centers).
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansRecord {
    /// Number of clusters.
    pub k: usize,
    /// Attempts (the most compact won).
    pub attempts: usize,
    /// Iteration limit (`None`: the mode's default).
    pub max_iter: Option<usize>,
    /// Required accuracy (`None`: the mode's default).
    pub epsilon: Option<f64>,
    /// Initial centers.
    pub init: InitKind,
    /// OpenCV's k-means or the fast one.
    pub mode: Mode,
    /// `cv2.setRNGSeed` value, or `None` for OpenCV's default generator state.
    pub seed: Option<i32>,
    /// Compactness of the fit, if known.
    pub compactness: Option<f64>,
    /// Iterations of the best attempt, if known.
    pub iterations: Option<usize>,
    /// The steps of a mini-batch fit, when it was one.
    pub minibatch: Option<MiniBatchInfo>,
}

impl KMeansRecord {
    /// The record of `fit`, made with `params` (and, for mini-batch k-means, the steps
    /// it took); the seed is unknown to the fit and left `None`.
    pub fn of_fit(
        params: &CheckedKMeansParams,
        fit: &KMeansFit,
        minibatch: Option<MiniBatchInfo>,
    ) -> Self {
        Self {
            k: fit.k,
            attempts: params.attempts(),
            max_iter: params.term().max_iter,
            epsilon: params.term().epsilon,
            init: InitKind::of(params.init()),
            mode: params.mode(),
            seed: None,
            compactness: Some(fit.compactness),
            iterations: Some(fit.iterations),
            minibatch,
        }
    }

    /// `k` clusters, 1 attempt, the default criteria, random centers, OpenCV mode, no
    /// results.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            attempts: 1,
            max_iter: None,
            epsilon: None,
            init: InitKind::RandomBox,
            mode: Mode::OpenCv,
            seed: None,
            compactness: None,
            iterations: None,
            minibatch: None,
        }
    }
}

/// Where the pipeline was fitted (a record).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingInfo {
    /// The data set, as the user named it.
    pub source: Option<String>,
    /// Number of samples fitted on.
    pub n_samples: usize,
    /// The part of the data set fitted on, when not all of it.
    pub train_ratio: Option<f64>,
}

/// What is known of a fit besides its stages (a record, saved with the model).
#[derive(Debug, Clone, PartialEq)]
pub struct FitRecord {
    /// The preset the pipeline was made from (`tutorial-raw`, …), if any.
    pub preset: Option<String>,
    /// The k-means settings and results.
    pub kmeans: KMeansRecord,
    /// Where the pipeline was fitted.
    pub training: TrainingInfo,
    /// The normalised cuts that decided whether to deskew, under `Deskew::Auto`.
    pub deskew_decision: Option<DeskewDecision>,
    /// The normalised cut of the kept partition, with the graph stages.
    pub ncut: Option<f64>,
}

impl FitRecord {
    /// The record of a fit of `k` clusters with nothing else known.
    pub fn new(k: usize) -> Self {
        Self {
            preset: None,
            kmeans: KMeansRecord::new(k),
            training: TrainingInfo::default(),
            deskew_decision: None,
            ncut: None,
        }
    }
}

/// The classes of the clusters, learned on labelled training data.
#[derive(Debug, Clone, PartialEq)]
pub struct Classes {
    mapping: Vec<u32>,
    n_classes: usize,
    names: Option<Vec<String>>,
}

impl Classes {
    /// `mapping[c]` is the class of cluster `c`, each below `n_classes`; `names`, when
    /// given, has one name per class.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] for zero classes, a class out of range, or a name list of
    /// another length.
    pub fn new(
        mapping: Vec<u32>,
        n_classes: usize,
        names: Option<Vec<String>>,
    ) -> Result<Self, ModelError> {
        if n_classes == 0 {
            return Err(invalid("the number of classes is 0"));
        }
        if let Some(c) = mapping.iter().position(|&m| m as usize >= n_classes) {
            return Err(invalid(format!(
                "cluster {c} maps to class {} of {n_classes}",
                mapping[c]
            )));
        }
        if let Some(names) = &names
            && names.len() != n_classes
        {
            return Err(invalid(format!(
                "{} class names for {n_classes} classes",
                names.len()
            )));
        }
        Ok(Self {
            mapping,
            n_classes,
            names,
        })
    }

    /// Learns the class of each of `k` clusters from the clusters and true classes of the
    /// same samples: one to one (Hungarian algorithm) when there are as many clusters as
    /// classes, else each cluster's most frequent class. Returns the classes and the scores
    /// of the clustering. `names`, when it has `n_classes` names, names the classes.
    ///
    /// # Errors
    /// [`ModelError::Metrics`] when the lengths differ or a label is out of range.
    pub fn learn(
        truth: &[u32],
        clusters: &[u32],
        n_classes: usize,
        k: usize,
        names: Option<Vec<String>>,
    ) -> Result<(Classes, Evaluation), ModelError> {
        let mapping = if k == n_classes {
            Mapping::OneToOne
        } else {
            Mapping::Majority
        };
        let table = Contingency::new(truth, clusters, n_classes, k)?;
        let eval = Evaluation::from_contingency(table, mapping)?;
        let names = names.filter(|n| n.len() == n_classes);
        let classes = Classes::new(eval.mapping.as_slice().to_vec(), n_classes, names)?;
        Ok((classes, eval))
    }

    /// The class of each cluster.
    pub fn mapping(&self) -> &[u32] {
        &self.mapping
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Class names, if known.
    pub fn names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }
}

/// What the fit left besides the model: the training samples' clusters and what the
/// stages made of them. Not saved; a loaded model has none.
#[derive(Debug, Clone)]
pub struct Training {
    /// The kept variant's stages before k-means (images after deskew, features, graph).
    pub embedded: Embedded,
    /// The k-means fit; its labels are the training samples' clusters.
    pub fit: KMeansFit,
    /// Wall time per stage, summed over the variants that ran.
    pub times: StageTimes,
}

/// When a prediction is flagged out of distribution: the sample is farther from every center,
/// or (with the graph stage) less similar to every training sample, than nearly all the
/// training samples were.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OodRule {
    /// The 99.9th percentile of the training samples' Euclidean distances to their nearest
    /// center, in the space k-means worked in: a sample farther than this is flagged.
    pub max_distance: f64,
    /// With the graph stage: the 0.1th percentile of the training samples' cosine
    /// similarities to their most similar other training sample; a sample whose most
    /// similar training sample is less similar than this is flagged.
    pub min_similarity: Option<f64>,
}

/// The `q`-quantile of `values` (the value at rank `⌈q·n⌉`, counting from 1), or `None`
/// for no value.
pub(crate) fn quantile(mut values: Vec<f64>, q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    Some(values[rank - 1])
}

/// The prediction for one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The nearest center (ties to the lowest index).
    pub cluster: u32,
    /// Squared Euclidean distance to it, as k-means computes it ([`NearestCenter`]), in
    /// the space k-means worked in.
    pub squared_distance: f32,
    /// The class of the cluster, when the model has classes.
    pub class: Option<u32>,
    /// Whether the sample lies outside what the model was fitted on ([`OodRule`]): its
    /// cluster and class are then a guess.
    pub out_of_distribution: bool,
}

impl Prediction {
    /// The Euclidean distance to the nearest center.
    pub fn distance(&self) -> f64 {
        f64::from(self.squared_distance).sqrt()
    }
}

/// A fitted pipeline: every learned stage, the k-means centers, the classes of the
/// clusters and a record of the fit. Made by [`Pipeline::fit`](crate::features::Pipeline::fit),
/// saved and loaded by [`FittedPipeline::save`] / [`FittedPipeline::load`]; see the
/// [module documentation](super).
#[derive(Debug, Clone)]
pub struct FittedPipeline {
    pub(crate) input: InputKind,
    pub(crate) image_shape: Option<(usize, usize)>,
    pub(crate) input_dims: usize,
    pub(crate) deskew: Option<DeskewValidParams>,
    pub(crate) hog: Option<HogOptions>,
    pub(crate) pca: Option<Pca>,
    pub(crate) graph: Option<GraphExtension>,
    pub(crate) centers: Vec<f32>,
    pub(crate) k: usize,
    pub(crate) dims: usize,
    pub(crate) classes: Option<Classes>,
    pub(crate) record: FitRecord,
    pub(crate) training: Option<Box<Training>>,
    /// The training images' polarity, and whether new images are brought to it.
    pub(crate) polarity: Option<Polarity>,
    pub(crate) conform_polarity: bool,
    pub(crate) ood: Option<OodRule>,
}

impl PartialEq for FittedPipeline {
    /// Equal models: the same stages, centers, classes and record (what the fit left
    /// in memory is not compared).
    fn eq(&self, o: &Self) -> bool {
        self.input == o.input
            && self.image_shape == o.image_shape
            && self.input_dims == o.input_dims
            && self.deskew == o.deskew
            && self.hog == o.hog
            && self.pca == o.pca
            && self.graph == o.graph
            && self.centers == o.centers
            && self.k == o.k
            && self.classes == o.classes
            && self.record == o.record
            && self.polarity == o.polarity
            && self.ood == o.ood
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::Invalid(msg.into())
}

/// The stages of a fitted pipeline, as [`FittedPipeline::new`] takes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages {
    /// The kind of values fitted on.
    pub input: InputKind,
    /// `(height, width)` of the images, or `None` for vectors.
    pub image_shape: Option<(usize, usize)>,
    /// Values per input sample.
    pub input_dims: usize,
    /// Deskew parameters, when the images are deskewed.
    pub deskew: Option<DeskewValidParams>,
    /// HOG options, when HOG descriptors are the features.
    pub hog: Option<HogOptions>,
    /// The fitted PCA.
    pub pca: Option<Pca>,
    /// The graph and embedding, to place new samples.
    pub graph: Option<GraphExtension>,
    /// The training images' polarity ([`Polarity`]), to which new images are brought.
    pub polarity: Option<Polarity>,
}

impl Stages {
    /// The pixels (or values) as they are: no deskew, HOG, PCA or graph.
    pub fn pixels(
        input: InputKind,
        image_shape: Option<(usize, usize)>,
        input_dims: usize,
    ) -> Self {
        Self {
            input,
            image_shape,
            input_dims,
            deskew: None,
            hog: None,
            pca: None,
            graph: None,
            polarity: None,
        }
    }
}

impl FittedPipeline {
    /// Checks the parts and makes a fitted pipeline (the stages are applied in order:
    /// deskew, HOG or pixels, PCA, graph embedding, nearest of the `centers`).
    ///
    /// # Errors
    /// [`ModelError::Invalid`] when the parts disagree: no center, centers that are not
    /// rows of the length the stages produce or hold a non-finite value, deskew or HOG
    /// without 8-bit images, classes for another number of clusters.
    pub fn new(
        stages: Stages,
        centers: Vec<f32>,
        classes: Option<Classes>,
        record: FitRecord,
    ) -> Result<Self, ModelError> {
        if stages.polarity.is_some() && stages.image_shape.is_none() {
            return Err(invalid("a polarity needs images"));
        }
        let k = record.kmeans.k;
        if k == 0 {
            return Err(invalid("k is 0"));
        }
        let n = centers.len();
        if n == 0 || !n.is_multiple_of(k) {
            return Err(invalid(format!("{n} center values are not {k} equal rows")));
        }
        let dims = n / k;
        if let Some(i) = centers.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "center {}, value {} is not a finite number",
                i / dims,
                i % dims
            )));
        }
        if stages.input_dims == 0 {
            return Err(invalid("the input has no values"));
        }
        if let Some((h, w)) = stages.image_shape
            && h.checked_mul(w) != Some(stages.input_dims)
        {
            return Err(invalid(format!(
                "{h}x{w} images do not have {} values",
                stages.input_dims
            )));
        }
        let images = stages.image_shape.is_some() && stages.input == InputKind::U8;
        if (stages.deskew.is_some() || stages.hog.is_some()) && !images {
            return Err(invalid(
                "deskew and HOG need 8-bit images (u8 input with a height and width)",
            ));
        }
        // The length of what each stage hands on.
        let mut len = stages.input_dims;
        if let (Some(opts), Some((h, w))) = (&stages.hog, stages.image_shape) {
            len = HogSpec::new(h, w, opts)
                .map_err(|e| invalid(format!("HOG: {e}")))?
                .len();
        }
        if let Some(pca) = &stages.pca {
            if pca.dims() != len {
                return Err(invalid(format!(
                    "the PCA takes {} values, the stage before gives {len}",
                    pca.dims()
                )));
            }
            len = pca.n_components();
        }
        if let Some(g) = &stages.graph {
            if g.dims() != len {
                return Err(invalid(format!(
                    "the graph takes {} values, the stage before gives {len}",
                    g.dims()
                )));
            }
            len = g.embedding_dims();
        }
        if len != dims {
            return Err(invalid(format!(
                "the centers have {dims} values, the stages give {len}"
            )));
        }
        let mut model = Self {
            input: stages.input,
            image_shape: stages.image_shape,
            input_dims: stages.input_dims,
            deskew: stages.deskew,
            hog: stages.hog,
            pca: stages.pca,
            graph: stages.graph,
            centers,
            k,
            dims,
            classes: None,
            record,
            training: None,
            polarity: stages.polarity,
            conform_polarity: true,
            ood: None,
        };
        model.set_classes(classes)?;
        Ok(model)
    }

    /// The rule that flags out-of-distribution predictions, if the model has one.
    pub fn ood(&self) -> Option<&OodRule> {
        self.ood.as_ref()
    }

    /// Sets (or removes) the out-of-distribution rule.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] for a distance or similarity that is not finite.
    pub fn set_ood(&mut self, ood: Option<OodRule>) -> Result<(), ModelError> {
        if let Some(r) = &ood
            && (!r.max_distance.is_finite() || r.min_similarity.is_some_and(|s| !s.is_finite()))
        {
            return Err(invalid("the out-of-distribution limits must be finite"));
        }
        self.ood = ood;
        Ok(())
    }

    /// The polarity of the training images, if recorded.
    pub fn polarity(&self) -> Option<Polarity> {
        self.polarity
    }

    /// Whether new 8-bit images of the other polarity are inverted before the stages (on
    /// by default when the model records a polarity; see [`Polarity::of`] for the rule).
    pub fn set_conform_polarity(&mut self, on: bool) {
        self.conform_polarity = on;
    }

    /// The stages (without the centers).
    pub fn stages(&self) -> Stages {
        Stages {
            input: self.input,
            image_shape: self.image_shape,
            input_dims: self.input_dims,
            deskew: self.deskew,
            hog: self.hog,
            pca: self.pca.clone(),
            graph: self.graph.clone(),
            polarity: self.polarity,
        }
    }

    /// The kind of values fitted on.
    pub fn input_kind(&self) -> InputKind {
        self.input
    }

    /// `(height, width)` of the images the model takes, or `None` for vectors.
    pub fn image_shape(&self) -> Option<(usize, usize)> {
        self.image_shape
    }

    /// Values per input sample.
    pub fn input_dims(&self) -> usize {
        self.input_dims
    }

    /// The deskew parameters, when the pipeline deskews.
    pub fn deskew(&self) -> Option<&DeskewValidParams> {
        self.deskew.as_ref()
    }

    /// The HOG options, when HOG descriptors are the features.
    pub fn hog(&self) -> Option<&HogOptions> {
        self.hog.as_ref()
    }

    /// The fitted PCA, if any.
    pub fn pca(&self) -> Option<&Pca> {
        self.pca.as_ref()
    }

    /// The graph extension, if the pipeline clusters a spectral embedding.
    pub fn graph(&self) -> Option<&GraphExtension> {
        self.graph.as_ref()
    }

    /// What k-means clusters: `raw` or `deskew` pixels, `hog` descriptors, their `pca`
    /// scores, or the `spectral` embedding.
    pub fn features_name(&self) -> &'static str {
        match (&self.graph, &self.pca, &self.hog, &self.deskew) {
            (Some(_), _, _, _) => "spectral",
            (None, Some(_), _, _) => "pca",
            (None, None, Some(_), _) => "hog",
            (None, None, None, Some(_)) => "deskew",
            _ => "raw",
        }
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Values per center (the space k-means worked in).
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The centers, `k × dims` row-major.
    pub fn centers(&self) -> &[f32] {
        &self.centers
    }

    /// The classes of the clusters, if learned.
    pub fn classes(&self) -> Option<&Classes> {
        self.classes.as_ref()
    }

    /// The class of each cluster, if learned.
    pub fn mapping(&self) -> Option<&[u32]> {
        self.classes.as_ref().map(|c| c.mapping.as_slice())
    }

    /// Number of classes, if learned.
    pub fn n_classes(&self) -> Option<usize> {
        self.classes.as_ref().map(|c| c.n_classes)
    }

    /// The class names, if known.
    pub fn class_names(&self) -> Option<&[String]> {
        self.classes.as_ref().and_then(|c| c.names())
    }

    /// The name of `class`, if class names are known.
    pub fn class_name(&self, class: u32) -> Option<&str> {
        self.class_names()
            .and_then(|n| n.get(class as usize))
            .map(String::as_str)
    }

    /// The record of the fit.
    pub fn record(&self) -> &FitRecord {
        &self.record
    }

    /// The record, to complete (the seed, the data set's name, …).
    pub fn record_mut(&mut self) -> &mut FitRecord {
        &mut self.record
    }

    /// What the fit left in memory (training clusters, stages' outputs), or `None` for a
    /// loaded model.
    pub fn training(&self) -> Option<&Training> {
        self.training.as_deref()
    }

    /// Takes what the fit left in memory out of the model.
    pub fn take_training(&mut self) -> Option<Training> {
        self.training.take().map(|t| *t)
    }

    /// The training samples' clusters, when the fit is in memory.
    pub fn training_labels(&self) -> Option<&[u32]> {
        self.training().map(|t| t.fit.labels.as_slice())
    }

    /// Whether the pipeline deskews the images.
    pub fn deskewed(&self) -> bool {
        self.deskew.is_some()
    }

    /// Sets the classes of the clusters.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] when `classes` has another number of clusters.
    pub fn set_classes(&mut self, classes: Option<Classes>) -> Result<(), ModelError> {
        if let Some(c) = &classes
            && c.mapping.len() != self.k
        {
            return Err(invalid(format!(
                "the mapping has {} entries for {} clusters",
                c.mapping.len(),
                self.k
            )));
        }
        self.classes = classes;
        Ok(())
    }

    /// Scores the training clusters against the true classes `truth` (one per training
    /// sample, each `< n_classes`) and keeps the cluster → class mapping: one to one
    /// (Hungarian algorithm) when there are as many clusters as classes, else each
    /// cluster's most frequent class. `names`, when given, names the classes.
    ///
    /// # Errors
    /// [`ModelError::Input`] without the fit in memory or with another number of labels;
    /// [`ModelError::Metrics`] for a label out of range.
    pub fn learn_classes(
        &mut self,
        truth: &[u32],
        n_classes: usize,
        names: Option<Vec<String>>,
    ) -> Result<Evaluation, ModelError> {
        let clusters = self
            .training_labels()
            .ok_or_else(|| ModelError::Input("the training clusters are not in memory".into()))?;
        if clusters.len() != truth.len() {
            return Err(ModelError::Input(format!(
                "{} labels for {} training samples",
                truth.len(),
                clusters.len()
            )));
        }
        let (classes, eval) = Classes::learn(truth, clusters, n_classes, self.k, names)?;
        self.classes = Some(classes);
        Ok(eval)
    }

    /// The learned mapping as a [`ClusterMapping`].
    ///
    /// # Errors
    /// [`MetricsError`] never for a checked model; `None` without classes.
    pub fn cluster_mapping(&self) -> Option<Result<ClusterMapping, MetricsError>> {
        self.classes
            .as_ref()
            .map(|c| ClusterMapping::new(c.mapping.clone(), c.n_classes))
    }

    /// The nearest center to `x` (`dims` values) and the squared distance to it, as the
    /// assignment step of the mode that fitted the model computes them
    /// ([`NearestCenter`]), ties to the lowest cluster index.
    ///
    /// # Panics
    /// Panics if `x.len() != self.dims()`.
    pub fn nearest(&self, x: &[f32]) -> (u32, f32) {
        self.nearest_center().nearest(x)
    }

    fn nearest_center(&self) -> NearestCenter<'_> {
        NearestCenter::new(self.record.kmeans.mode, &self.centers, self.dims)
    }

    /// Brings gray images of any size to the model's input: each is resized to the
    /// training image size with [`resize`] (area averaging when shrinking, bilinear when
    /// enlarging — the rule of the image-folder loader).
    ///
    /// # Errors
    /// [`ModelError::Input`] when the model was not fitted on 8-bit images, or an image is
    /// empty; [`ModelError::Dataset`] when there is no image.
    pub fn prepare_images<'a>(
        &self,
        images: impl IntoIterator<Item = GrayView<'a>>,
    ) -> Result<Dataset, ModelError> {
        let (h, w) = match (self.image_shape, self.input) {
            (Some(s), InputKind::U8) => s,
            _ => {
                return Err(ModelError::Input(format!(
                    "the model was trained on {}; image files can only be classified by a \
                     model trained on 8-bit images",
                    self.describe_input()
                )))
            }
        };
        let mut pixels = Vec::new();
        let mut n = 0;
        for img in images {
            if img.width() == 0 || img.height() == 0 {
                return Err(ModelError::Input(format!("image {n} is empty")));
            }
            pixels.extend_from_slice(resize(img, w, h).data());
            n += 1;
        }
        Ok(Dataset::from_images(n, h, w, pixels)?)
    }

    /// Reads image files (PNG or JPEG, any size and colour) and brings them to the model's
    /// input as [`prepare_images`](Self::prepare_images) does, one at a time: each image is
    /// resized as soon as it is decoded, so memory holds one full-size image, not all of them.
    ///
    /// # Errors
    /// As [`prepare_images`](Self::prepare_images); [`ModelError::Dataset`] naming the file
    /// for one that cannot be read or decoded, or that is too large to decode
    /// ([`check_pixels`](crate::dataset::imageio::check_pixels)).
    pub fn read_images<P: AsRef<std::path::Path>>(
        &self,
        paths: &[P],
    ) -> Result<Dataset, ModelError> {
        let mut pixels = Vec::new();
        let mut shape = None;
        for path in paths {
            let img = crate::dataset::imageio::read_gray(path.as_ref())?;
            let one = self
                .prepare_images(std::iter::once(img.view()))
                .map_err(|e| match e {
                    ModelError::Input(msg) => {
                        ModelError::Input(format!("{}: {msg}", path.as_ref().display()))
                    }
                    e => e,
                })?;
            shape = one.image_shape();
            if let crate::dataset::Pixels::U8(p) = one.pixels() {
                pixels.extend_from_slice(p);
            }
        }
        match shape {
            Some((h, w)) => Ok(Dataset::from_images(paths.len(), h, w, pixels)?),
            None => self.prepare_images(std::iter::empty()),
        }
    }

    /// The input the model takes, in words.
    pub fn describe_input(&self) -> String {
        match self.image_shape {
            Some((h, w)) => format!("{h}x{w} {} images", self.input.name()),
            None => format!("vectors of {} {}", self.input_dims, self.input.name()),
        }
    }

    /// `ds` checked against the model's input, with flat 8-bit vectors of the model's
    /// image size shaped as images.
    fn fit_input<'a>(&self, ds: &'a Dataset) -> Result<std::borrow::Cow<'a, Dataset>, ModelError> {
        let wrong = || {
            ModelError::Input(format!(
                "the model takes {}; the data are {}",
                self.describe_input(),
                ds.describe()
            ))
        };
        if ds.dims() != self.input_dims {
            return Err(wrong());
        }
        if let (Some(want), Some(got)) = (self.image_shape, ds.image_shape())
            && want != got
        {
            return Err(wrong());
        }
        let shaped = match (ds.image_shape(), ds.pixels(), self.image_shape) {
            (None, Pixels::U8(v), Some((h, w))) => {
                let mut shaped = Dataset::from_images(ds.len(), h, w, v.clone())?;
                if let Some(l) = ds.labels() {
                    shaped = shaped.with_labels(l.to_vec())?;
                }
                std::borrow::Cow::Owned(shaped)
            }
            _ => std::borrow::Cow::Borrowed(ds),
        };
        match (self.polarity, self.conform_polarity) {
            (Some(want), true) => conformed(shaped, want),
            _ => Ok(shaped),
        }
    }

    /// The images of `ds` after the model's image stage (deskewed when the model deskews;
    /// labels kept): what the cluster mean images and misclassified samples show.
    ///
    /// # Errors
    /// As [`FittedPipeline::transform`].
    pub fn images(&self, ds: &Dataset, threads: Threads) -> Result<Dataset, ModelError> {
        let ds = self.fit_input(ds)?;
        Ok(match &self.deskew {
            Some(p) => preprocess(&ds, &FeatureKind::Deskew(*p), threads)?,
            None => ds.into_owned(),
        })
    }

    /// What k-means sees of every sample of `ds` (`n × dims`, row-major): the model's
    /// stages applied in order — deskew, HOG or the pixels, PCA, the Nyström extension of
    /// the spectral embedding ([`GraphExtension::embed`]).
    ///
    /// # Errors
    /// [`ModelError::Input`] when the samples do not have the model's number of values or
    /// image size; [`ModelError::Features`] when a stage fails (e.g. deskew on floats).
    pub fn transform(&self, ds: &Dataset, threads: Threads) -> Result<Vec<f32>, ModelError> {
        Ok(self.transform_with_similarity(ds, threads)?.0)
    }

    /// [`FittedPipeline::transform`], and with the graph stage each sample's similarity
    /// to its most similar training sample.
    fn transform_with_similarity(
        &self,
        ds: &Dataset,
        threads: Threads,
    ) -> Result<(Vec<f32>, Option<Vec<f64>>), ModelError> {
        let ds = self.fit_input(ds)?;
        let images = match &self.deskew {
            Some(p) => std::borrow::Cow::Owned(preprocess(&ds, &FeatureKind::Deskew(*p), threads)?),
            None => ds,
        };
        let features = match (&self.hog, images.image_shape()) {
            (Some(opts), Some((h, w))) => {
                let spec = HogSpec::new(h, w, opts)?;
                hog_features(&images, &spec, threads)?
            }
            (Some(_), None) => {
                return Err(crate::dataset::DatasetError::NotImages(images.describe()).into())
            }
            (None, _) => images.to_f32(),
        };
        let scores: Option<Vec<f64>> = match &self.pca {
            Some(pca) => Some(pca.transform(&features, threads)?),
            None => None,
        };
        let points = match (&self.graph, scores) {
            (Some(_), Some(z)) => z,
            (Some(_), None) => features.iter().map(|&v| f64::from(v)).collect(),
            (None, Some(z)) => return Ok((to_f32(&z), None)),
            (None, None) => return Ok((features, None)),
        };
        let graph = self
            .graph
            .as_ref()
            .ok_or_else(|| invalid("no graph stage"))?;
        let (rows, nearest) = graph.embed_with_similarity(&points, threads)?;
        Ok((to_f32(&rows), Some(nearest)))
    }

    /// Classifies every sample of `ds`: [`FittedPipeline::transform`], then the nearest
    /// center ([`FittedPipeline::nearest`]) and its class. Samples are processed in
    /// parallel on `threads`; the result does not depend on it.
    ///
    /// # Errors
    /// As [`FittedPipeline::transform`].
    pub fn predict(&self, ds: &Dataset, threads: Threads) -> Result<Vec<Prediction>, ModelError> {
        let (x, similarity) = self.transform_with_similarity(ds, threads)?;
        let mapping = self.mapping();
        let nearest = self.nearest_center();
        let ood = self.ood;
        let one = |(i, row): (usize, &[f32])| {
            let (cluster, squared_distance) = nearest.nearest(row);
            let far = ood.is_some_and(|r| {
                f64::from(squared_distance).sqrt() > r.max_distance
                    || match (r.min_similarity, &similarity) {
                        (Some(min), Some(s)) => s[i] < min,
                        _ => false,
                    }
            });
            Prediction {
                cluster,
                squared_distance,
                class: mapping.map(|m| m[cluster as usize]),
                out_of_distribution: far,
            }
        };
        Ok(threads.install(|| x.par_chunks(self.dims).enumerate().map(one).collect()))
    }
}

/// `ds` with every 8-bit image of the other polarity than `want` inverted (a copy only
/// when one is).
fn conformed(
    ds: std::borrow::Cow<'_, Dataset>,
    want: Polarity,
) -> Result<std::borrow::Cow<'_, Dataset>, ModelError> {
    let Ok((pixels, h, w)) = ds.images_u8() else {
        return Ok(ds);
    };
    let d = h * w;
    let other = Some(want.flipped());
    if !pixels
        .chunks_exact(d)
        .any(|img| Polarity::of(GrayView::new(w, h, img)) == other)
    {
        return Ok(ds);
    }
    let mut out = pixels.to_vec();
    for img in out.chunks_exact_mut(d) {
        conform_polarity(img, w, h, want);
    }
    Ok(std::borrow::Cow::Owned(ds.with_images(out)?))
}

fn to_f32(v: &[f64]) -> Vec<f32> {
    v.iter().map(|&x| x as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::GrayImage;

    pub(crate) fn raw_model() -> FittedPipeline {
        let stages = Stages::pixels(InputKind::U8, Some((2, 2)), 4);
        let record = FitRecord::new(3);
        let classes = Classes::new(vec![1, 0, 2], 3, None).unwrap();
        FittedPipeline::new(
            stages,
            [[0.0; 4], [100.0; 4], [100.0; 4]].concat(),
            Some(classes),
            record,
        )
        .unwrap()
    }

    #[test]
    fn nearest_breaks_ties_to_the_lowest_cluster() {
        let m = raw_model();
        assert_eq!(m.nearest(&[90.0; 4]), (1, 400.0));
        let ds = Dataset::from_images(2, 2, 2, vec![1, 1, 1, 1, 100, 100, 100, 100]).unwrap();
        let p = m.predict(&ds, Threads::Fixed(2)).unwrap();
        assert_eq!(
            (p[0].cluster, p[0].class, p[0].distance()),
            (0, Some(1), 2.0)
        );
        assert_eq!((p[1].cluster, p[1].class), (1, Some(0)));
    }

    #[test]
    fn inconsistent_parts_are_refused() {
        let m = raw_model();
        let cases: [fn(&mut Stages, &mut Vec<f32>, &mut FitRecord); 5] = [
            |_, _, r| r.kmeans.k = 0,
            |_, c, _| {
                c.pop();
            },
            |s, _, _| s.image_shape = Some((3, 2)),
            |_, c, _| c[5] = f32::NAN,
            |s, _, _| {
                s.deskew = Some(DeskewValidParams::default());
                s.input = InputKind::F32;
            },
        ];
        for (i, f) in cases.iter().enumerate() {
            let (mut s, mut c, mut r) = (m.stages(), m.centers.clone(), m.record.clone());
            f(&mut s, &mut c, &mut r);
            let got = FittedPipeline::new(s, c, m.classes.clone(), r);
            assert!(matches!(got, Err(ModelError::Invalid(_))), "case {i}");
        }
        assert!(Classes::new(vec![0, 1, 3], 3, None).is_err());
        assert!(Classes::new(vec![0, 1], 3, Some(vec!["a".into()])).is_err());
        let wrong = Classes::new(vec![0, 1], 3, None).unwrap();
        let got = FittedPipeline::new(m.stages(), m.centers.clone(), Some(wrong), m.record);
        assert!(got.is_err());
    }

    #[test]
    fn inputs_must_fit() {
        let m = raw_model();
        let wide = Dataset::from_images(1, 1, 4, vec![0; 4]).unwrap();
        let e = m.predict(&wide, Threads::Fixed(1)).unwrap_err().to_string();
        assert_eq!(
            e,
            "the model takes 2x2 u8 images; the data are 1 images of 1x4 u8"
        );
        let vectors = Dataset::from_features(1, 4, None, Pixels::F32(vec![0.0; 4])).unwrap();
        assert!(m.predict(&vectors, Threads::Fixed(1)).is_ok());
        let big = GrayImage::from_vec(4, 4, vec![100; 16]);
        let ds = m.prepare_images([big.view()]).unwrap();
        assert_eq!(ds.image(0).unwrap().data(), &[100; 4]);
    }

    #[test]
    fn deskew_models_shape_u8_vectors() {
        let mut s = raw_model().stages();
        s.deskew = Some(DeskewValidParams::default());
        let r = raw_model();
        let m = FittedPipeline::new(s, r.centers.clone(), None, r.record.clone()).unwrap();
        let flat = Dataset::from_features(1, 4, None, Pixels::U8(vec![0, 9, 9, 0])).unwrap();
        assert_eq!(m.transform(&flat, Threads::Fixed(1)).unwrap().len(), 4);
    }
}
