//! OpenCV mode, fast: the reference attempts loop of [`fit`](super::fit) with the same
//! labels, centers, compactness and final generator state, computed with far fewer
//! distance evaluations.
//!
//! * **Attempts in parallel.** The draws an attempt's seeding takes do not depend on
//!   the data (random box: `k · dims` words; k-means++: `1 + (k − 1) · 3 · 2` words),
//!   so each attempt's starting generator state is computed up front, the attempts
//!   run concurrently, and the best is chosen as OpenCV does (first attempt with the
//!   strictly smallest compactness).
//! * **Hamerly bounds with rigorous margins.** Each sample keeps an upper bound on the
//!   true distance to its center and a lower bound on the true distance to every
//!   other center, moved by the centers' drifts each iteration. A sample is skipped
//!   only when [`OpencvMargin::surely_farther`] proves that OpenCV's `f32` kernel
//!   would rank its center strictly first.
//! * **Shortlist, then the exact kernel.** Samples that are not skipped get all `k`
//!   fast distances `‖x‖² + ‖c‖² − 2·x·c` from a blocked kernel; with the
//!   [`DotMargin`] error bound these exclude every center that cannot be OpenCV's
//!   argmin, and the exact [`l2sq_opencv`](crate::kernels::l2sq_opencv) runs only on
//!   the (usually single) survivor; ties go to the lowest index, as in OpenCV.
//! * **Sparse byte images, dense assignment.** Byte data with at most 40% nonzero
//!   values and `k ≤ 16` gets its fast distances from a sparse dot product against
//!   the transposed centers ([`SparseU8`](crate::kernels::SparseU8), with its own
//!   [`DotMargin::sparse`] bound). An attempt whose bounded assignment skips fewer
//!   than half of the samples drops its bounds for the rest of the attempt: every
//!   sample then gets the shortlist directly, without the per-center bookkeeping.
//! * **Exact center sums.** For byte samples with `n · 255 < 2^24` every partial
//!   `f32` sum OpenCV forms is an integer below `2^24`, hence exact: integer sums give
//!   the same bits in any order, so they are updated incrementally from the samples
//!   that changed cluster. Otherwise the sums are recomputed in sample order.

use rayon::prelude::*;

use super::init::{self, PlusPlusScratch, SPP_TRIALS};
use super::lloyd::{self, Samples, CHUNK};
use super::margin::{true_dist_lower, true_dist_upper, DotMargin, OpencvMargin};
use super::params::{CheckedKMeansParams, Init, Reseed};
use super::KMeansError;
use crate::kernels::{add_u8, dot16_panel, sub_u8, Element, SparseU8};
use crate::CvRng;

/// Largest number of per-sample lower bounds kept per attempt.
const MAX_BOUNDS: usize = 1 << 24;

/// One chunk of the per-sample state: index, labels, upper bounds, lower bounds.
type ChunkItem<'a> = (usize, ((&'a mut [u32], &'a mut [f64]), &'a mut [f64]));

/// Rows per call of the blocked dot-product kernel.
const BATCH: usize = 32;

/// An attempt drops its bounds when a bounded assignment skips fewer than this
/// fraction (numerator, denominator) of the samples: keeping the bounds then costs
/// more than the distance work they save.
const DENSE_BELOW: (usize, usize) = (1, 2);

/// The sparse form of `samples` when it pays: byte samples, `k ≤ 16` (one register
/// of centers per coordinate) and at most 40% nonzero values.
fn sparse_form<T: Element>(samples: Samples<'_, T>, k: usize) -> Option<SparseU8> {
    let bytes = T::as_bytes(samples.data)?;
    let nnz = bytes.iter().filter(|&&b| b != 0).count();
    if k > 16 || u32::try_from(samples.dims).is_err() || nnz * 5 > bytes.len() * 2 {
        return None;
    }
    Some(SparseU8::from_bytes(bytes, samples.dims))
}

