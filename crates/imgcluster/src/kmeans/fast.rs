//! Fast mode: Lloyd's algorithm to its fixed point, with Yinyang-style bounds.
//!
//! **The arithmetic.** The distance of sample `x` to center `c` is
//! `d̃²(x, c) = (‖x‖² + ‖c‖²) − 2·dot16(x, c)` in `f64`, with `‖x‖²`, `‖c‖²` summed in
//! `f64` and [`dot16`](crate::kernels::dot16) in its fixed `f32` order (the blocked and
//! the single-pair kernels give the same bits). A sample's label is the center with
//! the smallest `d̃²`, the lowest index on ties: exactly what plain Lloyd computes
//! (the integration tests hold that reference).
//!
//! **The bounds.** Each sample keeps an upper bound on its true distance to its
//! center and, per group of consecutive centers, a lower bound on the true distance
//! to the group's other centers; centers' drifts loosen them each iteration. With
//! `E(x) ≥ |d̃² − d*²|` ([`DotMargin`]), a group whose lower bound `l` satisfies
//! `l² > u² + 2E` cannot contain the label, so it is skipped; nothing else is.
//! The result is therefore the labels of plain Lloyd, with most distances never
//! computed. The lower bounds are kept in `f32`, rounded down at every step
//! ([`bounds_shift`](crate::kernels::bounds_shift)), and the threshold rounded up: half
//! the memory traffic of `f64` bounds, which is most of the cost of a pass once few
//! distances remain to compute.
//!
//! **Centers** are means of exact sums for byte samples: `u32` sums updated from
//! the samples that changed cluster while `n · 255 < 2^32`, else `f64` sums (exact
//! below `2^53`) in sample order, as for `f32` samples. An empty cluster takes the
//! sample farthest from its center, as in scikit-learn. Everything is independent of
//! the thread count: samples are processed in fixed chunks and only per-sample
//! results and integer sums (or ordered `f64` sums) are combined.

pub(crate) mod distributed;

use rayon::prelude::*;

use super::lloyd::{Samples, CHUNK};
use super::margin::{f32_above, f32_below, true_dist_upper, DotMargin};
use super::params::{CheckedKMeansParams, Init};
use super::scalable::{self, Scalable};
use super::sums::ByteSums;
use super::{init, KMeansError, KMeansFit};
use crate::collective::{Collective, SingleProcess};
use crate::kernels::{
    bounds_open, bounds_shift, dot16, dot16_panel, dot16_select, AlignedF32, Element,
};
use crate::CvRng;

/// One chunk of the per-sample state: index, labels, upper bounds, lower bounds.
type ChunkItem<'a> = (usize, ((&'a mut [u32], &'a mut [f64]), &'a mut [f32]));

/// Rows per call of the blocked kernel.
const BATCH: usize = 32;

/// Centers per bound group when one bound per center would take too much memory.
const GROUP: usize = 8;

/// Largest number of per-sample lower bounds (one per center, Elkan) kept.
const MAX_BOUNDS: usize = 1 << 25;

/// Centers per bound group for `n` samples and `k` centers, so that the per-sample lower
/// bounds stay within [`MAX_BOUNDS`] values: one per center (Elkan) when that fits, else
/// groups of [`GROUP`] centers, else fewer, larger groups as `n` grows, down to a single group
/// (Hamerly's one lower bound) for data sets of more than [`MAX_BOUNDS`] samples. Only the
/// share of distances skipped depends on it, never a label.
fn group_size(n: usize, k: usize) -> usize {
    if n.saturating_mul(k) <= MAX_BOUNDS {
        return 1;
    }
    let budget = MAX_BOUNDS / n.max(1);
    if budget >= k.div_ceil(GROUP) {
        GROUP
    } else {
        k.div_ceil(budget.max(1))
    }
}

/// An upper bound on the bytes a fast-mode fit keeps per data set of `n` samples, whatever `k`:
/// labels and previous labels (`u32`), upper bound, squared norm and norm (`f64`) per sample,
/// and the lower bounds (`f32`; [`group_size`] keeps them within [`MAX_BOUNDS`] values, at
/// least one per sample).
pub(crate) fn state_bytes(n: usize) -> u64 {
    let n = n as u64;
    n.saturating_mul(4 + 4 + 8 + 8 + 8)
        .saturating_add(n.max(MAX_BOUNDS as u64).saturating_mul(4))
}

