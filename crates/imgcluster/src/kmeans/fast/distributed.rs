//! Fast mode over rows spread across processes ([`Collective`]): each rank runs the engine
//! of [`super`] over its own rows and keeps their labels and bounds; centers, their drifts
//! and every decision are global, taken from the same numbers on every rank.
//!
//! **Per iteration** each rank sends one sum over the ranks of `K·D + K + 1` values: the
//! per-cluster coordinate sums of its rows, their counts, and how many of its labels changed
//! in the last assignment. Byte samples send exact `u64` sums, so the centers are those of
//! one process to the bit; `f32` samples send `f64` sums (within a few ulps of one process's
//! sample-order sums). An iteration that empties a cluster gathers, in addition, each rank's
//! `2·m` farthest samples for the `m` empty clusters (enough to repeat one process's choice).
//!
//! **What follows sample order.** Initial centers (k distinct samples, k-means++, the random
//! box) and the inertia draw and sum as one process does: the random draws are the same on
//! every rank, rows are fetched by global index, and sums over samples that decide a draw
//! are [`Collective::fold_in_rank_order`] folds that continue one running sum from rank to
//! rank. The inertia is rebuilt from per-chunk partial sums (the chunk split of one process)
//! and the single samples of chunks cut by a rank boundary.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{drifts, Engine, State, CHUNK};
use crate::collective::{bytes_f64, f64_bytes, Collective};
use crate::kernels::{dot16, Element};
use crate::kmeans::lloyd::Samples;
use crate::kmeans::params::{CheckedKMeansParams, Init};
use crate::kmeans::{init, KMeansError, KMeansFit};
use crate::CvRng;

/// Where this rank's rows sit among all the rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rows {
    /// Global index of this rank's first row.
    pub first: usize,
    /// Rows over all ranks.
    pub total: usize,
}

impl Rows {
    /// All the `n` rows, in one process.
    pub(crate) fn all(n: usize) -> Self {
        Rows { first: 0, total: n }
    }
}

/// Global sums of the last update, kept for the empty-cluster repair.
struct Global {
    /// Byte samples: exact coordinate sums.
    int: Vec<u64>,
    /// `f32` samples: `f64` coordinate sums.
    float: Vec<f64>,
    counts: Vec<u64>,
}

/// The distributed fast-mode fit of this rank's `samples`: every attempt, the smallest
/// inertia wins (the first on ties). The labels are this rank's.
pub(crate) fn fit<T: Element>(
    params: &CheckedKMeansParams,
    samples: Samples<'_, T>,
    rows: Rows,
    rng: &mut CvRng,
    parallel: bool,
    comm: &dyn Collective,
) -> Result<KMeansFit, KMeansError> {
    let k = params.k();
    let engine = Engine::new(samples, k, parallel, None);
    let mut best: Option<KMeansFit> = None;
    for attempt in 0..params.attempts() {
        let centers = initial_centers(params, &engine, rows, rng, comm)?;
        let mut st = engine.state(centers);
        let iterations = engine.lloyd_distributed(&mut st, params, rows, comm);
        let inertia = engine.inertia_distributed(&st, rows, comm);
        engine.keep_best(&mut best, st, inertia, iterations, attempt);
    }
    best.ok_or(KMeansError::DistanceOverflow)
}

/// Initial centers of one attempt, the same as one process chooses from all the rows.
fn initial_centers<T: Element>(
    params: &CheckedKMeansParams,
    engine: &Engine<'_, T>,
    rows: Rows,
    rng: &mut CvRng,
    comm: &dyn Collective,
) -> Result<Vec<f32>, KMeansError> {
    let (n, dims, k) = (rows.total, engine.samples.dims, engine.k);
    let mut centers = vec![0.0_f32; k * dims];
    match params.init() {
        Init::Centers(c) => centers.copy_from_slice(c),
        Init::RandomBox => {
            let bbox = bounding_box(engine.samples, comm);
            for c in centers.chunks_exact_mut(dims) {
                init::random_center(&bbox, c, rng);
            }
        }
        Init::Samples => {
            // One process's partial Fisher-Yates shuffle of 0..n, keeping only the swapped
            // positions.
            let mut moved: HashMap<usize, usize> = HashMap::new();
            let mut chosen = Vec::with_capacity(k);
            for j in 0..k {
                let r = j + (rng.next_u32() as usize) % (n - j);
                let (at_j, at_r) = (*moved.get(&j).unwrap_or(&j), *moved.get(&r).unwrap_or(&r));
                moved.insert(j, at_r);
                moved.insert(r, at_j);
                chosen.push(at_r);
            }
            centers = rows_of(engine.samples, rows, &chosen, comm);
        }
        Init::PlusPlus => engine.plus_plus_distributed(&mut centers, rows, rng, comm),
        &Init::Parallel {
            rounds,
            oversampling,
        } => centers = engine.scalable(rounds, oversampling, rows, rng, comm),
        Init::Labels { .. } => {
            return Err(KMeansError::NotDistributed {
                what: "initial labels",
            })
        }
    }
    Ok(centers)
}

