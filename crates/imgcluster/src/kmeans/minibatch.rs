//! Mini-batch k-means with the semantics of scikit-learn's `MiniBatchKMeans`.
//!
//! Lloyd's algorithm reads every sample on every iteration; on millions of samples most of
//! that work only confirms what a small random sample already says. Mini-batch k-means
//! (Sculley 2010) moves the centers after each random batch of samples instead, so it
//! needs far fewer distance computations, at the price of a slightly worse inertia.
//!
//! **What it does, as scikit-learn (1.x) does it.**
//!
//! * *Seeding*: `init_size` samples (default `3 · batch_size`, at least `3 · k`, at most N)
//!   drawn with replacement form a validation set; every attempt seeds centers (as fast mode
//!   seeds them, [`Init`]) on its own draw of `init_size` samples, and the attempt whose
//!   centers give the smallest inertia on the validation set is kept.
//! * *Steps*: `max_iter` epochs are `max_iter · N / batch_size` steps. Each step draws
//!   `batch_size` samples with replacement, labels them with the current centers, and moves
//!   each center `c` that got `m` of them to `(count_c · c + Σ x) / (count_c + m)`: a
//!   learning rate of `m / (count_c + m)` from per-center counts that only grow.
//! * *Reassignment*: when some count is 0, or after every `10 · k` samples seen, centers
//!   whose count is below `reassignment_ratio` times the largest move to random samples of
//!   the batch (at most half a batch of them, the smallest counts first) and take the
//!   smallest count left among the others.
//! * *Stopping*: an exponentially weighted average of the batch inertia per sample (weight
//!   `2 · batch_size / (N + 1)`) that fails to improve on its minimum for
//!   `max_no_improvement` consecutive steps stops the fit early; so does (when `tol > 0`) a
//!   squared center change of at most `tol` times the mean variance of the features.
//! * Finally every sample gets its nearest center and the inertia is summed over all of them.
//!
//! **The arithmetic** is fast mode's: `d̃²(x, c) = (‖x‖² + ‖c‖²) − 2·dot16(x, c)` in `f64`,
//! with [`dot16_panel`] on blocks of rows, ties to the lowest index. Centers and counts are
//! kept in `f64` and updated in the batch's order. Random draws come from the one [`CvRng`],
//! and the parallel work (labelling rows, in fixed chunks) only produces per-row results and
//! sums combined in chunk order, so a seed gives the same result for any thread count.
//!
//! **Memory**: one batch of labels and, per chunk of rows being labelled, a panel of
//! [`BATCH`] rows × K dot products; never a matrix of N × K (or batch × K) distances. It
//! reads the samples where they are (a memory-mapped file works as well as a `Vec`).

use rayon::prelude::*;

use super::fit::KMeansFit;
use super::lloyd::{Samples, CHUNK};
use super::params::{CheckedKMeansParams, Init, Mode};
use super::KMeansError;
use crate::kernels::{dot16_panel, Element};
use crate::CvRng;

/// Rows per call of the blocked kernel.
const BATCH: usize = 32;

/// scikit-learn's `MiniBatchKMeans` settings that [`KMeansParams`](super::KMeansParams) does
/// not have; [`MiniBatchParams::check`] validates them.
///
/// The number of clusters, attempts (`n_init`), epochs (`max_iter`), initialisation and
/// threads come from the [`CheckedKMeansParams`] given with them, in [`Mode::Fast`].
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

/// Validated [`MiniBatchParams`], accepted by [`fit_minibatch`].
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

/// The result of [`fit_minibatch`]: the fit (labels of every sample and their inertia) and
/// how far the steps went.
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

