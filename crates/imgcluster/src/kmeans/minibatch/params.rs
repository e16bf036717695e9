//! Mini-batch settings ([`MiniBatchParams`]) and results ([`MiniBatchFit`]).

use crate::kmeans::{KMeansError, KMeansFit};

/// scikit-learn's `MiniBatchKMeans` settings that
/// [`KMeansParams`](crate::kmeans::KMeansParams) does not have; [`MiniBatchParams::check`]
/// validates them.
///
/// The number of clusters, attempts (`n_init`), epochs (`max_iter`), initialisation and
/// threads come from the [`CheckedKMeansParams`](crate::kmeans::CheckedKMeansParams) given
/// with them, in [`Mode::Fast`](crate::kmeans::Mode::Fast).
///
/// # Examples
/// ```
/// use imgcluster::kmeans::MiniBatchParams;
/// let mb = MiniBatchParams::new().batch_size(256).check()?;
/// assert_eq!((mb.batch_size(), mb.max_no_improvement()), (256, Some(10)));
/// assert!(MiniBatchParams::new().batch_size(0).check().is_err());
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MiniBatchParams {
    batch_size: usize,
    max_no_improvement: Option<usize>,
    reassignment_ratio: f64,
    init_size: Option<usize>,
    tol: f64,
}

impl Default for MiniBatchParams {
    fn default() -> Self {
        Self::new()
    }
}

impl MiniBatchParams {
    /// scikit-learn's defaults: batches of 1024, stop after 10 steps without improvement,
    /// reassignment ratio 0.01, `init_size` of `3 · batch_size`, `tol` 0 (off).
    pub fn new() -> Self {
        Self {
            batch_size: 1024,
            max_no_improvement: Some(10),
            reassignment_ratio: 0.01,
            init_size: None,
            tol: 0.0,
        }
    }

    /// Samples per batch (at least 1; capped at N when fitting).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Consecutive steps without improvement of the smoothed inertia that stop the fit;
    /// `None` never stops early on inertia.
    pub fn max_no_improvement(mut self, steps: Option<usize>) -> Self {
        self.max_no_improvement = steps;
        self
    }

    /// Centers with a count below this fraction of the largest count are moved to random
    /// samples (0 never moves them).
    pub fn reassignment_ratio(mut self, ratio: f64) -> Self {
        self.reassignment_ratio = ratio;
        self
    }

    /// Samples the seeding draws; `None` is `3 · batch_size` (at least `3 · k`).
    pub fn init_size(mut self, init_size: Option<usize>) -> Self {
        self.init_size = init_size;
        self
    }

    /// Stop once the squared change of the centers in a step is at most `tol` times the
    /// mean variance of the features; 0 (the default) turns this off.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Validates the settings.
    ///
    /// # Errors
    /// [`KMeansError::InvalidMiniBatch`] naming the setting: a batch size or `init_size` of
    /// 0, a reassignment ratio or `tol` that is negative or not finite.
    pub fn check(self) -> Result<CheckedMiniBatchParams, KMeansError> {
        let invalid =
            |name: &'static str, reason: String| KMeansError::InvalidMiniBatch { name, reason };
        if self.batch_size == 0 {
            return Err(invalid("batch size", "must be at least 1".into()));
        }
        if self.init_size == Some(0) {
            return Err(invalid("init size", "must be at least 1".into()));
        }
        if !(self.reassignment_ratio.is_finite() && self.reassignment_ratio >= 0.0) {
            return Err(invalid(
                "reassignment ratio",
                format!("{} is not a finite number >= 0", self.reassignment_ratio),
            ));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid(
                "tol",
                format!("{} is not a finite number >= 0", self.tol),
            ));
        }
        Ok(CheckedMiniBatchParams(self))
    }
}

/// Validated [`MiniBatchParams`], accepted by [`fit_minibatch`](super::fit_minibatch).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedMiniBatchParams(MiniBatchParams);

impl CheckedMiniBatchParams {
    /// Samples per batch.
    pub fn batch_size(&self) -> usize {
        self.0.batch_size
    }

    /// Steps without improvement that stop the fit, if any.
    pub fn max_no_improvement(&self) -> Option<usize> {
        self.0.max_no_improvement
    }

    /// The reassignment ratio.
    pub fn reassignment_ratio(&self) -> f64 {
        self.0.reassignment_ratio
    }

    /// The seeding sample size asked for (`None`: the default).
    pub fn init_size(&self) -> Option<usize> {
        self.0.init_size
    }

    /// The center-change tolerance (relative to the mean feature variance).
    pub fn tol(&self) -> f64 {
        self.0.tol
    }
}

/// Why a mini-batch fit stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MiniBatchStop {
    /// All `max_iter` epochs of steps ran.
    MaxIter,
    /// The smoothed inertia did not improve for `max_no_improvement` steps.
    NoImprovement,
    /// The centers moved less than `tol` allows.
    Tol,
}

impl MiniBatchStop {
    /// Every reason, in declaration order.
    pub const ALL: [MiniBatchStop; 3] = [
        MiniBatchStop::MaxIter,
        MiniBatchStop::NoImprovement,
        MiniBatchStop::Tol,
    ];

    /// `max-iter`, `no-improvement` or `tol`, as reports and model files name it.
    pub fn name(self) -> &'static str {
        match self {
            MiniBatchStop::MaxIter => "max-iter",
            MiniBatchStop::NoImprovement => "no-improvement",
            MiniBatchStop::Tol => "tol",
        }
    }
}

/// The result of [`fit_minibatch`](super::fit_minibatch): the fit (labels of every sample and
/// their inertia) and how far the steps went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MiniBatchFit {
    /// Labels, centers and inertia ([`KMeansFit::compactness`]) over all samples;
    /// `iterations` is the number of steps, `best_attempt` the seeding kept.
    pub fit: KMeansFit,
    /// Batch size used (the one asked for, at most N).
    pub batch_size: usize,
    /// Steps (center updates) run.
    pub steps: usize,
    /// Epochs those steps make: `⌈steps · batch_size / N⌉`, scikit-learn's `n_iter_`.
    pub epochs: usize,
    /// Why the steps stopped.
    pub stop: MiniBatchStop,
}
