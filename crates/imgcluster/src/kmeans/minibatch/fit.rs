//! The mini-batch fit: seeding, steps and the final labels, over one process or several.

use rayon::prelude::*;

use super::params::{CheckedMiniBatchParams, MiniBatchFit, MiniBatchStop};
use crate::collective::{Collective, SingleProcess};
use crate::kernels::{dot16_panel, Element};
use crate::kmeans::fast::distributed::{ordered_sum, Rows};
use crate::kmeans::lloyd::{Samples, CHUNK};
use crate::kmeans::{CheckedKMeansParams, Init, KMeansError, KMeansFit, Mode};
use crate::CvRng;

/// Rows per call of the blocked kernel.
const BATCH: usize = 32;

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
/// ([`Init::Samples`], [`Init::RandomBox`], [`Init::PlusPlus`], [`Init::Parallel`] on the
/// seeding sample, or [`Init::Centers`]) and threads; the epsilon is not used (see
/// [`MiniBatchParams::tol`](super::MiniBatchParams::tol)).
///
/// # Errors
/// [`KMeansError::MiniBatchNeedsFastMode`] for [`Mode::OpenCv`] parameters,
/// [`KMeansError::InitNotForMiniBatch`] for [`Init::Labels`],
/// [`KMeansError::WeightsNotForMiniBatch`] for sample weights,
/// [`KMeansError::InitialCentersLength`] for centers of the wrong size; else as
/// [`fit`](fn@crate::kmeans::fit).
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
    one_process(params, mb, data, dims, rng)
}