/// Mini-batch k-means on `data` (row-major samples of `dims` values), with scikit-learn's
/// `MiniBatchKMeans` semantics: each attempt seeds centers on `init_size` random samples and
/// the best on a validation sample is kept; then each step draws `batch_size` samples (with
/// replacement), labels them and moves every center to the running mean of the samples it
/// got (per-center counts as learning rates), reassigning centers whose count falls below
/// `reassignment_ratio` of the largest; `max_iter` epochs of steps run unless the smoothed
/// batch inertia stops improving (`max_no_improvement`) or the centers stop moving (`tol`).
/// Finally every sample is labelled with the final centers. Distances are fast mode's; the
/// result depends on the seed only, never on the thread count.
///
/// From `params`: `k`, attempts (`n_init`), `max_iter` (epochs), the initialisation
/// ([`Init::Samples`], [`Init::RandomBox`], [`Init::PlusPlus`] on the seeding sample, or
/// [`Init::Centers`]) and threads; the epsilon is not used (see [`MiniBatchParams::tol`]).
///
/// # Errors
/// [`KMeansError::MiniBatchNeedsFastMode`] for [`Mode::OpenCv`] parameters,
/// [`KMeansError::InitNotForMiniBatch`] for [`Init::Labels`],
/// [`KMeansError::WeightsNotForMiniBatch`] for sample weights,
/// [`KMeansError::InitialCentersLength`] for centers of the wrong size; else as
/// [`fit`](super::fit).
///
/// # Examples
/// ```
/// use imgcluster::kmeans::{self, Init, KMeansParams, MiniBatchParams, Mode};
/// use imgcluster::CvRng;
///
/// let data: Vec<f32> = (0..400).map(|i| (i % 2 * 100 + i % 7) as f32).collect();
/// let params = KMeansParams::new(2).mode(Mode::Fast).init(Init::PlusPlus).check()?;
/// let mb = MiniBatchParams::new().batch_size(64).check()?;
/// let r = kmeans::fit_minibatch(&params, &mb, &data, 1, &mut CvRng::from_set_rng_seed(1))?;
/// assert_ne!(r.fit.labels[0], r.fit.labels[1]);
/// assert_eq!(r.fit.labels[0], r.fit.labels[2]);
/// assert!(r.steps >= 1);
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn fit_minibatch(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    data: &[f32],
    dims: usize,
    rng: &mut CvRng,
) -> Result<MiniBatchFit, KMeansError> {
    let samples = Samples::new(data, dims, params.k())?;
    run(params, mb, samples, rng)
}

/// [`fit_minibatch`] for byte samples (pixels), read directly; the result is that of
/// [`fit_minibatch`] on the samples widened to `f32`.
///
/// # Errors
/// As [`fit_minibatch`].
pub fn fit_minibatch_u8(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    data: &[u8],
    dims: usize,
    rng: &mut CvRng,
) -> Result<MiniBatchFit, KMeansError> {
    let samples = Samples::new(data, dims, params.k())?;
    run(params, mb, samples, rng)
}

/// Centers packed for the blocked kernel.
struct Packed {
    /// `k × stride` values, zero past `dims`.
    cpack: Vec<f32>,
    /// Squared norms of the `f32` centers.
    cc: Vec<f64>,
}

/// Read-only context of a fit.
struct Ctx<'a, T> {
    samples: Samples<'a, T>,
    k: usize,
    stride: usize,
    parallel: bool,
}

