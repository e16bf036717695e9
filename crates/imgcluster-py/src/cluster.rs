//! k-means: the `cv2.kmeans` drop-in (OpenCV mode, module-level generator) and the
//! engine behind the scikit-learn estimator (fast mode, seeded per fit).

use std::sync::Mutex;

use imgcluster::kmeans::{
    self, Data, Init, KMeansFit, KMeansParams, MiniBatchParams, Mode, NearestCenter, Reseed,
    TermCriteria,
};
use imgcluster::CvRng;
use numpy::PyUntypedArrayMethods;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use rayon::prelude::*;

use crate::array::{bad, detached, labels_i32, matrix, slice, threads, vector, Samples};

/// The generator `cv2.kmeans` draws from: OpenCV's `theRNG()`, in its default state until
/// `setRNGSeed`, advanced by every call.
static RNG: Mutex<CvRng> = Mutex::new(CvRng::opencv_default());

fn module_rng() -> CvRng {
    RNG.lock().map(|r| r.clone()).unwrap_or_default()
}

fn store_rng(rng: CvRng) {
    if let Ok(mut r) = RNG.lock() {
        *r = rng;
    }
}

/// `cv2.setRNGSeed(seed)`: the generator `kmeans` draws from starts again from `seed`.
#[pyfunction]
#[pyo3(name = "setRNGSeed")]
fn set_rng_seed(seed: i64) -> PyResult<()> {
    let seed = i32::try_from(seed).map_err(|_| {
        bad(
            "seed",
            format!("{seed} is not a 32-bit integer, as OpenCV's int"),
        )
    })?;
    store_rng(CvRng::from_set_rng_seed(seed));
    Ok(())
}

/// The state of the module's generator (OpenCV's `theRNG().state`).
#[pyfunction]
fn rng_state() -> u64 {
    module_rng().state()
}

fn fit_data(
    params: &kmeans::CheckedKMeansParams,
    data: Data<'_>,
    rng: &mut CvRng,
) -> Result<KMeansFit, kmeans::KMeansError> {
    match data {
        Data::U8 { values, dims } => kmeans::fit_u8(params, values, dims, rng),
        Data::F32 { values, dims } => kmeans::fit(params, values, dims, rng),
    }
}

/// `cv2.kmeans` in OpenCV mode, drawing from the module's generator. Arguments are those
/// the Python wrapper has parsed from OpenCV's (`criteria`, `flags`).
#[pyfunction]
#[pyo3(signature = (data, k, labels, plus_plus, max_iter, epsilon, attempts, n_threads))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn cv_kmeans<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    k: usize,
    labels: Option<PyReadonlyArray1<'py, i32>>,
    plus_plus: bool,
    max_iter: Option<usize>,
    epsilon: Option<f64>,
    attempts: usize,
    n_threads: Option<usize>,
) -> PyResult<(f64, Bound<'py, PyArray2<i32>>, Bound<'py, PyArray2<f32>>)> {
    let samples = Samples::extract(data, "data")?;
    let data = samples.data("data")?;
    let reseed = if plus_plus {
        Reseed::PlusPlus
    } else {
        Reseed::RandomBox
    };
    let init = match &labels {
        Some(l) => {
            let l = slice(l, "bestLabels")?;
            if l.len() != samples.rows() {
                return Err(bad(
                    "bestLabels",
                    format!("{} labels given for {} samples", l.len(), samples.rows()),
                ));
            }
            let labels = l
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    u32::try_from(v).map_err(|_| {
                        bad("bestLabels", format!("label {v} of sample {i} is negative"))
                    })
                })
                .collect::<PyResult<Vec<u32>>>()?;
            Init::Labels { labels, reseed }
        }
        None if plus_plus => Init::PlusPlus,
        None => Init::RandomBox,
    };
    let mut term = TermCriteria::new();
    if let Some(n) = max_iter {
        term = term.max_iter(n);
    }
    if let Some(e) = epsilon {
        term = term.epsilon(e);
    }
    let params = KMeansParams::new(k)
        .term(term)
        .attempts(attempts)
        .init(init)
        .threads(threads(n_threads)?)
        .check()
        .map_err(|e| bad(name_of(&e), e))?;
    let mut rng = module_rng();
    let fit = detached(py, || {
        fit_data(&params, data, &mut rng).map_err(|e| bad(name_of(&e), e))
    })?;
    store_rng(rng);
    let n = fit.labels.len();
    Ok((
        fit.compactness,
        matrix(py, labels_i32(&fit.labels), n, 1)?,
        matrix(py, fit.centers, fit.k, fit.dims)?,
    ))
}

