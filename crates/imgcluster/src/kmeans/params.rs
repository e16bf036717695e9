//! k-means parameters: the unchecked builder [`KMeansParams`] and the validated
//! [`CheckedKMeansParams`] that fitting accepts.

use std::sync::Arc;

use super::minibatch::{CheckedMiniBatchParams, MiniBatchFit};
use super::progress::{FitProgress, ProgressSink};
use super::KMeansError;
use super::{Data, KMeansFit};
use crate::{CvRng, Threads};

/// OpenCV's `FLT_EPSILON`, the tolerance used when no epsilon is given.
const FLT_EPSILON: f64 = f32::EPSILON as f64;

/// Iteration cap OpenCV applies: at most 100 iterations, and 100 when no count is given.
const MAX_ITER_CAP: usize = 100;

/// When to stop the Lloyd iterations of one attempt (OpenCV's `cv::TermCriteria`
/// with `COUNT`, `EPS` or both).
///
/// Semantics, exactly as in OpenCV's `cv::kmeans`:
///
/// * `max_iter: Some(n)` (`COUNT`): at most `n` iterations, with `n` clamped to
///   `[2, 100]`; `None`: 100 iterations.
/// * `epsilon: Some(e)` (`EPS`): stop once no center moved by more than `e`
///   (Euclidean distance); `e` is clamped to `>= 0` and compared squared with the
///   squared center shift. `None`: `e = FLT_EPSILON` (`f32::EPSILON`).
///
/// Whichever condition is met first stops the attempt. The iteration that stops
/// recomputes the centers but does not reassign labels (OpenCV avoids creating empty
/// clusters that way).
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::TermCriteria;
///
/// let t = TermCriteria::new().max_iter(10).epsilon(1.0);
/// assert_eq!(t.max_iter, Some(10));
/// assert_eq!(t.epsilon, Some(1.0));
/// assert_eq!(TermCriteria::new(), TermCriteria { max_iter: None, epsilon: None });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TermCriteria {
    /// Maximum number of iterations (`COUNT`), or `None` for OpenCV's 100.
    pub max_iter: Option<usize>,
    /// Required accuracy: the largest center move (`EPS`), or `None` for `f32::EPSILON`.
    pub epsilon: Option<f64>,
}

impl TermCriteria {
    /// Criteria with neither a count nor an epsilon (OpenCV then uses 100
    /// iterations and `FLT_EPSILON`).
    pub const fn new() -> Self {
        Self {
            max_iter: None,
            epsilon: None,
        }
    }

    /// Sets the maximum number of iterations (`COUNT`); clamped to `[2, 100]` when used.
    pub const fn max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = Some(max_iter);
        self
    }

    /// Sets the required accuracy (`EPS`); negative values act as `0`.
    pub const fn epsilon(mut self, epsilon: f64) -> Self {
        self.epsilon = Some(epsilon);
        self
    }
}

/// How the attempts after the first are seeded when the first starts from given labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reseed {
    /// Random centers in the bounding box (OpenCV: `KMEANS_USE_INITIAL_LABELS` alone).
    #[default]
    RandomBox,
    /// k-means++ (OpenCV: `KMEANS_USE_INITIAL_LABELS | KMEANS_PP_CENTERS`).
    PlusPlus,
}

/// Which k-means to run.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{KMeansParams, Mode};
///
/// assert_eq!(Mode::default(), Mode::OpenCv);
/// let p = KMeansParams::new(3).mode(Mode::Fast).check()?;
/// assert_eq!(p.mode(), Mode::Fast);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// OpenCV 4.8's `cv::kmeans`, bit for bit (the default).
    #[default]
    OpenCv,
    /// Lloyd's algorithm run to its fixed point as fast as possible: bounds skip most
    /// distance computations without changing any label (the labels are those of
    /// plain Lloyd with the same distance arithmetic), centers are means computed
    /// exactly (bytes) or in `f64`, and an empty cluster takes the sample farthest from its
    /// center (as scikit-learn does), so no cluster stays empty when there are at least K
    /// distinct samples.
    /// Iterates until no label changes (or the center shift is at most `epsilon`,
    /// when given), at most `max_iter` times (default 300, no clamp).
    Fast,
}

impl Mode {
    /// `opencv` or `fast`, as `imgcluster classify --mode` names it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Fast => "fast",
            _ => "opencv",
        }
    }
}