/// Each non-empty cluster's center as its coordinate sums divided by its count, in
/// `f64` then rounded to `f32` (exact integer sums and `f64` sums alike); an empty
/// cluster keeps its center.
fn means_from_sums<S: Copy + Into<f64>>(
    centers: &mut [f32],
    sums: &[S],
    counts: &[usize],
    mass: impl Fn(usize) -> f64,
    dims: usize,
) {
    for (j, ((center, sum), &count)) in centers
        .chunks_exact_mut(dims)
        .zip(sums.chunks_exact(dims))
        .zip(counts)
        .enumerate()
    {
        if count == 0 {
            continue;
        }
        let mass = mass(j);
        for (c, &s) in center.iter_mut().zip(sum) {
            *c = (s.into() / mass) as f32;
        }
    }
}

/// Sample weights as the engine reads them: none (every sample counts once), or one per
/// sample with `uniform` telling whether they are all equal (then every random draw is
/// the unweighted one, which has the same distribution).
#[derive(Clone, Copy)]
struct Weights<'a> {
    values: Option<&'a [f64]>,
    uniform: bool,
}

impl<'a> Weights<'a> {
    fn new(values: Option<&'a [f64]>) -> Self {
        let uniform = values.is_none_or(|w| w.iter().all(|&v| v == w[0]));
        Self { values, uniform }
    }

    /// The weight of sample `i` (1 without weights).
    #[inline]
    fn of(&self, i: usize) -> f64 {
        self.values.map_or(1.0, |w| w[i])
    }

    /// A sample drawn with probability proportional to its weight (uniformly without
    /// weights or with equal ones), among those `taken` does not exclude.
    fn draw(&self, n: usize, rng: &mut CvRng, taken: &[bool]) -> usize {
        match self.values {
            Some(w) if !self.uniform => {
                let total: f64 = (0..n).filter(|&i| !taken[i]).map(|i| w[i]).sum();
                let mut p = rng.next_f64() * total;
                let mut last = 0;
                for i in (0..n).filter(|&i| !taken[i] && w[i] > 0.0) {
                    last = i;
                    p -= w[i];
                    if p < 0.0 {
                        return i;
                    }
                }
                last
            }
            _ => (rng.next_u32() as usize) % n,
        }
    }
}

/// Fast-mode fit: every attempt from its initial centers, the one with the smallest
/// inertia wins (the first on ties).
pub(crate) fn fit<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    rng: &mut CvRng,
    parallel: bool,
) -> Result<KMeansFit, KMeansError> {
    let (n, dims, k) = (samples.n, samples.dims, params.k());
    if let Init::Centers(c) = params.init()
        && c.len() != k * dims
    {
        return Err(KMeansError::InitialCentersLength {
            expected: k * dims,
            got: c.len(),
        });
    }
    if let Init::Labels { labels, .. } = params.init()
        && labels.len() != n
    {
        return Err(KMeansError::InitialLabelsLength {
            expected: n,
            got: labels.len(),
        });
    }
    if !samples.magnitude_ok() {
        return Err(KMeansError::DistanceOverflow);
    }
    check_weights(params, n)?;
    let engine = Engine::new(samples, k, parallel, params.sample_weight());
    let mut best: Option<KMeansFit> = None;
    for attempt in 0..params.attempts() {
        let centers = initial_centers(params, samples, attempt, rng, &engine)?;
        let mut st = engine.state(centers);
        let iterations = engine.lloyd(&mut st, params);
        let inertia = engine.inertia(&st);
        engine.keep_best(&mut best, st, inertia, iterations, attempt);
    }
    best.ok_or(KMeansError::DistanceOverflow)
}

/// Initial centers of `attempt` for `samples`, chosen as a fast-mode fit chooses them (for
/// mini-batch k-means, which seeds from a sample of the data).
/// Checks the sample weights against the `n` samples: one each, and at least `k` positive.
fn check_weights(params: &CheckedKMeansParams, n: usize) -> Result<(), KMeansError> {
    if let Some(w) = params.sample_weight() {
        if w.len() != n {
            return Err(KMeansError::SampleWeightsLength {
                expected: n,
                got: w.len(),
            });
        }
        let positive = w.iter().filter(|&&v| v > 0.0).count();
        if positive < params.k() {
            return Err(KMeansError::TooFewWeighted {
                n: positive,
                k: params.k(),
            });
        }
    }
    Ok(())
}

pub(crate) fn seed_centers<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    attempt: usize,
    rng: &mut CvRng,
    parallel: bool,
) -> Result<Vec<f32>, KMeansError> {
    let engine = Engine::new(samples, params.k(), parallel, params.sample_weight());
    initial_centers(params, samples, attempt, rng, &engine)
}