/// The argument a k-means error is about, as `cv2.kmeans` and `KMeans` name them.
fn name_of(e: &kmeans::KMeansError) -> &'static str {
    use kmeans::KMeansError as E;
    match e {
        E::ZeroClusters | E::TooFewSamples { .. } | E::TooFewWeighted { .. } => "K",
        E::ZeroAttempts => "attempts",
        E::InvalidEpsilon { .. } => "criteria",
        E::InitialLabelOutOfRange { .. } | E::InitialLabelsLength { .. } => "bestLabels",
        E::NonFiniteCenter { .. } | E::InitialCentersLength { .. } => "init",
        E::InvalidWeight { .. } | E::ZeroWeights | E::SampleWeightsLength { .. } => "sample_weight",
        E::InvalidMiniBatch { .. } => "batch_size",
        _ => "data",
    }
}

/// The result of [`fit`]: labels (`int32`, N), centers (`float32`, K×D), inertia,
/// iterations, and for mini-batch the steps taken.
type FitResult<'py> = (
    Bound<'py, PyArray1<i32>>,
    Bound<'py, PyArray2<f32>>,
    f64,
    usize,
    usize,
);

/// Fast-mode k-means for the estimator: `init` is `"k-means++"`, `"random"` (k samples
/// drawn by weight) or `"array"` (`centers`); `epsilon` stops when no center moves more
/// (`None`: only when no label changes); `seed` seeds the generator of this fit.
#[pyfunction]
#[pyo3(signature = (data, k, init, centers, n_init, max_iter, epsilon, seed, sample_weight, algorithm, batch_size, tol, n_threads))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    k: usize,
    init: &str,
    centers: Option<PyReadonlyArray2<'py, f32>>,
    n_init: usize,
    max_iter: usize,
    epsilon: Option<f64>,
    seed: u64,
    sample_weight: Option<PyReadonlyArray1<'py, f64>>,
    algorithm: &str,
    batch_size: usize,
    tol: f64,
    n_threads: Option<usize>,
) -> PyResult<FitResult<'py>> {
    let samples = Samples::extract(data, "X")?;
    let data = samples.data("X")?;
    let init = match (init, &centers) {
        ("k-means++", _) => Init::PlusPlus,
        ("random", _) => Init::Samples,
        ("array", Some(c)) => {
            let shape = c.shape();
            if shape != [k, data.dims()] {
                return Err(bad(
                    "init",
                    format!(
                        "the initial centers are {}x{}, expected n_clusters x n_features = {k}x{}",
                        shape[0],
                        shape[1],
                        data.dims()
                    ),
                ));
            }
            let values = c
                .as_slice()
                .map_err(|_| bad("init", "the array is not C-contiguous"))?;
            Init::Centers(values.to_vec())
        }
        (other, _) => {
            return Err(bad(
                "init",
                format!("{other:?} is not 'k-means++', 'random' or an array"),
            ));
        }
    };
    let mut term = TermCriteria::new().max_iter(max_iter);
    if let Some(e) = epsilon {
        term = term.epsilon(e);
    }
    let mut params = KMeansParams::new(k)
        .mode(Mode::Fast)
        .term(term)
        .attempts(n_init)
        .init(init)
        .threads(threads(n_threads)?);
    if let Some(w) = &sample_weight {
        params = params.sample_weight(slice(w, "sample_weight")?.to_vec());
    }
    let params = params.check().map_err(|e| bad(name_of(&e), e))?;
    let minibatch = match algorithm {
        "lloyd" => None,
        "minibatch" => Some(
            MiniBatchParams::new()
                .batch_size(batch_size)
                .tol(tol)
                .check()
                .map_err(|e| bad(name_of(&e), e))?,
        ),
        other => {
            return Err(bad(
                "algorithm",
                format!("{other:?} is not 'lloyd' or 'minibatch'"),
            ));
        }
    };
    let mut rng = CvRng::new(seed);
    let (fit, steps) = detached(py, || {
        let out = match (&minibatch, data) {
            (None, _) => fit_data(&params, data, &mut rng).map(|f| (f, 0)),
            (Some(mb), Data::U8 { values, dims }) => {
                kmeans::fit_minibatch_u8(&params, mb, values, dims, &mut rng)
                    .map(|f| (f.fit, f.steps))
            }
            (Some(mb), Data::F32 { values, dims }) => {
                kmeans::fit_minibatch(&params, mb, values, dims, &mut rng).map(|f| (f.fit, f.steps))
            }
        };
        out.map_err(|e| bad(name_of(&e), e))
    })?;
    Ok((
        vector(py, labels_i32(&fit.labels)),
        matrix(py, fit.centers, fit.k, fit.dims)?,
        fit.compactness,
        fit.iterations,
        steps,
    ))
}