impl<T: Element> Ctx<'_, T> {
    fn pack(&self, centers: &[f64]) -> Packed {
        let (dims, stride) = (self.samples.dims, self.stride);
        let mut cpack = vec![0.0_f32; self.k * stride];
        let mut cc = vec![0.0_f64; self.k];
        for (j, c) in centers.chunks_exact(dims).enumerate() {
            let row = &mut cpack[j * stride..j * stride + dims];
            for (p, &v) in row.iter_mut().zip(c) {
                *p = v as f32;
            }
            cc[j] = row.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        }
        Packed { cpack, cc }
    }

    /// Labels the samples `index(0..labels.len())` with their nearest center; returns the
    /// sum of their `max(d̃², 0)`, in chunk order.
    fn label(
        &self,
        index: &(dyn Fn(usize) -> usize + Sync),
        packed: &Packed,
        labels: &mut [u32],
    ) -> f64 {
        let (k, stride) = (self.k, self.stride);
        let work = |(c, out): (usize, &mut [u32])| {
            let rows = BATCH.min(out.len());
            let mut panel = vec![0.0_f32; rows * stride];
            let mut dots = vec![0.0_f32; rows * k];
            let mut xx = [0.0_f64; BATCH];
            let mut sum = 0.0_f64;
            for (b, block) in out.chunks_mut(BATCH).enumerate() {
                let first = c * CHUNK + b * BATCH;
                for (r, norm) in xx.iter_mut().enumerate().take(block.len()) {
                    let x = self.samples.row(index(first + r));
                    let p = &mut panel[r * stride..(r + 1) * stride];
                    T::widen(x, p);
                    *norm = p.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                }
                dot16_panel(&panel, block.len(), &packed.cpack, k, stride, &mut dots);
                for (r, label) in block.iter_mut().enumerate() {
                    let (mut best, mut best_t) = (0, f64::INFINITY);
                    for (j, &d) in dots[r * k..(r + 1) * k].iter().enumerate() {
                        let t = (xx[r] + packed.cc[j]) - 2.0 * f64::from(d);
                        if t < best_t {
                            best = j;
                            best_t = t;
                        }
                    }
                    *label = best as u32;
                    sum += best_t.max(0.0);
                }
            }
            sum
        };
        let parts: Vec<f64> = if self.parallel {
            labels.par_chunks_mut(CHUNK).enumerate().map(work).collect()
        } else {
            labels.chunks_mut(CHUNK).enumerate().map(work).collect()
        };
        parts.iter().sum()
    }

    /// `count` sample indices drawn uniformly with replacement.
    fn draw(&self, count: usize, rng: &mut CvRng) -> Vec<usize> {
        let n = self.samples.n as u64;
        (0..count)
            .map(|_| {
                let r = (u64::from(rng.next_u32()) << 32) | u64::from(rng.next_u32());
                (r % n) as usize
            })
            .collect()
    }

    /// The samples at `indices`, copied in that order.
    fn gather(&self, indices: &[usize]) -> Vec<T> {
        let mut out = Vec::with_capacity(indices.len() * self.samples.dims);
        for &i in indices {
            out.extend_from_slice(self.samples.row(i));
        }
        out
    }

    /// scikit-learn's `_tolerance`: the mean over features of their variance, in `f64`.
    fn mean_variance(&self) -> f64 {
        let (n, dims) = (self.samples.n, self.samples.dims);
        let mut sum = vec![0.0_f64; dims];
        let mut sq = vec![0.0_f64; dims];
        for i in 0..n {
            for ((s, q), &x) in sum.iter_mut().zip(&mut sq).zip(self.samples.row(i)) {
                let x = f64::from(x.to_f32());
                *s += x;
                *q += x * x;
            }
        }
        let n = n as f64;
        let total: f64 = sum
            .iter()
            .zip(&sq)
            .map(|(&s, &q)| (q / n - (s / n) * (s / n)).max(0.0))
            .sum();
        total / dims as f64
    }
}

/// The smoothed-inertia and center-change stopping rules of scikit-learn's
/// `_mini_batch_convergence`.
struct Convergence {
    alpha: f64,
    tol: f64,
    max_no_improvement: Option<usize>,
    ewa: Option<f64>,
    ewa_min: Option<f64>,
    no_improvement: usize,
}

impl Convergence {
    /// Whether the fit stops after `step` (from 0) with this batch inertia per sample and
    /// squared center change.
    fn stop(&mut self, step: usize, batch_inertia: f64, change: f64) -> Option<MiniBatchStop> {
        if step == 0 {
            return None;
        }
        let ewa = match self.ewa {
            None => batch_inertia,
            Some(e) => e * (1.0 - self.alpha) + batch_inertia * self.alpha,
        };
        self.ewa = Some(ewa);
        if self.tol > 0.0 && change <= self.tol {
            return Some(MiniBatchStop::Tol);
        }
        if self.ewa_min.is_none_or(|m| ewa < m) {
            self.no_improvement = 0;
            self.ewa_min = Some(ewa);
        } else {
            self.no_improvement += 1;
        }
        match self.max_no_improvement {
            Some(m) if self.no_improvement >= m => Some(MiniBatchStop::NoImprovement),
            _ => None,
        }
    }
}