/// Initial centers of one attempt.
fn initial_centers<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    attempt: usize,
    rng: &mut CvRng,
    engine: &Engine<'_, T>,
) -> Result<Vec<f32>, KMeansError> {
    let (n, dims, k) = (samples.n, samples.dims, params.k());
    let mut centers = vec![0.0_f32; k * dims];
    let row_to = |i: usize, c: &mut [f32]| T::widen(samples.row(i), c);
    match params.init() {
        Init::Centers(c) => centers.copy_from_slice(c),
        Init::RandomBox => {
            let mut bbox = Vec::new();
            init::bounding_box(samples, &mut bbox);
            for c in centers.chunks_exact_mut(dims) {
                init::random_center(&bbox, c, rng);
            }
        }
        Init::Samples if !engine.weights.uniform => {
            // k distinct samples, each drawn with probability proportional to its weight
            // among those not yet drawn (scikit-learn's `random` with `sample_weight`).
            let mut taken = vec![false; n];
            for c in centers.chunks_exact_mut(dims) {
                let i = engine.weights.draw(n, rng, &taken);
                taken[i] = true;
                row_to(i, c);
            }
        }
        Init::Samples => {
            // k distinct indices: a partial Fisher-Yates shuffle driven by `rng`.
            let mut idx: Vec<u32> = (0..n as u32).collect();
            for (j, c) in centers.chunks_exact_mut(dims).enumerate() {
                let r = j + (rng.next_u32() as usize) % (n - j);
                idx.swap(j, r);
                row_to(idx[j] as usize, c);
            }
        }
        Init::Labels { labels, .. } if attempt == 0 => {
            let mut sums = vec![0.0_f64; k * dims];
            let mut mass = vec![0.0_f64; k];
            for (i, &l) in labels.iter().enumerate() {
                let (l, w) = (l as usize, engine.weights.of(i));
                if w == 0.0 {
                    continue;
                }
                mass[l] += w;
                for (s, &x) in sums[l * dims..(l + 1) * dims]
                    .iter_mut()
                    .zip(samples.row(i))
                {
                    *s += w * f64::from(x.to_f32());
                }
            }
            for (j, c) in centers.chunks_exact_mut(dims).enumerate() {
                let m = if mass[j] > 0.0 { mass[j] } else { 1.0 };
                for (v, &s) in c.iter_mut().zip(&sums[j * dims..(j + 1) * dims]) {
                    *v = (s / m) as f32;
                }
            }
        }
        Init::PlusPlus | Init::Labels { .. } => engine.greedy_plus_plus(&mut centers, rng),
        &Init::Parallel {
            rounds,
            oversampling,
        } => {
            let rows = distributed::Rows::all(n);
            centers = engine.scalable(rounds, oversampling, rows, rng, &SingleProcess);
        }
    }
    Ok(centers)
}

/// Read-only data of a fit.
struct Engine<'a, T> {
    samples: Samples<'a, T>,
    k: usize,
    stride: usize,
    groups: usize,
    gsize: usize,
    xx: Vec<f64>,
    xnorm: Vec<f64>,
    dm: DotMargin,
    int_sums: bool,
    parallel: bool,
    weights: Weights<'a>,
}

/// The evolving state of one attempt.
struct State {
    centers: Vec<f32>,
    labels: Vec<u32>,
    upper: Vec<f64>,
    lower: Vec<f32>,
    int_sums: ByteSums,
    f_sums: Vec<f64>,
    /// Samples of positive weight in each cluster (a cluster without any is empty).
    counts: Vec<usize>,
    /// Weight of each cluster, for the `f64` sums (without weights: the counts).
    mass: Vec<f64>,
}

/// Centers prepared for one assignment pass.
struct Prepared {
    /// The centers, each padded to `stride` values, on cache-line boundaries (no split loads).
    cpack: AlignedF32,
    cc: Vec<f64>,
    cmax: f64,
    ccmax: f64,
    drift: Vec<f64>,
    /// Per group, the largest drift of its centers, rounded up to `f32` (the bounds' type).
    gdrift: Vec<f32>,
}

impl<'a, T: Element> Engine<'a, T> {
    fn new(samples: Samples<'a, T>, k: usize, parallel: bool, weights: Option<&'a [f64]>) -> Self {
        let stride = samples.dims.div_ceil(16) * 16;
        let xx = samples.squared_norms(parallel);
        let xnorm = xx.iter().map(|v| v.sqrt()).collect();
        let gsize = group_size(samples.n, k);
        Self {
            samples,
            k,
            stride,
            gsize,
            groups: k.div_ceil(gsize),
            xx,
            xnorm,
            dm: DotMargin::new(stride),
            int_sums: weights.is_none()
                && T::IS_U8
                && (samples.n as u64) * 255 <= u64::from(u32::MAX),
            parallel,
            weights: Weights::new(weights),
        }
    }