/// Per-attempt buffers.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptWs {
    pub centers: Vec<f32>,
    old_centers: Vec<f32>,
    pub labels: Vec<u32>,
    prev_labels: Vec<u32>,
    counters: Vec<usize>,
    sums: Vec<u32>,
    sums_ready: bool,
    upper: Vec<f64>,
    lower: Vec<f64>,
    dists: Vec<f64>,
    temp: Vec<f32>,
    repaired: Vec<usize>,
    cpack: Vec<f32>,
    ct: Vec<f32>,
    cc: Vec<f64>,
    cnorm: Vec<f64>,
    drift: Vec<f64>,
    gdrift: Vec<f64>,
    gsep: Vec<f64>,
    pp: PlusPlusScratch,
}

/// What one attempt produced (labels and centers stay in its [`AttemptWs`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AttemptOut {
    pub compactness: f64,
    pub iterations: usize,
}

/// Read-only context shared by the attempts.
struct Ctx<'a, T> {
    samples: Samples<'a, T>,
    k: usize,
    stride: usize,
    groups: usize,
    group_size: usize,
    xx: Vec<f64>,
    xnorm: Vec<f64>,
    max_iter: usize,
    epsilon_sq: f64,
    bbox: Vec<[f32; 2]>,
    initial_labels: Option<&'a [u32]>,
    seeding: Reseed,
    cm: OpencvMargin,
    dm: DotMargin,
    sparse: Option<SparseU8>,
    int_sums: bool,
    parallel: bool,
}

/// Whether the fast path's error analysis covers data with this largest magnitude
/// (no `f32` overflow anywhere in distances or dot products).
pub(crate) fn magnitude_ok(max_abs: f32, dims: usize) -> bool {
    let m = f64::from(max_abs);
    (dims as f64) * (4.0 * m) * (4.0 * m) < 1e36
}

/// Random words one attempt's seeding draws.
fn draws_per_attempt(seeding: Reseed, k: usize, dims: usize) -> usize {
    match seeding {
        Reseed::RandomBox => k * dims,
        Reseed::PlusPlus => 1 + (k - 1) * SPP_TRIALS * 2,
    }
}

/// Runs all attempts; returns the index of the best attempt and its output, with
/// `rng` advanced past every attempt's draws. `workspaces` is resized to the number
/// of attempts; the winner's labels and centers are in `workspaces[best]`.
///
/// # Errors
///
/// Any error of an attempt (the caller then replays the reference loop, which
/// reproduces OpenCV's error and generator state exactly).
pub(crate) fn run<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    rng: &mut CvRng,
    workspaces: &mut Vec<AttemptWs>,
    parallel: bool,
) -> Result<(usize, AttemptOut), KMeansError> {
    let (n, dims, k) = (samples.n, samples.dims, params.k());
    let (initial_labels, seeding) = match params.init() {
        Init::RandomBox => (None, Reseed::RandomBox),
        Init::PlusPlus => (None, Reseed::PlusPlus),
        Init::Labels { labels, reseed } => (Some(labels.as_slice()), *reseed),
        Init::Samples | Init::Centers(_) => return Err(KMeansError::InitNeedsFastMode),
    };
    let mut bbox = Vec::new();
    if seeding == Reseed::RandomBox {
        init::bounding_box(samples, &mut bbox);
    }
    let stride = dims.div_ceil(16) * 16;
    let (xx, xnorm) = sample_norms(samples, parallel);
    let sparse = sparse_form(samples, k);
    // One lower bound per center (Elkan) while that stays small, else per group of
    // consecutive centers.
    let group_size = if n.saturating_mul(k) <= MAX_BOUNDS {
        1
    } else {
        k.div_ceil((MAX_BOUNDS / n).max(1))
    };
    let ctx = Ctx {
        samples,
        k,
        stride,
        groups: k.div_ceil(group_size),
        group_size,
        xx,
        xnorm,
        max_iter: params.max_iter().max(2),
        epsilon_sq: params.epsilon_sq(),
        bbox,
        initial_labels,
        seeding,
        cm: OpencvMargin::new(dims),
        dm: match sparse {
            Some(_) => DotMargin::sparse(dims),
            None => DotMargin::new(stride),
        },
        sparse,
        int_sums: T::IS_U8 && (n as u64) * 255 < (1 << 24),
        parallel,
    };

    let attempts = params.attempts();
    let mut starts = Vec::with_capacity(attempts);
    for attempt in 0..attempts {
        starts.push(rng.clone());
        if attempt > 0 || initial_labels.is_none() {
            for _ in 0..draws_per_attempt(seeding, k, dims) {
                rng.next_u32();
            }
        }
    }
    workspaces.truncate(attempts);
    workspaces.resize_with(attempts, AttemptWs::default);

    let outs: Vec<Result<AttemptOut, KMeansError>> = if parallel && attempts > 1 {
        workspaces
            .par_iter_mut()
            .zip(starts.into_par_iter())
            .enumerate()
            .map(|(a, (ws, start))| run_attempt(&ctx, a, start, ws))
            .collect()
    } else {
        workspaces
            .iter_mut()
            .zip(starts)
            .enumerate()
            .map(|(a, (ws, start))| run_attempt(&ctx, a, start, ws))
            .collect()
    };

    let mut best: Option<(usize, AttemptOut)> = None;
    let mut best_compactness = f64::MAX;
    for (a, out) in outs.into_iter().enumerate() {
        let out = out?;
        if out.compactness < best_compactness {
            best_compactness = out.compactness;
            best = Some((a, out));
        }
    }
    best.ok_or(KMeansError::DistanceOverflow)
}