/// How each attempt chooses its initial centers.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{Init, Reseed};
///
/// let init = Init::labels(vec![0, 1, 0]);
/// assert_eq!(init, Init::Labels { labels: vec![0, 1, 0], reseed: Reseed::RandomBox });
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Init {
    /// `KMEANS_RANDOM_CENTERS`: each coordinate uniform in the data's bounding box
    /// widened by `1/dims` of its width on both sides, drawn center by center,
    /// coordinate by coordinate (one `f32` draw each).
    #[default]
    RandomBox,
    /// `KMEANS_PP_CENTERS`: k-means++ (Arthur & Vassilvitskii) with 3 candidate
    /// centers per step, keeping the one with the smallest potential.
    PlusPlus,
    /// `KMEANS_USE_INITIAL_LABELS`: the first attempt starts from these labels (one
    /// per sample, each `< k`); the following attempts are seeded as `reseed` says.
    Labels {
        /// One label per sample.
        labels: Vec<u32>,
        /// Seeding of attempts after the first.
        reseed: Reseed,
    },
    /// [`Mode::Fast`] only: `k` distinct samples drawn at random (FAISS's and
    /// scikit-learn's `random`).
    Samples,
    /// [`Mode::Fast`] only: these `k × dims` centers (row-major) for every attempt.
    Centers(Vec<f32>),
    /// [`Mode::Fast`] only: k-means|| (Bahmani et al. 2012, Spark MLlib's `k-means||`), the
    /// scalable k-means++: `rounds` rounds each draw about `oversampling · k` candidates at
    /// once, with probability proportional to their squared distance to the candidates so
    /// far; the candidates, weighted by the samples nearest to them, are then reduced to
    /// `k` centers by a weighted k-means++ and Lloyd iterations. Over distributed data it
    /// takes `rounds` + 1 rounds of collectives where k-means++ takes `k`, and it gives the
    /// same centers for any number of ranks. [`Init::parallel`] has Spark's defaults.
    Parallel {
        /// Oversampling rounds (at least 1; Spark's `initializationSteps`).
        rounds: usize,
        /// Candidates expected per round, as a multiple of `k` (finite, positive).
        oversampling: f64,
    },
}

impl Init {
    /// [`Init::Labels`] with later attempts seeded by [`Reseed::RandomBox`], as
    /// OpenCV's `KMEANS_USE_INITIAL_LABELS` flag alone does.
    pub fn labels(labels: Vec<u32>) -> Self {
        Init::Labels {
            labels,
            reseed: Reseed::RandomBox,
        }
    }

    /// [`Init::Parallel`] with Spark MLlib's defaults: 2 rounds of `2·k` expected
    /// candidates each.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::kmeans::Init;
    ///
    /// assert_eq!(Init::parallel(), Init::Parallel { rounds: 2, oversampling: 2.0 });
    /// ```
    pub fn parallel() -> Self {
        Init::Parallel {
            rounds: super::scalable::DEFAULT_ROUNDS,
            oversampling: super::scalable::DEFAULT_OVERSAMPLING,
        }
    }
}

/// Unchecked k-means parameters; [`KMeansParams::check`] turns them into
/// [`CheckedKMeansParams`], the only form fitting accepts.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::{Init, KMeansParams, TermCriteria};
/// use imgcluster::Threads;
///
/// // The settings of OpenCV's k-means digits tutorial.
/// let params = KMeansParams::new(10)
///     .term(TermCriteria::new().max_iter(10).epsilon(1.0))
///     .attempts(10)
///     .init(Init::RandomBox)
///     .threads(Threads::Auto)
///     .check()?;
/// assert_eq!(params.k(), 10);
/// assert_eq!(params.epsilon_sq(), 1.0);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    k: usize,
    term: TermCriteria,
    attempts: usize,
    init: Init,
    threads: Threads,
    mode: Mode,
    progress: ProgressSink,
    rng: CvRng,
    weights: Option<Arc<[f64]>>,
}