    /// Keeps the attempt's fit in `best` if its inertia is the smallest so far (the first
    /// attempt on ties).
    fn keep_best(
        &self,
        best: &mut Option<KMeansFit>,
        st: State,
        inertia: f64,
        iterations: usize,
        attempt: usize,
    ) {
        if best.as_ref().is_none_or(|b| inertia < b.compactness) {
            *best = Some(KMeansFit {
                labels: st.labels,
                centers: st.centers,
                k: self.k,
                dims: self.samples.dims,
                compactness: inertia,
                iterations,
                best_attempt: attempt,
                mode: super::Mode::Fast,
            });
        }
    }

    fn state(&self, centers: Vec<f32>) -> State {
        let n = self.samples.n;
        State {
            centers,
            labels: vec![0; n],
            upper: vec![f64::INFINITY; n],
            lower: vec![0.0; n * self.groups],
            int_sums: ByteSums::default(),
            f_sums: Vec::new(),
            counts: vec![0; self.k],
            mass: vec![0.0; self.k],
        }
    }

    fn prepare(&self, centers: &[f32], drift: Vec<f64>) -> Prepared {
        let (dims, stride, k) = (self.samples.dims, self.stride, self.k);
        let mut cpack = AlignedF32::zeroed(k * stride);
        let mut cc = vec![0.0_f64; k];
        for j in 0..k {
            let c = &centers[j * dims..(j + 1) * dims];
            cpack[j * stride..j * stride + dims].copy_from_slice(c);
            cc[j] = c.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        }
        let gs = self.gsize;
        let gdrift = (0..self.groups)
            .map(|g| {
                f32_above(
                    drift[g * gs..((g + 1) * gs).min(k)]
                        .iter()
                        .fold(0.0_f64, |m, &d| m.max(d)),
                )
            })
            .collect();
        Prepared {
            cmax: cc.iter().fold(0.0, |m: f64, &v| m.max(v)).sqrt() * (1.0 + 1e-9),
            ccmax: cc.iter().fold(0.0, |m: f64, &v| m.max(v)),
            cpack,
            cc,
            drift,
            gdrift,
        }
    }

    /// Lloyd iterations (at most `max_iter`, counted in the parameters' progress, the
    /// ones an early stop spares included); returns the number of center updates.
    fn lloyd(&self, st: &mut State, params: &CheckedKMeansParams) -> usize {
        let (max_iter, epsilon_sq) = (params.max_iter(), params.epsilon_sq());
        let sink = params.sink();
        let k = self.k;
        let mut prep = self.prepare(&st.centers, vec![0.0; k]);
        self.assign(st, &prep, false);
        let mut iter = 0;
        while iter < max_iter {
            let old = st.centers.clone();
            self.update(st);
            self.relocate_empty(st);
            iter += 1;
            sink.add(1);
            let (drift, shift) = drifts(&st.centers, &old, k, self.samples.dims);
            prep = self.prepare(&st.centers, drift);
            let changed = self.assign(st, &prep, true);
            if changed == 0 || (epsilon_sq > 0.0 && shift * shift <= epsilon_sq) {
                break;
            }
        }
        sink.add(max_iter - iter);
        iter
    }

    /// New centers from the labels (see the module documentation).
    fn update(&self, st: &mut State) {
        let (dims, k) = (self.samples.dims, self.k);
        match T::as_bytes(self.samples.data) {
            Some(bytes) if self.int_sums => {
                st.int_sums
                    .update(bytes, dims, k, &st.labels, &mut st.counts);
                let counts = &st.counts;
                means_from_sums(
                    &mut st.centers,
                    &st.int_sums.sums,
                    counts,
                    |j| counts[j] as f64,
                    dims,
                );
            }
            _ => {
                // Weighted sums `Σ w·x` in sample order (`1·x` is `x`: no weights and
                // unit weights give the same bits).
                st.f_sums.clear();
                st.f_sums.resize(k * dims, 0.0);
                st.counts.fill(0);
                st.mass.fill(0.0);
                for (i, &l) in st.labels.iter().enumerate() {
                    let (l, w) = (l as usize, self.weights.of(i));
                    if w == 0.0 {
                        continue;
                    }
                    st.counts[l] += 1;
                    st.mass[l] += w;
                    for (s, &x) in st.f_sums[l * dims..(l + 1) * dims]
                        .iter_mut()
                        .zip(self.samples.row(i))
                    {
                        *s += w * f64::from(x.to_f32());
                    }
                }
                let mass = &st.mass;
                means_from_sums(&mut st.centers, &st.f_sums, &st.counts, |j| mass[j], dims);
            }
        }
    }

