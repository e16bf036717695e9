//! The rest of the toolbox: the embedded digits, deskew, HOG, scores, loaders and colour
//! quantization.

use std::path::PathBuf;

use imgcluster::dataset::csv::LabelColumn;
use imgcluster::dataset::grid::{self, GridLayout};
use imgcluster::dataset::{self, Dataset, Format, OpenOptions, Pixels};
use imgcluster::features::{hog_features, preprocess, FeatureKind, HogOptions, HogSpec};
use imgcluster::imgproc::DeskewParams;
use imgcluster::kmeans::{Init, KMeansParams, TermCriteria};
use imgcluster::metrics::{evaluate, Mapping};
use imgcluster::quantize::{decode_rgb, quantize, QuantizeParams, RgbImage};
use imgcluster::CvRng;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArray3, PyArrayDyn, PyReadonlyArray1, PyReadonlyArray3,
};
use numpy::{PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::array::{bad, detached, labels_i32, matrix, slice, threads, vector};

/// `N×H×W` images of `uint8` as a data set (copied once).
fn images(a: &PyReadonlyArray3<'_, u8>, name: &str) -> PyResult<Dataset> {
    let s = a.shape();
    let values = a
        .as_slice()
        .map_err(|_| bad(name, "the array is not C-contiguous"))?;
    Dataset::from_images(s[0], s[1], s[2], values.to_vec()).map_err(|e| bad(name, e))
}

/// The pixels of a data set as an array: `N×H×W` for images, else `N×D`.
fn pixels_array<'py>(py: Python<'py>, ds: Dataset) -> PyResult<Bound<'py, PyAny>> {
    let n = ds.len();
    let shape: Vec<usize> = match ds.image_shape() {
        Some((h, w)) => vec![n, h, w],
        None => vec![n, ds.dims()],
    };
    Ok(match ds.into_pixels() {
        Pixels::U8(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
        Pixels::F32(v) => v.into_pyarray(py).reshape(shape)?.into_any(),
    })
}

/// OpenCV's digits: 5000 images of 20×20 (`uint8`) and their digit (`int32`).
#[pyfunction]
fn digits(py: Python<'_>) -> PyResult<(Bound<'_, PyAny>, Bound<'_, PyArray1<i32>>)> {
    let ds = grid::digits();
    let labels = ds.labels().map(labels_i32).unwrap_or_default();
    Ok((pixels_array(py, ds)?, vector(py, labels)))
}

/// The tutorial's deskew of every image of `x` (`N×H×W`, `uint8`), with shift `factor`.
#[pyfunction]
#[pyo3(signature = (x, factor, n_threads))]
fn deskew<'py>(
    py: Python<'py>,
    x: PyReadonlyArray3<'py, u8>,
    factor: f64,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let ds = images(&x, "img")?;
    let params = DeskewParams::new()
        .factor(factor)
        .check()
        .map_err(|e| bad("factor", e))?;
    let pool = threads(n_threads)?;
    let out = detached(py, || {
        preprocess(&ds, &FeatureKind::Deskew(params), pool).map_err(|e| bad("img", e))
    })?;
    pixels_array(py, out)
}

/// The HOG descriptors of the `hog` pipeline (`N × len`, `float32`).
#[pyfunction]
#[pyo3(signature = (x, n_threads))]
fn hog<'py>(
    py: Python<'py>,
    x: PyReadonlyArray3<'py, u8>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let ds = images(&x, "images")?;
    let (h, w) = ds.image_shape().unwrap_or((0, 0));
    let spec = HogSpec::new(h, w, &HogOptions::new()).map_err(|e| bad("images", e))?;
    let pool = threads(n_threads)?;
    let n = ds.len();
    let f = detached(py, || {
        hog_features(&ds, &spec, pool).map_err(|e| bad("images", e))
    })?;
    matrix(py, f, n, spec.len())
}