/// `‖x‖²` in `f64` (exact for bytes) and `‖x‖` for every sample.
fn sample_norms<T: Element>(samples: Samples<'_, T>, parallel: bool) -> (Vec<f64>, Vec<f64>) {
    let mut xx = vec![0.0_f64; samples.n];
    lloyd::for_each_chunk(&mut xx, parallel, |start, chunk| {
        for (o, v) in chunk.iter_mut().enumerate() {
            *v = samples
                .row(start + o)
                .iter()
                .map(|&x| {
                    let x = f64::from(x.to_f32());
                    x * x
                })
                .sum();
        }
    });
    let xnorm = xx.iter().map(|&v| v.sqrt()).collect();
    (xx, xnorm)
}

impl AttemptWs {
    fn prepare(&mut self, n: usize, k: usize, dims: usize, stride: usize, groups: usize) {
        fn sized<T: Clone + Default>(v: &mut Vec<T>, len: usize) {
            v.clear();
            v.resize(len, T::default());
        }
        sized(&mut self.centers, k * dims);
        sized(&mut self.old_centers, k * dims);
        sized(&mut self.labels, n);
        sized(&mut self.prev_labels, n);
        sized(&mut self.counters, k);
        sized(&mut self.sums, k * dims);
        sized(&mut self.upper, n);
        sized(&mut self.lower, n * groups);
        sized(&mut self.dists, n);
        sized(&mut self.temp, dims);
        sized(&mut self.cpack, k * stride);
        sized(&mut self.ct, dims * 16);
        sized(&mut self.cc, k);
        sized(&mut self.cnorm, k);
        sized(&mut self.drift, k);
        sized(&mut self.gdrift, groups);
        sized(&mut self.gsep, k * groups);
        self.sums_ready = false;
    }
}