/// The bounding box of all the rows: each rank's box, combined in rank order as one process
/// scans the rows (the first of equal values stays).
fn bounding_box<T: Element>(samples: Samples<'_, T>, comm: &dyn Collective) -> Vec<[f32; 2]> {
    let mut local = Vec::new();
    init::bounding_box(samples, &mut local);
    let bytes: Vec<u8> = local
        .iter()
        .flat_map(|b| [b[0].to_le_bytes(), b[1].to_le_bytes()])
        .flatten()
        .collect();
    let mut bbox: Option<Vec<[f32; 2]>> = None;
    for part in comm.allgather(&bytes) {
        let boxes = part.chunks_exact(8).map(|b| {
            [
                f32::from_le_bytes(b[..4].try_into().expect("4 bytes")),
                f32::from_le_bytes(b[4..].try_into().expect("4 bytes")),
            ]
        });
        match &mut bbox {
            None => bbox = Some(boxes.collect()),
            Some(acc) => {
                for (a, b) in acc.iter_mut().zip(boxes) {
                    if b[0] < a[0] {
                        a[0] = b[0];
                    }
                    if a[1] < b[1] {
                        a[1] = b[1];
                    }
                }
            }
        }
    }
    bbox.unwrap_or_default()
}

/// The rows of global indices `which`, as `f32` (`which.len() × dims`), on every rank: the
/// owner of each contributes its bits to an integer sum, the others zeros, so the values
/// arrive exactly (signed zeros included).
pub(crate) fn rows_of<T: Element>(
    samples: Samples<'_, T>,
    rows: Rows,
    which: &[usize],
    comm: &dyn Collective,
) -> Vec<f32> {
    let dims = samples.dims;
    let mut bits = vec![0_u64; which.len() * dims];
    let mut row = vec![0.0_f32; dims];
    for (q, &g) in which.iter().enumerate() {
        if let Some(i) = g.checked_sub(rows.first).filter(|&i| i < samples.n) {
            T::widen(samples.row(i), &mut row);
            for (b, v) in bits[q * dims..(q + 1) * dims].iter_mut().zip(&row) {
                *b = u64::from(v.to_bits());
            }
        }
    }
    comm.allreduce_sum_u64(&mut bits);
    bits.iter().map(|&b| f32::from_bits(b as u32)).collect()
}

