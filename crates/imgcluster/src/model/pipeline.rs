//! The model in memory: its parts, their checks, and prediction.

use rayon::prelude::*;

use super::ModelError;
use crate::dataset::resize::resize;
use crate::dataset::{Dataset, Pixels};
use crate::features::{preprocess, FeatureKind};
use crate::image::GrayView;
use crate::kernels::l2sq_opencv;
use crate::Threads;

/// The kind of values the model was trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// 8-bit values (images): new images files can be classified.
    U8,
    /// 32-bit floats (feature vectors): only data of the same kind can be classified.
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

/// How the initial centers of the k-means run were chosen (a record; see
/// [`crate::kmeans::Init`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InitKind {
    /// Random centers in the data's bounding box (`KMEANS_RANDOM_CENTERS`). The default.
    #[default]
    RandomBox,
    /// k-means++ (`KMEANS_PP_CENTERS`).
    PlusPlus,
    /// Given initial labels (`KMEANS_USE_INITIAL_LABELS`).
    Labels,
}

impl InitKind {
    /// `random`, `pp` or `labels`: the names of `imgcluster classify --init`.
    pub fn name(self) -> &'static str {
        match self {
            InitKind::RandomBox => "random",
            InitKind::PlusPlus => "pp",
            InitKind::Labels => "labels",
        }
    }
}

/// The k-means settings and results of the run that made the model (a record: prediction
/// uses only the centers).
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansInfo {
    /// Number of clusters.
    pub k: usize,
    /// Attempts (the most compact won).
    pub attempts: usize,
    /// Iteration limit (`None`: OpenCV's 100).
    pub max_iter: Option<usize>,
    /// Required accuracy (`None`: `f32::EPSILON`).
    pub epsilon: Option<f64>,
    /// Initial centers.
    pub init: InitKind,
    /// `cv2.setRNGSeed` value, or `None` for OpenCV's default generator state.
    pub seed: Option<i32>,
    /// Compactness of the fit, if known.
    pub compactness: Option<f64>,
    /// Iterations of the best attempt, if known.
    pub iterations: Option<usize>,
}

impl KMeansInfo {
    /// `k` clusters, 1 attempt, OpenCV's default criteria, random centers, default seed,
    /// no results.
    pub fn new(k: usize) -> Self {
        Self {
            k,
            attempts: 1,
            max_iter: None,
            epsilon: None,
            init: InitKind::RandomBox,
            seed: None,
            compactness: None,
            iterations: None,
        }
    }
}

/// Where the model was trained (a record).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrainingInfo {
    /// The data set, as the user named it.
    pub source: Option<String>,
    /// Number of samples clustered.
    pub n_samples: usize,
    /// The part of the data set clustered, when not all of it.
    pub train_ratio: Option<f64>,
}

/// The parts of a model, unchecked; [`Model::new`] checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// The kind of values trained on.
    pub input: InputKind,
    /// `(height, width)` of the training images, or `None` for feature vectors.
    pub image_shape: Option<(usize, usize)>,
    /// The preprocessing.
    pub features: FeatureKind,
    /// The k-means settings (`k` is the number of centers).
    pub kmeans: KMeansInfo,
    /// The centers, `k × dims` row-major.
    pub centers: Vec<f32>,
    /// The class of each cluster, learned on the training labels; `None` without labels.
    pub mapping: Option<Vec<u32>>,
    /// Class names (class `i` is `class_names[i]`), if known.
    pub class_names: Option<Vec<String>>,
    /// Number of classes, when labels were known.
    pub n_classes: Option<usize>,
    /// Where the model was trained.
    pub training: TrainingInfo,
}

/// A checked model: see the [module documentation](super).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    spec: ModelSpec,
    dims: usize,
}

/// The prediction for one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prediction {
    /// The nearest center (ties to the lowest index).
    pub cluster: u32,
    /// Squared Euclidean distance to it, as k-means computes it
    /// ([`l2sq_opencv`](crate::kernels::l2sq_opencv)).
    pub squared_distance: f32,
    /// The class of the cluster, when the model has a mapping.
    pub class: Option<u32>,
}

impl Prediction {
    /// The Euclidean distance to the nearest center.
    pub fn distance(&self) -> f64 {
        f64::from(self.squared_distance).sqrt()
    }
}

fn invalid(msg: impl Into<String>) -> ModelError {
    ModelError::Invalid(msg.into())
}

