//! Fitting: OpenCV's attempts loop around the Lloyd iterations.

use super::init::{self, PlusPlusScratch};
use super::lloyd::{self, sized, Samples};
use super::nearest::NearestCenter;
use super::opencv::{self, AttemptWs};
use super::params::{CheckedKMeansParams, Init, Mode, Reseed};
use super::KMeansError;
use crate::kernels::Element;
use crate::CvRng;

/// The result of [`fit`]: the best attempt's labels and centers.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{self, KMeansParams};
/// use imgcluster::CvRng;
///
/// let data = [0.0_f32, 0.0, 0.0, 2.0, 10.0, 10.0, 10.0, 12.0];
/// let params = KMeansParams::new(2).check()?;
/// let fit = kmeans::fit(&params, &data, 2, &mut CvRng::opencv_default())?;
/// assert_eq!((fit.k, fit.dims, fit.labels.len(), fit.centers.len()), (2, 2, 4, 4));
/// let c = fit.labels[0] as usize;
/// assert_eq!(fit.center(c), Some(&[0.0_f32, 1.0][..]));
/// assert_eq!(fit.compactness, 4.0);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct KMeansFit {
    /// Cluster of each sample, each `< k`.
    pub labels: Vec<u32>,
    /// The centers, `k × dims` row-major.
    pub centers: Vec<f32>,
    /// Number of clusters.
    pub k: usize,
    /// Values per sample and per center.
    pub dims: usize,
    /// Sum over samples of the squared distance to their center. [`Mode::OpenCv`]: each
    /// distance computed in `f32` by [`l2sq_opencv`](crate::kernels::l2sq_opencv), summed
    /// in `f64`, the value `cv::kmeans` returns. [`Mode::Fast`]: the inertia, fast
    /// distances (clamped at 0) summed in `f64` in a fixed order.
    pub compactness: f64,
    /// [`Mode::OpenCv`]: iterations of OpenCV's loop in the best attempt, counting the
    /// initialisation pass and the final pass that only measures distances.
    /// [`Mode::Fast`]: center updates in the best attempt.
    pub iterations: usize,
    /// Index of the best attempt (the first with the smallest compactness).
    pub best_attempt: usize,
    /// The mode that fitted it: [`KMeansFit::predict`] uses its distance.
    pub mode: Mode,
}

impl KMeansFit {
    /// Center `c`, or `None` if `c >= k`.
    pub fn center(&self, c: usize) -> Option<&[f32]> {
        (c < self.k).then(|| &self.centers[c * self.dims..(c + 1) * self.dims])
    }

    /// Assigns each sample of `data` (`n × dims`, row-major) to its nearest center, as
    /// the assignment step of the mode that fitted it does ([`NearestCenter`]): in
    /// [`Mode::OpenCv`] distances by [`l2sq_opencv`](crate::kernels::l2sq_opencv), in
    /// [`Mode::Fast`] by fast mode's `f64` expansion; ties to the lowest cluster index.
    /// Returns the cluster and the squared distance of each sample. Samples are processed
    /// in parallel on `threads`; the result does not depend on it.
    ///
    /// # Errors
    /// [`KMeansError::RaggedData`] when `data.len()` is not a multiple of `dims`,
    /// [`KMeansError::NonFinite`] for a NaN or infinite value.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::kmeans::{self, KMeansParams};
    /// use imgcluster::{CvRng, Threads};
    /// let params = KMeansParams::new(2).check()?;
    /// let fit = kmeans::fit(&params, &[0.0, 1.0, 10.0, 11.0], 1, &mut CvRng::opencv_default())?;
    /// let (labels, dists) = fit.predict(&[0.5, 12.0], Threads::Fixed(1))?;
    /// assert_eq!(labels[0], fit.labels[0]);
    /// assert_eq!(labels[1], fit.labels[3]);
    /// assert_eq!(dists, vec![0.0, 1.5 * 1.5]);
    /// # Ok::<(), imgcluster::kmeans::KMeansError>(())
    /// ```
    pub fn predict(
        &self,
        data: &[f32],
        threads: crate::Threads,
    ) -> Result<(Vec<u32>, Vec<f32>), KMeansError> {
        use rayon::prelude::*;
        let d = self.dims;
        if d == 0 || !data.len().is_multiple_of(d) {
            return Err(KMeansError::RaggedData {
                len: data.len(),
                dims: d,
            });
        }
        if let Some(i) = data.iter().position(|x| !x.is_finite()) {
            return Err(KMeansError::NonFinite {
                row: i / d,
                col: i % d,
            });
        }
        let nearest = NearestCenter::new(self.mode, &self.centers, d);
        Ok(threads.install(|| data.par_chunks(d).map(|x| nearest.nearest(x)).unzip()))
    }
}