    /// Gives every empty cluster a sample, as scikit-learn does: the samples farthest from
    /// their centers (exact `f64` distances; ties to the lowest index) move to the empty
    /// clusters, taken only from clusters that keep at least one sample. With at least K
    /// distinct samples no cluster stays empty. Moved samples get their own position as
    /// center, an exact upper bound of 0 and lower bounds of 0 (recomputed next pass).
    fn relocate_empty(&self, st: &mut State) {
        let (dims, k, groups) = (self.samples.dims, self.k, self.groups);
        let empty: Vec<usize> = (0..k).filter(|&j| st.counts[j] == 0).collect();
        if empty.is_empty() {
            return;
        }
        let dist = |i: usize, st: &State| -> f64 {
            let l = st.labels[i] as usize;
            self.samples
                .row(i)
                .iter()
                .zip(&st.centers[l * dims..(l + 1) * dims])
                .map(|(x, &c)| (f64::from(x.to_f32()) - f64::from(c)).powi(2))
                .sum()
        };
        let mut order: Vec<(f64, usize)> = (0..st.labels.len()).map(|i| (dist(i, st), i)).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let bytes = T::as_bytes(self.samples.data).filter(|_| self.int_sums);
        let mut next = order.into_iter();
        for j in empty {
            let Some((_, i)) = next.find(|&(d, i)| {
                d > 0.0 && self.weights.of(i) > 0.0 && st.counts[st.labels[i] as usize] > 1
            }) else {
                break;
            };
            let old = st.labels[i] as usize;
            st.labels[i] = j as u32;
            let row = self.samples.row(i);
            if let Some(bytes) = bytes {
                let x = &bytes[i * dims..(i + 1) * dims];
                st.int_sums.move_sample(x, i, old, j, &mut st.counts);
                let n = st.counts[old] as f64;
                for (c, &s) in st.centers[old * dims..(old + 1) * dims]
                    .iter_mut()
                    .zip(st.int_sums.cluster(old, dims))
                {
                    *c = (f64::from(s) / n) as f32;
                }
            } else {
                let w = self.weights.of(i);
                st.counts[old] -= 1;
                st.counts[j] += 1;
                st.mass[old] -= w;
                st.mass[j] += w;
                for (d, x) in row.iter().enumerate() {
                    let x = w * f64::from(x.to_f32());
                    st.f_sums[old * dims + d] -= x;
                    st.f_sums[j * dims + d] += x;
                }
                let m = st.mass[old];
                for d in 0..dims {
                    st.centers[old * dims + d] = (st.f_sums[old * dims + d] / m) as f32;
                }
            }
            for (c, x) in st.centers[j * dims..(j + 1) * dims].iter_mut().zip(row) {
                *c = x.to_f32();
            }
            st.upper[i] = 0.0;
            st.lower[i * groups..(i + 1) * groups].fill(0.0);
        }
    }