/// [`run`] on all of `data` in this process.
fn one_process<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    data: &[T],
    dims: usize,
    rng: &mut CvRng,
) -> Result<MiniBatchFit, KMeansError> {
    let samples = Samples::new(data, dims, params.k())?;
    run(
        params,
        mb,
        samples,
        Rows::all(samples.n),
        rng,
        &SingleProcess,
    )
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
    one_process(params, mb, data, dims, rng)
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
    /// This rank's rows (all of them in one process).
    samples: Samples<'a, T>,
    /// Where they sit among the rows of all ranks.
    rows: Rows,
    comm: &'a dyn Collective,
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

    /// Labels the samples `index(start..start + labels.len())` with their nearest center, and
    /// writes their `max(d̃², 0)` into `terms` if given; returns the sum of those, in order.
    fn label_rows(
        &self,
        index: &(dyn Fn(usize) -> usize + Sync),
        packed: &Packed,
        start: usize,
        labels: &mut [u32],
        mut terms: Option<&mut [f64]>,
    ) -> f64 {
        let (k, stride) = (self.k, self.stride);
        let rows = BATCH.min(labels.len());
        let mut panel = vec![0.0_f32; rows * stride];
        let mut dots = vec![0.0_f32; rows * k];
        let mut xx = [0.0_f64; BATCH];
        let mut sum = 0.0_f64;
        for (b, block) in labels.chunks_mut(BATCH).enumerate() {
            let first = start + b * BATCH;
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
                let term = best_t.max(0.0);
                if let Some(t) = terms.as_deref_mut() {
                    t[b * BATCH + r] = term;
                }
                sum += term;
            }
        }
        sum
    }

    /// Labels the samples `index(0..labels.len())` with their nearest center; returns the
    /// sum of their `max(d̃², 0)` over each chunk of [`CHUNK`] of them, in order.
    fn label(
        &self,
        index: &(dyn Fn(usize) -> usize + Sync),
        packed: &Packed,
        labels: &mut [u32],
    ) -> Vec<f64> {
        let work =
            |(c, out): (usize, &mut [u32])| self.label_rows(index, packed, c * CHUNK, out, None);
        if self.parallel {
            labels.par_chunks_mut(CHUNK).enumerate().map(work).collect()
        } else {
            labels.chunks_mut(CHUNK).enumerate().map(work).collect()
        }
    }

    /// [`Ctx::label`], keeping each sample's `max(d̃², 0)` in `terms`.
    fn label_terms(
        &self,
        index: &(dyn Fn(usize) -> usize + Sync),
        packed: &Packed,
        labels: &mut [u32],
        terms: &mut [f64],
    ) {
        let work = |(c, (out, t)): (usize, (&mut [u32], &mut [f64]))| {
            self.label_rows(index, packed, c * CHUNK, out, Some(t));
        };
        if self.parallel {
            labels
                .par_chunks_mut(CHUNK)
                .zip(terms.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(work);
        } else {
            labels
                .chunks_mut(CHUNK)
                .zip(terms.chunks_mut(CHUNK))
                .enumerate()
                .for_each(work);
        }
    }

    /// This rank's index of the global sample `g`, if it holds it.
    fn local(&self, g: usize) -> Option<usize> {
        g.checked_sub(self.rows.first)
            .filter(|&i| i < self.samples.n)
    }

    /// `count` sample indices drawn uniformly with replacement.
    fn draw(&self, count: usize, rng: &mut CvRng) -> Vec<usize> {
        let n = self.rows.total as u64;
        (0..count)
            .map(|_| {
                let r = (u64::from(rng.next_u32()) << 32) | u64::from(rng.next_u32());
                (r % n) as usize
            })
            .collect()
    }

    /// The samples at global `indices`, copied in that order, on every rank: each rank sends
    /// the ones it holds, with their positions.
    fn gather(&self, indices: &[usize]) -> Vec<T> {
        let dims = self.samples.dims;
        let mut out = Vec::with_capacity(indices.len() * dims);
        if self.comm.size() == 1 {
            for &i in indices {
                out.extend_from_slice(self.samples.row(i));
            }
            return out;
        }
        let mut mine = Vec::new();
        for (q, &g) in indices.iter().enumerate() {
            if let Some(i) = self.local(g) {
                mine.extend((q as u64).to_le_bytes());
                T::put_le(self.samples.row(i), &mut mine);
            }
        }
        let size = 8 + dims * std::mem::size_of::<T>();
        let mut placed: Vec<&[u8]> = vec![&[]; indices.len()];
        let parts = self.comm.allgather(&mine);
        for part in &parts {
            for r in part.chunks_exact(size) {
                let q = u64::from_le_bytes(r[..8].try_into().expect("8 bytes")) as usize;
                placed[q] = &r[8..];
            }
        }
        for r in placed {
            T::get_le(r, &mut out);
        }
        out
    }

    /// scikit-learn's `_tolerance`: the mean over features of their variance, in `f64` (sums
    /// in sample order, continued from rank to rank).
    fn mean_variance(&self) -> f64 {
        let dims = self.samples.dims;
        let mut acc = vec![0.0_f64; 2 * dims];
        self.comm.fold_in_rank_order(&mut acc, &mut |acc| {
            let (sum, sq) = acc.split_at_mut(dims);
            for i in 0..self.samples.n {
                for ((s, q), &x) in sum.iter_mut().zip(sq.iter_mut()).zip(self.samples.row(i)) {
                    let x = f64::from(x.to_f32());
                    *s += x;
                    *q += x * x;
                }
            }
        });
        let (sum, sq) = acc.split_at(dims);
        let n = self.rows.total as f64;
        let total: f64 = sum
            .iter()
            .zip(sq)
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

/// The mini-batch fit of the rows of all ranks (this rank's are `samples`, at `rows`; one
/// process: all of them, with [`SingleProcess`]). The labels are this rank's.
pub(crate) fn run<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    samples: Samples<'_, T>,
    rows: Rows,
    rng: &mut CvRng,
    comm: &dyn Collective,
) -> Result<MiniBatchFit, KMeansError> {
    if params.mode() != Mode::Fast {
        return Err(KMeansError::MiniBatchNeedsFastMode);
    }
    if params.sample_weight().is_some() {
        return Err(KMeansError::WeightsNotForMiniBatch);
    }
    let (n, dims, k) = (rows.total, samples.dims, params.k());
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
            rows,
            comm,
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
/// validation sample wins. Returns the centers (`f64`) and the attempt kept. Over several
/// ranks, every rank gathers the samples drawn and seeds from them as one process does.
fn seed<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    ctx: &Ctx<'_, T>,
    batch: usize,
    rng: &mut CvRng,
) -> Result<(Vec<f64>, usize), KMeansError> {
    let (n, dims, k) = (ctx.rows.total, ctx.samples.dims, ctx.k);
    let mut init_size = mb.init_size().unwrap_or(3 * batch);
    if init_size < k {
        init_size = 3 * k;
    }
    let init_size = init_size.min(n);
    let valid_idx = ctx.draw(init_size, rng);
    let valid = ctx.gather(&valid_idx);
    let on_valid = Ctx {
        samples: Samples {
            data: &valid[..],
            n: init_size,
            dims,
        },
        rows: Rows::all(init_size),
        comm: &SingleProcess,
        ..*ctx
    };
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
        let centers = crate::kmeans::fast::seed_centers(params, sub, attempt, rng, ctx.parallel)?;
        let centers: Vec<f64> = centers.iter().map(|&v| f64::from(v)).collect();
        let packed = on_valid.pack(&centers);
        let inertia: f64 = on_valid
            .label(&|i| i, &packed, &mut valid_labels)
            .iter()
            .sum();
        if best.as_ref().is_none_or(|b| inertia < b.0) {
            best = Some((inertia, centers, attempt));
        }
    }
    let (_, centers, attempt) = best.ok_or(KMeansError::DistanceOverflow)?;
    Ok((centers, attempt))
}