/// Reusable buffers for [`fit_with`], so repeated fits do not reallocate.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{self, KMeansParams, Workspace};
/// use imgcluster::CvRng;
///
/// let params = KMeansParams::new(2).check()?;
/// let mut ws = Workspace::new();
/// let mut rng = CvRng::opencv_default();
/// for data in [[0.0_f32, 1.0, 9.0, 10.0], [5.0, 6.0, 50.0, 51.0]] {
///     let fit = kmeans::fit_with(&params, &data, 1, &mut rng, &mut ws)?;
///     assert_eq!(fit.compactness, 1.0);
/// }
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    centers: Vec<f32>,
    old_centers: Vec<f32>,
    labels: Vec<u32>,
    counters: Vec<usize>,
    dists: Vec<f64>,
    temp: Vec<f32>,
    bbox: Vec<[f32; 2]>,
    plus_plus: PlusPlusScratch,
    attempts: Vec<AttemptWs>,
    bytes: Vec<u8>,
}

impl Workspace {
    /// An empty workspace; buffers grow on first use.
    pub fn new() -> Self {
        Self::default()
    }

    fn prepare(&mut self, n: usize, k: usize, dims: usize) {
        sized(&mut self.centers, k * dims);
        sized(&mut self.old_centers, k * dims);
        sized(&mut self.labels, n);
        sized(&mut self.counters, k);
        sized(&mut self.dists, n);
        sized(&mut self.temp, dims);
    }
}

/// Clusters `data` (row-major samples of `dims` values each) exactly as OpenCV 4.8's
/// `cv::kmeans` does with the same parameters and `rng` as `cv::theRNG()`.
///
/// `rng` advances exactly as OpenCV's generator would: one `f32` draw per coordinate
/// of each random center, and for k-means++ one word for the first center plus two
/// per candidate. Passing the same `CvRng` to consecutive calls therefore
/// reproduces consecutive `cv::kmeans` calls in one OpenCV thread. Use
/// [`CvRng::opencv_default`] for a fresh process and [`CvRng::from_set_rng_seed`]
/// after `cv::setRNGSeed`.
///
/// Distance computations run on [`CheckedKMeansParams::threads`] threads; results
/// do not depend on the thread count.
///
/// This allocates a fresh [`Workspace`]; see [`fit_with`] to reuse one.
///
/// # Errors
///
/// * [`KMeansError::ZeroDims`] if `dims == 0`;
/// * [`KMeansError::RaggedData`] if `data.len()` is not a multiple of `dims`;
/// * [`KMeansError::TooFewSamples`] if there are fewer samples than clusters;
/// * [`KMeansError::TooManySamples`] if there are more than `i32::MAX` samples (OpenCV's limit);
/// * [`KMeansError::InitialLabelsLength`] if [`Init::Labels`] does not hold one label per sample;
/// * [`KMeansError::NonFinite`] for a NaN or infinite value (first in row-major order);
/// * [`KMeansError::DistanceOverflow`] if the data are so large that squared
///   distances overflow `f32`.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{self, Init, KMeansParams, TermCriteria};
/// use imgcluster::CvRng;
///
/// let data = [1.0_f32, 2.0, 3.0, 101.0, 102.0, 103.0];
/// let params = KMeansParams::new(2)
///     .term(TermCriteria::new().max_iter(20).epsilon(0.0))
///     .init(Init::labels(vec![0, 0, 1, 1, 1, 1]))
///     .attempts(1)
///     .check()?;
/// let fit = kmeans::fit(&params, &data, 1, &mut CvRng::from_set_rng_seed(1))?;
/// assert_eq!(fit.labels, [0, 0, 0, 1, 1, 1]);
/// assert_eq!(fit.centers, [2.0, 102.0]);
/// assert_eq!(fit.compactness, 4.0);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn fit(
    params: &CheckedKMeansParams,
    data: &[f32],
    dims: usize,
    rng: &mut CvRng,
) -> Result<KMeansFit, KMeansError> {
    fit_with(params, data, dims, rng, &mut Workspace::new())
}

