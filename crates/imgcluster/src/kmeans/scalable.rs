//! k-means|| ([`Init::Parallel`](super::Init::Parallel)): the scalable k-means++ of Bahmani
//! et al. (2012), as Spark MLlib seeds its k-means.
//!
//! k-means++ picks the K centers one after the other, each draw depending on all the
//! samples' distances to the centers before it: K passes over the data, and over a
//! distributed data set K rounds of collectives. k-means|| draws many candidates at once:
//!
//! 1. the first candidate is a sample drawn uniformly;
//! 2. for `rounds` rounds, every sample is drawn independently with probability
//!    `min(1, l · w·d² / φ)`, where `d²` is its squared distance to the nearest candidate so
//!    far, `w` its weight (1 without weights), `φ = Σ w·d²` over all samples and
//!    `l = oversampling · K` (Spark: `l = 2K`, 2 rounds); the drawn samples join the
//!    candidates (identical ones once). Further rounds run, in the same way, only while
//!    there are fewer than K distinct candidates and some sample is away from them;
//! 3. each candidate is weighted by the (weighted) number of samples nearest to it (ties to
//!    the earlier candidate), and a weighted k-means++ over the candidates followed by at
//!    most 30 weighted Lloyd iterations (Spark's `LocalKMeans`) reduces them to K centers.
//!    The k-means++ here is the greedy one (the best of `2 + ⌊ln K⌋` draws per center, as
//!    scikit-learn and this crate's fast mode draw), where Spark draws once: on a few
//!    candidates a single draw too often puts two centers in one group.
//!
//! **Independent of the number of processes.** A sample's draw in round `r` is a hash of
//! the seed, `r` and its global index (not a generator advanced sample by sample), and its
//! `d²` is computed from its own values only: exact integers for byte samples, an `f64`
//! sum of squared `f64` differences for `f32` samples. `φ` is an exact `u64` sum for byte
//! samples and a sample-order sum otherwise ([`Collective::fold_in_rank_order`]). The
//! candidates are gathered in global sample order and their weights summed exactly, so
//! every rank holds the same candidates and weights as one process, and the final
//! reduction, run identically on every rank, gives the same centers for any number of
//! ranks.
//!
//! **Cost.** `rounds` (typically 2) gathers of about `l` samples, `rounds + 1` sums and the
//! fetch of the first candidate, against k-means++'s K rounds of a draw, a gather and potential
//! sums; each round computes the distances of every sample to the new candidates only.

use std::collections::HashSet;

use rayon::prelude::*;

use super::fast::distributed::{rows_of, Rows};
use super::lloyd::{Samples, CHUNK};
use super::KMeansError;
use crate::collective::{Collective, SingleProcess};
use crate::kernels::Element;
use crate::CvRng;

/// Spark's `initializationSteps`: the default number of oversampling rounds.
pub(crate) const DEFAULT_ROUNDS: usize = 2;

/// Spark's oversampling factor: `l = 2K` candidates expected per round.
pub(crate) const DEFAULT_OVERSAMPLING: f64 = 2.0;

/// Rounds run past `rounds` at most while fewer than K distinct candidates were drawn.
const MAX_EXTRA_ROUNDS: usize = 64;

/// Lloyd iterations of the final weighted reduction (Spark's `LocalKMeans` at seeding).
const LOCAL_ITERATIONS: usize = 30;

/// The settings of one k-means|| seeding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scalable<'w> {
    pub k: usize,
    pub rounds: usize,
    pub oversampling: f64,
    /// Sample weights of this rank's rows, if any.
    pub weights: Option<&'w [f64]>,
    pub parallel: bool,
}

/// A uniform draw in `[0, 1)` for `row` in `round`: a counter-based hash of the seed, the
/// round and the global row index (SplitMix64's finaliser).
fn unit(seed: u64, round: usize, row: usize) -> f64 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let z = mix(seed.wrapping_add(mix(((round as u64) << 40)
        ^ row as u64
        ^ 0x9E37_79B9_7F4A_7C15)));
    (z >> 11) as f64 * (1.0 / (1_u64 << 53) as f64)
}

/// Exact squared distance of two byte rows.
fn l2_bytes(a: &[u8], b: &[u8]) -> u64 {
    // 66051 squared byte differences fit in a u32.
    a.chunks(65_536)
        .zip(b.chunks(65_536))
        .map(|(a, b)| {
            let s: u32 = a
                .iter()
                .zip(b)
                .map(|(&x, &y)| {
                    let d = u32::from(x.abs_diff(y));
                    d * d
                })
                .sum();
            u64::from(s)
        })
        .sum()
}