/// Checks `centers` against the samples and returns them with their row length.
fn centers_for<'a>(centers: &'a PyReadonlyArray2<'_, f32>, data: &Data<'_>) -> PyResult<&'a [f32]> {
    let shape = centers.shape();
    if shape[1] != data.dims() {
        return Err(bad(
            "X",
            format!(
                "{} features, but the centers have {}",
                data.dims(),
                shape[1]
            ),
        ));
    }
    if shape[0] == 0 {
        return Err(bad("centers", "no centers"));
    }
    centers
        .as_slice()
        .map_err(|_| bad("centers", "the array is not C-contiguous"))
}

/// Calls `f` with every sample as `f32` values, in parallel, in sample order.
fn map_rows<R: Send>(data: Data<'_>, f: impl Fn(&[f32]) -> R + Sync + Send) -> Vec<R> {
    match data {
        Data::F32 { values, dims } => values.par_chunks(dims).map(f).collect(),
        Data::U8 { values, dims } => values
            .par_chunks(dims)
            .map_init(
                || vec![0.0_f32; dims],
                |row, x| {
                    for (r, &v) in row.iter_mut().zip(x) {
                        *r = f32::from(v);
                    }
                    f(row)
                },
            )
            .collect(),
    }
}

fn squared_distance(x: &[f32], c: &[f32]) -> f64 {
    x.iter()
        .zip(c)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum()
}

/// Labels (`int32`) and squared distances (`float64`).
type Nearest<'py> = (Bound<'py, PyArray1<i32>>, Bound<'py, PyArray1<f64>>);

/// The nearest center of every sample (as the fit labels them: fast mode's distances,
/// ties to the lowest index) and the exact squared distance to it, in `float64`.
#[pyfunction]
#[pyo3(signature = (data, centers, n_threads))]
fn nearest<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    centers: PyReadonlyArray2<'py, f32>,
    n_threads: Option<usize>,
) -> PyResult<Nearest<'py>> {
    let samples = Samples::extract(data, "X")?;
    let data = samples.data("X")?;
    let c = centers_for(&centers, &data)?;
    let pool = threads(n_threads)?;
    let dims = data.dims();
    let (labels, dist): (Vec<i32>, Vec<f64>) = detached(py, || {
        let nc = NearestCenter::new(Mode::Fast, c, dims);
        Ok(pool
            .install(|| {
                map_rows(data, |x| {
                    let (l, _) = nc.nearest(x);
                    let l = l as usize;
                    (l as i32, squared_distance(x, &c[l * dims..(l + 1) * dims]))
                })
            })
            .into_iter()
            .unzip())
    })?;
    Ok((vector(py, labels), vector(py, dist)))
}

/// Euclidean distances of every sample to every center (N×K, `float64`).
#[pyfunction]
#[pyo3(signature = (data, centers, n_threads))]
fn distances<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    centers: PyReadonlyArray2<'py, f32>,
    n_threads: Option<usize>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let samples = Samples::extract(data, "X")?;
    let data = samples.data("X")?;
    let c = centers_for(&centers, &data)?;
    let pool = threads(n_threads)?;
    let dims = data.dims();
    let k = c.len() / dims;
    let rows: Vec<Vec<f64>> = detached(py, || {
        Ok(pool.install(|| {
            map_rows(data, |x| {
                c.chunks_exact(dims)
                    .map(|c| squared_distance(x, c).sqrt())
                    .collect()
            })
        }))
    })?;
    let n = rows.len();
    matrix(py, rows.concat(), n, k)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(set_rng_seed, m)?)?;
    m.add_function(wrap_pyfunction!(rng_state, m)?)?;
    m.add_function(wrap_pyfunction!(cv_kmeans, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(nearest, m)?)?;
    m.add_function(wrap_pyfunction!(distances, m)?)?;
    Ok(())
}