/// One batch's per-center sums and counts and each batch sample's `max(d̃², 0)`, over all
/// ranks: each rank labels the batch samples it holds (`mine`, batch positions in order) and
/// one sum over the ranks adds them up; exact `u64` sums for byte samples.
fn batch_sums<T: Element>(
    ctx: &Ctx<'_, T>,
    idx: &[usize],
    packed: &Packed,
    sums: &mut [f64],
    members: &mut [f64],
    terms: &mut [f64],
) {
    let (dims, k, batch) = (ctx.samples.dims, ctx.k, idx.len());
    let first = ctx.rows.first;
    let mine: Vec<usize> = (0..batch)
        .filter(|&p| ctx.local(idx[p]).is_some())
        .collect();
    let mut labels = vec![0_u32; mine.len()];
    let mut own = vec![0.0_f64; mine.len()];
    ctx.label_terms(&|q| idx[mine[q]] - first, packed, &mut labels, &mut own);
    let at = |q: usize| idx[mine[q]] - first;
    if let Some(bytes) = T::as_bytes(ctx.samples.data) {
        let mut msg = vec![0_u64; k * dims + k + batch];
        for (q, &l) in labels.iter().enumerate() {
            let (l, i) = (l as usize, at(q));
            msg[k * dims + l] += 1;
            for (s, &x) in msg[l * dims..(l + 1) * dims]
                .iter_mut()
                .zip(&bytes[i * dims..(i + 1) * dims])
            {
                *s += u64::from(x);
            }
            msg[k * dims + k + mine[q]] = own[q].to_bits();
        }
        ctx.comm.allreduce_sum_u64(&mut msg);
        for (s, &m) in sums.iter_mut().zip(&msg) {
            *s = m as f64;
        }
        for (c, &m) in members.iter_mut().zip(&msg[k * dims..]) {
            *c = m as f64;
        }
        for (t, &m) in terms.iter_mut().zip(&msg[k * dims + k..]) {
            *t = f64::from_bits(m);
        }
        return;
    }
    let mut msg = vec![0.0_f64; k * dims + k + batch];
    for (q, &l) in labels.iter().enumerate() {
        let (l, i) = (l as usize, at(q));
        msg[k * dims + l] += 1.0;
        for (s, &x) in msg[l * dims..(l + 1) * dims]
            .iter_mut()
            .zip(ctx.samples.row(i))
        {
            *s += f64::from(x.to_f32());
        }
        msg[k * dims + k + mine[q]] = own[q];
    }
    ctx.comm.allreduce_sum_f64(&mut msg);
    sums.copy_from_slice(&msg[..k * dims]);
    members.copy_from_slice(&msg[k * dims..k * dims + k]);
    terms.copy_from_slice(&msg[k * dims + k..]);
}

/// The steps, then the labels of every sample (of this rank).
fn steps<T: Element>(
    params: &CheckedKMeansParams,
    mb: &CheckedMiniBatchParams,
    ctx: &Ctx<'_, T>,
    batch: usize,
    mut centers: Vec<f64>,
    best_attempt: usize,
    rng: &mut CvRng,
) -> MiniBatchFit {
    let (n, dims, k) = (ctx.rows.total, ctx.samples.dims, ctx.k);
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
    let mut terms = vec![0.0_f64; batch];
    let mut sums = vec![0.0_f64; k * dims];
    let mut members = vec![0.0_f64; k];
    let mut old = Vec::new();
    let mut since_reassign = 0;
    let mut stop = MiniBatchStop::MaxIter;
    let mut step = 0;
    while step < n_steps {
        let idx = ctx.draw(batch, rng);
        let packed = ctx.pack(&centers);
        batch_sums(ctx, &idx, &packed, &mut sums, &mut members, &mut terms);
        // The batch inertia as one process sums it: in order within chunks, then the chunks.
        let parts: Vec<f64> = terms
            .chunks(CHUNK)
            .map(|c| c.iter().fold(0.0, |s, &t| s + t))
            .collect();
        let inertia: f64 = parts.iter().sum();
        since_reassign += batch;
        let reassign = counts.contains(&0.0) || since_reassign >= 10 * k;
        if reassign {
            since_reassign = 0;
        }
        if conv.tol > 0.0 {
            old.clone_from(&centers);
        }
        // Per-center means of the batch, folded into the running means.
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
    // This rank's labels; the inertia of all the rows with one process's chunks: the rows
    // before this rank's first chunk boundary one by one, then whole chunks.
    let local = ctx.samples.n;
    let mut all = vec![0_u32; local];
    let head = ((CHUNK - ctx.rows.first % CHUNK) % CHUNK).min(local);
    let (first_rows, rest) = all.split_at_mut(head);
    let mut head_terms = vec![0.0_f64; head];
    ctx.label_terms(&|i| i, &packed, first_rows, &mut head_terms);
    let parts = ctx.label(&|i| head + i, &packed, rest);
    let compactness = ordered_sum(&head_terms, &parts, ctx.comm);
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
            mode: Mode::Fast,
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
    let mut picked = Vec::with_capacity(small.len());
    for t in 0..small.len() {
        let r = t + (rng.next_u32() as usize) % (pos.len() - t);
        pos.swap(t, r);
        picked.push(idx[pos[t]]);
    }
    let rows = ctx.gather(&picked);
    for (&j, row) in small.iter().zip(rows.chunks_exact(dims)) {
        for (c, &x) in centers[j * dims..(j + 1) * dims].iter_mut().zip(row) {
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