/// Scores `clusters` against the classes `truth`: the cluster → class mapping (one to one
/// by the Hungarian algorithm, or each cluster's majority class), the confusion matrix
/// after it, accuracy, NMI and ARI.
#[pyfunction]
#[pyo3(signature = (truth, clusters, n_classes, k, one_to_one))]
fn evaluate_clusters<'py>(
    py: Python<'py>,
    truth: PyReadonlyArray1<'py, u32>,
    clusters: PyReadonlyArray1<'py, u32>,
    n_classes: usize,
    k: usize,
    one_to_one: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let (t, c) = (slice(&truth, "y_true")?, slice(&clusters, "y_pred")?);
    let mapping = if one_to_one {
        Mapping::OneToOne
    } else {
        Mapping::Majority
    };
    let e = detached(py, || {
        evaluate(t, c, n_classes, k, mapping).map_err(|e| bad("y_pred", e))
    })?;
    let d = PyDict::new(py);
    let to_i64 = |v: &[u64]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    d.set_item("correct", e.accuracy.correct())?;
    d.set_item("total", e.accuracy.total())?;
    d.set_item("accuracy", e.accuracy.fraction())?;
    d.set_item("percent", e.accuracy.format_percent())?;
    d.set_item("nmi", e.nmi)?;
    d.set_item("ari", e.ari)?;
    d.set_item("mapping", vector(py, labels_i32(e.mapping.as_slice())))?;
    d.set_item(
        "confusion",
        matrix(py, to_i64(e.confusion.as_slice()), n_classes, n_classes)?,
    )?;
    d.set_item(
        "contingency",
        matrix(py, to_i64(e.contingency.as_slice()), k, n_classes)?,
    )?;
    Ok(d)
}

fn format(name: &str) -> PyResult<Format> {
    Ok(match name {
        "auto" => Format::Auto,
        "grid" => Format::Grid,
        "npy" => Format::Npy,
        "idx" => Format::Idx,
        "folder" => Format::Folder,
        "csv" => Format::Csv,
        other => {
            return Err(bad(
                "format",
                format!("{other:?} is not auto, grid, npy, idx, folder or csv"),
            ));
        }
    })
}

fn label_column(name: Option<String>) -> LabelColumn {
    match name.as_deref() {
        None => LabelColumn::Auto,
        Some("first") => LabelColumn::First,
        Some("last") => LabelColumn::Last,
        Some("none") => LabelColumn::None,
        Some(n) => LabelColumn::Name(n.to_string()),
    }
}

/// A data set in any format the command line reads (as its `--data` does): the samples
/// (`N×H×W` for images, else `N×D`; `uint8` or `float32`), their classes (`int32`) or
/// `None`, and the class names or `None`.
#[pyfunction]
#[pyo3(signature = (path, format_name, labels, shape, size, cell, classes, label_col, n_threads))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn load<'py>(
    py: Python<'py>,
    path: PathBuf,
    format_name: &str,
    labels: Option<PathBuf>,
    shape: Option<(usize, usize)>,
    size: Option<(usize, usize)>,
    cell: usize,
    classes: Option<usize>,
    label_col: Option<String>,
    n_threads: Option<usize>,
) -> PyResult<(
    Bound<'py, PyAny>,
    Option<Bound<'py, PyArray1<i32>>>,
    Option<Vec<String>>,
)> {
    let mut opts = OpenOptions::new()
        .format(format(format_name)?)
        .grid(GridLayout { cell, classes })
        .size(size)
        .shape(shape)
        .label_column(label_column(label_col))
        .threads(threads(n_threads)?);
    if let Some(l) = labels {
        opts = opts.labels(l);
    }
    let ds = detached(py, || {
        dataset::open(&path, &opts).map_err(|e| PyValueError::new_err(e.to_string()))
    })?;
    let labels = ds.labels().map(|l| vector(py, labels_i32(l)));
    let names = ds.class_names().map(<[String]>::to_vec);
    Ok((pixels_array(py, ds)?, labels, names))
}