impl KMeansParams {
    /// Parameters for `k` clusters with the defaults of OpenCV's k-means tutorial:
    /// termination after 10 iterations or a center shift of at most 1.0
    /// (`TermCriteria::new().max_iter(10).epsilon(1.0)`), 10 attempts,
    /// [`Init::RandomBox`], [`Threads::Auto`] and [`Mode::OpenCv`].
    pub fn new(k: usize) -> Self {
        Self {
            k,
            term: TermCriteria::new().max_iter(10).epsilon(1.0),
            attempts: 10,
            init: Init::RandomBox,
            threads: Threads::Auto,
            mode: Mode::OpenCv,
            progress: ProgressSink::default(),
            rng: CvRng::opencv_default(),
            weights: None,
        }
    }

    /// Sets the mode ([`Mode::OpenCv`] by default).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the number of clusters.
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// Sets the termination criteria of each attempt.
    pub fn term(mut self, term: TermCriteria) -> Self {
        self.term = term;
        self
    }

    /// Sets the number of attempts; the attempt with the smallest compactness wins
    /// (the first one on ties).
    pub fn attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts;
        self
    }

    /// Sets the initialisation.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Sets the threads used for the distance computations (results never depend on it).
    pub fn threads(mut self, threads: Threads) -> Self {
        self.threads = threads;
        self
    }

    /// The generator state each [`CheckedKMeansParams::fit`] starts from (scikit-learn's
    /// `random_state`): OpenCV's default state unless set, `CvRng::from_set_rng_seed(s)`
    /// for `cv2.setRNGSeed(s)`. (The free functions such as [`fit`](super::fit) take the
    /// generator instead and advance it, as `cv2.kmeans` advances OpenCV's.)
    pub fn rng(mut self, rng: CvRng) -> Self {
        self.rng = rng;
        self
    }

    /// [`Mode::Fast`] only: one weight per sample (finite, non-negative, not all zero),
    /// as scikit-learn's `sample_weight`. Centers are weighted means, the compactness is
    /// the weighted sum of squared distances, k-means++ draws with probability
    /// proportional to weight × squared distance and [`Init::Samples`] draws samples with
    /// probability proportional to their weight; a sample of weight 0 is labelled but
    /// moves no center. An integer weight gives the centers and labels of as many
    /// copies of the sample, and equal weights draw as no weights do. Default: none
    /// (every sample counts once). Mini-batch k-means does not take weights.
    pub fn sample_weight(mut self, weights: Vec<f64>) -> Self {
        self.weights = Some(weights.into());
        self
    }

    /// Counts the fit's passes in `progress`, for a progress bar (results never depend
    /// on it); see [`FitProgress`].
    pub fn progress(mut self, progress: Arc<FitProgress>) -> Self {
        self.progress = ProgressSink::new(progress);
        self
    }

    /// Validates the parameters and resolves OpenCV's adjustments (iteration clamp,
    /// squared epsilon, `k == 1` shortcut).
    ///
    /// For `k == 1` OpenCV runs a single attempt of 2 iterations whatever was asked;
    /// so does this.
    ///
    /// # Errors
    ///
    /// * [`KMeansError::ZeroClusters`] if `k == 0`;
    /// * [`KMeansError::ZeroAttempts`] if `attempts == 0` (OpenCV silently uses 1);
    /// * [`KMeansError::InvalidEpsilon`] if the epsilon is NaN, or its square (after
    ///   clamping to `>= 0`) is not below `f64::MAX` (OpenCV would then stop before assigning any label);
    /// * [`KMeansError::InitialLabelOutOfRange`] if an initial label is `>= k`;
    /// * [`KMeansError::InitNeedsFastMode`] for [`Init::Samples`], [`Init::Centers`] or
    ///   [`Init::Parallel`] in [`Mode::OpenCv`];
    /// * [`KMeansError::InvalidParallelInit`] for [`Init::Parallel`] with 0 rounds or an
    ///   oversampling factor that is not a finite positive number;
    /// * [`KMeansError::NonFiniteCenter`] if a given initial center value is not finite;
    /// * [`KMeansError::WeightsNeedFastMode`] for sample weights in [`Mode::OpenCv`],
    ///   [`KMeansError::InvalidWeight`] for a negative or non-finite weight,
    ///   [`KMeansError::ZeroWeights`] if every weight is zero.
    ///
    /// The data-dependent checks (sample count, finiteness, number of initial labels
    /// and weights) happen in [`fit`](super::fit).
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::kmeans::{KMeansError, KMeansParams};
    ///
    /// assert_eq!(KMeansParams::new(0).check().unwrap_err(), KMeansError::ZeroClusters);
    /// ```
    pub fn check(self) -> Result<CheckedKMeansParams, KMeansError> {
        if self.k == 0 {
            return Err(KMeansError::ZeroClusters);
        }
        if self.attempts == 0 {
            return Err(KMeansError::ZeroAttempts);
        }
        if self.mode == Mode::OpenCv
            && matches!(
                self.init,
                Init::Samples | Init::Centers(_) | Init::Parallel { .. }
            )
        {
            return Err(KMeansError::InitNeedsFastMode);
        }
        if let Init::Parallel {
            rounds,
            oversampling,
        } = self.init
            && (rounds == 0 || !(oversampling.is_finite() && oversampling > 0.0))
        {
            return Err(KMeansError::InvalidParallelInit {
                rounds,
                oversampling,
            });
        }
        if let Init::Centers(c) = &self.init
            && let Some(index) = c.iter().position(|v| !v.is_finite())
        {
            return Err(KMeansError::NonFiniteCenter { index });
        }
        if let Some(w) = &self.weights {
            if self.mode == Mode::OpenCv {
                return Err(KMeansError::WeightsNeedFastMode);
            }
            if let Some(index) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(KMeansError::InvalidWeight {
                    index,
                    weight: w[index],
                });
            }
            if w.iter().all(|&v| v == 0.0) {
                return Err(KMeansError::ZeroWeights);
            }
        }
        let epsilon_sq = match self.term.epsilon {
            Some(epsilon) => {
                // OpenCV: std::max(epsilon, 0.) then squared. NaN would disable the
                // test silently; a square at or above DBL_MAX would end every attempt
                // before its first assignment.
                let e = epsilon.max(0.0);
                let sq = e * e;
                if epsilon.is_nan() || sq >= f64::MAX {
                    return Err(KMeansError::InvalidEpsilon { epsilon });
                }
                sq
            }
            None => FLT_EPSILON * FLT_EPSILON,
        };
        let mut max_iter = match self.term.max_iter {
            Some(n) => n.clamp(2, MAX_ITER_CAP),
            None => MAX_ITER_CAP,
        };
        let mut attempts = self.attempts;
        if self.mode == Mode::Fast {
            max_iter = self.term.max_iter.unwrap_or(300).max(1);
        }
        if self.k == 1 && self.mode == Mode::OpenCv {
            attempts = 1;
            max_iter = 2;
        }
        if let Init::Labels { labels, .. } = &self.init
            && let Some((index, &label)) = labels
                .iter()
                .enumerate()
                .find(|&(_, &l)| l as usize >= self.k)
        {
            return Err(KMeansError::InitialLabelOutOfRange {
                index,
                label,
                k: self.k,
            });
        }
        let epsilon_sq = match (self.mode, self.term.epsilon) {
            (Mode::Fast, None) => 0.0,
            _ => epsilon_sq,
        };
        Ok(CheckedKMeansParams {
            k: self.k,
            term: self.term,
            attempts,
            max_iter,
            epsilon_sq,
            init: self.init,
            threads: self.threads,
            mode: self.mode,
            progress: self.progress,
            rng: self.rng,
            weights: self.weights,
        })
    }
}