/// [`fit`] with caller-provided buffers.
///
/// # Errors
///
/// As [`fit`].
pub fn fit_with(
    params: &CheckedKMeansParams,
    data: &[f32],
    dims: usize,
    rng: &mut CvRng,
    workspace: &mut Workspace,
) -> Result<KMeansFit, KMeansError> {
    let samples = validate(params, data, dims)?;
    let threads = params.threads();
    let parallel = threads.count() > 1;
    threads.install(|| {
        // Pixel data handed over as f32: read it as bytes (4x less memory traffic;
        // f32(u8) is exact, so every result is the same).
        let mut bytes = std::mem::take(&mut workspace.bytes);
        let fit = if as_bytes(data, &mut bytes) {
            let byte_samples = Samples {
                data: &bytes[..],
                n: samples.n,
                dims,
            };
            counted(params, || {
                run_mode(params, byte_samples, rng, workspace, parallel)
            })
        } else {
            counted(params, || {
                run_mode(params, samples, rng, workspace, parallel)
            })
        };
        workspace.bytes = bytes;
        fit
    })
}

/// [`fit`] for byte samples (pixels), read directly without a copy to `f32`; the
/// result is exactly that of [`fit`] on the samples widened to `f32`.
///
/// # Errors
///
/// As [`fit`] (bytes are always finite).
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{self, KMeansParams};
/// use imgcluster::CvRng;
///
/// let bytes = [0_u8, 1, 200, 201];
/// let params = KMeansParams::new(2).check()?;
/// let a = kmeans::fit_u8(&params, &bytes, 1, &mut CvRng::opencv_default())?;
/// let wide: Vec<f32> = bytes.iter().map(|&b| f32::from(b)).collect();
/// let b = kmeans::fit(&params, &wide, 1, &mut CvRng::opencv_default())?;
/// assert_eq!(a, b);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn fit_u8(
    params: &CheckedKMeansParams,
    data: &[u8],
    dims: usize,
    rng: &mut CvRng,
) -> Result<KMeansFit, KMeansError> {
    let samples = validate(params, data, dims)?;
    let threads = params.threads();
    let parallel = threads.count() > 1;
    let mut ws = Workspace::new();
    threads.install(|| counted(params, || run_mode(params, samples, rng, &mut ws, parallel)))
}

/// The straightforward implementation of [`fit`] in [`Mode::OpenCv`]: every distance
/// computed, one attempt after the other. Same results as [`fit`], only slower; kept
/// as the reference the pruned engine is tested against. The mode setting is ignored
/// (this is always OpenCV's algorithm).
///
/// # Errors
///
/// As [`fit`].
pub fn fit_reference(
    params: &CheckedKMeansParams,
    data: &[f32],
    dims: usize,
    rng: &mut CvRng,
) -> Result<KMeansFit, KMeansError> {
    let samples = validate(params, data, dims)?;
    let threads = params.threads();
    let parallel = threads.count() > 1;
    let mut ws = Workspace::new();
    threads.install(|| counted(params, || run(params, samples, rng, &mut ws, parallel)))
}

/// Whether every value is an integer in `0..=255` (and not `-0.0`); if so, `bytes`
/// holds them as bytes.
pub(super) fn as_bytes(data: &[f32], bytes: &mut Vec<u8>) -> bool {
    bytes.clear();
    bytes.reserve(data.len());
    for &v in data {
        // `as u8` saturates and maps NaN to 0, so the round trip fails for anything
        // but an integer in 0..=255 (and -0.0, caught by the sign test).
        let b = v as u8;
        if f32::from(b) != v || v.is_sign_negative() {
            bytes.clear();
            return false;
        }
        bytes.push(b);
    }
    true
}

/// Runs `fit` between the start and the end of the parameters' progress count.
pub(super) fn counted<R>(params: &CheckedKMeansParams, fit: impl FnOnce() -> R) -> R {
    let sink = params.sink();
    sink.start(params.attempts() * params.max_iter());
    let out = fit();
    sink.finish();
    out
}

/// The engine of the mode: fast mode; in OpenCV mode the pruned parallel engine when
/// its error analysis covers the data, else (or to reproduce an error exactly) the
/// reference loop.
fn run_mode<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    rng: &mut CvRng,
    ws: &mut Workspace,
    parallel: bool,
) -> Result<KMeansFit, KMeansError> {
    if params.mode() == Mode::Fast {
        return super::fast::fit(params, samples, rng, parallel);
    }
    if samples.magnitude_ok() {
        let start = rng.clone();
        match opencv::run(params, samples, rng, &mut ws.attempts, parallel) {
            Ok((best, out)) => {
                let a = &mut ws.attempts[best];
                return Ok(KMeansFit {
                    labels: std::mem::take(&mut a.labels),
                    centers: std::mem::take(&mut a.centers),
                    k: params.k(),
                    dims: samples.dims,
                    compactness: out.compactness,
                    iterations: out.iterations,
                    best_attempt: best,
                    mode: Mode::OpenCv,
                });
            }
            Err(_) => *rng = start,
        }
    }
    run(params, samples, rng, ws, parallel)
}