/// One attempt of OpenCV's loop (the same steps as the reference in `fit.rs`).
fn run_attempt<T: Element>(
    ctx: &Ctx<'_, T>,
    attempt: usize,
    mut rng: CvRng,
    ws: &mut AttemptWs,
) -> Result<AttemptOut, KMeansError> {
    let samples = ctx.samples;
    let (n, dims, k) = (samples.n, samples.dims, ctx.k);
    ws.prepare(n, k, dims, ctx.stride, ctx.groups);
    if let Some(labels) = ctx.initial_labels {
        ws.labels.copy_from_slice(labels);
    }
    let mut iter = 0;
    let mut bounds_valid = false;
    // Once the bounds prune too little, the attempt stops keeping them (dense
    // assignment; the labels are the same either way).
    let mut dense = false;
    let compactness = loop {
        let mut max_center_shift = if iter == 0 { f64::MAX } else { 0.0 };
        std::mem::swap(&mut ws.centers, &mut ws.old_centers);

        if iter == 0 && (attempt > 0 || ctx.initial_labels.is_none()) {
            match ctx.seeding {
                Reseed::PlusPlus => init::plus_plus(
                    samples,
                    k,
                    &mut ws.centers,
                    &mut rng,
                    &mut ws.pp,
                    ctx.parallel,
                )?,
                Reseed::RandomBox => {
                    for center in ws.centers.chunks_exact_mut(dims) {
                        init::random_center(&ctx.bbox, center, &mut rng);
                    }
                }
            }
        } else {
            ws.repaired.clear();
            if ctx.int_sums {
                update_int(ctx, ws)?;
            } else {
                lloyd::update_centers(
                    samples,
                    &mut ws.labels,
                    &mut ws.centers,
                    &mut ws.counters,
                    &mut ws.temp,
                    &mut ws.repaired,
                )?;
            }
            if iter > 0 {
                max_center_shift = lloyd::max_center_shift(&ws.centers, &ws.old_centers, dims);
            }
            if bounds_valid {
                for (j, d) in ws.drift.iter_mut().enumerate() {
                    let r = j * dims..(j + 1) * dims;
                    *d = true_dist_upper(&ws.centers[r.clone()], &ws.old_centers[r]);
                }
                for &i in &ws.repaired {
                    ws.upper[i] = f64::INFINITY;
                }
            }
        }

        iter += 1;
        if iter == ctx.max_iter || max_center_shift <= ctx.epsilon_sq {
            final_distances(ctx, ws);
            break lloyd::opencv_sum(&ws.dists);
        }
        let skipped = assign(ctx, ws, bounds_valid, dense);
        if bounds_valid && skipped * DENSE_BELOW.1 < n * DENSE_BELOW.0 {
            dense = true;
        }
        bounds_valid = !dense;
    };
    Ok(AttemptOut {
        compactness,
        iterations: iter,
    })
}

/// OpenCV's center update on exact integer sums (see the module documentation),
/// kept up to date from the samples whose label changed since the last update.
fn update_int<T: Element>(ctx: &Ctx<'_, T>, ws: &mut AttemptWs) -> Result<(), KMeansError> {
    let samples = ctx.samples;
    let (dims, k) = (samples.dims, ctx.k);
    let sums = &mut ws.sums;
    let counters = &mut ws.counters;
    let labels = &mut ws.labels;
    // Only called for byte samples (`ctx.int_sums`).
    let bytes = T::as_bytes(samples.data).ok_or(KMeansError::DistanceOverflow)?;
    let row = |i: usize| &bytes[i * dims..(i + 1) * dims];
    let add =
        |sums: &mut [u32], c: usize, i: usize| add_u8(&mut sums[c * dims..(c + 1) * dims], row(i));
    let sub =
        |sums: &mut [u32], c: usize, i: usize| sub_u8(&mut sums[c * dims..(c + 1) * dims], row(i));
    if ws.sums_ready {
        for (i, (&l, &p)) in labels.iter().zip(ws.prev_labels.iter()).enumerate() {
            if l != p {
                sub(sums, p as usize, i);
                add(sums, l as usize, i);
                counters[p as usize] -= 1;
                counters[l as usize] += 1;
            }
        }
    } else {
        sums.fill(0);
        counters.fill(0);
        for (i, &l) in labels.iter().enumerate() {
            add(sums, l as usize, i);
            counters[l as usize] += 1;
        }
        ws.sums_ready = true;
    }

    // Empty clusters, exactly as `lloyd::update_centers` repairs them.
    for kk in 0..k {
        if counters[kk] != 0 {
            continue;
        }
        let mut max_k = 0;
        for k1 in 1..k {
            if counters[max_k] < counters[k1] {
                max_k = k1;
            }
        }
        let scale = 1.0_f32 / counters[max_k] as f32;
        for (t, &s) in ws
            .temp
            .iter_mut()
            .zip(&sums[max_k * dims..(max_k + 1) * dims])
        {
            *t = s as f32 * scale;
        }
        let mut max_dist = 0.0_f64;
        let mut farthest = None;
        for (i, &label) in labels.iter().enumerate() {
            if label as usize != max_k {
                continue;
            }
            let dist = f64::from(T::l2sq_opencv(samples.row(i), &ws.temp));
            if max_dist <= dist {
                max_dist = dist;
                farthest = Some(i);
            }
        }
        let farthest = farthest.ok_or(KMeansError::DistanceOverflow)?;
        counters[max_k] -= 1;
        counters[kk] += 1;
        labels[farthest] = kk as u32;
        ws.repaired.push(farthest);
        sub(sums, max_k, farthest);
        add(sums, kk, farthest);
    }

    for ((center, sum), &count) in ws
        .centers
        .chunks_exact_mut(dims)
        .zip(sums.chunks_exact(dims))
        .zip(counters.iter())
    {
        let scale = 1.0_f32 / count as f32;
        for (v, &s) in center.iter_mut().zip(sum) {
            *v = s as f32 * scale;
        }
    }
    ws.prev_labels.copy_from_slice(labels);
    Ok(())
}