fn run<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    samples: Samples<'_, T>,
    rng: &mut CvRng,
) -> Result<MiniBatchFit, KMeansError> {
    if params.mode() != Mode::Fast {
        return Err(KMeansError::MiniBatchNeedsFastMode);
    }
    if params.sample_weight().is_some() {
        return Err(KMeansError::WeightsNotForMiniBatch);
    }
    let (n, dims, k) = (samples.n, samples.dims, params.k());
    match params.init() {
        Init::Labels { .. } => return Err(KMeansError::InitNotForMiniBatch),
        Init::Centers(c) if c.len() != k * dims => {
            return Err(KMeansError::InitialCentersLength {
                expected: k * dims,
                got: c.len(),
            })
        }
        _ => {}
    }
    if !samples.magnitude_ok() {
        return Err(KMeansError::DistanceOverflow);
    }
    let threads = params.threads();
    let parallel = threads.count() > 1;
    threads.install(|| {
        let ctx = Ctx {
            samples,
            k,
            stride: dims.div_ceil(16) * 16,
            parallel,
        };
        let batch = mb.batch_size().min(n);
        let (centers, best_attempt) = seed(params, mb, &ctx, batch, rng)?;
        Ok(steps(params, mb, &ctx, batch, centers, best_attempt, rng))
    })
}

/// scikit-learn's seeding: each attempt seeds on its own sample, the best on a common
/// validation sample wins. Returns the centers (`f64`) and the attempt kept.
fn seed<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    ctx: &Ctx<'_, T>,
    batch: usize,
    rng: &mut CvRng,
) -> Result<(Vec<f64>, usize), KMeansError> {
    let (n, dims, k) = (ctx.samples.n, ctx.samples.dims, ctx.k);
    let mut init_size = mb.init_size().unwrap_or(3 * batch);
    if init_size < k {
        init_size = 3 * k;
    }
    let init_size = init_size.min(n);
    let valid_idx = ctx.draw(init_size, rng);
    let attempts = match params.init() {
        Init::Centers(_) => 1,
        _ => params.attempts(),
    };
    let mut best: Option<(f64, Vec<f64>, usize)> = None;
    let mut valid_labels = vec![0_u32; init_size];
    for attempt in 0..attempts {
        let idx = ctx.draw(init_size, rng);
        let sub = ctx.gather(&idx);
        let sub = Samples {
            data: &sub[..],
            n: init_size,
            dims,
        };
        // The seeding sample may hold fewer distinct rows than k; the centers are then
        // repeated, and the reassignment moves the extra ones.
        let centers = super::fast::seed_centers(params, sub, attempt, rng, ctx.parallel)?;
        let centers: Vec<f64> = centers.iter().map(|&v| f64::from(v)).collect();
        let packed = ctx.pack(&centers);
        let inertia = ctx.label(&|i| valid_idx[i], &packed, &mut valid_labels);
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, centers, attempt));
        }
    }
    let (_, centers, attempt) = best.ok_or(KMeansError::DistanceOverflow)?;
    Ok((centers, attempt))
}