/// Checks the data against the parameters.
fn validate<'a, T: Element>(
    params: &CheckedKMeansParams,
    data: &'a [T],
    dims: usize,
) -> Result<Samples<'a, T>, KMeansError> {
    let samples = Samples::new(data, dims, params.k())?;
    let n = samples.n;
    if let Init::Labels { labels, .. } = params.init()
        && labels.len() != n
    {
        return Err(KMeansError::InitialLabelsLength {
            expected: n,
            got: labels.len(),
        });
    }
    Ok(samples)
}

/// The attempts loop of `cv::kmeans`.
fn run<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    rng: &mut CvRng,
    ws: &mut Workspace,
    parallel: bool,
) -> Result<KMeansFit, KMeansError> {
    if params.sample_weight().is_some() {
        return Err(KMeansError::WeightsNeedFastMode);
    }
    let (n, dims, k) = (samples.n, samples.dims, params.k());
    let max_iter = params.max_iter().max(2);
    let epsilon_sq = params.epsilon_sq();
    ws.prepare(n, k, dims);

    let (initial_labels, seeding) = match params.init() {
        Init::RandomBox => (None, Reseed::RandomBox),
        Init::PlusPlus => (None, Reseed::PlusPlus),
        Init::Labels { labels, reseed } => (Some(labels.as_slice()), *reseed),
        Init::Samples | Init::Centers(_) | Init::Parallel { .. } => {
            return Err(KMeansError::InitNeedsFastMode)
        }
    };
    if let Some(labels) = initial_labels {
        ws.labels.copy_from_slice(labels);
    }
    if seeding == Reseed::RandomBox {
        init::bounding_box(samples, &mut ws.bbox);
    }

    let mut best: Option<KMeansFit> = None;
    let mut best_compactness = f64::MAX;
    for attempt in 0..params.attempts() {
        let mut iter = 0;
        let compactness = loop {
            let mut max_center_shift = if iter == 0 { f64::MAX } else { 0.0 };
            std::mem::swap(&mut ws.centers, &mut ws.old_centers);

            if iter == 0 && (attempt > 0 || initial_labels.is_none()) {
                match seeding {
                    Reseed::PlusPlus => init::plus_plus(
                        samples,
                        k,
                        &mut ws.centers,
                        rng,
                        &mut ws.plus_plus,
                        parallel,
                    )?,
                    Reseed::RandomBox => {
                        for center in ws.centers.chunks_exact_mut(dims) {
                            init::random_center(&ws.bbox, center, rng);
                        }
                    }
                }
            } else {
                lloyd::update_centers(
                    samples,
                    &mut ws.labels,
                    &mut ws.centers,
                    &mut ws.counters,
                    &mut ws.temp,
                    &mut Vec::new(),
                )?;
                if iter > 0 {
                    max_center_shift = lloyd::max_center_shift(&ws.centers, &ws.old_centers, dims);
                }
            }

            iter += 1;
            if iter == max_iter || max_center_shift <= epsilon_sq {
                // The iterations an early stop spares count as done.
                params.sink().add(max_iter - iter + 1);
                // The last pass keeps the labels (no new empty clusters) and only
                // measures the distances.
                lloyd::distances_to_labels(
                    samples,
                    &ws.centers,
                    &ws.labels,
                    &mut ws.dists,
                    parallel,
                );
                break lloyd::opencv_sum(&ws.dists);
            }
            params.sink().add(1);
            lloyd::assign(samples, &ws.centers, k, &mut ws.labels, parallel);
        };

        if compactness < best_compactness {
            best_compactness = compactness;
            match &mut best {
                Some(b) => {
                    b.labels.copy_from_slice(&ws.labels);
                    b.centers.copy_from_slice(&ws.centers);
                    b.compactness = compactness;
                    b.iterations = iter;
                    b.best_attempt = attempt;
                }
                None => {
                    best = Some(KMeansFit {
                        labels: ws.labels.clone(),
                        centers: ws.centers.clone(),
                        k,
                        dims,
                        compactness,
                        iterations: iter,
                        best_attempt: attempt,
                        mode: Mode::OpenCv,
                    });
                }
            }
        }
    }
    best.ok_or(KMeansError::DistanceOverflow)
}
