//! OpenCV mode, fast: the reference attempts loop of [`fit`](super::fit) with the same
//! labels, centers, compactness and final generator state, computed with far fewer
//! distance evaluations.
//!
//! * **Attempts in parallel.** The draws an attempt's seeding takes do not depend on
//!   the data (random box: `k · dims` words; k-means++: `1 + (k − 1) · 3 · 2` words),
//!   so each attempt's starting generator state is computed up front, the attempts
//!   run concurrently, and the best is chosen as OpenCV does (first attempt with the
//!   strictly smallest compactness). On sparse data they run in teams (as many as
//!   fill 128 columns of centers, e.g. ten attempts with `k = 10`), each team in
//!   lock step (one assignment at a time, its samples shared among the threads),
//!   one team after the other.
//! * **Elkan bounds with rigorous margins, once the labels settle.** Each sample can
//!   keep an upper bound on the true distance to its center and a lower bound on the
//!   true distance to every other center (or group of centers), moved by the
//!   centers' drifts each iteration. A sample is skipped only when
//!   [`OpencvMargin::surely_farther`] proves that OpenCV's `f32` kernel would rank its
//!   center strictly first. Bounds cost memory and a pass of bookkeeping, and prune
//!   little while the centers still move far, so an attempt starts keeping them only
//!   after an assignment that changed at most 1/32 of the labels with at least four
//!   assignments left, and drops them for good when a bounded assignment skips fewer
//!   than half of the samples.
//! * **Shortlist, then the exact kernel.** Samples that are not skipped get all `k`
//!   fast distances `‖x‖² + ‖c‖² − 2·x·c` from a blocked kernel; with the
//!   [`DotMargin`] error bound these exclude every center that cannot be OpenCV's
//!   argmin, and the exact [`l2sq_opencv`](crate::kernels::l2sq_opencv) runs only on
//!   the shortlist when it holds more than one center; ties go to the lowest index,
//!   as in OpenCV. One error bound (the largest over the centers) serves all of a
//!   sample's distances, so the shortlist is a few fixed-width (vectorised) passes
//!   and one comparison per center against a precomputed cutoff. Without bounds to
//!   store, a first test in `f32` ([`near_min_mask16`]) settles most samples with
//!   one register: when a single center lies within a rigorous width of the smallest
//!   value, it is the label; anything closer takes the full shortlist.
//! * **Sparse byte images, all attempts together.** Byte data with at most 40%
//!   nonzero values and `k ≤ 16` gets its fast distances from sparse dot products
//!   ([`SparseU8`](crate::kernels::SparseU8), with its own [`DotMargin::sparse`]
//!   bound, per sample from its count of nonzeros). All attempts of a step are
//!   assigned together, chunk by chunk of samples, each with its own bounds: the
//!   samples that enough attempts need get their products with all attempts'
//!   centers, transposed into one 64-byte-aligned matrix and taken 64 columns at a
//!   time over the chunk ([`SparseU8::dot_cols`](crate::kernels::SparseU8::dot_cols)),
//!   so that the slab of centers stays in the L1 cache.
//! * **Exact center sums.** For byte samples with `n · 255 < 2^24` every partial
//!   `f32` sum OpenCV forms is an integer below `2^24`, hence exact: integer sums give
//!   the same bits in any order, so they are updated incrementally from the samples
//!   that changed cluster, a cluster's rows summed in registers
//!   ([`ByteSums`]). Otherwise the sums are recomputed in sample order.

use rayon::prelude::*;

use super::init::{self, PlusPlusScratch, SPP_TRIALS};
use super::lloyd::{self, sized, Samples, CHUNK};
use super::margin::{true_dist_lower, true_dist_upper, DotMargin, OpencvMargin};
use super::params::{CheckedKMeansParams, Init, Reseed};
use super::sums::ByteSums;
use super::KMeansError;
use crate::kernels::{
    dot16_panel, fast_shortlist16, fast_sq_distances, le_mask16, near_min_mask16, AlignedF32,
    Element, SparseU8,
};
use crate::CvRng;

/// Largest number of per-sample lower bounds kept per attempt.
const MAX_BOUNDS: usize = 1 << 24;

/// Columns of centers (all attempts of a team together) on sparse data: a chunk's
/// products with all of them stay in the L2 cache.
const TEAM_COLS: usize = 128;

/// Rows per call of the blocked dot-product kernel.
const BATCH: usize = 32;

/// An attempt drops its bounds when a bounded assignment skips fewer than this
/// fraction (numerator, denominator) of the samples: keeping the bounds then costs
/// more than the distance work they save.
const DENSE_BELOW: (usize, usize) = (1, 2);

/// An attempt starts keeping bounds after an assignment that changed at most this
/// fraction of the labels (numerator, denominator): before the labels settle, the
/// centers move too far for the bounds to prune much.
const SETTLED: (usize, usize) = (1, 32);

/// ... and only when at least this many assignments remain: one to store the bounds
/// and enough to use them.
const MIN_LEFT: usize = 4;

/// Per-attempt buffers.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttemptWs {
    pub centers: Vec<f32>,
    old_centers: Vec<f32>,
    pub labels: Vec<u32>,
    counters: Vec<usize>,
    sums: ByteSums,
    upper: Vec<f64>,
    lower: Vec<f64>,
    dists: Vec<f64>,
    temp: Vec<f32>,
    repaired: Vec<usize>,
    cpack: Vec<f32>,
    ct: AlignedF32,
    cc: Vec<f64>,
    cc32: Vec<f32>,
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
    /// Samples the bounds spared over all assignments (work, not results; read by
    /// the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub skipped: usize,
}