/// Distances of every sample to its center (OpenCV's last pass), two samples at a time.
fn final_distances<T: Element>(ctx: &Ctx<'_, T>, ws: &mut AttemptWs) {
    let samples = ctx.samples;
    let dims = samples.dims;
    let centers = &ws.centers;
    let labels = &ws.labels;
    let center = |i: usize| {
        let c = labels[i] as usize;
        &centers[c * dims..(c + 1) * dims]
    };
    lloyd::for_each_chunk(&mut ws.dists, ctx.parallel, |start, chunk| {
        let mut pairs = chunk.chunks_exact_mut(2);
        let mut i = start;
        for pair in &mut pairs {
            let (d0, d1) =
                T::l2sq_opencv_x2(samples.row(i), center(i), samples.row(i + 1), center(i + 1));
            pair[0] = f64::from(d0);
            pair[1] = f64::from(d1);
            i += 2;
        }
        for d in pairs.into_remainder() {
            *d = f64::from(T::l2sq_opencv(samples.row(i), center(i)));
        }
    });
}

/// Centers as the assignment needs them: packed with zero padding, norms, drifts,
/// and separations between each center and each group.
struct CenterInfo<'a> {
    centers: &'a [f32],
    cpack: &'a [f32],
    ct: &'a [f32],
    cc: &'a [f64],
    cnorm: &'a [f64],
    drift: &'a [f64],
    gdrift: &'a [f64],
    gsep: &'a [f64],
}

/// OpenCV's assignment step (`KMeansDistanceComputer<false>`), pruned by the bounds
/// when `bounded`; `dense` neither reads nor writes bounds. Returns the number of
/// samples the bounds skipped.
fn assign<T: Element>(ctx: &Ctx<'_, T>, ws: &mut AttemptWs, bounded: bool, dense: bool) -> usize {
    let bounded = bounded && !dense;
    let dims = ctx.samples.dims;
    let (k, stride, groups, gsize) = (ctx.k, ctx.stride, ctx.groups, ctx.group_size);
    for j in 0..k {
        let c = &ws.centers[j * dims..(j + 1) * dims];
        ws.cpack[j * stride..j * stride + dims].copy_from_slice(c);
        ws.cc[j] = c.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        ws.cnorm[j] = ws.cc[j].sqrt();
    }
    if ctx.sparse.is_some() {
        for j in 0..k {
            for (p, &v) in ws.centers[j * dims..(j + 1) * dims].iter().enumerate() {
                ws.ct[p * 16 + j] = v;
            }
        }
    }
    if bounded {
        for g in 0..groups {
            ws.gdrift[g] = ws.drift[g * gsize..((g + 1) * gsize).min(k)]
                .iter()
                .fold(0.0, |m: f64, &d| m.max(d));
        }
        ws.gsep.fill(f64::INFINITY);
        for a in 0..k {
            let ca = &ws.centers[a * dims..(a + 1) * dims];
            for j in 0..k {
                if j != a {
                    let d = true_dist_lower(ca, &ws.centers[j * dims..(j + 1) * dims]);
                    let g = &mut ws.gsep[a * groups + j / gsize];
                    *g = g.min(d);
                }
            }
        }
    }
    let info = CenterInfo {
        centers: &ws.centers,
        cpack: &ws.cpack,
        ct: &ws.ct,
        cc: &ws.cc,
        cnorm: &ws.cnorm,
        drift: &ws.drift,
        gdrift: &ws.gdrift,
        gsep: &ws.gsep,
    };
    let work = |(c, ((labels, upper), lower)): ChunkItem<'_>| {
        assign_chunk(ctx, &info, c * CHUNK, labels, upper, lower, bounded, dense)
    };
    if ctx.parallel {
        ws.labels
            .par_chunks_mut(CHUNK)
            .zip(ws.upper.par_chunks_mut(CHUNK))
            .zip(ws.lower.par_chunks_mut(CHUNK * groups))
            .enumerate()
            .map(work)
            .sum()
    } else {
        ws.labels
            .chunks_mut(CHUNK)
            .zip(ws.upper.chunks_mut(CHUNK))
            .zip(ws.lower.chunks_mut(CHUNK * groups))
            .enumerate()
            .map(work)
            .sum()
    }
}

