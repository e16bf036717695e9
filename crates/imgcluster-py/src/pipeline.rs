//! The fitted pipelines (`tutorial-raw`, `tutorial-deskew`, `hog`, `best`): fit, predict,
//! transform, and the model files the command line's `classify --model-out` writes and
//! its `predict` reads.

use std::path::PathBuf;

use imgcluster::dataset::{Dataset, Pixels};
use imgcluster::features::{PipelineParams, Preset};
use imgcluster::model::FittedPipeline;
use imgcluster::CvRng;
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray3};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::array::{bad, detached, labels_i32, matrix, slice, threads, vector, Samples};

/// A data set of the images or vectors in `obj`: `N×H×W` `uint8` images, or `N×D`
/// `uint8`/`float32` rows (`shape` says which images they are, if any). Copied once.
fn dataset(obj: &Bound<'_, PyAny>, name: &str, shape: Option<(usize, usize)>) -> PyResult<Dataset> {
    if let Ok(a) = obj.extract::<PyReadonlyArray3<'_, u8>>() {
        let s = a.shape();
        let values = a
            .as_slice()
            .map_err(|_| bad(name, "the array is not C-contiguous"))?;
        return Dataset::from_images(s[0], s[1], s[2], values.to_vec()).map_err(|e| bad(name, e));
    }
    let samples = Samples::extract(obj, name)?;
    let n = samples.rows();
    let (pixels, dims) = match samples.data(name)? {
        imgcluster::kmeans::Data::U8 { values, dims } => (Pixels::U8(values.to_vec()), dims),
        imgcluster::kmeans::Data::F32 { values, dims } => (Pixels::F32(values.to_vec()), dims),
    };
    let shape = shape.filter(|&(h, w)| h.checked_mul(w) == Some(dims));
    Dataset::from_features(n, dims, shape, pixels).map_err(|e| bad(name, e))
}

fn preset(name: &str) -> PyResult<Preset> {
    Preset::ALL
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| {
            let names: Vec<_> = Preset::ALL.iter().map(|p| p.name()).collect();
            bad(
                "preset",
                format!("{name:?} is not one of {}", names.join(", ")),
            )
        })
}

/// A fitted pipeline: every learned stage, the centers, and the cluster → class mapping
/// when classes were given.
#[pyclass(name = "FittedPipeline", module = "imgcluster._imgcluster", frozen)]
pub struct Model {
    inner: FittedPipeline,
}