/// Read-only context shared by the attempts.
struct Ctx<'a, T> {
    params: &'a CheckedKMeansParams,
    samples: Samples<'a, T>,
    k: usize,
    stride: usize,
    groups: usize,
    group_size: usize,
    xx: Vec<f64>,
    /// Each sample's share of the fast distances' error bound
    /// ([`DotMargin::x_factor`]).
    xf: Vec<f64>,
    bbox: Vec<[f32; 2]>,
    initial_labels: Option<&'a [u32]>,
    seeding: Reseed,
    cm: OpencvMargin,
    dm: DotMargin,
    sparse: Option<SparseU8>,
    int_sums: bool,
    parallel: bool,
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
        Init::Samples | Init::Centers(_) | Init::Parallel { .. } => {
            return Err(KMeansError::InitNeedsFastMode)
        }
    };
    let stride = dims.div_ceil(16) * 16;
    let bbox = || {
        let mut bbox = Vec::new();
        if seeding == Reseed::RandomBox {
            init::bounding_box(samples, &mut bbox);
        }
        bbox
    };
    let (bbox, per_sample) = if parallel {
        rayon::join(bbox, || SampleData::new(samples, k, parallel))
    } else {
        (bbox(), SampleData::new(samples, k, parallel))
    };
    // One lower bound per center (Elkan) while that stays small, else per group of
    // consecutive centers.
    let group_size = if n.saturating_mul(k) <= MAX_BOUNDS {
        1
    } else {
        k.div_ceil((MAX_BOUNDS / n).max(1))
    };
    let attempts = params.attempts();
    // On sparse data, attempts run in teams of up to `TEAM_COLS` columns of centers
    // (`assign_together`), one team after the other, each assigning its samples
    // in parallel: every thread gets an equal share of the work whatever the number
    // of attempts. Otherwise every attempt is a team of its own; the teams run in
    // parallel, and a single one assigns in parallel.
    let sparse = per_sample.sparse;
    let team = if sparse.is_some() {
        (TEAM_COLS / k).max(1)
    } else {
        1
    };
    let teams = attempts.div_ceil(team);
    let inner_parallel = parallel && (sparse.is_some() || teams == 1);
    let sparse_off = sparse.is_none();
    let ctx = Ctx {
        params,
        samples,
        k,
        stride,
        groups: k.div_ceil(group_size),
        group_size,
        xx: per_sample.xx,
        xf: per_sample.xf,
        bbox,
        initial_labels,
        seeding,
        cm: OpencvMargin::new(dims),
        dm: per_sample.dm,
        sparse,
        int_sums: T::IS_U8 && (n as u64) * 255 < (1 << 24),
        parallel: inner_parallel,
    };

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

    let mut states: Vec<AttemptState> = starts
        .into_iter()
        .map(|rng| AttemptState {
            rng,
            iter: 0,
            bounds: Bounds::Waiting,
            bounds_valid: false,
            skipped: 0,
            maxima: (0.0, 0.0),
            out: None,
        })
        .collect();
    // Fresh buffers are zeroed page by page on first touch: spread over the threads.
    let prepare = |ws: &mut AttemptWs| {
        ws.prepare(n, k, dims, ctx.stride, ctx.groups);
        if let Some(labels) = ctx.initial_labels {
            ws.labels.copy_from_slice(labels);
        }
    };
    if parallel {
        workspaces.par_iter_mut().for_each(prepare);
    } else {
        workspaces.iter_mut().for_each(prepare);
    }
    let run_team = |(t, (wss, sts)): (usize, (&mut [AttemptWs], &mut [AttemptState]))| {
        run_team(&ctx, t * team, wss, sts);
    };
    if parallel && sparse_off && teams > 1 {
        workspaces
            .par_chunks_mut(team)
            .zip(states.par_chunks_mut(team))
            .enumerate()
            .for_each(run_team);
    } else {
        workspaces
            .chunks_mut(team)
            .zip(states.chunks_mut(team))
            .enumerate()
            .for_each(run_team);
    }

    let mut best: Option<(usize, AttemptOut)> = None;
    let mut best_compactness = f64::MAX;
    for (a, st) in states.into_iter().enumerate() {
        let out = st.out.ok_or(KMeansError::DistanceOverflow)??;
        if out.compactness < best_compactness {
            best_compactness = out.compactness;
            best = Some((a, out));
        }
    }
    best.ok_or(KMeansError::DistanceOverflow)
}

/// What the assignments need of each sample.
struct SampleData {
    /// `‖x‖²` in `f64` (exact for bytes).
    xx: Vec<f64>,
    /// The sample's share of `dm`'s error bound: for a sparse sample, with its own
    /// count of nonzeros.
    xf: Vec<f64>,
    dm: DotMargin,
    /// The sparse form when it pays: byte samples, `k ≤ 16` (one register of centers
    /// per coordinate) and at most 40% nonzero values.
    sparse: Option<SparseU8>,
}

impl SampleData {
    fn new<T: Element>(samples: Samples<'_, T>, k: usize, parallel: bool) -> Self {
        let (n, dims) = (samples.n, samples.dims);
        let xx = samples.squared_norms(parallel);
        let mut counts = Vec::new();
        let sparse = match T::as_bytes(samples.data) {
            Some(bytes) if k <= 16 && u32::try_from(dims).is_ok() => {
                counts = vec![0_u32; n];
                lloyd::for_each_chunk(&mut counts, parallel, |start, chunk| {
                    for (o, c) in chunk.iter_mut().enumerate() {
                        let row = &bytes[(start + o) * dims..(start + o + 1) * dims];
                        *c = row.iter().map(|&b| u32::from(b != 0)).sum();
                    }
                });
                let nnz: usize = counts.iter().map(|&c| c as usize).sum();
                (nnz * 5 <= bytes.len() * 2)
                    .then(|| SparseU8::from_counts(bytes, dims, &counts, parallel))
            }
            _ => None,
        };
        let (dm, xf) = match sparse {
            Some(_) => (
                DotMargin::sparse(dims, dims),
                xx.iter()
                    .zip(&counts)
                    .map(|(&v, &c)| DotMargin::sparse(dims, c as usize).x_factor(v.sqrt()))
                    .collect(),
            ),
            None => {
                let dm = DotMargin::new(dims.div_ceil(16) * 16);
                (dm, xx.iter().map(|&v| dm.x_factor(v.sqrt())).collect())
            }
        };
        Self { xx, xf, dm, sparse }
    }
}