/// Scratch of one chunk's assignment.
struct Scratch {
    /// Fast squared distance `d̃²` per center, and its error bound `E`.
    t: Vec<f64>,
    e: Vec<f64>,
    /// Exact OpenCV distances, where `known`.
    exact: Vec<f64>,
    known: Vec<bool>,
    set: Vec<usize>,
    short: Vec<usize>,
}

impl Scratch {
    fn new(k: usize) -> Self {
        Self {
            t: vec![0.0; k],
            e: vec![0.0; k],
            exact: vec![0.0; k],
            known: vec![false; k],
            set: Vec::with_capacity(k),
            short: Vec::with_capacity(k),
        }
    }

    /// Upper bound on the true distance to center `j` (measured).
    #[inline]
    fn upper(&self, cm: &OpencvMargin, j: usize) -> f64 {
        if self.known[j] {
            cm.true_upper(self.exact[j])
        } else {
            (self.t[j] + self.e[j]).max(0.0).sqrt() * (1.0 + 1e-9)
        }
    }

    /// Lower bound on the true distance to center `j` (measured).
    #[inline]
    fn lower(&self, cm: &OpencvMargin, j: usize) -> f64 {
        if self.known[j] {
            cm.true_lower(self.exact[j])
        } else {
            (self.t[j] - self.e[j]).max(0.0).sqrt() * (1.0 - 1e-9)
        }
    }
}

/// OpenCV's argmin over the centers in `sc.set` (every other center is already
/// proven farther): the fast distances with their error bounds leave a shortlist of
/// centers that can still be the minimum; a shortlist of one is the answer, a longer
/// one is measured with the exact kernel (smallest distance, lowest index on ties).
fn resolve<T: Element>(
    cm: &OpencvMargin,
    centers: &[f32],
    dims: usize,
    x: &[T],
    sc: &mut Scratch,
) -> usize {
    let center = |j: usize| &centers[j * dims..(j + 1) * dims];
    let mut h = f64::INFINITY;
    for &j in &sc.set {
        h = h.min(cm.cv_upper(sc.t[j] + sc.e[j]));
    }
    sc.short.clear();
    for &j in &sc.set {
        if cm.cv_lower((sc.t[j] - sc.e[j]).max(0.0)) <= h {
            sc.short.push(j);
        }
    }
    if sc.short.len() == 1 {
        return sc.short[0];
    }
    let mut pairs = sc.short.chunks_exact(2);
    for p in &mut pairs {
        let (d0, d1) = T::l2sq_opencv_x2(x, center(p[0]), x, center(p[1]));
        sc.exact[p[0]] = f64::from(d0);
        sc.exact[p[1]] = f64::from(d1);
    }
    for &j in pairs.remainder() {
        sc.exact[j] = f64::from(T::l2sq_opencv(x, center(j)));
    }
    let (mut best, mut min_dist) = (usize::MAX, f64::INFINITY);
    for &j in &sc.short {
        sc.known[j] = true;
        let d = sc.exact[j];
        if d < min_dist || (d == min_dist && j < best) {
            best = j;
            min_dist = d;
        }
    }
    best
}