/// Squared distance of a row to a center: squared `f64` differences summed in order.
fn l2_f64<T: Element>(x: &[T], c: &[f32]) -> f64 {
    x.iter()
        .zip(c)
        .map(|(&x, &c)| {
            let d = f64::from(x.to_f32()) - f64::from(c);
            d * d
        })
        .sum()
}

/// The candidates drawn so far: `f32` rows, their bytes for byte samples, and the bit
/// patterns already present (signed zeros as one).
struct Candidates {
    dims: usize,
    values: Vec<f32>,
    bytes: Option<Vec<u8>>,
    seen: HashSet<Vec<u32>>,
}

impl Candidates {
    fn len(&self) -> usize {
        self.values.len() / self.dims
    }

    /// Adds `row` unless an identical candidate exists; returns whether it was added.
    fn push(&mut self, row: &[f32]) -> bool {
        let key: Vec<u32> = row.iter().map(|&v| (v + 0.0).to_bits()).collect();
        if !self.seen.insert(key) {
            return false;
        }
        self.values.extend_from_slice(row);
        if let Some(b) = &mut self.bytes {
            b.extend(row.iter().map(|&v| v as u8));
        }
        true
    }
}

/// k-means|| centers (`k × dims`) of the rows held by the ranks of `comm` (this rank's are
/// `samples`, at `rows`); the same on every rank and for any number of ranks. `rng` gives the
/// hash seed, the first candidate and the draws of the final reduction.
pub(crate) fn centers<T: Element>(
    s: &Scalable<'_>,
    samples: Samples<'_, T>,
    rows: Rows,
    rng: &mut CvRng,
    comm: &dyn Collective,
) -> Vec<f32> {
    let (dims, local, n) = (samples.dims, samples.n, rows.total);
    let seed = (u64::from(rng.next_u32()) << 32) | u64::from(rng.next_u32());
    let bytes = T::as_bytes(samples.data);
    let exact = bytes.is_some() && s.weights.is_none();
    let weight = |i: usize| s.weights.map_or(1.0, |w| w[i]);
    let first = (rng.next_u32() as usize) % n;
    let mut cands = Candidates {
        dims,
        values: Vec::new(),
        bytes: bytes.map(|_| Vec::new()),
        seen: HashSet::new(),
    };
    cands.push(&rows_of(samples, rows, &[first], comm));
    // Each row's squared distance to its nearest candidate, and that candidate.
    let mut cost = vec![f64::INFINITY; local];
    let mut nearest = vec![0_u32; local];
    let update = |cands: &Candidates, from: usize, cost: &mut [f64], nearest: &mut [u32]| {
        let work = |(c, (cost, nearest)): (usize, (&mut [f64], &mut [u32]))| {
            for (o, (d, l)) in cost.iter_mut().zip(nearest.iter_mut()).enumerate() {
                let i = c * CHUNK + o;
                for j in from..cands.len() {
                    let t = match (bytes, &cands.bytes) {
                        (Some(x), Some(cb)) => {
                            l2_bytes(&x[i * dims..(i + 1) * dims], &cb[j * dims..(j + 1) * dims])
                                as f64
                        }
                        _ => l2_f64(samples.row(i), &cands.values[j * dims..(j + 1) * dims]),
                    };
                    if t < *d {
                        *d = t;
                        *l = j as u32;
                    }
                }
            }
        };
        if s.parallel {
            cost.par_chunks_mut(CHUNK)
                .zip(nearest.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(work);
        } else {
            cost.chunks_mut(CHUNK)
                .zip(nearest.chunks_mut(CHUNK))
                .enumerate()
                .for_each(work);
        }
    };
    update(&cands, 0, &mut cost, &mut nearest);
    let l = s.oversampling * s.k as f64;
    let mut round = 0;
    while round < s.rounds || (cands.len() < s.k && round < s.rounds + MAX_EXTRA_ROUNDS) {
        // φ: exact for bytes, else summed in sample order.
        let phi = if exact {
            let mut v = [cost.iter().map(|&c| c as u64).sum::<u64>()];
            comm.allreduce_sum_u64(&mut v);
            v[0] as f64
        } else {
            let mut acc = [0.0_f64];
            comm.fold_in_rank_order(&mut acc, &mut |a| {
                for (i, &c) in cost.iter().enumerate() {
                    a[0] += weight(i) * c;
                }
            });
            acc[0]
        };
        if phi <= 0.0 {
            break;
        }
        let mut drawn = Vec::new();
        let mut row = vec![0.0_f32; dims];
        for (i, &c) in cost.iter().enumerate() {
            if unit(seed, round, rows.first + i) < l * (weight(i) * c) / phi {
                T::widen(samples.row(i), &mut row);
                drawn.extend(row.iter().flat_map(|v| v.to_le_bytes()));
            }
        }
        let from = cands.len();
        for part in comm.allgather(&drawn) {
            for r in part.chunks_exact(4 * dims) {
                let values: Vec<f32> = r
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                    .collect();
                cands.push(&values);
            }
        }
        update(&cands, from, &mut cost, &mut nearest);
        round += 1;
    }
    // Candidate weights: the rows nearest to each (exact counts without sample weights).
    let c = cands.len();
    let mass: Vec<f64> = if s.weights.is_none() {
        let mut counts = vec![0_u64; c];
        for &j in &nearest {
            counts[j as usize] += 1;
        }
        comm.allreduce_sum_u64(&mut counts);
        counts.iter().map(|&v| v as f64).collect()
    } else {
        let mut w = vec![0.0_f64; c];
        comm.fold_in_rank_order(&mut w, &mut |w| {
            for (i, &j) in nearest.iter().enumerate() {
                w[j as usize] += weight(i);
            }
        });
        w
    };
    reduce(&cands.values, &mass, dims, s.k, rng, s.parallel)
}

/// The `k` initial centers k-means|| ([`Init::parallel`](super::Init::parallel): 2 rounds of
/// `2·k` expected candidates) chooses from `rng` for `data` (`k × dims`, row-major), as a
/// fast-mode fit with that initialisation seeds its first attempt. Runs on the calling
/// thread.
///
/// # Errors
///
/// The data checks of [`fit`](fn@super::fit) (see
/// [`random_box_centers`](super::random_box_centers)).
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::parallel_centers;
/// use imgcluster::CvRng;
///
/// let data = [0.0_f32, 1.0, 2.0, 100.0, 101.0, 102.0];
/// let centers = parallel_centers(&data, 1, 2, &mut CvRng::opencv_default())?;
/// assert!(centers.iter().any(|&c| c < 50.0) && centers.iter().any(|&c| c > 50.0));
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn parallel_centers(
    data: &[f32],
    dims: usize,
    k: usize,
    rng: &mut CvRng,
) -> Result<Vec<f32>, KMeansError> {
    let samples = Samples::new(data, dims, k)?;
    let s = Scalable {
        k,
        rounds: DEFAULT_ROUNDS,
        oversampling: DEFAULT_OVERSAMPLING,
        weights: None,
        parallel: false,
    };
    Ok(centers(
        &s,
        samples,
        Rows::all(samples.n),
        rng,
        &SingleProcess,
    ))
}

/// `k` centers from the weighted candidate `points`: all of them (the first repeated) when
/// there are at most `k`; else a weighted greedy k-means++ and at most [`LOCAL_ITERATIONS`]
/// weighted Lloyd iterations, as Spark's `LocalKMeans.kMeansPlusPlus`. Distances and means
/// in `f64`, ties to the lower index.
fn reduce(
    points: &[f32],
    mass: &[f64],
    dims: usize,
    k: usize,
    rng: &mut CvRng,
    parallel: bool,
) -> Vec<f32> {
    let c = mass.len();
    if c <= k {
        let mut out = points.to_vec();
        for _ in c..k {
            out.extend_from_slice(&points[..dims]);
        }
        return out;
    }
    let point = |i: usize| &points[i * dims..(i + 1) * dims];
    let dist = |p: &[f32], q: &[f64]| -> f64 {
        p.iter()
            .zip(q)
            .map(|(&a, &b)| (f64::from(a) - b) * (f64::from(a) - b))
            .sum()
    };
    let widen = |p: &[f32]| p.iter().map(|&v| f64::from(v)).collect::<Vec<f64>>();
    // Weighted draw: the first index where the running sum of `score` reaches `r`.
    let pick = |score: &dyn Fn(usize) -> f64, rng: &mut CvRng| {
        let total: f64 = (0..c).map(score).sum();
        let r = rng.next_f64() * total;
        let (mut acc, mut j) = (0.0, 0);
        while j < c && acc < r {
            acc += score(j);
            j += 1;
        }
        j.saturating_sub(1)
    };
    let mut centers: Vec<Vec<f64>> = Vec::with_capacity(k);
    centers.push(widen(point(pick(&|j| mass[j], rng))));
    let mut cost: Vec<f64> = (0..c).map(|j| dist(point(j), &centers[0])).collect();
    // Greedy: the best of `2 + ⌊ln k⌋` draws, the one that leaves the smallest weighted
    // potential (scikit-learn's k-means++; Spark draws once).
    let trials = 2 + (k as f64).ln() as usize;
    for _ in 1..k {
        let mut best: Option<(f64, Vec<f64>, Vec<f64>)> = None;
        for _ in 0..trials {
            let chosen = widen(point(pick(&|j| mass[j] * cost[j], rng)));
            let next: Vec<f64> = (0..c)
                .map(|j| cost[j].min(dist(point(j), &chosen)))
                .collect();
            let potential: f64 = next.iter().zip(mass).map(|(&d, &m)| m * d).sum();
            if best.as_ref().is_none_or(|b| potential < b.0) {
                best = Some((potential, chosen, next));
            }
        }
        let (_, chosen, next) = best.expect("at least two trials");
        cost = next;
        centers.push(chosen);
    }
    let closest = |centers: &[Vec<f64>], j: usize| -> usize {
        let (mut best, mut best_d) = (0, f64::INFINITY);
        for (m, center) in centers.iter().enumerate() {
            let d = dist(point(j), center);
            if d < best_d {
                best = m;
                best_d = d;
            }
        }
        best
    };
    let mut old = vec![usize::MAX; c];
    for _ in 0..LOCAL_ITERATIONS {
        let labels: Vec<usize> = if parallel {
            (0..c)
                .into_par_iter()
                .map(|j| closest(&centers, j))
                .collect()
        } else {
            (0..c).map(|j| closest(&centers, j)).collect()
        };
        if labels == old {
            break;
        }
        let mut sums = vec![vec![0.0_f64; dims]; k];
        let mut counts = vec![0.0_f64; k];
        for (j, &m) in labels.iter().enumerate() {
            counts[m] += mass[j];
            for (s, &v) in sums[m].iter_mut().zip(point(j)) {
                *s += mass[j] * f64::from(v);
            }
        }
        for (m, center) in centers.iter_mut().enumerate() {
            if counts[m] == 0.0 {
                *center = widen(point((rng.next_u32() as usize) % c));
            } else {
                *center = sums[m].iter().map(|&s| s / counts[m]).collect();
            }
        }
        old = labels;
    }
    centers
        .iter()
        .flat_map(|c| c.iter().map(|&v| v as f32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_and_depend_on_seed_round_and_row() {
        let n = 100_000;
        let mean = (0..n).map(|i| unit(7, 0, i)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!((0..n).all(|i| (0.0..1.0).contains(&unit(7, 1, i))));
        assert_ne!(unit(7, 0, 5), unit(8, 0, 5));
        assert_ne!(unit(7, 0, 5), unit(7, 1, 5));
        assert_ne!(unit(7, 0, 5), unit(7, 0, 6));
    }

    #[test]
    fn byte_distances_are_exact() {
        let a: Vec<u8> = (0..70_000).map(|i| (i % 256) as u8).collect();
        let b: Vec<u8> = (0..70_000).map(|i| (i * 7 % 256) as u8).collect();
        let want: u64 = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| (i64::from(x) - i64::from(y)).pow(2) as u64)
            .sum();
        assert_eq!(l2_bytes(&a, &b), want);
    }

    #[test]
    fn few_candidates_are_all_kept_and_repeated() {
        let points = [1.0_f32, 2.0, 3.0, 4.0];
        let mut rng = CvRng::new(1);
        let c = reduce(&points, &[1.0, 1.0], 2, 3, &mut rng, false);
        assert_eq!(c, [1.0, 2.0, 3.0, 4.0, 1.0, 2.0]);
    }

    #[test]
    fn the_reduction_finds_weighted_groups() {
        // Two groups on a line; the heavy points pull the centers.
        let points = [0.0_f32, 1.0, 2.0, 100.0, 101.0, 102.0];
        let mass = [1.0, 10.0, 1.0, 1.0, 1.0, 10.0];
        let mut rng = CvRng::new(3);
        let mut c = reduce(&points, &mass, 1, 2, &mut rng, false);
        c.sort_by(f32::total_cmp);
        assert_eq!(c, [1.0, (100.0 + 101.0 + 1020.0) / 12.0]);
    }
}
