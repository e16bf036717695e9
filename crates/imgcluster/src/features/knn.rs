//! The k-nearest-neighbour graph: who resembles whom, by cosine similarity.
//!
//! [`cosine_neighbours`] finds, for every point, the `k` others with the largest cosine
//! similarity: the rows are scaled to unit length and their Gram matrix is computed block
//! by block (`faer` products in `f32`, fixed blocks of 128 query points), each column
//! scanned for its `k + 8` best candidates, which are then ranked by their similarity
//! recomputed in `f64` (ties to the lower index) and cut to `k`. [`KnnGraph::build`] turns the lists into a
//! weighted, symmetric graph with self-tuning Gaussian weights (Zelnik-Manor & Perona):
//!
//! * `d_ij = √(2 − 2 cos_ij)`, the distance between the unit vectors;
//! * `s_i` = the distance from `i` to its `m`-th neighbour (`m = min(7, k)`);
//! * `a_ij = exp(−d_ij² / (s_i s_j))` for each `j` among the neighbours of `i` (0 for the
//!   others);
//! * `w_ij`, the union of the two directions ([`Union`]): the fuzzy union
//!   `a_ij + a_ji − a_ij·a_ji` by default, or `max(a_ij, a_ji)`. An edge exists when either
//!   point lists the other.

use faer::Mat;
use rayon::prelude::*;

use super::error::check_rows;
use super::linalg::gemm;
use super::FeaturesError;
use crate::threads::Threads;

/// Query points per block of the Gram product (one `faer` product each).
const QUERIES_PER_BLOCK: usize = 128;

/// Blocks per parallel task (each task reuses one buffer for its blocks).
const BLOCKS_PER_TASK: usize = 4;

/// Extra candidates selected with `f32` similarities before the exact `f64` ranking:
/// the result is exact unless the `f32` rounding (about 1e-7) exceeds the gap between
/// the `k`-th and the `(k + 8)`-th similarity.
const CANDIDATE_MARGIN: usize = 8;

/// Nodes per parallel task of [`KnnGraph::smooth_labels`].
const NODES_PER_TASK: usize = 256;

/// Guard added to `s_i s_j` so that duplicate points (`s_i = 0`) do not divide by zero.
const SCALE_GUARD: f64 = 1e-12;

/// How the two directions of an edge are merged into one symmetric weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Union {
    /// `w = a + b − a·b`, the probabilistic (fuzzy-set) union of UMAP: a pair that lists
    /// each other weighs more than a pair where only one lists the other (with `a = b`,
    /// `2a − a²` against `a`).
    ///
    /// Why: a mutual neighbour is much more likely to share the class than a one-way one
    /// (hubs in high dimensions are listed by many points that they do not list back), so
    /// the cut between classes runs through one-way edges, which this union leaves
    /// lighter. The weight stays in `[0, 1]` and equals `max` when one side is 0.
    #[default]
    Fuzzy,
    /// `w = max(a, b)`.
    Max,
}

impl Union {
    /// The merged weight of `a` and `b` (both in `[0, 1]`).
    pub fn merge(self, a: f64, b: f64) -> f64 {
        match self {
            Union::Fuzzy => a + b - a * b,
            Union::Max => a.max(b),
        }
    }

    /// `fuzzy` or `max`.
    pub fn name(self) -> &'static str {
        match self {
            Union::Fuzzy => "fuzzy",
            Union::Max => "max",
        }
    }

    /// The union named `name` (as [`Union::name`] gives it).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "fuzzy" => Some(Union::Fuzzy),
            "max" => Some(Union::Max),
            _ => None,
        }
    }
}

/// kNN graph options.
///
/// # Examples
/// ```
/// use imgcluster::features::{KnnOptions, Union};
///
/// let o = KnnOptions::new();
/// assert_eq!((o.k, o.scale_neighbour, o.union), (10, 7, Union::Fuzzy));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnnOptions {
    /// Neighbours per point (at least 1; `min(k, N − 1)` are used).
    pub k: usize,
    /// Which neighbour's distance sets a point's scale `s_i`: the `m`-th nearest with
    /// `m = min(scale_neighbour, k)` (at least 1).
    pub scale_neighbour: usize,
    /// How the two directions of an edge are merged.
    pub union: Union,
}