impl<T: Element> Engine<'_, T> {
    /// [`Engine::lloyd`] over distributed rows: the same iterations, with the center update
    /// from global sums and the stop decided from the global count of changed labels.
    fn lloyd_distributed(
        &self,
        st: &mut State,
        params: &CheckedKMeansParams,
        rows: Rows,
        comm: &dyn Collective,
    ) -> usize {
        let (max_iter, epsilon_sq) = (params.max_iter(), params.epsilon_sq());
        let sink = params.sink();
        let (k, dims) = (self.k, self.samples.dims);
        let mut prep = self.prepare(&st.centers, vec![0.0; k]);
        self.assign(st, &prep, false);
        let mut global = self.global_sums(st, 0, comm);
        let mut iter = 0;
        while iter < max_iter {
            let old = st.centers.clone();
            self.centers_from(st, &global);
            self.relocate_distributed(st, &mut global, rows, comm);
            iter += 1;
            sink.add(1);
            let (drift, shift) = drifts(&st.centers, &old, k, dims);
            prep = self.prepare(&st.centers, drift);
            let changed = self.assign(st, &prep, true);
            // Every rank knows the shift; only the changed labels need the others. Their
            // count travels with the sums of the next update, which it may not need.
            if (epsilon_sq > 0.0 && shift * shift <= epsilon_sq) || iter == max_iter {
                break;
            }
            global = self.global_sums(st, changed, comm);
            if global.changed == 0 {
                break;
            }
        }
        sink.add(max_iter - iter);
        iter
    }

    /// This rank's cluster sums, counts and `changed`, summed over the ranks: one
    /// collective of `K·D + K + 1` values.
    fn global_sums(&self, st: &mut State, changed: usize, comm: &dyn Collective) -> Reduced {
        let (dims, k) = (self.samples.dims, self.k);
        if let Some(bytes) = T::as_bytes(self.samples.data) {
            let mut msg = vec![0_u64; k * dims + k + 1];
            if self.int_sums {
                st.int_sums
                    .update(bytes, dims, k, &st.labels, &mut st.counts);
                for (m, &s) in msg.iter_mut().zip(&st.int_sums.sums) {
                    *m = u64::from(s);
                }
            } else {
                st.counts.fill(0);
                for (i, &l) in st.labels.iter().enumerate() {
                    let l = l as usize;
                    st.counts[l] += 1;
                    for (m, &x) in msg[l * dims..(l + 1) * dims]
                        .iter_mut()
                        .zip(&bytes[i * dims..(i + 1) * dims])
                    {
                        *m += u64::from(x);
                    }
                }
            }
            for (m, &c) in msg[k * dims..].iter_mut().zip(&st.counts) {
                *m = c as u64;
            }
            msg[k * dims + k] = changed as u64;
            comm.allreduce_sum_u64(&mut msg);
            let changed = msg[k * dims + k];
            let counts = msg[k * dims..k * dims + k].to_vec();
            msg.truncate(k * dims);
            return Reduced {
                sums: Global {
                    int: msg,
                    float: Vec::new(),
                    counts,
                },
                changed,
            };
        }
        let mut msg = vec![0.0_f64; k * dims + k + 1];
        for (i, &l) in st.labels.iter().enumerate() {
            let l = l as usize;
            msg[k * dims + l] += 1.0;
            for (s, &x) in msg[l * dims..(l + 1) * dims]
                .iter_mut()
                .zip(self.samples.row(i))
            {
                *s += f64::from(x.to_f32());
            }
        }
        msg[k * dims + k] = changed as f64;
        comm.allreduce_sum_f64(&mut msg);
        let changed = msg[k * dims + k] as u64;
        let counts = msg[k * dims..k * dims + k]
            .iter()
            .map(|&c| c as u64)
            .collect();
        msg.truncate(k * dims);
        Reduced {
            sums: Global {
                int: Vec::new(),
                float: msg,
                counts,
            },
            changed,
        }
    }

    /// Every non-empty cluster's center as its global sums over its global count, in `f64`
    /// then rounded to `f32`, as one process computes it; an empty cluster keeps its center.
    fn centers_from(&self, st: &mut State, global: &Reduced) {
        let dims = self.samples.dims;
        let g = &global.sums;
        for (j, center) in st.centers.chunks_exact_mut(dims).enumerate() {
            let count = g.counts[j];
            if count == 0 {
                continue;
            }
            let count = count as f64;
            for (d, c) in center.iter_mut().enumerate() {
                let s = match g.int.get(j * dims + d) {
                    Some(&s) => s as f64,
                    None => g.float[j * dims + d],
                };
                *c = (s / count) as f32;
            }
        }
    }

    /// [`Engine::relocate_empty`] over all the rows: the `m` empty clusters take, in turn,
    /// the farthest samples of all ranks (ties to the lowest global index), from clusters
    /// that keep at least one sample. Each rank offers its `2·m` farthest: each move leaves
    /// at most one more sample to pass over, so one process would consume no more.
    fn relocate_distributed(
        &self,
        st: &mut State,
        global: &mut Reduced,
        rows: Rows,
        comm: &dyn Collective,
    ) {
        let (dims, k, groups) = (self.samples.dims, self.k, self.groups);
        let g = &mut global.sums;
        let empty: Vec<usize> = (0..k).filter(|&j| g.counts[j] == 0).collect();
        if empty.is_empty() {
            return;
        }
        let dist = |i: usize| -> f64 {
            let l = st.labels[i] as usize;
            self.samples
                .row(i)
                .iter()
                .zip(&st.centers[l * dims..(l + 1) * dims])
                .map(|(x, &c)| (f64::from(x.to_f32()) - f64::from(c)).powi(2))
                .sum()
        };
        let mut order: Vec<(f64, usize)> = (0..st.labels.len())
            .map(|i| (dist(i), i))
            .filter(|&(d, _)| d > 0.0)
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        order.truncate(2 * empty.len());
        // Offer: distance, global index, label, the row's f32 bits.
        let mut offer = Vec::new();
        let mut row = vec![0.0_f32; dims];
        for &(d, i) in &order {
            offer.extend(d.to_le_bytes());
            offer.extend(((rows.first + i) as u64).to_le_bytes());
            offer.extend(u64::from(st.labels[i]).to_le_bytes());
            T::widen(self.samples.row(i), &mut row);
            offer.extend(row.iter().flat_map(|v| v.to_le_bytes()));
        }
        let size = 24 + 4 * dims;
        let mut cands: Vec<(f64, usize, usize, Vec<f32>)> = comm
            .allgather(&offer)
            .iter()
            .flat_map(|part| {
                part.chunks_exact(size)
                    .map(|c| c.to_vec())
                    .collect::<Vec<_>>()
            })
            .map(|c| {
                let word = |at: usize| u64::from_le_bytes(c[at..at + 8].try_into().expect("8"));
                let x = c[24..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4")))
                    .collect();
                (
                    f64::from_bits(word(0)),
                    word(8) as usize,
                    word(16) as usize,
                    x,
                )
            })
            .collect();
        cands.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let bytes = T::as_bytes(self.samples.data).filter(|_| self.int_sums);
        let mut next = cands.into_iter();
        for j in empty {
            let Some((_, gi, old, x)) = next.find(|c| g.counts[c.2] > 1) else {
                break;
            };
            if let Some(i) = gi.checked_sub(rows.first).filter(|&i| i < self.samples.n) {
                st.labels[i] = j as u32;
                if let Some(bytes) = bytes {
                    let xb = &bytes[i * dims..(i + 1) * dims];
                    st.int_sums.move_sample(xb, i, old, j, &mut st.counts);
                }
                st.upper[i] = 0.0;
                st.lower[i * groups..(i + 1) * groups].fill(0.0);
            }
            g.counts[old] -= 1;
            g.counts[j] += 1;
            let n = g.counts[old] as f64;
            if g.int.is_empty() {
                for (d, &v) in x.iter().enumerate() {
                    g.float[old * dims + d] -= f64::from(v);
                    g.float[j * dims + d] += f64::from(v);
                    st.centers[old * dims + d] = (g.float[old * dims + d] / n) as f32;
                }
            } else {
                for (d, &v) in x.iter().enumerate() {
                    g.int[old * dims + d] -= v as u64;
                    g.int[j * dims + d] += v as u64;
                    st.centers[old * dims + d] = (g.int[old * dims + d] as f64 / n) as f32;
                }
            }
            st.centers[j * dims..(j + 1) * dims].copy_from_slice(&x);
        }
    }

    /// [`Engine::inertia`] of all the rows, with one process's bits: each rank sends the
    /// partial sum of every chunk (of one process's split) that it starts, and the single
    /// terms of the chunk its first row falls inside; the partial sums are rebuilt in
    /// sample order and summed in chunk order.
    fn inertia_distributed(&self, st: &State, rows: Rows, comm: &dyn Collective) -> f64 {
        let prep = self.prepare(&st.centers, vec![0.0; self.k]);
        let stride = self.stride;
        let term = |i: usize, xf: &mut [f32]| {
            let l = st.labels[i] as usize;
            T::widen(self.samples.row(i), xf);
            let d = dot16(xf, &prep.cpack[l * stride..(l + 1) * stride]);
            self.weights.of(i) * ((self.xx[i] + prep.cc[l]) - 2.0 * f64::from(d)).max(0.0)
        };
        let n = self.samples.n;
        let head = ((CHUNK - rows.first % CHUNK) % CHUNK).min(n);
        let mut xf = vec![0.0_f32; stride];
        let terms: Vec<f64> = (0..head).map(|i| term(i, &mut xf)).collect();
        let part = |c: usize| {
            let mut xf = vec![0.0_f32; stride];
            let mut s = 0.0_f64;
            for i in head + c * CHUNK..(head + (c + 1) * CHUNK).min(n) {
                s += term(i, &mut xf);
            }
            s
        };
        let chunks = (n - head).div_ceil(CHUNK);
        let parts: Vec<f64> = if self.parallel {
            (0..chunks).into_par_iter().map(part).collect()
        } else {
            (0..chunks).map(part).collect()
        };
        ordered_sum(&terms, &parts, comm)
    }

    /// [`Engine::greedy_plus_plus`] over all the rows, drawing the same centers: the
    /// candidates' draws walk the rows in global order (a fold from rank to rank), and each
    /// candidate's potential is one sample-order sum.
    fn plus_plus_distributed(
        &self,
        centers: &mut [f32],
        rows: Rows,
        rng: &mut CvRng,
        comm: &dyn Collective,
    ) {
        let (n, dims, k, stride) = (rows.total, self.samples.dims, self.k, self.stride);
        let local = self.samples.n;
        let trials = 2 + (k as f64).ln() as usize;
        let dist_to = |c: &[f32], out: &mut [f64]| self.distances_to(c, out);
        let sum_in_order = |v: &[f64]| {
            let mut acc = [0.0_f64];
            comm.fold_in_rank_order(&mut acc, &mut |s| {
                for &x in v {
                    s[0] += x;
                }
            });
            acc[0]
        };
        let padded = |x: &[f32]| {
            let mut c = vec![0.0_f32; stride];
            c[..dims].copy_from_slice(x);
            c
        };
        let first = (rng.next_u32() as usize) % n;
        let row = rows_of(self.samples, rows, &[first], comm);
        centers[..dims].copy_from_slice(&row);
        let mut closest = vec![0.0_f64; local];
        dist_to(&padded(&row), &mut closest);
        let mut tmp = vec![0.0_f64; local];
        let mut best_d = vec![0.0_f64; local];
        for j in 1..k {
            let total = sum_in_order(&closest);
            // Each trial's draw walks the rows from the first: `p -= d` until `p ≤ 0`, the
            // last row when it never gets there. State: (p, index or -1) per trial.
            let mut walk: Vec<f64> = (0..trials)
                .flat_map(|_| [rng.next_f64() * total, -1.0])
                .collect();
            comm.fold_in_rank_order(&mut walk, &mut |s| {
                for t in s.chunks_exact_mut(2) {
                    if t[1] >= 0.0 {
                        continue;
                    }
                    for (i, &d) in closest.iter().enumerate() {
                        let g = rows.first + i;
                        if g == n - 1 {
                            t[1] = g as f64;
                            break;
                        }
                        t[0] -= d;
                        if t[0] <= 0.0 {
                            t[1] = g as f64;
                            break;
                        }
                    }
                }
            });
            let picks: Vec<usize> = walk.chunks_exact(2).map(|t| t[1] as usize).collect();
            let cands = rows_of(self.samples, rows, &picks, comm);
            let mut best: Option<(f64, usize)> = None;
            for (t, cand) in cands.chunks_exact(dims).enumerate() {
                dist_to(&padded(cand), &mut tmp);
                for (v, &c) in tmp.iter_mut().zip(&closest) {
                    *v = v.min(c);
                }
                let pot = sum_in_order(&tmp);
                if best.is_none_or(|(b, _)| pot < b) {
                    best = Some((pot, t));
                    std::mem::swap(&mut best_d, &mut tmp);
                }
            }
            let t = best.map_or(0, |b| b.1);
            centers[j * dims..(j + 1) * dims].copy_from_slice(&cands[t * dims..(t + 1) * dims]);
            std::mem::swap(&mut closest, &mut best_d);
        }
    }
}

/// A sum over the samples of all ranks with one process's rounding: each chunk of
/// [`CHUNK`] samples summed in order, then the chunks' sums in order. This rank sends the
/// terms of its rows before its first chunk boundary (`head`, which continue the previous
/// rank's last chunk) and the sums of the chunks it starts (`parts`).
pub(crate) fn ordered_sum(head: &[f64], parts: &[f64], comm: &dyn Collective) -> f64 {
    let mut msg = Vec::with_capacity(1 + head.len() + parts.len());
    msg.push(head.len() as f64);
    msg.extend_from_slice(head);
    msg.extend_from_slice(parts);
    let mut sums: Vec<f64> = Vec::new();
    let mut open: Option<f64> = None;
    for bytes in comm.allgather(&f64_bytes(&msg)) {
        let v = bytes_f64(&bytes);
        let head = v[0] as usize;
        for &t in &v[1..1 + head] {
            open = Some(open.unwrap_or(0.0) + t);
        }
        for &p in &v[1 + head..] {
            sums.extend(open.replace(p));
        }
    }
    sums.extend(open);
    sums.iter().sum()
}

/// The global sums of one update and the global count of changed labels that came with them.
struct Reduced {
    sums: Global,
    changed: u64,
}