/// Colour quantization as OpenCV's tutorial does it, on an `H×W×3` RGB image: the
/// quantized image, the palette (K×3 RGB), the cluster of every pixel (H×W) and the
/// compactness. `seed`: `setRNGSeed(seed)` first, else OpenCV's default state.
#[pyfunction]
#[pyo3(signature = (image, k, attempts, max_iter, epsilon, plus_plus, seed, max_samples, n_threads))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn quantize_image<'py>(
    py: Python<'py>,
    image: PyReadonlyArray3<'py, u8>,
    k: usize,
    attempts: usize,
    max_iter: usize,
    epsilon: f64,
    plus_plus: bool,
    seed: Option<i64>,
    max_samples: usize,
    n_threads: Option<usize>,
) -> PyResult<(
    Bound<'py, PyArray3<u8>>,
    Bound<'py, PyArray2<u8>>,
    Bound<'py, PyArrayDyn<i32>>,
    f64,
)> {
    let s = image.shape();
    let (h, w) = (s[0], s[1]);
    if s[2] != 3 {
        return Err(bad(
            "image",
            format!("expected H×W×3 RGB, got {} channels", s[2]),
        ));
    }
    let values = image
        .as_slice()
        .map_err(|_| bad("image", "the array is not C-contiguous"))?;
    let img = RgbImage::new(w, h, values.to_vec()).map_err(|e| bad("image", e))?;
    let km = KMeansParams::new(k)
        .attempts(attempts)
        .term(TermCriteria::new().max_iter(max_iter).epsilon(epsilon))
        .init(if plus_plus {
            Init::PlusPlus
        } else {
            Init::RandomBox
        })
        .threads(threads(n_threads)?);
    let params = QuantizeParams::new(k)
        .kmeans(km)
        .max_samples(max_samples)
        .check()
        .map_err(|e| bad("k", e))?;
    let mut rng = match seed {
        None => CvRng::opencv_default(),
        Some(s) => CvRng::from_set_rng_seed(
            i32::try_from(s).map_err(|_| bad("seed", "not a 32-bit integer"))?,
        ),
    };
    let q = detached(py, || {
        quantize(&img, &params, &mut rng).map_err(|e| bad("k", e))
    })?;
    let palette: Vec<u8> = q.palette.iter().flatten().copied().collect();
    let n_colors = q.palette.len();
    Ok((
        q.image
            .data()
            .to_vec()
            .into_pyarray(py)
            .reshape([h, w, 3])?,
        matrix(py, palette, n_colors, 3)?,
        labels_i32(&q.labels).into_pyarray(py).reshape(vec![h, w])?,
        q.compactness,
    ))
}

/// A PNG or JPEG file as an `H×W×3` RGB array, as `quantize` reads it (gray, palette,
/// 16-bit and alpha images made RGB as `cv2.imread` does).
#[pyfunction]
fn read_rgb(py: Python<'_>, path: PathBuf) -> PyResult<Bound<'_, PyArray3<u8>>> {
    let img = detached(py, || {
        let bytes = std::fs::read(&path)
            .map_err(|e| bad("path", format!("cannot read {}: {e}", path.display())))?;
        decode_rgb(&bytes).map_err(|e| bad("path", format!("{}: {e}", path.display())))
    })?;
    let (h, w) = (img.height(), img.width());
    img.data().to_vec().into_pyarray(py).reshape([h, w, 3])
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(digits, m)?)?;
    m.add_function(wrap_pyfunction!(deskew, m)?)?;
    m.add_function(wrap_pyfunction!(hog, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_clusters, m)?)?;
    m.add_function(wrap_pyfunction!(load, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_image, m)?)?;
    m.add_function(wrap_pyfunction!(read_rgb, m)?)?;
    Ok(())
}