#[allow(clippy::too_many_arguments)]
fn assign_chunk<T: Element>(
    ctx: &Ctx<'_, T>,
    info: &CenterInfo<'_>,
    start: usize,
    labels: &mut [u32],
    upper: &mut [f64],
    lower: &mut [f64],
    bounded: bool,
    dense: bool,
) -> usize {
    let samples = ctx.samples;
    let (dims, k, stride, groups, gsize) =
        (samples.dims, ctx.k, ctx.stride, ctx.groups, ctx.group_size);
    let cm = &ctx.cm;
    let mut sc = Scratch::new(k);
    let mut todo = Vec::new();
    for off in 0..labels.len() {
        if bounded && upper[off].is_finite() {
            let a = labels[off] as usize;
            let lb = &mut lower[off * groups..(off + 1) * groups];
            let gsep = &info.gsep[a * groups..(a + 1) * groups];
            let u = upper[off] + info.drift[a];
            upper[off] = u;
            // Group g cannot hold OpenCV's argmin when max(lb[g], gsep[g] - u) > t(u).
            let t = cm.farther_threshold(u);
            let tu = t + u;
            let mut all = true;
            for ((l, &d), &s) in lb.iter_mut().zip(info.gdrift).zip(gsep) {
                *l -= d;
                all &= *l > t || s > tu;
            }
            if all {
                continue;
            }
        }
        todo.push(off);
    }
    let skipped = labels.len() - todo.len();
    if todo.is_empty() {
        return skipped;
    }

    let mut finish = |off: usize, dots: &[f32], sc: &mut Scratch| {
        let i = start + off;
        let (xx, xn) = (ctx.xx[i], ctx.xnorm[i]);
        let (t, e) = (&mut sc.t[..k], &mut sc.e[..k]);
        let (cc, cnorm) = (&info.cc[..k], &info.cnorm[..k]);
        let mut hi = f64::INFINITY;
        for j in 0..k {
            t[j] = (xx + cc[j]) - 2.0 * f64::from(dots[j]);
            e[j] = ctx.dm.err(xn, cnorm[j], xx, cc[j]);
            hi = hi.min(t[j] + e[j]);
        }
        // The shortlist of `resolve`, counted without building it (`cv_upper` is
        // monotone, so it commutes with the minimum); usually one center survives.
        let h = cm.cv_upper(hi);
        let (mut survivors, mut first) = (0, 0);
        for j in (0..k).rev() {
            if cm.cv_lower((t[j] - e[j]).max(0.0)) <= h {
                survivors += 1;
                first = j;
            }
        }
        let best = if survivors == 1 {
            sc.short.clear();
            first
        } else {
            sc.set.clear();
            sc.set.extend(0..k);
            resolve(cm, info.centers, dims, samples.row(i), sc)
        };
        labels[off] = best as u32;
        if !dense {
            let lb = &mut lower[off * groups..(off + 1) * groups];
            lb.fill(f64::INFINITY);
            for j in 0..k {
                if j != best {
                    let g = &mut lb[j / gsize];
                    *g = g.min(sc.lower(cm, j));
                }
            }
            upper[off] = sc.upper(cm, best);
        }
        for &j in &sc.short {
            sc.known[j] = false;
        }
    };
    if let Some(sp) = &ctx.sparse {
        let mut dots = [0.0_f32; 16];
        for &off in &todo {
            sp.dot_t16(start + off, info.ct, &mut dots);
            finish(off, &dots[..k], &mut sc);
        }
        return skipped;
    }
    let mut panel = vec![0.0_f32; BATCH.min(todo.len()) * stride];
    let mut dots = vec![0.0_f32; BATCH.min(todo.len()) * k];
    for batch in todo.chunks(BATCH) {
        for (b, &off) in batch.iter().enumerate() {
            T::widen(samples.row(start + off), &mut panel[b * stride..]);
        }
        dot16_panel(&panel, batch.len(), info.cpack, k, stride, &mut dots);
        for (b, &off) in batch.iter().enumerate() {
            finish(off, &dots[b * k..(b + 1) * k], &mut sc);
        }
    }
    skipped
}