impl Default for KnnOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl KnnOptions {
    /// `k = 10` neighbours, scale from the 7th, [`Union::Fuzzy`].
    pub const fn new() -> Self {
        Self {
            k: 10,
            scale_neighbour: 7,
            union: Union::Fuzzy,
        }
    }

    /// Sets how the two directions of an edge are merged.
    pub const fn union(mut self, union: Union) -> Self {
        self.union = union;
        self
    }

    /// Sets the number of neighbours.
    pub const fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// Sets which neighbour gives the scale.
    pub const fn scale_neighbour(mut self, m: usize) -> Self {
        self.scale_neighbour = m;
        self
    }
}

/// The `k` most similar other points of every point.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    n: usize,
    k: usize,
    indices: Vec<u32>,
    similarities: Vec<f64>,
}

impl Neighbours {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false for lists built by [`cosine_neighbours`] (at least 2 points).
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Neighbours per point.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The neighbours of point `i`, most similar first (ties: lower index first).
    ///
    /// # Panics
    /// Panics if `i >= self.len()`.
    pub fn of(&self, i: usize) -> &[u32] {
        &self.indices[i * self.k..(i + 1) * self.k]
    }

    /// The cosine similarities of point `i` to its neighbours, in the order of [`Neighbours::of`].
    ///
    /// # Panics
    /// Panics if `i >= self.len()`.
    pub fn similarities(&self, i: usize) -> &[f64] {
        &self.similarities[i * self.k..(i + 1) * self.k]
    }
}

/// The exact `k` nearest neighbours of every point by cosine similarity, the point itself
/// excluded; `k` is reduced to `N − 1` when there are fewer points.
///
/// Rows of `points` (N × `dims`, row-major) are scaled to unit length (all-zero rows stay
/// zero). Ties go to the lower index, and the lists do not depend on the thread count.
///
/// # Errors
/// [`FeaturesError::Shape`] or [`FeaturesError::NonFinite`] for malformed data,
/// [`FeaturesError::TooFewSamples`] for fewer than 2 points,
/// [`FeaturesError::InvalidParam`] for `k == 0`.
///
/// # Examples
/// ```
/// use imgcluster::features::cosine_neighbours;
/// use imgcluster::Threads;
///
/// // Directions 0°, 10°, 90°, 100°: each point's nearest is its 10° partner.
/// let p: Vec<f64> = [0f64, 10.0, 90.0, 100.0]
///     .iter()
///     .flat_map(|a| [a.to_radians().cos(), a.to_radians().sin()])
///     .collect();
/// let nb = cosine_neighbours(&p, 2, 1, Threads::Fixed(1))?;
/// assert_eq!([nb.of(0), nb.of(1), nb.of(2), nb.of(3)], [[1], [0], [3], [2]]);
/// # Ok::<(), imgcluster::features::FeaturesError>(())
/// ```
pub fn cosine_neighbours(
    points: &[f64],
    dims: usize,
    k: usize,
    threads: Threads,
) -> Result<Neighbours, FeaturesError> {
    let n = check_rows("kNN graph", points, dims)?;
    if n < 2 {
        return Err(FeaturesError::TooFewSamples {
            stage: "kNN graph",
            n,
            needed: 2,
        });
    }
    if k == 0 {
        return Err(FeaturesError::InvalidParam {
            name: "k",
            reason: "at least one neighbour is needed".into(),
        });
    }
    let k = k.min(n - 1);
    // Candidates picked with f32 products, then ranked exactly in f64.
    let c = (k + CANDIDATE_MARGIN).min(n - 1);
    let mut unit = points.to_vec();
    for row in unit.chunks_exact_mut(dims) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    let unit32 = Mat::<f32>::from_fn(n, dims, |i, j| unit[i * dims + j] as f32);
    let row = |i: usize| &unit[i * dims..(i + 1) * dims];
    let mut indices = vec![0u32; n * k];
    let mut similarities = vec![0.0f64; n * k];
    let per_task = QUERIES_PER_BLOCK * BLOCKS_PER_TASK;
    threads.install(|| {
        indices
            .par_chunks_mut(per_task * k)
            .zip(similarities.par_chunks_mut(per_task * k))
            .enumerate()
            .for_each(|(task, (idx, sim))| {
                let mut gram = Mat::<f32>::zeros(n, QUERIES_PER_BLOCK);
                let (mut cand, mut cand_sim) = (vec![0u32; c], vec![0.0f32; c]);
                let mut ranked: Vec<(f64, u32)> = Vec::with_capacity(c);
                let task_q0 = task * per_task;
                let task_nq = idx.len() / k;
                for b0 in (0..task_nq).step_by(QUERIES_PER_BLOCK) {
                    let nq = QUERIES_PER_BLOCK.min(task_nq - b0);
                    let q0 = task_q0 + b0;
                    // Column t holds the similarities of query q0 + t to every point.
                    gemm(
                        gram.as_mut().subcols_mut(0, nq),
                        unit32.as_ref(),
                        unit32.as_ref().subrows(q0, nq).transpose(),
                    );
                    for t in 0..nq {
                        let q = q0 + t;
                        top_k(gram.col_as_slice(t), q, &mut cand, &mut cand_sim);
                        ranked.clear();
                        ranked.extend(cand.iter().map(|&j| {
                            let s: f64 =
                                row(q).iter().zip(row(j as usize)).map(|(a, b)| a * b).sum();
                            (s, j)
                        }));
                        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                        let at = (b0 + t) * k;
                        for (u, &(s, j)) in ranked[..k].iter().enumerate() {
                            idx[at + u] = j;
                            sim[at + u] = s;
                        }
                    }
                }
            })
    });
    Ok(Neighbours {
        n,
        k,
        indices,
        similarities,
    })
}