impl AttemptWs {
    fn prepare(&mut self, n: usize, k: usize, dims: usize, stride: usize, groups: usize) {
        sized(&mut self.centers, k * dims);
        sized(&mut self.old_centers, k * dims);
        sized(&mut self.labels, n);
        sized(&mut self.counters, k);
        // The bounds are sized when the attempt starts keeping them.
        self.upper.clear();
        self.lower.clear();
        sized(&mut self.dists, n);
        sized(&mut self.temp, dims);
        sized(&mut self.cpack, k * stride);
        self.ct.resize_zeroed(dims * 16);
        sized(&mut self.cc, k.div_ceil(LANES) * LANES);
        sized(&mut self.cc32, k.div_ceil(LANES) * LANES);
        sized(&mut self.drift, k);
        sized(&mut self.gdrift, groups);
        sized(&mut self.gsep, k * groups);
        self.sums.reset();
    }
}

/// Runs a team of attempts (the first is attempt `first`) to their ends. They
/// advance in lock step, one assignment at a time: on sparse data they share one
/// pass over the samples ([`assign_together`]), otherwise each is assigned on its
/// own.
fn run_team<T: Element>(
    ctx: &Ctx<'_, T>,
    first: usize,
    workspaces: &mut [AttemptWs],
    states: &mut [AttemptState],
) {
    let mut team = TeamScratch::default();
    loop {
        let stepping = states.iter().filter(|st| st.out.is_none()).count();
        ctx.params.sink().add(stepping);
        let step = |(a, (ws, st)): (usize, (&mut AttemptWs, &mut AttemptState))| {
            let pending = st.out.is_none() && advance(ctx, first + a, st, ws);
            if pending && ctx.sparse.is_some() {
                // The centers' data of `assign_together`, here in parallel.
                st.maxima = prepare_centers(ctx, ws, st.bounds_valid);
            }
            pending
        };
        let pending: Vec<bool> = if ctx.parallel {
            workspaces
                .par_iter_mut()
                .zip(states.par_iter_mut())
                .enumerate()
                .map(step)
                .collect()
        } else {
            workspaces
                .iter_mut()
                .zip(states.iter_mut())
                .enumerate()
                .map(step)
                .collect()
        };
        let mut group: Vec<(&mut AttemptWs, &mut AttemptState)> = workspaces
            .iter_mut()
            .zip(states.iter_mut())
            .zip(&pending)
            .filter_map(|(pair, &p)| p.then_some(pair))
            .collect();
        if group.is_empty() {
            return;
        }
        if ctx.sparse.is_some() {
            assign_together(ctx, &mut group, &mut team);
        } else if ctx.parallel {
            group
                .par_iter_mut()
                .for_each(|(ws, st)| assign_alone(ctx, st, ws));
        } else {
            for (ws, st) in &mut group {
                assign_alone(ctx, st, ws);
            }
        }
    }
}

/// Whether an attempt keeps per-sample bounds (the labels are the same either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bounds {
    /// Not yet: the labels still move too much for bounds to pay ([`SETTLED`]).
    Waiting,
    /// Every assignment stores them.
    Keeping,
    /// They pruned too little ([`DENSE_BELOW`]): never again in this attempt.
    Dropped,
}

/// Where one attempt stands between two assignments.
struct AttemptState {
    rng: CvRng,
    iter: usize,
    bounds: Bounds,
    /// The last assignment stored bounds, moved since by the centers' drifts.
    bounds_valid: bool,
    /// Samples the bounds spared so far.
    skipped: usize,
    /// The largest `‖c‖²` and `‖c‖` of the centers prepared for the next assignment
    /// on sparse data.
    maxima: (f64, f64),
    /// The result, once the attempt has finished or failed.
    out: Option<Result<AttemptOut, KMeansError>>,
}

/// Runs attempt `attempt` of OpenCV's loop (the same steps as the reference in
/// `fit.rs`) up to its next assignment; returns whether it needs one, else its
/// result is in `st.out`.
fn advance<T: Element>(
    ctx: &Ctx<'_, T>,
    attempt: usize,
    st: &mut AttemptState,
    ws: &mut AttemptWs,
) -> bool {
    match advance_inner(ctx, attempt, st, ws) {
        Ok(pending) => pending,
        Err(e) => {
            st.out = Some(Err(e));
            false
        }
    }
}