    /// One assignment pass; returns how many labels changed.
    fn assign(&self, st: &mut State, prep: &Prepared, bounded: bool) -> usize {
        let groups = self.groups;
        let work = |(c, ((labels, upper), lower)): ChunkItem<'_>| {
            self.assign_chunk(prep, c * CHUNK, labels, upper, lower, bounded)
        };
        if self.parallel {
            st.labels
                .par_chunks_mut(CHUNK)
                .zip(st.upper.par_chunks_mut(CHUNK))
                .zip(st.lower.par_chunks_mut(CHUNK * groups))
                .enumerate()
                .map(work)
                .sum()
        } else {
            st.labels
                .chunks_mut(CHUNK)
                .zip(st.upper.chunks_mut(CHUNK))
                .zip(st.lower.chunks_mut(CHUNK * groups))
                .enumerate()
                .map(work)
                .sum()
        }
    }

    fn assign_chunk(
        &self,
        prep: &Prepared,
        start: usize,
        labels: &mut [u32],
        upper: &mut [f64],
        lower: &mut [f32],
        bounded: bool,
    ) -> usize {
        let (k, stride, groups, gs) = (self.k, self.stride, self.groups, self.gsize);
        let mut xf = AlignedF32::zeroed(stride);
        let mut t = vec![0.0_f64; k];
        let mut alive = vec![0_usize; groups];
        let mut cand = Vec::with_capacity(k);
        let mut dots = vec![0.0_f32; k];
        let mut changed = 0;
        let mut todo = Vec::new();
        // The centers of the open groups but `a`.
        let centers_of = |alive: &[usize], a: usize, cand: &mut Vec<usize>| {
            cand.clear();
            if gs == 1 {
                cand.extend(alive.iter().copied().filter(|&j| j != a));
            } else {
                for &g in alive {
                    cand.extend((g * gs..((g + 1) * gs).min(k)).filter(|&j| j != a));
                }
            }
        };
        for off in 0..labels.len() {
            if !(bounded && upper[off].is_finite()) {
                todo.push(off);
                continue;
            }
            let i = start + off;
            let a = labels[off] as usize;
            let (xx, xn) = (self.xx[i], self.xnorm[i]);
            let e = self.dm.err(xn, prep.cmax, xx, prep.ccmax);
            let lb = &mut lower[off * groups..(off + 1) * groups];
            let mut u = upper[off] + prep.drift[a];
            // A group may hold the label only if its bound is not above this.
            let thr = |u: f64| f32_above((u * u + 2.0 * e).sqrt() * (1.0 + 1e-9));
            let open = bounds_shift(lb, &prep.gdrift, thr(u));
            if open == 0 {
                upper[off] = u;
                continue;
            }
            T::widen(self.samples.row(i), &mut xf);
            let n_alive = if open * gs < 4 {
                // The own center and the (at most three) others still open fit in one
                // pass of independent chains of `dot16_select`: as fast as the own
                // distance alone.
                let n = bounds_open(lb, thr(u), &mut alive);
                centers_of(&alive[..n], a, &mut cand);
                cand.push(a);
                dot16_select(&xf, &prep.cpack, &cand, stride, &mut dots);
                cand.pop();
                t[a] = (xx + prep.cc[a]) - 2.0 * f64::from(dots[cand.len()]);
                n
            } else {
                // The own distance first: the tighter upper bound closes more groups.
                t[a] = (xx + prep.cc[a])
                    - 2.0 * f64::from(dot16(&xf, &prep.cpack[a * stride..(a + 1) * stride]));
                u = (t[a] + e).max(0.0).sqrt() * (1.0 + 1e-9);
                let n = bounds_open(lb, thr(u), &mut alive);
                centers_of(&alive[..n], a, &mut cand);
                dot16_select(&xf, &prep.cpack, &cand, stride, &mut dots);
                n
            };
            if n_alive == 0 {
                upper[off] = (t[a] + e).max(0.0).sqrt() * (1.0 + 1e-9);
                continue;
            }
            let (mut best, mut best_t) = (a, t[a]);
            for (&j, &d) in cand.iter().zip(&dots) {
                t[j] = (xx + prep.cc[j]) - 2.0 * f64::from(d);
                if t[j] < best_t || (t[j] == best_t && j < best) {
                    best = j;
                    best_t = t[j];
                }
            }
            let lower_of = |tj: f64| f32_below((tj - e).max(0.0).sqrt() * (1.0 - 1e-9));
            if gs == 1 {
                // One bound per center: the computed ones and the old label's, but the
                // label's own, whose group has no other center (+∞).
                for &j in &cand {
                    lb[j] = lower_of(t[j]);
                }
                if best != a {
                    lb[a] = lower_of(t[a]);
                }
                lb[best] = f32::INFINITY;
            } else {
                // `lower_of` is non-decreasing, so the lower bound of a group is that of
                // its smallest `d̃²`: one square root per group.
                for &g in &alive[..n_alive] {
                    lb[g] = lower_of(group_min(&t, g, gs, best));
                }
                if best != a {
                    let ga = a / gs;
                    lb[ga] = lb[ga].min(lower_of(t[a]));
                }
            }
            if best != a {
                labels[off] = best as u32;
                changed += 1;
            }
            upper[off] = (best_t + e).max(0.0).sqrt() * (1.0 + 1e-9);
        }
        if todo.is_empty() {
            return changed;
        }
        let mut panel = AlignedF32::zeroed(BATCH.min(todo.len()) * stride);
        let mut dots = vec![0.0_f32; BATCH.min(todo.len()) * k];
        for batch in todo.chunks(BATCH) {
            for (b, &off) in batch.iter().enumerate() {
                T::widen(self.samples.row(start + off), &mut panel[b * stride..]);
            }
            dot16_panel(&panel, batch.len(), &prep.cpack, k, stride, &mut dots);
            for (b, &off) in batch.iter().enumerate() {
                let i = start + off;
                let (xx, xn) = (self.xx[i], self.xnorm[i]);
                let e = self.dm.err(xn, prep.cmax, xx, prep.ccmax);
                let (mut best, mut best_t) = (0, f64::INFINITY);
                for (j, tj) in t.iter_mut().enumerate() {
                    *tj = (xx + prep.cc[j]) - 2.0 * f64::from(dots[b * k + j]);
                    if *tj < best_t {
                        best = j;
                        best_t = *tj;
                    }
                }
                let lb = &mut lower[off * groups..(off + 1) * groups];
                let lower_of = |tj: f64| f32_below((tj - e).max(0.0).sqrt() * (1.0 - 1e-9));
                if gs == 1 {
                    for (l, &tj) in lb.iter_mut().zip(&t) {
                        *l = lower_of(tj);
                    }
                    lb[best] = f32::INFINITY;
                } else {
                    for (g, l) in lb.iter_mut().enumerate() {
                        *l = lower_of(group_min(&t, g, gs, best));
                    }
                }
                if labels[off] != best as u32 || !bounded {
                    changed += 1;
                }
                labels[off] = best as u32;
                upper[off] = (best_t + e).max(0.0).sqrt() * (1.0 + 1e-9);
            }
        }
        changed
    }

    /// Sum of `max(d̃², 0)` over samples, in chunk order.
    fn inertia(&self, st: &State) -> f64 {
        let prep = self.prepare(&st.centers, vec![0.0; self.k]);
        let stride = self.stride;
        let part = |(c, labels): (usize, &[u32])| {
            let mut xf = AlignedF32::zeroed(stride);
            let mut s = 0.0_f64;
            for (o, &l) in labels.iter().enumerate() {
                let i = c * CHUNK + o;
                let l = l as usize;
                T::widen(self.samples.row(i), &mut xf);
                let d = dot16(&xf, &prep.cpack[l * stride..(l + 1) * stride]);
                s += self.weights.of(i) * ((self.xx[i] + prep.cc[l]) - 2.0 * f64::from(d)).max(0.0);
            }
            s
        };
        let parts: Vec<f64> = if self.parallel {
            st.labels.par_chunks(CHUNK).enumerate().map(part).collect()
        } else {
            st.labels.chunks(CHUNK).enumerate().map(part).collect()
        };
        parts.iter().sum()
    }

    /// `max(d̃², 0)` of every sample to the center `c` (`stride` values, zero-padded).
    fn distances_to(&self, c: &[f32], out: &mut [f64]) {
        let stride = self.stride;
        let cc: f64 = c.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let work = |(ci, chunk): (usize, &mut [f64])| {
            let mut xf = AlignedF32::zeroed(stride);
            for (o, d) in chunk.iter_mut().enumerate() {
                let i = ci * CHUNK + o;
                T::widen(self.samples.row(i), &mut xf);
                *d = ((self.xx[i] + cc) - 2.0 * f64::from(dot16(&xf, c))).max(0.0);
            }
        };
        if self.parallel {
            out.par_chunks_mut(CHUNK).enumerate().for_each(work);
        } else {
            out.chunks_mut(CHUNK).enumerate().for_each(work);
        }
    }

    /// k-means|| centers ([`Init::Parallel`]) of the samples (at `rows` among the ranks of
    /// `comm`).
    fn scalable(
        &self,
        rounds: usize,
        oversampling: f64,
        rows: distributed::Rows,
        rng: &mut CvRng,
        comm: &dyn Collective,
    ) -> Vec<f32> {
        let s = Scalable {
            k: self.k,
            rounds,
            oversampling,
            weights: self.weights.values,
            parallel: self.parallel,
        };
        scalable::centers(&s, self.samples, rows, rng, comm)
    }

    /// scikit-learn's greedy k-means++: the first center is a random sample; each next
    /// one is the best of `2 + ⌊ln k⌋` candidates drawn proportionally to the current
    /// squared distances (the one that minimises their sum), all with `d̃²`.
    fn greedy_plus_plus(&self, centers: &mut [f32], rng: &mut CvRng) {
        let (n, dims, k, stride) = (self.samples.n, self.samples.dims, self.k, self.stride);
        let trials = 2 + (k as f64).ln() as usize;
        let mut cand = vec![0.0_f32; stride];
        let dist_to = |c: &[f32], out: &mut [f64]| self.distances_to(c, out);
        // Weighted: samples are drawn with probability proportional to weight × squared
        // distance, and a candidate's potential is the weighted sum (scikit-learn's
        // `_kmeans_plusplus` with `sample_weight`); `1·d` is `d`.
        let w = self.weights;
        let pick = |dist: &[f64], total: f64, rng: &mut CvRng| {
            let mut p = rng.next_f64() * total;
            let mut i = 0;
            while i < n - 1 {
                p -= w.of(i) * dist[i];
                if p <= 0.0 {
                    break;
                }
                i += 1;
            }
            i
        };
        let first = w.draw(n, rng, &vec![false; n]);
        T::widen(self.samples.row(first), &mut cand);
        centers[..dims].copy_from_slice(&cand[..dims]);
        let mut closest = vec![0.0_f64; n];
        dist_to(&cand, &mut closest);
        let mut tmp = vec![0.0_f64; n];
        let mut best_d = vec![0.0_f64; n];
        for j in 1..k {
            let total: f64 = closest.iter().enumerate().map(|(i, &c)| w.of(i) * c).sum();
            let mut best: Option<(f64, usize)> = None;
            for _ in 0..trials {
                let ci = pick(&closest, total, rng);
                T::widen(self.samples.row(ci), &mut cand);
                dist_to(&cand, &mut tmp);
                let mut pot = 0.0;
                for (i, (t, &c)) in tmp.iter_mut().zip(&closest).enumerate() {
                    *t = t.min(c);
                    pot += w.of(i) * *t;
                }
                if best.is_none_or(|(b, _)| pot < b) {
                    best = Some((pot, ci));
                    std::mem::swap(&mut best_d, &mut tmp);
                }
            }
            let ci = best.map_or(0, |b| b.1);
            T::widen(self.samples.row(ci), &mut cand);
            centers[j * dims..(j + 1) * dims].copy_from_slice(&cand[..dims]);
            std::mem::swap(&mut closest, &mut best_d);
        }
    }
}