/// The `idx.len()` largest values of `col` other than position `skip`, largest first,
/// ties to the lower position.
fn top_k(col: &[f32], skip: usize, idx: &mut [u32], sim: &mut [f32]) {
    /// Values tested at once against the current k-th best (a vectorisable test).
    const CHUNK: usize = 16;
    let k = idx.len();
    sim.fill(f32::NEG_INFINITY);
    idx.fill(u32::MAX);
    let mut filled = 0;
    for (ci, chunk) in col.chunks(CHUNK).enumerate() {
        if filled == k {
            let worst = sim[k - 1];
            if !chunk.iter().fold(false, |any, &s| any | (s > worst)) {
                continue;
            }
        }
        for (o, &s) in chunk.iter().enumerate() {
            let p = ci * CHUNK + o;
            if p == skip || (filled == k && s <= sim[k - 1]) {
                continue;
            }
            // Insert after every entry at least as large (earlier positions win ties).
            let mut at = filled.min(k - 1);
            while at > 0 && sim[at - 1] < s {
                sim[at] = sim[at - 1];
                idx[at] = idx[at - 1];
                at -= 1;
            }
            sim[at] = s;
            idx[at] = p as u32;
            filled = (filled + 1).min(k);
        }
    }
}

/// A weighted undirected graph in compressed-row form: row `i` lists the neighbours of
/// node `i` in increasing order with the edge weights.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnGraph {
    indptr: Vec<usize>,
    indices: Vec<u32>,
    weights: Vec<f64>,
    degrees: Vec<f64>,
}

impl KnnGraph {
    /// The self-tuning kNN graph of `points` (N × `dims`, row-major) by cosine similarity;
    /// see the module documentation for the weights.
    ///
    /// # Errors
    /// As [`cosine_neighbours`], and [`FeaturesError::InvalidParam`] for
    /// `scale_neighbour == 0`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::features::{KnnGraph, KnnOptions};
    /// use imgcluster::Threads;
    ///
    /// let p = [1.0, 0.0, 0.9, 0.1, 0.0, 1.0, 0.1, 0.9];
    /// let g = KnnGraph::build(&p, 2, &KnnOptions::new().k(1), Threads::Fixed(1))?;
    /// assert_eq!(g.neighbours(0).0, [1]);
    /// assert_eq!(g.neighbours(3).0, [2]);
    /// // The scale of each point is the distance to its only neighbour, so a = exp(−1)
    /// // each way, and 0 and 1 list each other: the fuzzy union is 2a − a².
    /// let a = (-1f64).exp();
    /// assert!((g.neighbours(0).1[0] - (2.0 * a - a * a)).abs() < 1e-9);
    /// # Ok::<(), imgcluster::features::FeaturesError>(())
    /// ```
    pub fn build(
        points: &[f64],
        dims: usize,
        opts: &KnnOptions,
        threads: Threads,
    ) -> Result<Self, FeaturesError> {
        if opts.scale_neighbour == 0 {
            return Err(FeaturesError::InvalidParam {
                name: "scale_neighbour",
                reason: "must be at least 1".into(),
            });
        }
        let nb = cosine_neighbours(points, dims, opts.k, threads)?;
        Ok(Self::from_neighbours(&nb, opts))
    }