/// The steps, then the labels of every sample.
fn steps<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    ctx: &Ctx<'_, T>,
    batch: usize,
    mut centers: Vec<f64>,
    best_attempt: usize,
    rng: &mut CvRng,
) -> MiniBatchFit {
    let (n, dims, k) = (ctx.samples.n, ctx.samples.dims, ctx.k);
    let n_steps = (params.max_iter().saturating_mul(n) / batch).max(1);
    params.sink().start(n_steps);
    let mut conv = Convergence {
        alpha: (batch as f64 * 2.0 / (n as f64 + 1.0)).min(1.0),
        tol: if mb.tol() > 0.0 {
            mb.tol() * ctx.mean_variance()
        } else {
            0.0
        },
        max_no_improvement: mb.max_no_improvement(),
        ewa: None,
        ewa_min: None,
        no_improvement: 0,
    };
    let mut counts = vec![0.0_f64; k];
    let mut labels = vec![0_u32; batch];
    let mut sums = vec![0.0_f64; k * dims];
    let mut members = vec![0.0_f64; k];
    let mut old = Vec::new();
    let mut since_reassign = 0;
    let mut stop = MiniBatchStop::MaxIter;
    let mut step = 0;
    while step < n_steps {
        let idx = ctx.draw(batch, rng);
        let packed = ctx.pack(&centers);
        let inertia = ctx.label(&|i| idx[i], &packed, &mut labels);
        since_reassign += batch;
        let reassign = counts.contains(&0.0) || since_reassign >= 10 * k;
        if reassign {
            since_reassign = 0;
        }
        if conv.tol > 0.0 {
            old.clone_from(&centers);
        }
        // Per-center means of the batch, folded into the running means.
        sums.fill(0.0);
        members.fill(0.0);
        for (&i, &l) in idx.iter().zip(&labels) {
            let l = l as usize;
            members[l] += 1.0;
            for (s, &x) in sums[l * dims..(l + 1) * dims]
                .iter_mut()
                .zip(ctx.samples.row(i))
            {
                *s += f64::from(x.to_f32());
            }
        }
        for j in 0..k {
            if members[j] > 0.0 {
                let total = counts[j] + members[j];
                for (c, &s) in centers[j * dims..(j + 1) * dims]
                    .iter_mut()
                    .zip(&sums[j * dims..(j + 1) * dims])
                {
                    *c = (*c * counts[j] + s) / total;
                }
                counts[j] = total;
            }
        }
        if reassign && mb.reassignment_ratio() > 0.0 {
            reassign_small(
                ctx,
                &idx,
                mb.reassignment_ratio(),
                &mut centers,
                &mut counts,
                rng,
            );
        }
        let change = if conv.tol > 0.0 {
            centers
                .iter()
                .zip(&old)
                .map(|(a, b)| (a - b) * (a - b))
                .sum()
        } else {
            0.0
        };
        let verdict = conv.stop(step, inertia / batch as f64, change);
        step += 1;
        params.sink().add(1);
        if let Some(s) = verdict {
            stop = s;
            break;
        }
    }
    let packed = ctx.pack(&centers);
    let mut all = vec![0_u32; n];
    let compactness = ctx.label(&|i| i, &packed, &mut all);
    params.sink().finish();
    let centers: Vec<f32> = packed
        .cpack
        .chunks_exact(ctx.stride)
        .flat_map(|c| c[..dims].iter().copied())
        .collect();
    MiniBatchFit {
        fit: KMeansFit {
            labels: all,
            centers,
            k,
            dims,
            compactness,
            iterations: step,
            best_attempt,
            mode: super::Mode::Fast,
        },
        batch_size: batch,
        steps: step,
        epochs: (step * batch).div_ceil(n),
        stop,
    }
}

/// scikit-learn's reassignment: centers with a count below `ratio` times the largest (at
/// most half a batch of them, smallest counts first, ties to the lowest index) move to
/// distinct random samples of the batch, and take the smallest count left among the others.
fn reassign_small<T: Element>(
    ctx: &Ctx<'_, T>,
    idx: &[usize],
    ratio: f64,
    centers: &mut [f64],
    counts: &mut [f64],
    rng: &mut CvRng,
) {
    let dims = ctx.samples.dims;
    let limit = ratio * counts.iter().fold(0.0_f64, |m, &c| m.max(c));
    let mut small: Vec<usize> = (0..ctx.k).filter(|&j| counts[j] < limit).collect();
    let cap = idx.len() / 2;
    if small.len() > cap {
        small.sort_by(|&a, &b| counts[a].total_cmp(&counts[b]).then(a.cmp(&b)));
        small.truncate(cap);
        small.sort_unstable();
    }
    if small.is_empty() {
        return;
    }
    // Distinct batch positions: a partial Fisher-Yates shuffle.
    let mut pos: Vec<usize> = (0..idx.len()).collect();
    for (t, &j) in small.iter().enumerate() {
        let r = t + (rng.next_u32() as usize) % (pos.len() - t);
        pos.swap(t, r);
        for (c, &x) in centers[j * dims..(j + 1) * dims]
            .iter_mut()
            .zip(ctx.samples.row(idx[pos[t]]))
        {
            *c = f64::from(x.to_f32());
        }
    }
    let kept = (0..ctx.k)
        .filter(|j| small.binary_search(j).is_err())
        .map(|j| counts[j])
        .fold(f64::INFINITY, f64::min);
    if kept.is_finite() {
        for &j in &small {
            counts[j] = kept;
        }
    }
}