fn advance_inner<T: Element>(
    ctx: &Ctx<'_, T>,
    attempt: usize,
    st: &mut AttemptState,
    ws: &mut AttemptWs,
) -> Result<bool, KMeansError> {
    let samples = ctx.samples;
    let (dims, k) = (samples.dims, ctx.k);
    let mut max_center_shift = if st.iter == 0 { f64::MAX } else { 0.0 };
    std::mem::swap(&mut ws.centers, &mut ws.old_centers);

    if st.iter == 0 && (attempt > 0 || ctx.initial_labels.is_none()) {
        match ctx.seeding {
            Reseed::PlusPlus => init::plus_plus(
                samples,
                k,
                &mut ws.centers,
                &mut st.rng,
                &mut ws.pp,
                ctx.parallel,
            )?,
            Reseed::RandomBox => {
                for center in ws.centers.chunks_exact_mut(dims) {
                    init::random_center(&ctx.bbox, center, &mut st.rng);
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
        if st.iter > 0 {
            max_center_shift = lloyd::max_center_shift(&ws.centers, &ws.old_centers, dims);
        }
        if st.bounds_valid {
            for (j, d) in ws.drift.iter_mut().enumerate() {
                let r = j * dims..(j + 1) * dims;
                *d = true_dist_upper(&ws.centers[r.clone()], &ws.old_centers[r]);
            }
            for &i in &ws.repaired {
                ws.upper[i] = f64::INFINITY;
            }
        }
    }

    st.iter += 1;
    let max_iter = ctx.params.max_iter();
    if st.iter == max_iter || max_center_shift <= ctx.params.epsilon_sq() {
        // The iterations an early stop spares count as done.
        ctx.params.sink().add(max_iter - st.iter);
        final_distances(ctx, ws);
        st.out = Some(Ok(AttemptOut {
            compactness: lloyd::opencv_sum(&ws.dists),
            iterations: st.iter,
            skipped: st.skipped,
        }));
        return Ok(false);
    }
    Ok(true)
}

/// The assignment of one attempt on its own (bounded while the bounds pay).
fn assign_alone<T: Element>(ctx: &Ctx<'_, T>, st: &mut AttemptState, ws: &mut AttemptWs) {
    let keep = st.bounds == Bounds::Keeping;
    let counts = assign(ctx, ws, st.bounds_valid, keep);
    after_assign(ctx, st, ws, counts);
}

/// What one assignment did: samples the bounds skipped, labels it changed.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    skipped: usize,
    changed: usize,
}

impl std::ops::Add for Counts {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Self {
            skipped: self.skipped + o.skipped,
            changed: self.changed + o.changed,
        }
    }
}

/// Whether the attempt keeps bounds from now on, after an assignment that did
/// `counts` (see [`Bounds`]); sizes the bounds when it starts keeping them.
fn after_assign<T: Element>(
    ctx: &Ctx<'_, T>,
    st: &mut AttemptState,
    ws: &mut AttemptWs,
    counts: Counts,
) {
    let n = ctx.samples.n;
    st.skipped += counts.skipped;
    let left = ctx.params.max_iter().saturating_sub(st.iter + 1);
    match st.bounds {
        Bounds::Keeping
            if st.bounds_valid && counts.skipped * DENSE_BELOW.1 < n * DENSE_BELOW.0 =>
        {
            st.bounds = Bounds::Dropped;
            st.bounds_valid = false;
        }
        Bounds::Keeping => st.bounds_valid = true,
        Bounds::Waiting if counts.changed * SETTLED.1 <= n * SETTLED.0 && left >= MIN_LEFT => {
            st.bounds = Bounds::Keeping;
            ws.upper.resize(n, 0.0);
            ws.lower.resize(n * ctx.groups, 0.0);
        }
        Bounds::Waiting | Bounds::Dropped => {}
    }
}

/// OpenCV's center update on exact integer sums (see the module documentation),
/// kept up to date from the samples whose label changed since the last update.
fn update_int<T: Element>(ctx: &Ctx<'_, T>, ws: &mut AttemptWs) -> Result<(), KMeansError> {
    let samples = ctx.samples;
    let (dims, k) = (samples.dims, ctx.k);
    // Only called for byte samples (`ctx.int_sums`).
    let bytes = T::as_bytes(samples.data).ok_or(KMeansError::DistanceOverflow)?;
    let counters = &mut ws.counters;
    let labels = &mut ws.labels;
    let sums = &mut ws.sums;
    sums.update(bytes, dims, k, labels, counters);

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
        for (t, &s) in ws.temp.iter_mut().zip(sums.cluster(max_k, dims)) {
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
        labels[farthest] = kk as u32;
        ws.repaired.push(farthest);
        let row = &bytes[farthest * dims..(farthest + 1) * dims];
        sums.move_sample(row, farthest, max_k, kk, counters);
    }

    for (c, (center, &count)) in ws
        .centers
        .chunks_exact_mut(dims)
        .zip(counters.iter())
        .enumerate()
    {
        let scale = 1.0_f32 / count as f32;
        for (v, &s) in center.iter_mut().zip(sums.cluster(c, dims)) {
            *v = s as f32 * scale;
        }
    }
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
    /// `‖c‖²`, padded with `+∞` to whole [`LANES`] blocks, and the largest `‖c‖²`
    /// and `‖c‖`.
    cc: &'a [f64],
    /// `‖c‖²` rounded to `f32`, padded the same way (for [`near_min_mask16`]).
    cc32: &'a [f32],
    cc_max: f64,
    cn_max: f64,
    drift: &'a [f64],
    gdrift: &'a [f64],
    gsep: &'a [f64],
}

/// OpenCV's assignment step (`KMeansDistanceComputer<false>`), pruned by the bounds
/// when `bounded`, storing new bounds when `keep`.
fn assign<T: Element>(ctx: &Ctx<'_, T>, ws: &mut AttemptWs, bounded: bool, keep: bool) -> Counts {
    let groups = ctx.groups;
    let maxima = prepare_centers(ctx, ws, bounded);
    let (info, parts) = ws.split(maxima, groups);
    let work =
        |(c, part): (usize, Part<'_>)| assign_chunk(ctx, &info, c * CHUNK, part, bounded, keep);
    if ctx.parallel {
        parts
            .into_par_iter()
            .enumerate()
            .map(work)
            .reduce(Counts::default, |a, b| a + b)
    } else {
        parts
            .into_iter()
            .enumerate()
            .map(work)
            .fold(Counts::default(), |a, b| a + b)
    }
}

impl AttemptWs {
    /// The attempt's center data as prepared for an assignment ([`prepare_centers`],
    /// which returned `maxima`), and its labels and bounds cut into chunks of
    /// [`CHUNK`] samples (empty bounds while the attempt keeps none).
    fn split(&mut self, maxima: (f64, f64), groups: usize) -> (CenterInfo<'_>, Vec<Part<'_>>) {
        let info = CenterInfo {
            centers: &self.centers,
            cpack: &self.cpack,
            ct: self.ct.as_slice(),
            cc: &self.cc,
            cc32: &self.cc32,
            cc_max: maxima.0,
            cn_max: maxima.1,
            drift: &self.drift,
            gdrift: &self.gdrift,
            gsep: &self.gsep,
        };
        let mut upper = self.upper.chunks_mut(CHUNK);
        let mut lower = self.lower.chunks_mut(CHUNK * groups);
        let parts = self
            .labels
            .chunks_mut(CHUNK)
            .map(|labels| Part {
                labels,
                upper: upper.next().unwrap_or_default(),
                lower: lower.next().unwrap_or_default(),
            })
            .collect();
        (info, parts)
    }
}

/// The center data of an assignment in `ws` (packed and transposed copies, norms,
/// and with `bounded` the drifts and separations); returns the largest `‖c‖²` and
/// `‖c‖`. `ws.cc` is padded with `+∞` to whole [`LANES`] blocks.
fn prepare_centers<T: Element>(ctx: &Ctx<'_, T>, ws: &mut AttemptWs, bounded: bool) -> (f64, f64) {
    let dims = ctx.samples.dims;
    let (k, stride, groups, gsize) = (ctx.k, ctx.stride, ctx.groups, ctx.group_size);
    ws.cc.fill(f64::INFINITY);
    ws.cc32.fill(f32::INFINITY);
    let mut cc_max = 0.0_f64;
    for (j, c) in ws.centers.chunks_exact(dims).enumerate() {
        ws.cc[j] = c.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        ws.cc32[j] = ws.cc[j] as f32;
        cc_max = cc_max.max(ws.cc[j]);
    }
    // The copy the assignment's kernel reads: transposed for the sparse products,
    // packed rows for the dense panel.
    if ctx.sparse.is_some() {
        let ct = ws.ct.as_mut_slice();
        for (j, c) in ws.centers.chunks_exact(dims).enumerate() {
            for (p, &v) in c.iter().enumerate() {
                ct[p * 16 + j] = v;
            }
        }
    } else {
        for (j, c) in ws.centers.chunks_exact(dims).enumerate() {
            ws.cpack[j * stride..j * stride + dims].copy_from_slice(c);
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
    // `sqrt` is monotone and correctly rounded: the largest norm is the root of the
    // largest squared norm.
    (cc_max, cc_max.sqrt())
}

/// One attempt's part of a chunk: its labels and bounds.
struct Part<'a> {
    labels: &'a mut [u32],
    upper: &'a mut [f64],
    lower: &'a mut [f64],
}

/// The buffers of a team's assignments, kept from one step to the next.
#[derive(Default)]
struct TeamScratch {
    /// All attempts' centers, transposed: `ct[p · cols + s · k + j]` is coordinate `p`
    /// of center `j` of the `s`-th pending attempt.
    ct: AlignedF32,
}

/// One thread's buffers for the chunks of [`assign_together`].
struct ChunkScratch {
    /// Which attempts need each sample (`need[off · m + s]`).
    need: Vec<bool>,
    /// The samples that get the products of all attempts.
    together: Vec<usize>,
    /// Their products, `cols` per sample, plus room for the last attempt's whole lane
    /// blocks.
    shared: Vec<f32>,
    sc: Scratch,
}

/// The assignment of all pending attempts on sparse samples together, chunk by
/// chunk, each attempt bounded, keeping bounds or dense as on its own (see
/// [`assign_alone`]). A sample that the bounds settle in every attempt costs
/// nothing. A sample that at least as many attempts need as there are blocks of 16
/// columns gets its dot products with all attempts' centers, one [`SparseU8::slab`] of columns
/// at a time over the chunk (a slab of the centers stays in the L1 cache); any other
/// sample gets one [`SparseU8::dot_t16`] per attempt that needs it. Then each attempt
/// takes its shortlist as in [`assign_chunk`]. The attempts' center data are ready
/// ([`prepare_centers`], which [`run_team`] runs for them in parallel, largest norms
/// in `maxima`).
fn assign_together<T: Element>(
    ctx: &Ctx<'_, T>,
    group: &mut [(&mut AttemptWs, &mut AttemptState)],
    team: &mut TeamScratch,
) {
    let Some(sp) = &ctx.sparse else {
        return;
    };
    if group.is_empty() {
        return;
    }
    let (n, dims, k) = (ctx.samples.n, ctx.samples.dims, ctx.k);
    let (groups, gsize) = (ctx.groups, ctx.group_size);
    let m = group.len();
    let blocks = (m * k).div_ceil(16);
    let cols = blocks * 16;
    let bounded: Vec<bool> = group.iter().map(|(_, st)| st.bounds_valid).collect();
    let keep: Vec<bool> = group
        .iter()
        .map(|(_, st)| st.bounds == Bounds::Keeping)
        .collect();
    let maxima: Vec<(f64, f64)> = group.iter().map(|(_, st)| st.maxima).collect();
    // Row `p` of `ct`: coordinate `p` of every center, attempt after attempt, then
    // zeros; rows in parallel.
    team.ct.resize(dims * cols);
    let centers: Vec<&[f32]> = group.iter().map(|(ws, _)| &ws.centers[..]).collect();
    let transpose = |(p, row): (usize, &mut [f32])| {
        for (s, c) in centers.iter().enumerate() {
            for (j, v) in row[s * k..(s + 1) * k].iter_mut().enumerate() {
                *v = c[j * dims + p];
            }
        }
        row[m * k..].fill(0.0);
    };
    if ctx.parallel {
        team.ct
            .as_mut_slice()
            .par_chunks_mut(cols)
            .enumerate()
            .for_each(transpose);
    } else {
        team.ct
            .as_mut_slice()
            .chunks_mut(cols)
            .enumerate()
            .for_each(transpose);
    }
    drop(centers);
    let ct = team.ct.as_slice();
    let chunks = n.div_ceil(CHUNK);
    let mut infos = Vec::with_capacity(m);
    let mut parts: Vec<Vec<Part<'_>>> = (0..chunks).map(|_| Vec::with_capacity(m)).collect();
    for ((ws, _), &m) in group.iter_mut().zip(&maxima) {
        let (info, split) = ws.split(m, groups);
        infos.push(info);
        for (chunk, part) in parts.iter_mut().zip(split) {
            chunk.push(part);
        }
    }
    // The largest `‖c‖²` and `‖c‖` of all attempts, for the near-minimum width.
    let team_max = maxima
        .iter()
        .fold((0.0_f64, 0.0_f64), |(a, b), &(c, d)| (a.max(c), b.max(d)));
    let scratch = || {
        let sc = Scratch::new(k);
        ChunkScratch {
            need: Vec::with_capacity(CHUNK * m),
            together: Vec::with_capacity(CHUNK),
            shared: vec![0.0; CHUNK * cols + sc.t.len()],
            sc,
        }
    };
    // Per chunk, what the assignment did in each attempt.
    let work = |cs: &mut ChunkScratch, (c, parts): (usize, &mut Vec<Part<'_>>)| -> Vec<Counts> {
        let len = parts[0].labels.len();
        let mut counts = vec![Counts::default(); m];
        let ChunkScratch {
            need,
            together,
            shared,
            sc,
        } = cs;
        need.clear();
        together.clear();
        for off in 0..len {
            let mut count = 0;
            for (s, part) in parts.iter_mut().enumerate() {
                let stays = bounded[s] && {
                    let lb = bounds(part.lower, off, groups);
                    label_stays(
                        &ctx.cm,
                        &infos[s],
                        part.labels[off],
                        &mut part.upper[off],
                        lb,
                    )
                };
                counts[s].skipped += usize::from(stays);
                count += usize::from(!stays);
                need.push(!stays);
            }
            if count >= blocks {
                together.push(off);
            }
        }
        let padded = sc.t.len();
        let slab = SparseU8::slab();
        for from in (0..cols).step_by(slab) {
            let range = from..(from + slab).min(cols);
            for &off in together.iter() {
                let out = &mut shared[off * cols + from..];
                sp.dot_cols(c * CHUNK + off, ct, cols, range.clone(), out);
            }
        }
        let mut own = [0.0_f32; 16];
        let mut next_together = together.iter().peekable();
        for off in 0..len {
            let i = c * CHUNK + off;
            let all = next_together.next_if_eq(&&off).is_some();
            let mut width = None;
            for (s, part) in parts.iter_mut().enumerate() {
                if !need[off * m + s] {
                    continue;
                }
                let info = &infos[s];
                // Without bounds to store, a clear winner needs no more than the
                // `f32` near-minimum test; anything closer takes the full shortlist.
                if all && !keep[s] {
                    let w = *width.get_or_insert_with(|| near_min_width(ctx, i, team_max));
                    let from = off * cols + s * k;
                    let dots = shared[from..from + 16].try_into().expect("16 lanes");
                    let cc = info.cc32.try_into().expect("k ≤ 16 on sparse data");
                    let mask = near_min_mask16(dots, cc, w);
                    let best = mask.trailing_zeros();
                    if mask.is_power_of_two() && (best as usize) < k {
                        counts[s].changed += usize::from(part.labels[off] != best);
                        part.labels[off] = best;
                        continue;
                    }
                }
                // Attempt `s` reads the shared dots in place from `s · k` on, whole
                // lane blocks: the lanes past its `k` centers hold other attempts'
                // values, the next sample's or stale values, and meet `‖c‖² = +∞`.
                // Its own dots are one block (`k ≤ 16` on sparse data).
                let dots = if all {
                    let from = off * cols + s * k;
                    &shared[from..from + padded]
                } else {
                    sp.dot_t16(i, info.ct, &mut own);
                    &own[..]
                };
                let best = pick(ctx, info, &ctx.dm, i, dots, sc);
                counts[s].changed += usize::from(part.labels[off] != best as u32);
                part.labels[off] = best as u32;
                if keep[s] {
                    let lb = bounds(part.lower, off, groups);
                    store_bounds(&ctx.cm, sc, k, gsize, best, &mut part.upper[off], lb);
                }
                sc.forget();
            }
        }
        counts
    };
    let add = |mut a: Vec<Counts>, b: Vec<Counts>| {
        for (x, y) in a.iter_mut().zip(b) {
            *x = *x + y;
        }
        a
    };
    let counts = if ctx.parallel {
        parts
            .par_iter_mut()
            .enumerate()
            .map_init(scratch, work)
            .reduce(|| vec![Counts::default(); m], add)
    } else {
        let mut cs = scratch();
        parts
            .iter_mut()
            .enumerate()
            .map(|item| work(&mut cs, item))
            .fold(vec![Counts::default(); m], add)
    };
    drop(parts);
    drop(infos);
    for ((ws, st), counts) in group.iter_mut().zip(counts) {
        after_assign(ctx, st, ws, counts);
    }
}

/// The width for [`near_min_mask16`] on sample `i` against centers whose squared
/// norms and norms are at most `maxima`: any center whose `f32` value
/// `fl(‖c‖²) − 2·dot` exceeds the smallest by more is surely not OpenCV's argmin.
///
/// With `E` the fast dot products' error bound ([`DotMargin`]) and
/// `B = ‖c‖²_max + 2‖x‖‖c‖_max` (bounding every `|‖c‖² − 2·dot|`), rounding `‖c‖²`
/// to `f32` and the fused multiply-add each add at most `2^-24 B`, so
/// `xx + u_j` is within `e = E + 2^-23 B` of the true `d*²(x, c_j)`;
/// [`OpencvMargin::separation`] turns that into a gap, widened for the `f32` sum
/// `umin + width` of the mask and rounded up.
fn near_min_width<T: Element>(ctx: &Ctx<'_, T>, i: usize, maxima: (f64, f64)) -> f32 {
    let (cc_max, cn_max) = maxima;
    let xx = ctx.xx[i];
    let b = (cc_max + 2.0 * xx.sqrt() * cn_max) * (1.0 + 1e-6);
    let e = ctx.dm.err_with(ctx.xf[i], cn_max, xx, cc_max) + b * F32_EPS + 1e-30;
    let w = ctx.cm.separation(e, xx + 1.001 * b + e);
    let w = w + (b + w) * 2.0 * F32_EPS;
    let w32 = w as f32;
    if f64::from(w32) < w {
        w32.next_up()
    } else {
        w32
    }
}

/// `2^-23`: twice the unit roundoff of `f32`.
const F32_EPS: f64 = 1.0 / 8_388_608.0;

/// OpenCV's label for sample `i` from its fast dot products `dots` (finite values,
/// padded to whole [`LANES`] blocks), with the error bound `dm` of the kernel that
/// computed them: the shortlist, measured with the exact kernel when it holds more
/// than one center.
fn pick<T: Element>(
    ctx: &Ctx<'_, T>,
    info: &CenterInfo<'_>,
    dm: &DotMargin,
    i: usize,
    dots: &[f32],
    sc: &mut Scratch,
) -> usize {
    let xx = ctx.xx[i];
    let e = dm.err_with(ctx.xf[i], info.cn_max, xx, info.cc_max);
    sc.e = e;
    let cm = &ctx.cm;
    match (
        <&[f32; LANES]>::try_from(dots),
        <&[f64; LANES]>::try_from(info.cc),
        <&mut [f64; LANES]>::try_from(&mut sc.t[..]),
        <&mut [f64; LANES]>::try_from(&mut sc.lo[..]),
    ) {
        // One block (k ≤ 16): distances, minimum and cutoff mask in one pass.
        (Ok(dots), Ok(cc), Ok(t), Ok(lo)) => {
            let (tmin, mask) = fast_shortlist16(xx, e, dots, cc, t, lo, |tmin| {
                cm.lower_cutoff(cm.cv_upper(tmin + e))
            });
            sc.shortlist16(cm, cm.cv_upper(tmin + e), ctx.k, mask);
        }
        _ => {
            let tmin = sc.fast_distances(xx, dots, info.cc);
            sc.shortlist(cm, tmin, ctx.k);
        }
    }
    resolve(info.centers, ctx.samples.dims, ctx.samples.row(i), sc)
}

/// Whether the bounds of a sample labelled `label` (moved here by the centers'
/// drifts) prove that OpenCV's argmin is still `label`.
#[inline]
fn label_stays(
    cm: &OpencvMargin,
    info: &CenterInfo<'_>,
    label: u32,
    upper: &mut f64,
    lb: &mut [f64],
) -> bool {
    if !upper.is_finite() {
        return false;
    }
    let groups = lb.len();
    let a = label as usize;
    let gsep = &info.gsep[a * groups..(a + 1) * groups];
    let u = *upper + info.drift[a];
    *upper = u;
    // Group g cannot hold OpenCV's argmin when max(lb[g], gsep[g] - u) > t(u).
    let t = cm.farther_threshold(u);
    let tu = t + u;
    let mut all = true;
    for ((l, &d), &s) in lb.iter_mut().zip(info.gdrift).zip(gsep) {
        *l -= d;
        all &= *l > t || s > tu;
    }
    all
}

/// New bounds of a sample whose label `best` was just chosen from the measurements
/// in `sc`: the upper bound to `best`, per group the lower bound to its other centers.
#[inline]
fn store_bounds(
    cm: &OpencvMargin,
    sc: &Scratch,
    k: usize,
    gsize: usize,
    best: usize,
    upper: &mut f64,
    lb: &mut [f64],
) {
    if gsize == 1 {
        // One bound per center: the fast bounds in one vectorisable pass, then the
        // measured centers.
        for (l, &v) in lb.iter_mut().zip(&sc.lo) {
            *l = fast_lower(v);
        }
        for &j in &sc.short {
            if sc.known[j] {
                lb[j] = cm.true_lower(sc.exact[j]);
            }
        }
        lb[best] = f64::INFINITY;
    } else {
        lb.fill(f64::INFINITY);
        for j in 0..k {
            if j != best {
                let g = &mut lb[j / gsize];
                *g = g.min(sc.lower(cm, j));
            }
        }
    }
    *upper = sc.upper(cm, best);
}

/// Lower bound on the true distance from `lo = d̃² − E`, a lower bound on its square.
#[inline(always)]
fn fast_lower(lo: f64) -> f64 {
    lo.max(0.0).sqrt() * (1.0 - 1e-9)
}

/// Lanes of the shortlist arithmetic: a fixed block, so that the compiler unrolls and
/// vectorises it. Center arrays are padded to whole blocks (squared norm `+∞`, so a
/// padding lane is never the minimum and never on the shortlist).
const LANES: usize = crate::kernels::scalar::FAST_LANES;

/// Scratch of one chunk's assignment.
struct Scratch {
    /// Fast squared distance `d̃²` per center (padded to whole [`LANES`] blocks).
    t: Vec<f64>,
    /// `d̃² − E`, a lower bound on each true squared distance (padded like `t`).
    lo: Vec<f64>,
    /// The error bound `E` of the fast distances of the current sample: the largest
    /// over the centers (it grows with `‖c‖`), so one value serves them all.
    e: f64,
    /// Exact OpenCV distances, where `known`.
    exact: Vec<f64>,
    known: Vec<bool>,
    short: Vec<usize>,
}

impl Scratch {
    fn new(k: usize) -> Self {
        let padded = k.div_ceil(LANES) * LANES;
        Self {
            t: vec![0.0; padded],
            lo: vec![0.0; padded],
            e: 0.0,
            exact: vec![0.0; k],
            known: vec![false; k],
            short: Vec::with_capacity(k),
        }
    }

    /// Forgets the exact distances of the last sample.
    #[inline]
    fn forget(&mut self) {
        for &j in &self.short {
            self.known[j] = false;
        }
    }

    /// Upper bound on the true distance to center `j` (measured).
    #[inline]
    fn upper(&self, cm: &OpencvMargin, j: usize) -> f64 {
        if self.known[j] {
            cm.true_upper(self.exact[j])
        } else {
            (self.t[j] + self.e).max(0.0).sqrt() * (1.0 + 1e-9)
        }
    }

    /// Lower bound on the true distance to center `j` (measured).
    #[inline]
    fn lower(&self, cm: &OpencvMargin, j: usize) -> f64 {
        if self.known[j] {
            cm.true_lower(self.exact[j])
        } else {
            fast_lower(self.lo[j])
        }
    }

    /// The fast distances `t_j = (‖x‖² + ‖c_j‖²) − 2·dot_j` of `dots` and
    /// `lo_j = t_j − E`; returns the smallest `t_j`.
    #[inline]
    fn fast_distances(&mut self, xx: f64, dots: &[f32], cc: &[f64]) -> f64 {
        fast_sq_distances(xx, self.e, dots, cc, &mut self.t, &mut self.lo)
    }

    /// The shortlist, ascending: every center that can still be OpenCV's argmin given
    /// the fast distances and their error bound, i.e. whose lower bound does not
    /// exceed the smallest upper bound `h` (`cv_upper` is monotone, so it commutes
    /// with the minimum). A cutoff on `lo` rejects most centers with one comparison
    /// per lane; the few others take the full test. `tmin` is the smallest `t_j`.
    #[inline]
    fn shortlist(&mut self, cm: &OpencvMargin, tmin: f64, k: usize) {
        let h = cm.cv_upper(tmin + self.e);
        let cut = cm.lower_cutoff(h);
        if let Ok(lo) = <&[f64; LANES]>::try_from(&self.lo[..]) {
            let mask = le_mask16(lo, cut);
            self.shortlist16(cm, h, k, mask);
            return;
        }
        self.short.clear();
        for b in 0..self.lo.len() / LANES {
            let lo = &self.lo[b * LANES..(b + 1) * LANES];
            let mask = le_mask16(lo.try_into().expect("blocks of 16"), cut);
            self.full_test(cm, h, k, b, mask);
        }
        self.finish(k);
    }

    /// [`shortlist`](Self::shortlist) on one block (`k ≤ 16`) from the mask of its
    /// lanes under the cutoff of `h`.
    #[inline]
    fn shortlist16(&mut self, cm: &OpencvMargin, h: f64, k: usize, mask: u32) {
        self.short.clear();
        let single = mask.trailing_zeros() as usize;
        if mask.is_power_of_two() && single < k {
            // One lane under the cutoff: that lane holds the smallest `t`, whose
            // lower bound never exceeds `h`; it is the shortlist without the full
            // test.
            self.short.push(single);
            return;
        }
        self.full_test(cm, h, k, 0, mask);
        self.finish(k);
    }

    /// The full test of the lanes of block `b` in `mask` (under the cutoff).
    #[inline]
    fn full_test(&mut self, cm: &OpencvMargin, h: f64, k: usize, b: usize, mut mask: u32) {
        while mask != 0 {
            let j = b * LANES + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if j < k && cm.cv_lower(self.lo[j].max(0.0)) <= h {
                self.short.push(j);
            }
        }
    }

    /// An empty shortlist is only reachable through NaN; measuring every center is
    /// always right.
    #[inline]
    fn finish(&mut self, k: usize) {
        if self.short.is_empty() {
            self.short.extend(0..k);
        }
    }
}

/// OpenCV's argmin over the shortlist `sc.short` (every other center is already
/// proven farther): one center is the answer, more are measured with the exact kernel
/// (smallest distance, lowest index on ties).
fn resolve<T: Element>(centers: &[f32], dims: usize, x: &[T], sc: &mut Scratch) -> usize {
    if sc.short.len() == 1 {
        return sc.short[0];
    }
    let center = |j: usize| &centers[j * dims..(j + 1) * dims];
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

fn assign_chunk<T: Element>(
    ctx: &Ctx<'_, T>,
    info: &CenterInfo<'_>,
    start: usize,
    part: Part<'_>,
    bounded: bool,
    keep: bool,
) -> Counts {
    let samples = ctx.samples;
    let (k, stride, groups, gsize) = (ctx.k, ctx.stride, ctx.groups, ctx.group_size);
    let cm = &ctx.cm;
    let Part {
        labels,
        upper,
        lower,
    } = part;
    let mut sc = Scratch::new(k);
    let mut todo = Vec::new();
    for off in 0..labels.len() {
        if !(bounded
            && label_stays(
                cm,
                info,
                labels[off],
                &mut upper[off],
                bounds(lower, off, groups),
            ))
        {
            todo.push(off);
        }
    }
    let mut counts = Counts {
        skipped: labels.len() - todo.len(),
        changed: 0,
    };
    if todo.is_empty() {
        return counts;
    }

    // `dots`: the sample's fast dot products, padded to whole lane blocks.
    let mut finish = |off: usize, dots: &[f32], sc: &mut Scratch| {
        let best = pick(ctx, info, &ctx.dm, start + off, dots, sc);
        counts.changed += usize::from(labels[off] != best as u32);
        labels[off] = best as u32;
        if keep {
            store_bounds(
                cm,
                sc,
                k,
                gsize,
                best,
                &mut upper[off],
                bounds(lower, off, groups),
            );
        }
        sc.forget();
    };
    let mut panel = vec![0.0_f32; BATCH.min(todo.len()) * stride];
    let mut dots = vec![0.0_f32; BATCH.min(todo.len()) * k];
    let mut padded = vec![0.0_f32; sc.t.len()];
    for batch in todo.chunks(BATCH) {
        for (b, &off) in batch.iter().enumerate() {
            T::widen(samples.row(start + off), &mut panel[b * stride..]);
        }
        dot16_panel(&panel, batch.len(), info.cpack, k, stride, &mut dots);
        for (b, &off) in batch.iter().enumerate() {
            padded[..k].copy_from_slice(&dots[b * k..(b + 1) * k]);
            finish(off, &padded, &mut sc);
        }
    }
    counts
}

/// Sample `off`'s lower bounds, one per group of centers.
#[inline]
fn bounds(lower: &mut [f64], off: usize, groups: usize) -> &mut [f64] {
    &mut lower[off * groups..(off + 1) * groups]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::{fit_reference, KMeansParams, TermCriteria};

    /// Uniform data, which Lloyd's algorithm settles slowly: `n` samples of `dims`
    /// bytes, `zeros` in ten of them zero.
    fn uniform(n: usize, dims: usize, zeros: u64, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..n * dims)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if x % 10 < zeros {
                    0
                } else {
                    (x >> 32) as u8
                }
            })
            .collect()
    }

    /// Once the labels settle, the bounds spare samples, on dense and on sparse
    /// data, alone and in teams, and the result is still the reference's.
    #[test]
    fn bounds_engage_once_the_labels_settle_and_change_nothing() {
        for (dims, zeros, k) in [(3, 0, 8), (40, 7, 10)] {
            let bytes = uniform(3000, dims, zeros, dims as u64);
            let floats: Vec<f32> = bytes.iter().map(|&b| f32::from(b)).collect();
            for parallel in [false, true] {
                let params = KMeansParams::new(k)
                    .attempts(3)
                    .term(TermCriteria::new().max_iter(60).epsilon(0.0))
                    .check()
                    .unwrap();
                let samples = Samples::new(&bytes, dims, k).unwrap();
                let mut rng = CvRng::from_set_rng_seed(7);
                let mut ws = Vec::new();
                let (best, out) = run(&params, samples, &mut rng, &mut ws, parallel).unwrap();
                assert!(out.skipped > 0, "dims {dims}: the bounds never pruned");
                let reference =
                    fit_reference(&params, &floats, dims, &mut CvRng::from_set_rng_seed(7))
                        .unwrap();
                assert_eq!(ws[best].labels, reference.labels, "dims {dims}");
                assert_eq!(ws[best].centers, reference.centers, "dims {dims}");
                assert_eq!(out.compactness, reference.compactness, "dims {dims}");
            }
        }
    }
}