    /// The self-tuning graph of given neighbour lists, with scale from neighbour
    /// `min(opts.scale_neighbour, k)` (counted from 1; 0 acts as 1) and the directions
    /// merged by `opts.union` (`opts.k` is not used: the lists have their own length).
    pub fn from_neighbours(nb: &Neighbours, opts: &KnnOptions) -> Self {
        let (n, k) = (nb.n, nb.k);
        let m = opts.scale_neighbour.clamp(1, k.max(1)) - 1;
        let dist2: Vec<f64> = nb
            .similarities
            .iter()
            .map(|&s| {
                let d = (2.0 - 2.0 * s).max(0.0).sqrt();
                d * d
            })
            .collect();
        let scale: Vec<f64> = (0..n).map(|i| dist2[i * k + m].sqrt()).collect();
        let mut edges = Vec::with_capacity(n * k);
        for i in 0..n {
            for (t, &j) in nb.of(i).iter().enumerate() {
                let w = (-dist2[i * k + t] / (scale[i] * scale[j as usize] + SCALE_GUARD)).exp();
                edges.push((i as u32, j, w));
            }
        }
        Self::from_edges_unchecked(n, &edges, opts.union)
    }

    /// The symmetric graph of directed weighted edges `(i, j, w)`: `w_ij = max` over the
    /// edges given in either direction ([`KnnGraph::from_edges_with`] merges them otherwise).
    ///
    /// # Errors
    /// [`FeaturesError::InvalidParam`] for a node index `>= n`, a self-loop, or a weight
    /// that is negative or not finite.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::features::KnnGraph;
    ///
    /// let g = KnnGraph::from_edges(3, &[(0, 1, 0.5), (1, 0, 0.25), (2, 1, 1.0)])?;
    /// assert_eq!(g.neighbours(1), (&[0, 2][..], &[0.5, 1.0][..]));
    /// assert_eq!(g.degrees(), [0.5, 1.5, 1.0]);
    /// # Ok::<(), imgcluster::features::FeaturesError>(())
    /// ```
    pub fn from_edges(n: usize, edges: &[(u32, u32, f64)]) -> Result<Self, FeaturesError> {
        Self::from_edges_with(n, edges, Union::Max)
    }

    /// The symmetric graph of directed weighted edges `(i, j, w)`, each pair's edges
    /// merged by `union` in the order given (for [`Union::Fuzzy`] the weights should lie
    /// in `[0, 1]`).
    ///
    /// # Errors
    /// As [`KnnGraph::from_edges`].
    ///
    /// # Examples
    /// ```
    /// use imgcluster::features::{KnnGraph, Union};
    ///
    /// let g = KnnGraph::from_edges_with(3, &[(0, 1, 0.5), (1, 0, 0.25), (2, 1, 1.0)], Union::Fuzzy)?;
    /// assert_eq!(g.neighbours(1), (&[0, 2][..], &[0.625, 1.0][..]));
    /// # Ok::<(), imgcluster::features::FeaturesError>(())
    /// ```
    pub fn from_edges_with(
        n: usize,
        edges: &[(u32, u32, f64)],
        union: Union,
    ) -> Result<Self, FeaturesError> {
        for &(i, j, w) in edges {
            if i as usize >= n || j as usize >= n || i == j || !(w.is_finite() && w >= 0.0) {
                return Err(FeaturesError::InvalidParam {
                    name: "edges",
                    reason: format!("edge ({i}, {j}, {w}) in a graph of {n} nodes"),
                });
            }
        }
        Ok(Self::from_edges_unchecked(n, edges, union))
    }