impl Model {
    /// Checks the parts and makes a model.
    ///
    /// # Errors
    /// [`ModelError::Invalid`] when `k` is zero, the centers are not `k` rows of the same
    /// non-zero length (`height · width` for images) or hold a non-finite value, the deskew
    /// preprocessing is asked for vectors or floats, the mapping does not give each of the `k`
    /// clusters a class below `n_classes`, or the class names are not `n_classes` names.
    pub fn new(spec: ModelSpec) -> Result<Model, ModelError> {
        let k = spec.kmeans.k;
        if k == 0 {
            return Err(invalid("k is 0"));
        }
        let n = spec.centers.len();
        if n == 0 || !n.is_multiple_of(k) {
            return Err(invalid(format!("{n} center values are not {k} equal rows")));
        }
        let dims = n / k;
        if let Some((h, w)) = spec.image_shape {
            if h.checked_mul(w) != Some(dims) {
                return Err(invalid(format!(
                    "{h}x{w} images do not have the {dims} values of a center"
                )));
            }
        }
        if let Some(i) = spec.centers.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "center {}, value {} is not a finite number",
                i / dims,
                i % dims
            )));
        }
        if matches!(spec.features, FeatureKind::Deskew(_))
            && (spec.image_shape.is_none() || spec.input != InputKind::U8)
        {
            return Err(invalid(
                "deskew needs 8-bit images (u8 input with a height and width)",
            ));
        }
        if spec.n_classes == Some(0) {
            return Err(invalid("the number of classes is 0"));
        }
        if let Some(mapping) = &spec.mapping {
            let Some(nc) = spec.n_classes else {
                return Err(invalid("a mapping needs the number of classes"));
            };
            if mapping.len() != k {
                return Err(invalid(format!(
                    "the mapping has {} entries for {k} clusters",
                    mapping.len()
                )));
            }
            if let Some(c) = mapping.iter().position(|&m| m as usize >= nc) {
                return Err(invalid(format!(
                    "cluster {c} maps to class {} of {nc}",
                    mapping[c]
                )));
            }
        }
        if let Some(names) = &spec.class_names {
            if spec.n_classes != Some(names.len()) {
                return Err(invalid(format!(
                    "{} class names for {} classes",
                    names.len(),
                    spec.n_classes.map_or("no".to_string(), |n| n.to_string())
                )));
            }
        }
        Ok(Model { spec, dims })
    }

    /// The parts of the model.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// Number of clusters.
    pub fn k(&self) -> usize {
        self.spec.kmeans.k
    }

    /// Values per sample after preprocessing (and per center).
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// `(height, width)` of the images the model takes, or `None` for vectors.
    pub fn image_shape(&self) -> Option<(usize, usize)> {
        self.spec.image_shape
    }

    /// The preprocessing.
    pub fn features(&self) -> &FeatureKind {
        &self.spec.features
    }

    /// The centers, `k × dims` row-major.
    pub fn centers(&self) -> &[f32] {
        &self.spec.centers
    }

    /// The class of each cluster, if the model has labels.
    pub fn mapping(&self) -> Option<&[u32]> {
        self.spec.mapping.as_deref()
    }

    /// Number of classes, if the model has labels.
    pub fn n_classes(&self) -> Option<usize> {
        self.spec.n_classes
    }

    /// The class names, if known.
    pub fn class_names(&self) -> Option<&[String]> {
        self.spec.class_names.as_deref()
    }

    /// The name of `class`, if class names are known.
    pub fn class_name(&self, class: u32) -> Option<&str> {
        self.spec
            .class_names
            .as_ref()
            .and_then(|n| n.get(class as usize))
            .map(String::as_str)
    }

    /// The nearest center to `x` (`dims` values) and the squared distance to it: distances by
    /// [`l2sq_opencv`], ties to the lowest cluster index — the assignment step of k-means.
    ///
    /// # Panics
    /// Panics if `x.len() != self.dims()`.
    pub fn nearest(&self, x: &[f32]) -> (u32, f32) {
        assert_eq!(x.len(), self.dims, "Model::nearest: sample length");
        let mut best = (0u32, f32::INFINITY);
        for (c, center) in self.spec.centers.chunks_exact(self.dims).enumerate() {
            let d = l2sq_opencv(x, center);
            if d < best.1 {
                best = (c as u32, d);
            }
        }
        best
    }

    /// Brings gray images of any size to the model's input: each is resized to the training
    /// image size with [`resize`] (area averaging when shrinking, bilinear when enlarging —
    /// the rule of the image-folder loader).
    ///
    /// # Errors
    /// [`ModelError::Input`] when the model was not trained on 8-bit images, or an image is
    /// empty; [`ModelError::Dataset`] when there is no image.
    pub fn prepare_images<'a>(
        &self,
        images: impl IntoIterator<Item = GrayView<'a>>,
    ) -> Result<Dataset, ModelError> {
        let (h, w) = match (self.spec.image_shape, self.spec.input) {
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

    fn describe_input(&self) -> String {
        match self.spec.image_shape {
            Some((h, w)) => format!("{h}x{w} {} images", self.spec.input.name()),
            None => format!("vectors of {} {}", self.dims, self.spec.input.name()),
        }
    }

    /// The feature matrix (`n × dims`, row-major) of `ds` after the model's preprocessing.
    ///
    /// # Errors
    /// [`ModelError::Input`] when the samples do not have the model's number of values or
    /// image size; [`ModelError::Features`] when the preprocessing fails (e.g. deskew on
    /// floats).
    pub fn feature_matrix(&self, ds: &Dataset, threads: Threads) -> Result<Vec<f32>, ModelError> {
        if ds.dims() != self.dims {
            return Err(ModelError::Input(format!(
                "the model takes {}; the data are {}",
                self.describe_input(),
                ds.describe()
            )));
        }
        if let (Some(want), Some(got)) = (self.spec.image_shape, ds.image_shape()) {
            if want != got {
                return Err(ModelError::Input(format!(
                    "the model takes {}; the data are {}",
                    self.describe_input(),
                    ds.describe()
                )));
            }
        }
        match &self.spec.features {
            FeatureKind::Raw => Ok(ds.to_f32()),
            kind => {
                let shaped;
                let ds = match (ds.image_shape(), ds.pixels(), self.spec.image_shape) {
                    (None, Pixels::U8(v), Some((h, w))) => {
                        shaped = Dataset::from_images(ds.len(), h, w, v.clone())?;
                        &shaped
                    }
                    _ => ds,
                };
                Ok(preprocess(ds, kind, threads)?.to_f32())
            }
        }
    }

    /// Classifies every sample of `ds`: the model's preprocessing, then the nearest center
    /// ([`Model::nearest`]) and its class. Samples are processed in parallel on `threads`;
    /// the result does not depend on it.
    ///
    /// # Errors
    /// As [`Model::feature_matrix`].
    pub fn predict(&self, ds: &Dataset, threads: Threads) -> Result<Vec<Prediction>, ModelError> {
        let x = self.feature_matrix(ds, threads)?;
        let mapping = self.spec.mapping.as_deref();
        let one = |row: &[f32]| {
            let (cluster, squared_distance) = self.nearest(row);
            Prediction {
                cluster,
                squared_distance,
                class: mapping.map(|m| m[cluster as usize]),
            }
        };
        Ok(threads.install(|| x.par_chunks(self.dims).map(one).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::GrayImage;
    use crate::imgproc::DeskewValidParams;

    fn spec() -> ModelSpec {
        ModelSpec {
            input: InputKind::U8,
            image_shape: Some((2, 2)),
            features: FeatureKind::Raw,
            kmeans: KMeansInfo::new(3),
            centers: [[0.0; 4], [100.0; 4], [100.0; 4]].concat(),
            mapping: Some(vec![1, 0, 2]),
            class_names: None,
            n_classes: Some(3),
            training: TrainingInfo::default(),
        }
    }

    #[test]
    fn nearest_breaks_ties_to_the_lowest_cluster() {
        let m = Model::new(spec()).unwrap();
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
        let cases: [fn(&mut ModelSpec); 8] = [
            |s| s.kmeans.k = 0,
            |s| s.centers.pop().map_or((), drop),
            |s| s.image_shape = Some((3, 2)),
            |s| s.centers[5] = f32::NAN,
            |s| s.mapping = Some(vec![0, 1]),
            |s| s.mapping = Some(vec![0, 1, 3]),
            |s| s.class_names = Some(vec!["a".into()]),
            |s| {
                s.features = FeatureKind::Deskew(DeskewValidParams::default());
                s.input = InputKind::F32;
            },
        ];
        for (i, f) in cases.iter().enumerate() {
            let mut s = spec();
            f(&mut s);
            assert!(
                matches!(Model::new(s), Err(ModelError::Invalid(_))),
                "case {i}"
            );
        }
    }

    #[test]
    fn inputs_must_fit() {
        let m = Model::new(spec()).unwrap();
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
        let mut f = spec();
        f.input = InputKind::F32;
        let e = Model::new(f)
            .unwrap()
            .prepare_images([big.view()])
            .unwrap_err();
        assert!(e.to_string().contains("trained on 2x2 f32 images"), "{e}");
    }

    #[test]
    fn deskew_models_shape_u8_vectors() {
        let mut s = spec();
        s.features = FeatureKind::Deskew(DeskewValidParams::default());
        let m = Model::new(s).unwrap();
        let flat = Dataset::from_features(1, 4, None, Pixels::U8(vec![0, 9, 9, 0])).unwrap();
        assert_eq!(m.feature_matrix(&flat, Threads::Fixed(1)).unwrap().len(), 4);
    }
}