#[pymethods]
impl Model {
    /// Reads a model file (`classify --model-out`, `Pipeline.save`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        let inner = detached(py, || {
            FittedPipeline::load(&path).map_err(|e| PyValueError::new_err(e.to_string()))
        })?;
        Ok(Self { inner })
    }

    /// A model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Self> {
        FittedPipeline::from_bytes(bytes)
            .map(|inner| Self { inner })
            .map_err(|e| PyValueError::new_err(format!("model: {e}")))
    }

    /// The bytes of the model file.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Writes the model file.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        detached(py, || {
            self.inner
                .save(&path)
                .map_err(|e| PyValueError::new_err(e.to_string()))
        })
    }

    /// Clusters (`int32`), classes (`int32` class indices, or `None` without classes),
    /// Euclidean distances to the nearest center, and the out-of-distribution flags.
    #[pyo3(signature = (x, n_threads))]
    #[allow(clippy::type_complexity)]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<(
        Bound<'py, PyArray1<i32>>,
        Option<Bound<'py, PyArray1<i32>>>,
        Bound<'py, PyArray1<f64>>,
        Bound<'py, PyArray1<bool>>,
    )> {
        let ds = dataset(x, "X", self.inner.image_shape())?;
        let pool = threads(n_threads)?;
        let p = detached(py, || {
            self.inner.predict(&ds, pool).map_err(|e| bad("X", e))
        })?;
        let clusters: Vec<i32> = p.iter().map(|p| p.cluster as i32).collect();
        let classes = p
            .iter()
            .map(|p| p.class.map(|c| c as i32))
            .collect::<Option<Vec<i32>>>()
            .filter(|_| self.inner.classes().is_some());
        Ok((
            vector(py, clusters),
            classes.map(|c| vector(py, c)),
            vector(py, p.iter().map(|p| p.distance()).collect()),
            vector(py, p.iter().map(|p| p.out_of_distribution).collect()),
        ))
    }

    /// What k-means sees of every sample (N × `dims`, `float32`).
    #[pyo3(signature = (x, n_threads))]
    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        n_threads: Option<usize>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let ds = dataset(x, "X", self.inner.image_shape())?;
        let n = ds.len();
        let pool = threads(n_threads)?;
        let v = detached(py, || {
            self.inner.transform(&ds, pool).map_err(|e| bad("X", e))
        })?;
        matrix(py, v, n, self.inner.dims())
    }

    /// Number of clusters.
    #[getter]
    fn k(&self) -> usize {
        self.inner.k()
    }

    /// Length of the vectors k-means clusters.
    #[getter]
    fn dims(&self) -> usize {
        self.inner.dims()
    }

    /// Values of one input sample.
    #[getter]
    fn input_dims(&self) -> usize {
        self.inner.input_dims()
    }

    /// The centers (K × `dims`, `float32`).
    #[getter]
    fn centers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        matrix(
            py,
            self.inner.centers().to_vec(),
            self.inner.k(),
            self.inner.dims(),
        )
    }

    /// Class index of every cluster, or `None` without classes.
    #[getter]
    fn mapping<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i32>>> {
        self.inner.mapping().map(|m| vector(py, labels_i32(m)))
    }

    /// The class names, or `None`.
    #[getter]
    fn class_names(&self) -> Option<Vec<String>> {
        self.inner.class_names().map(<[String]>::to_vec)
    }

    /// `(height, width)` of the images the model reads, or `None` for vectors.
    #[getter]
    fn image_shape(&self) -> Option<(usize, usize)> {
        self.inner.image_shape()
    }

    /// Whether the model deskews its input.
    #[getter]
    fn deskewed(&self) -> bool {
        self.inner.deskewed()
    }

    /// The stages, as the command line names them (`pixels`, `deskew+hog+pca+spectral`, …).
    #[getter]
    fn features(&self) -> &'static str {
        self.inner.features_name()
    }

    /// The clusters of the training samples (`int32`), when the model was fitted in this
    /// process (a loaded model does not keep them).
    #[getter]
    fn training_labels<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i32>>> {
        self.inner
            .training_labels()
            .map(|l| vector(py, labels_i32(l)))
    }
}

/// Fits the pipeline `preset_name` with `k` clusters on `x`; with `classes` (class index
/// per sample, `n_classes` of them, named `names`) also learns the cluster → class mapping.
#[pyfunction]
#[pyo3(signature = (preset_name, k, x, image_shape, classes, n_classes, names, seed, n_threads))]
#[allow(clippy::too_many_arguments)]
fn fit_pipeline(
    py: Python<'_>,
    preset_name: &str,
    k: usize,
    x: &Bound<'_, PyAny>,
    image_shape: Option<(usize, usize)>,
    classes: Option<PyReadonlyArray1<'_, u32>>,
    n_classes: usize,
    names: Option<Vec<String>>,
    seed: Option<i64>,
    n_threads: Option<usize>,
) -> PyResult<Model> {
    let preset = preset(preset_name)?;
    let pool = threads(n_threads)?;
    let ds = dataset(x, "X", image_shape)?;
    let classes = classes
        .as_ref()
        .map(|c| slice(c, "y").map(<[u32]>::to_vec))
        .transpose()?;
    let rng = match seed {
        None => CvRng::opencv_default(),
        Some(s) => CvRng::from_set_rng_seed(
            i32::try_from(s).map_err(|_| bad("random_state", "not a 32-bit integer"))?,
        ),
    };
    let params = PipelineParams::preset(preset, k)
        .threads(pool)
        .check()
        .map_err(|e| bad("n_clusters", e))?;
    let inner = detached(py, || {
        let mut model = params.fit(&ds, &rng).map_err(|e| bad("X", e))?;
        if let Some(c) = &classes {
            model
                .learn_classes(c, n_classes, names)
                .map_err(|e| bad("y", e))?;
        }
        Ok(model)
    })?;
    Ok(Model { inner })
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(fit_pipeline, m)?)?;
    Ok(())
}