    fn from_edges_unchecked(n: usize, edges: &[(u32, u32, f64)], union: Union) -> Self {
        let mut count = vec![0usize; n + 1];
        for &(i, j, _) in edges {
            count[i as usize + 1] += 1;
            count[j as usize + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut entries = vec![(0u32, 0.0f64); count[n]];
        for &(i, j, w) in edges {
            entries[fill[i as usize]] = (j, w);
            fill[i as usize] += 1;
            entries[fill[j as usize]] = (i, w);
            fill[j as usize] += 1;
        }
        let mut indptr = Vec::with_capacity(n + 1);
        let mut indices = Vec::with_capacity(entries.len());
        let mut weights = Vec::with_capacity(entries.len());
        let mut degrees = Vec::with_capacity(n);
        indptr.push(0);
        for i in 0..n {
            let row = &mut entries[count[i]..count[i + 1]];
            // Stable: the edges of one pair keep the order given, so merges are reproducible.
            row.sort_by_key(|e| e.0);
            let start = indices.len();
            for &(j, w) in row.iter() {
                if indices.len() > start && *indices.last().unwrap_or(&u32::MAX) == j {
                    let last = weights.len() - 1;
                    weights[last] = union.merge(weights[last], w);
                } else {
                    indices.push(j);
                    weights.push(w);
                }
            }
            degrees.push(weights[start..].iter().sum());
            indptr.push(indices.len());
        }
        Self {
            indptr,
            indices,
            weights,
            degrees,
        }
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.degrees.len()
    }

    /// Number of stored entries (each undirected edge counts twice).
    pub fn n_entries(&self) -> usize {
        self.indices.len()
    }

    /// The neighbours of node `i` (increasing) and the weights of those edges.
    ///
    /// # Panics
    /// Panics if `i >= self.n_nodes()`.
    pub fn neighbours(&self, i: usize) -> (&[u32], &[f64]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.weights[r])
    }

    /// The degree (sum of edge weights) of every node.
    pub fn degrees(&self) -> &[f64] {
        &self.degrees
    }

    /// A partition smoothed on the graph: in each of at most `rounds` rounds, every node
    /// takes the cluster with the largest total edge weight among its neighbours (its own
    /// cluster on a tie with it, else the lowest cluster index among the tied); all nodes
    /// move at once, from the previous round's clusters, so the result depends on neither
    /// the node order nor the thread count. Stops early when a round changes nothing.
    /// Isolated nodes keep their cluster.
    ///
    /// # Errors
    /// [`FeaturesError::InvalidParam`] when `labels` does not have one label `< k` per node.
    ///
    /// # Examples
    /// A path 0–1–2–3 where node 1 was put with the far pair: its neighbours outweigh it.
    /// ```
    /// use imgcluster::features::KnnGraph;
    ///
    /// let g = KnnGraph::from_edges(4, &[(0, 1, 1.0), (1, 2, 0.5), (2, 3, 1.0)])?;
    /// assert_eq!(g.smooth_labels(&[0, 1, 1, 1], 2, 1)?, [1, 0, 1, 1]);
    /// assert_eq!(g.smooth_labels(&[0, 1, 1, 1], 2, 0)?, [0, 1, 1, 1]);
    /// # Ok::<(), imgcluster::features::FeaturesError>(())
    /// ```
    pub fn smooth_labels(
        &self,
        labels: &[u32],
        k: usize,
        rounds: usize,
    ) -> Result<Vec<u32>, FeaturesError> {
        self.check_labels(labels, k)?;
        let mut cur = labels.to_vec();
        for _ in 0..rounds {
            let next: Vec<u32> = (0..cur.len())
                .into_par_iter()
                .with_min_len(NODES_PER_TASK)
                .map(|i| self.majority(i, &cur))
                .collect();
            if next == cur {
                break;
            }
            cur = next;
        }
        Ok(cur)
    }

    /// The cluster with the largest weight among the neighbours of `i` (see
    /// [`KnnGraph::smooth_labels`]).
    fn majority(&self, i: usize, labels: &[u32]) -> u32 {
        let (js, ws) = self.neighbours(i);
        let mut votes: Vec<(u32, f64)> = js
            .iter()
            .zip(ws)
            .map(|(&j, &w)| (labels[j as usize], w))
            .collect();
        // Sums per cluster in a fixed order: by cluster, then by neighbour index.
        votes.sort_by_key(|v| v.0);
        let own = labels[i];
        let (mut best, mut best_w) = (own, f64::NEG_INFINITY);
        let mut own_w = 0.0;
        let mut at = 0;
        while at < votes.len() {
            let c = votes[at].0;
            let mut w = 0.0;
            while at < votes.len() && votes[at].0 == c {
                w += votes[at].1;
                at += 1;
            }
            if c == own {
                own_w = w;
            }
            if w > best_w {
                (best, best_w) = (c, w);
            }
        }
        if best_w > own_w {
            best
        } else {
            own
        }
    }

    fn check_labels(&self, labels: &[u32], k: usize) -> Result<(), FeaturesError> {
        let n = self.n_nodes();
        if labels.len() != n {
            return Err(FeaturesError::InvalidParam {
                name: "labels",
                reason: format!("{} labels for {n} nodes", labels.len()),
            });
        }
        if let Some(&l) = labels.iter().find(|&&l| l as usize >= k) {
            return Err(FeaturesError::InvalidParam {
                name: "labels",
                reason: format!("label {l} is not below k = {k}"),
            });
        }
        Ok(())
    }

    /// The normalised cut of a partition: `Σ_c cut(c) / vol(c)`, where `vol(c)` is the sum
    /// of the degrees of the nodes in cluster `c` and `cut(c)` the weight of the edges that
    /// leave it (Shi & Malik). Lower is better: 0 when no edge crosses clusters, at most
    /// `k`. Clusters of zero volume (empty, or isolated nodes) add 0.
    ///
    /// # Errors
    /// [`FeaturesError::InvalidParam`] when `labels` does not have one label `< k` per node.
    ///
    /// # Examples
    /// Two pairs joined by a weak edge: each pair's volume is 2 + 0.5, and 0.5 of it leaves.
    /// ```
    /// use imgcluster::features::KnnGraph;
    ///
    /// let g = KnnGraph::from_edges(4, &[(0, 1, 1.0), (2, 3, 1.0), (1, 2, 0.5)])?;
    /// let ncut = g.normalized_cut(&[0, 0, 1, 1], 2)?;
    /// assert!((ncut - 2.0 * 0.5 / 2.5).abs() < 1e-12);
    /// # Ok::<(), imgcluster::features::FeaturesError>(())
    /// ```
    pub fn normalized_cut(&self, labels: &[u32], k: usize) -> Result<f64, FeaturesError> {
        self.check_labels(labels, k)?;
        let mut vol = vec![0.0f64; k];
        let mut within = vec![0.0f64; k];
        for (i, &c) in labels.iter().enumerate() {
            let c = c as usize;
            let (cols, ws) = self.neighbours(i);
            for (&j, &w) in cols.iter().zip(ws) {
                vol[c] += w;
                if labels[j as usize] as usize == c {
                    within[c] += w;
                }
            }
        }
        Ok(vol
            .iter()
            .zip(&within)
            .map(|(&v, &a)| if v > 0.0 { (v - a) / v } else { 0.0 })
            .sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: usize) -> Vec<f64> {
        (0..n)
            .flat_map(|i| {
                let a = i as f64 * std::f64::consts::TAU / n as f64;
                [a.cos(), a.sin(), 0.3]
            })
            .collect()
    }

    #[test]
    fn defaults() {
        assert_eq!(KnnOptions::default(), KnnOptions::new());
        assert_eq!(
            (KnnOptions::new().k, KnnOptions::new().scale_neighbour),
            (10, 7)
        );
    }

    #[test]
    fn top_k_orders_and_breaks_ties_by_index() {
        let col = [0.5, 0.9, 0.5, 1.0, 0.9, 0.1];
        let (mut idx, mut sim) = ([0u32; 4], [0.0; 4]);
        top_k(&col, 3, &mut idx, &mut sim);
        assert_eq!(idx, [1, 4, 0, 2]);
        assert_eq!(sim, [0.9, 0.9, 0.5, 0.5]);
    }

    #[test]
    fn graph_is_symmetric_with_k_neighbours_and_no_self() {
        let n = 300;
        let p = ring(n);
        let k = 10;
        let nb = cosine_neighbours(&p, 3, k, Threads::Fixed(1)).unwrap();
        for i in 0..n {
            let l = nb.of(i);
            assert_eq!(l.len(), k);
            assert!(!l.contains(&(i as u32)), "self in list of {i}");
            let s = nb.similarities(i);
            assert!(s.windows(2).all(|w| w[0] >= w[1]));
        }
        let g = KnnGraph::from_neighbours(&nb, &KnnOptions::new());
        for i in 0..n {
            let (cols, ws) = g.neighbours(i);
            assert!(cols.len() >= k);
            assert!(cols.windows(2).all(|w| w[0] < w[1]));
            assert!(!cols.contains(&(i as u32)));
            for &j in nb.of(i) {
                assert!(cols.contains(&j));
            }
            for (&j, &w) in cols.iter().zip(ws) {
                let (back, bw) = g.neighbours(j as usize);
                let at = back.iter().position(|&b| b as usize == i).unwrap();
                assert_eq!(bw[at], w);
                assert!(w > 0.0 && w <= 1.0);
            }
        }
        // On a regular ring every point's neighbours are the 5 on each side.
        let mut want: Vec<u32> = (1..=5).flat_map(|d| [(d) as u32, (n - d) as u32]).collect();
        want.sort();
        let mut got = nb.of(0).to_vec();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn duplicates_tie_to_the_lowest_index() {
        let p = [1.0, 0.0].repeat(6);
        let nb = cosine_neighbours(&p, 2, 3, Threads::Fixed(1)).unwrap();
        assert_eq!(nb.of(0), [1, 2, 3]);
        assert_eq!(nb.of(4), [0, 1, 2]);
        // All distances are 0: the scale guard keeps the weights finite (exp(0) = 1).
        let g = KnnGraph::from_neighbours(&nb, &KnnOptions::new());
        assert!(g.neighbours(0).1.iter().all(|&w| w == 1.0));
    }

    #[test]
    fn k_is_capped_and_inputs_are_checked() {
        let nb = cosine_neighbours(&[1.0, 2.0, 3.0], 1, 10, Threads::Fixed(1)).unwrap();
        assert_eq!(nb.k(), 2);
        assert!(matches!(
            cosine_neighbours(&[1.0], 1, 1, Threads::Fixed(1)),
            Err(FeaturesError::TooFewSamples { .. })
        ));
        assert!(matches!(
            cosine_neighbours(&[1.0, 2.0], 1, 0, Threads::Fixed(1)),
            Err(FeaturesError::InvalidParam { .. })
        ));
        assert!(matches!(
            cosine_neighbours(&[1.0, f64::NAN], 1, 1, Threads::Fixed(1)),
            Err(FeaturesError::NonFinite { .. })
        ));
        assert!(KnnGraph::from_edges(2, &[(0, 0, 1.0)]).is_err());
        assert!(KnnGraph::from_edges(2, &[(0, 2, 1.0)]).is_err());
        assert!(KnnGraph::from_edges(2, &[(0, 1, -1.0)]).is_err());
    }

    #[test]
    fn threads_do_not_change_the_graph() {
        let p = ring(700);
        let o = KnnOptions::new();
        let a = KnnGraph::build(&p, 3, &o, Threads::Fixed(1)).unwrap();
        let b = KnnGraph::build(&p, 3, &o, Threads::Fixed(2)).unwrap();
        assert_eq!(a, b);
    }

    /// Label smoothing by hand on two triangles joined by one edge: a node put with the
    /// other triangle comes back in one round; ties keep the node's own cluster; the
    /// rounds stop when nothing changes; threads do not matter.
    #[test]
    fn smoothing_by_hand() {
        let g = KnnGraph::from_edges(
            6,
            &[
                (0, 1, 1.0),
                (1, 2, 1.0),
                (0, 2, 1.0),
                (3, 4, 1.0),
                (4, 5, 1.0),
                (3, 5, 1.0),
                (2, 3, 0.5),
            ],
        )
        .unwrap();
        assert_eq!(
            g.smooth_labels(&[0, 0, 1, 1, 1, 1], 2, 1).unwrap(),
            [0, 0, 0, 1, 1, 1]
        );
        assert_eq!(
            g.smooth_labels(&[0, 0, 0, 1, 1, 1], 2, 5).unwrap(),
            [0, 0, 0, 1, 1, 1]
        );
        // A tie (node 0 between clusters 1 and 2, weight 1 each) keeps its own cluster 0
        // only when its own weighs as much; here cluster 0 has no weight, so the lower wins.
        let h = KnnGraph::from_edges(3, &[(0, 1, 1.0), (0, 2, 1.0)]).unwrap();
        assert_eq!(h.smooth_labels(&[0, 2, 1], 3, 1).unwrap()[0], 1);
        assert_eq!(h.smooth_labels(&[1, 1, 0], 2, 1).unwrap()[0], 1);
        assert!(g.smooth_labels(&[0, 0, 0], 2, 1).is_err());
        assert!(g.smooth_labels(&[0, 0, 0, 2, 0, 0], 2, 1).is_err());
        let labels: Vec<u32> = (0..300).map(|i| (i * 7 % 5) as u32).collect();
        let ring = KnnGraph::build(&ring(300), 3, &KnnOptions::new(), Threads::Fixed(1)).unwrap();
        let one = Threads::Fixed(1).install(|| ring.smooth_labels(&labels, 5, 3).unwrap());
        let two = Threads::Fixed(2).install(|| ring.smooth_labels(&labels, 5, 3).unwrap());
        assert_eq!(one, two);
    }

    /// Weights by hand: 1-D angles on the unit circle at 0, 0.1, 0.3 (radians) with k = 1:
    /// the nearest of 0 is 0.1, of 0.1 is 0, of 0.3 is 0.1. d² = 2 − 2cos(Δ); scales are
    /// the distances to the only neighbour.
    #[test]
    fn weights_by_hand() {
        let p: Vec<f64> = [0.0f64, 0.1, 0.3]
            .iter()
            .flat_map(|a| [a.cos(), a.sin()])
            .collect();
        let d2 = |a: f64| 2.0 - 2.0 * a.cos();
        let (s0, s1, s2) = (d2(0.1).sqrt(), d2(0.1).sqrt(), d2(0.2).sqrt());
        let a01 = (-d2(0.1) / (s0 * s1)).exp();
        let w21 = (-d2(0.2) / (s2 * s1)).exp();
        // 0 and 1 list each other: the fuzzy union gives 2a − a², the maximum a. Only 2
        // lists 1 (not the other way round): one direction, the same for both unions.
        for (union, w01) in [(Union::Fuzzy, 2.0 * a01 - a01 * a01), (Union::Max, a01)] {
            let o = KnnOptions::new().k(1).union(union);
            let g = KnnGraph::build(&p, 2, &o, Threads::Fixed(1)).unwrap();
            let (c, w) = g.neighbours(1);
            assert_eq!(c, [0, 2]);
            assert!(
                (w[0] - w01).abs() < 1e-9 && (w[1] - w21).abs() < 1e-9,
                "{union:?}: {w:?}"
            );
            assert!((g.degrees()[1] - (w01 + w21)).abs() < 1e-9);
        }
    }

    /// ncut by hand on a path 0 —1— 1 —2— 2 (weights 1 and 2): split {0}, {1, 2}:
    /// vol(0) = 1, cut 1 → 1; vol({1, 2}) = (1 + 2) + 2 = 5, cut 1 → 1/5. Total 1.2.
    #[test]
    fn normalized_cut_by_hand() {
        let g = KnnGraph::from_edges(3, &[(0, 1, 1.0), (1, 2, 2.0)]).unwrap();
        let v = g.normalized_cut(&[0, 1, 1], 2).unwrap();
        assert!((v - 1.2).abs() < 1e-9, "{v}");
        // One cluster: nothing leaves it. An extra empty cluster adds nothing.
        assert!(g.normalized_cut(&[0, 0, 0], 1).unwrap().abs() < 1e-9);
        assert!(g.normalized_cut(&[0, 0, 0], 3).unwrap().abs() < 1e-9);
        // Every node alone: each cluster loses all its volume.
        assert!((g.normalized_cut(&[0, 1, 2], 3).unwrap() - 3.0).abs() < 1e-9);
        // Relabelling does not matter.
        assert_eq!(
            g.normalized_cut(&[1, 0, 0], 2).unwrap(),
            g.normalized_cut(&[0, 1, 1], 2).unwrap()
        );
        assert!(g.normalized_cut(&[0, 1], 2).is_err());
        assert!(g.normalized_cut(&[0, 1, 2], 2).is_err());
    }
}