/// Validated k-means parameters, with OpenCV's adjustments resolved.
///
/// Built by [`KMeansParams::check`]; accepted by [`fit`](super::fit).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedKMeansParams {
    k: usize,
    term: TermCriteria,
    attempts: usize,
    max_iter: usize,
    epsilon_sq: f64,
    init: Init,
    threads: Threads,
    mode: Mode,
    progress: ProgressSink,
    rng: CvRng,
    weights: Option<Arc<[f64]>>,
}

impl CheckedKMeansParams {
    /// Fits k-means to `data` (a [`Dataset`](crate::dataset::Dataset), or [`Data`] over
    /// a slice), starting from the parameters' generator state
    /// ([`KMeansParams::rng`]): parameters → fit → fitted model, as scikit-learn's and
    /// linfa's `fit`. Bytes are read as bytes; the result is that of [`fit`](super::fit)
    /// (or [`fit_u8`](super::fit_u8)) with a copy of that generator.
    ///
    /// # Errors
    /// As [`fit`](super::fit).
    ///
    /// # Examples
    /// ```
    /// use imgcluster::kmeans::{Data, KMeansParams, Mode};
    /// use imgcluster::{CvRng, Threads};
    ///
    /// let x = [0.0_f32, 0.5, 1.0, 10.0, 10.5, 11.0];
    /// let params = KMeansParams::new(2)
    ///     .mode(Mode::Fast)
    ///     .rng(CvRng::from_set_rng_seed(1))
    ///     .check()?;
    /// let model = params.fit(Data::f32(&x, 1))?;
    /// assert_eq!(model, params.fit(Data::f32(&x, 1))?); // the same state, the same fit
    /// let (labels, _) = model.predict(&[0.2, 10.2], Threads::Fixed(1))?;
    /// assert_eq!(labels, [model.labels[0], model.labels[3]]);
    /// # Ok::<(), imgcluster::kmeans::KMeansError>(())
    /// ```
    pub fn fit<'a>(&self, data: impl Into<Data<'a>>) -> Result<KMeansFit, KMeansError> {
        let mut rng = self.rng.clone();
        match data.into() {
            Data::U8 { values, dims } => super::fit_u8(self, values, dims, &mut rng),
            Data::F32 { values, dims } => super::fit(self, values, dims, &mut rng),
        }
    }

    /// Mini-batch k-means ([`fit_minibatch`](super::fit_minibatch)) of `data` with these
    /// parameters and `mb`, from the parameters' generator state.
    ///
    /// # Errors
    /// As [`fit_minibatch`](super::fit_minibatch).
    pub fn fit_minibatch<'a>(
        &self,
        mb: &CheckedMiniBatchParams,
        data: impl Into<Data<'a>>,
    ) -> Result<MiniBatchFit, KMeansError> {
        let mut rng = self.rng.clone();
        match data.into() {
            Data::U8 { values, dims } => super::fit_minibatch_u8(self, mb, values, dims, &mut rng),
            Data::F32 { values, dims } => super::fit_minibatch(self, mb, values, dims, &mut rng),
        }
    }

    /// The generator state each fit starts from.
    pub fn rng(&self) -> &CvRng {
        &self.rng
    }

    /// The same parameters, fitting from the generator state `rng`.
    pub fn with_rng(mut self, rng: CvRng) -> Self {
        self.rng = rng;
        self
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The number of clusters (at least 1).
    pub fn k(&self) -> usize {
        self.k
    }

    /// The termination criteria as given.
    pub fn term(&self) -> TermCriteria {
        self.term
    }

    /// The number of attempts that will run (1 when `k == 1`).
    pub fn attempts(&self) -> usize {
        self.attempts
    }

    /// The iteration limit that will apply. [`Mode::OpenCv`]: the requested count
    /// clamped to `[2, 100]`, 100 without a count, 2 when `k == 1`. [`Mode::Fast`]: the
    /// requested count (at least 1), 300 without one.
    pub fn max_iter(&self) -> usize {
        self.max_iter
    }

    /// The squared epsilon compared with the squared center shift: `max(e, 0)^2`, or
    /// without an epsilon `f32::EPSILON^2` ([`Mode::OpenCv`]) or 0 ([`Mode::Fast`]).
    pub fn epsilon_sq(&self) -> f64 {
        self.epsilon_sq
    }

    /// The initialisation.
    pub fn init(&self) -> &Init {
        &self.init
    }

    /// The threads used for distance computations.
    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// The same parameters, counting the fit's passes in `progress` (see
    /// [`KMeansParams::progress`]).
    pub fn with_progress(mut self, progress: Arc<FitProgress>) -> Self {
        self.progress = ProgressSink::new(progress);
        self
    }

    /// Where the fit counts its passes.
    /// The sample weights, if any ([`KMeansParams::sample_weight`]).
    pub fn sample_weight(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    pub(crate) fn sink(&self) -> &ProgressSink {
        &self.progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_tutorial_settings() {
        let p = KMeansParams::new(3);
        assert_eq!(p.term, TermCriteria::new().max_iter(10).epsilon(1.0));
        assert_eq!(p.attempts, 10);
        assert_eq!(p.init, Init::RandomBox);
        assert_eq!(p.threads, Threads::Auto);
        assert_eq!(p.mode, Mode::OpenCv);
        assert_eq!(Init::default(), Init::RandomBox);
        assert_eq!(Reseed::default(), Reseed::RandomBox);
        assert_eq!(
            Init::parallel(),
            Init::Parallel {
                rounds: 2,
                oversampling: 2.0
            }
        );
        assert_eq!(TermCriteria::default(), TermCriteria::new());
    }

    #[test]
    fn fast_mode_defaults_and_checks() {
        let p = KMeansParams::new(3)
            .mode(Mode::Fast)
            .term(TermCriteria::new())
            .check()
            .unwrap();
        assert_eq!((p.max_iter(), p.epsilon_sq()), (300, 0.0));
        let p = KMeansParams::new(1)
            .mode(Mode::Fast)
            .term(TermCriteria::new().max_iter(1000))
            .check()
            .unwrap();
        assert_eq!((p.max_iter(), p.attempts()), (1000, 10));
        assert_eq!(
            KMeansParams::new(2)
                .init(Init::Samples)
                .check()
                .unwrap_err(),
            KMeansError::InitNeedsFastMode
        );
        assert_eq!(
            KMeansParams::new(1)
                .mode(Mode::Fast)
                .init(Init::Centers(vec![f32::NAN]))
                .check()
                .unwrap_err(),
            KMeansError::NonFiniteCenter { index: 0 }
        );
        assert_eq!(
            KMeansParams::new(2)
                .init(Init::parallel())
                .check()
                .unwrap_err(),
            KMeansError::InitNeedsFastMode
        );
        for (rounds, oversampling) in [(0, 2.0), (2, 0.0), (2, f64::NAN), (2, f64::INFINITY)] {
            assert!(matches!(
                KMeansParams::new(2)
                    .mode(Mode::Fast)
                    .init(Init::Parallel {
                        rounds,
                        oversampling
                    })
                    .check()
                    .unwrap_err(),
                KMeansError::InvalidParallelInit { .. }
            ));
        }
    }

    #[test]
    fn zero_k_and_zero_attempts_are_rejected() {
        assert_eq!(
            KMeansParams::new(0).check().unwrap_err(),
            KMeansError::ZeroClusters
        );
        assert_eq!(
            KMeansParams::new(2).attempts(0).check().unwrap_err(),
            KMeansError::ZeroAttempts
        );
    }

    #[test]
    fn out_of_range_initial_labels_are_rejected() {
        let err = KMeansParams::new(2)
            .init(Init::labels(vec![0, 1, 2, 0]))
            .check()
            .unwrap_err();
        assert_eq!(
            err,
            KMeansError::InitialLabelOutOfRange {
                index: 2,
                label: 2,
                k: 2
            }
        );
    }

    #[test]
    fn bad_epsilons_are_rejected() {
        for e in [f64::NAN, f64::INFINITY, 1e155] {
            let err = KMeansParams::new(2)
                .term(TermCriteria::new().epsilon(e))
                .check()
                .unwrap_err();
            assert!(matches!(err, KMeansError::InvalidEpsilon { .. }), "{e}");
        }
    }

    #[test]
    fn opencv_adjustments() {
        let p = KMeansParams::new(4)
            .term(TermCriteria::new().max_iter(0).epsilon(-3.0))
            .check()
            .unwrap();
        assert_eq!(p.max_iter(), 2);
        assert_eq!(p.epsilon_sq(), 0.0);
        let p = KMeansParams::new(4)
            .term(TermCriteria::new().max_iter(1000).epsilon(0.5))
            .check()
            .unwrap();
        assert_eq!(p.max_iter(), 100);
        assert_eq!(p.epsilon_sq(), 0.25);
        let p = KMeansParams::new(4)
            .term(TermCriteria::new().epsilon(f64::NEG_INFINITY))
            .check()
            .unwrap();
        assert_eq!(p.epsilon_sq(), 0.0);
        let p = KMeansParams::new(4)
            .term(TermCriteria::new())
            .check()
            .unwrap();
        assert_eq!(p.max_iter(), 100);
        assert_eq!(p.epsilon_sq(), (f32::EPSILON as f64).powi(2));
        let p = KMeansParams::new(1)
            .term(TermCriteria::new().max_iter(50))
            .attempts(7)
            .check()
            .unwrap();
        assert_eq!((p.attempts(), p.max_iter()), (1, 2));
    }
}