/// The smallest `d̃²` in `t` of group `g`'s centers (`gs` a group) but `best`; +∞ for none.
fn group_min(t: &[f64], g: usize, gs: usize, best: usize) -> f64 {
    let end = ((g + 1) * gs).min(t.len());
    (g * gs..end)
        .filter(|&j| j != best)
        .fold(f64::INFINITY, |m, j| m.min(t[j]))
}

/// How far each of the `k` centers moved from `old` (an upper bound of the true
/// distance), and the largest of those moves.
fn drifts(centers: &[f32], old: &[f32], k: usize, dims: usize) -> (Vec<f64>, f64) {
    let drift: Vec<f64> = (0..k)
        .map(|j| {
            true_dist_upper(
                &centers[j * dims..(j + 1) * dims],
                &old[j * dims..(j + 1) * dims],
            )
        })
        .collect();
    let shift = drift.iter().fold(0.0_f64, |m, &d| m.max(d));
    (drift, shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bounds_stay_within_the_budget() {
        for (n, k) in [
            (1_000, 256),
            (1_000_000, 256),
            (1_000_000, 10),
            (20_000_000, 256),
            (100_000_000, 1000),
            (5, 3),
        ] {
            let gs = group_size(n, k);
            let groups = k.div_ceil(gs);
            assert!(
                n * groups <= MAX_BOUNDS.max(n),
                "n {n} k {k}: {groups} groups"
            );
            assert!((n * groups * 4) as u64 <= state_bytes(n), "n {n} k {k}");
        }
        assert_eq!(group_size(1_000_000, 256), GROUP);
        assert_eq!(group_size(100_000_000, 256), 256);
    }

    /// Grouped bounds (Yinyang, used when one bound per center would not fit) and a single
    /// bound (Hamerly) skip other distances than one bound per center (Elkan), never to
    /// another label: every group size gives the same fit.
    #[test]
    fn every_group_size_gives_the_same_fit() {
        use super::super::params::{KMeansParams, Mode, TermCriteria};
        let (n, dims, k) = (600, 37, 13);
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let data: Vec<u8> = (0..n * dims)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Ten loose blobs, so that labels keep changing for several iterations.
                ((i / dims % 10) as u64 * 20 + (x >> 58)) as u8
            })
            .collect();
        let params = KMeansParams::new(k)
            .mode(Mode::Fast)
            .term(TermCriteria::new().max_iter(50).epsilon(0.0))
            .check()
            .unwrap();
        let samples = Samples::new(&data, dims, k).unwrap();
        let start: Vec<f32> = (0..k)
            .flat_map(|j| {
                data[j * 41 * dims..(j * 41 + 1) * dims]
                    .iter()
                    .map(|&v| f32::from(v))
            })
            .collect();
        let fit = |gs: usize| {
            let mut engine = Engine::new(samples, k, false, None);
            engine.gsize = gs;
            engine.groups = k.div_ceil(gs);
            let mut st = engine.state(start.clone());
            let iters = engine.lloyd(&mut st, &params);
            (st.labels, st.centers, iters)
        };
        let elkan = fit(1);
        assert!(elkan.2 > 2, "the fit should take a few iterations");
        for gs in [2, 3, 5, k] {
            assert_eq!(fit(gs), elkan, "group size {gs}");
        }
    }
}
