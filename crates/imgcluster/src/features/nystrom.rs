//! Placing new points in a fitted spectral embedding: the Nyström extension.
//!
//! A spectral embedding is made of the eigenvectors `u_c` of `M = D^-½ W D^-½` of the
//! training graph, so each training node satisfies
//!
//! ```text
//! λ_c u_c(i) = Σ_j w_ij u_c(j) / √(d_i d_j)
//! ```
//!
//! The Nyström formula takes that identity as the definition of `u_c(x)` for a new point
//! `x`: with the weights `w_xj` that `x` would have in the graph,
//! `u_c(x) = Σ_j w_xj u_c(j) / √(d_x d_j) / λ_c`. The row is then weighted by `λ_c^p` and
//! scaled to unit length as the fit does its rows, so the factor `1/√d_x` cancels and the
//! degree of `x` is not needed.
//!
//! The weights of `x` follow the rule of [`KnnGraph`](super::KnnGraph) exactly, against
//! the training points only (the graph itself is not changed):
//!
//! * `x`'s `k` most cosine-similar training points, ties to the lower index;
//! * `s_x`, the distance to its `m`-th (the training points keep their own `s_j`);
//! * an edge to every training point `j` that `x` lists, and to every `j` that would list
//!   `x` (its similarity to `x` is at least that of `j`'s own `k`-th neighbour), weighted
//!   `a = exp(−d_xj² / (s_x s_j))`, or the graph's union of `a` with itself
//!   ([`Union`](super::Union)) when both hold.
//!
//! A training point whose direction equals `x`'s (cosine similarity within `1e-12` of 1)
//! stands for `x` itself and is left out, as a node is not its own neighbour. A training
//! sample given again thus gets its graph row back, and its embedding row up to the
//! eigensolver's tolerance.
//!
//! Cost per new point: one pass over the `N` training points in `f32` (`N · d` products in
//! blocks of 128 queries, the same kernel as the fit's kNN search), the exact `f64`
//! similarity of at most `k + 8` candidates and of the training points near their `k`-th
//! neighbour's similarity, then `O(edges · K)` for the row. Memory: the training points
//! (`N × d`), four numbers per training point and the `N × K` eigenvectors.

use faer::Mat;
use rayon::prelude::*;

use super::error::check_rows;
use super::linalg::gemm;
use super::spectral::eigen_weight;
use super::{FeaturesError, KnnOptions, Neighbours, SpectralEmbedding};
use crate::threads::Threads;

/// Query points per block of the similarity product.
const QUERIES_PER_BLOCK: usize = 128;
/// Extra candidates picked in `f32` before the exact ranking (as the fit's kNN search).
const CANDIDATE_MARGIN: usize = 8;
/// Margin on `f32` similarities of unit vectors when looking for reverse edges: far above
/// the rounding of a product of unit vectors of a few hundred values (about `1e-5`).
const F32_MARGIN: f64 = 1e-3;
/// A training point within this of cosine similarity 1 is the new point itself.
const SAME_POINT: f64 = 1e-12;
/// Guard added to `s_x s_j`, as in the graph.
const SCALE_GUARD: f64 = 1e-12;
/// Eigenvalues smaller than this in magnitude carry no direction a new point can take.
const SMALLEST_EIGENVALUE: f64 = 1e-12;

/// What a fitted graph and spectral embedding keep to place new points (see the module
/// documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphExtension {
    knn: KnnOptions,
    /// Values per point (the PCA scores, or the features).
    dims: usize,
    /// Training points scaled to unit length, N × dims.
    points: Vec<f64>,
    /// Per training point: scale `s_j`, similarity of its `k`-th neighbour, degree.
    scales: Vec<f64>,
    kth: Vec<f64>,
    degrees: Vec<f64>,
    /// Eigenvectors, N × K, and their eigenvalues.
    vectors: Vec<f64>,
    eigenvalues: Vec<f64>,
    /// The power of the eigenvalue weighting of the rows.
    power: u32,
}

/// The parts of a [`GraphExtension`], as stored in a model file.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphExtensionParts {
    /// The kNN options of the graph.
    pub knn: KnnOptions,
    /// Values per point.
    pub dims: usize,
    /// Training points scaled to unit length, N × `dims`.
    pub points: Vec<f64>,
    /// Scale `s_j` of every training point.
    pub scales: Vec<f64>,
    /// Cosine similarity of every training point to its `k`-th neighbour.
    pub kth_similarities: Vec<f64>,
    /// Degree of every training node.
    pub degrees: Vec<f64>,
    /// Eigenvectors, N × K row-major.
    pub vectors: Vec<f64>,
    /// Their eigenvalues (K).
    pub eigenvalues: Vec<f64>,
    /// The power `p` of the eigenvalue weighting `λ^p` of the rows.
    pub power: u32,
}

fn unit_rows(points: &[f64], dims: usize) -> Vec<f64> {
    let mut unit = points.to_vec();
    for row in unit.chunks_exact_mut(dims) {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
    }
    unit
}

fn dist2(similarity: f64) -> f64 {
    let d = (2.0 - 2.0 * similarity).max(0.0).sqrt();
    d * d
}

impl GraphExtension {
    /// Keeps what [`GraphExtension::embed`] needs of a fit: the training `points`
    /// (N × `dims`, as given to the kNN search), their neighbour lists, the graph's
    /// degrees and the embedding.
    pub(crate) fn new(
        points: &[f64],
        dims: usize,
        nb: &Neighbours,
        knn: &KnnOptions,
        degrees: &[f64],
        embedding: &SpectralEmbedding,
    ) -> Self {
        let k = nb.k();
        let m = knn.scale_neighbour.clamp(1, k.max(1)) - 1;
        let n = nb.len();
        let scales = (0..n)
            .map(|i| dist2(nb.similarities(i)[m]).sqrt())
            .collect();
        let kth = (0..n).map(|i| nb.similarities(i)[k - 1]).collect();
        Self {
            knn: *knn,
            dims,
            points: unit_rows(points, dims),
            scales,
            kth,
            degrees: degrees.to_vec(),
            vectors: embedding.vectors().to_vec(),
            eigenvalues: embedding.eigenvalues().to_vec(),
            power: embedding.power(),
        }
    }

    /// Rebuilds an extension from stored parts.
    ///
    /// # Errors
    /// [`FeaturesError::InvalidParam`] when the parts disagree in length, are not finite,
    /// or hold fewer than 2 points or no eigenvector.
    pub fn from_parts(p: GraphExtensionParts) -> Result<Self, FeaturesError> {
        let bad = |reason: String| FeaturesError::InvalidParam {
            name: "graph extension",
            reason,
        };
        let n = p.scales.len();
        let k = p.eigenvalues.len();
        if n < 2 || k == 0 || p.dims == 0 {
            return Err(bad(format!(
                "{n} points of {} values and {k} eigenvectors",
                p.dims
            )));
        }
        if p.knn.k == 0 || p.knn.scale_neighbour == 0 {
            return Err(bad("k and scale_neighbour must be at least 1".into()));
        }
        let lens = [
            (p.points.len(), n.checked_mul(p.dims), "points"),
            (p.kth_similarities.len(), Some(n), "kth_similarities"),
            (p.degrees.len(), Some(n), "degrees"),
            (p.vectors.len(), n.checked_mul(k), "vectors"),
        ];
        for (len, want, name) in lens {
            if Some(len) != want {
                return Err(bad(format!("{name} has {len} values for {n} points")));
            }
        }
        let all = [
            &p.points,
            &p.scales,
            &p.kth_similarities,
            &p.degrees,
            &p.vectors,
            &p.eigenvalues,
        ];
        if all.iter().any(|v| v.iter().any(|x| !x.is_finite())) {
            return Err(bad("a value is not finite".into()));
        }
        Ok(Self {
            knn: p.knn,
            dims: p.dims,
            points: p.points,
            scales: p.scales,
            kth: p.kth_similarities,
            degrees: p.degrees,
            vectors: p.vectors,
            eigenvalues: p.eigenvalues,
            power: p.power,
        })
    }

    /// The stored parts (for a model file).
    pub fn parts(&self) -> GraphExtensionParts {
        GraphExtensionParts {
            knn: self.knn,
            dims: self.dims,
            points: self.points.clone(),
            scales: self.scales.clone(),
            kth_similarities: self.kth.clone(),
            degrees: self.degrees.clone(),
            vectors: self.vectors.clone(),
            eigenvalues: self.eigenvalues.clone(),
            power: self.power,
        }
    }

    /// Number of training points.
    pub fn n_points(&self) -> usize {
        self.scales.len()
    }

    /// Values per point.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Dimensions of the embedding (`K`).
    pub fn embedding_dims(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The power of the eigenvalue weighting of the rows.
    pub fn power(&self) -> u32 {
        self.power
    }

    /// The kNN options of the graph.
    pub fn knn(&self) -> &KnnOptions {
        &self.knn
    }

    /// The embedding rows of new points (M × `dims`, row-major): M × K, each of unit
    /// length (or zero for a point with no edge of positive weight). Points are placed
    /// independently, in fixed blocks; the result does not depend on `threads`.
    ///
    /// # Errors
    /// [`FeaturesError::Shape`] or [`FeaturesError::NonFinite`] for malformed points.
    pub fn embed(&self, points: &[f64], threads: Threads) -> Result<Vec<f64>, FeaturesError> {
        Ok(self.embed_with_similarity(points, threads)?.0)
    }

    /// [`GraphExtension::embed`], and each point's cosine similarity to its most similar
    /// training point (the training point it duplicates left out): how far it is from
    /// everything the graph was built from.
    ///
    /// # Errors
    /// As [`GraphExtension::embed`].
    pub fn embed_with_similarity(
        &self,
        points: &[f64],
        threads: Threads,
    ) -> Result<(Vec<f64>, Vec<f64>), FeaturesError> {
        let m = check_rows("spectral extension", points, self.dims)?;
        let kdim = self.embedding_dims();
        let mut out = vec![0.0f64; m * kdim];
        let mut nearest = vec![0.0f64; m];
        if m == 0 {
            return Ok((out, nearest));
        }
        let queries = unit_rows(points, self.dims);
        let n = self.n_points();
        let dims = self.dims;
        let train32 = Mat::<f32>::from_fn(n, dims, |i, j| self.points[i * dims + j] as f32);
        let query32 = Mat::<f32>::from_fn(m, dims, |i, j| queries[i * dims + j] as f32);
        threads.install(|| {
            out.par_chunks_mut(QUERIES_PER_BLOCK * kdim)
                .zip(nearest.par_chunks_mut(QUERIES_PER_BLOCK))
                .enumerate()
                .for_each(|(b, (dst, near))| {
                    let q0 = b * QUERIES_PER_BLOCK;
                    let nq = dst.len() / kdim;
                    let mut gram = Mat::<f32>::zeros(n, nq);
                    gemm(
                        gram.as_mut(),
                        train32.as_ref(),
                        query32.as_ref().subrows(q0, nq).transpose(),
                    );
                    for (t, row) in dst.chunks_exact_mut(kdim).enumerate() {
                        let q = &queries[(q0 + t) * dims..(q0 + t + 1) * dims];
                        near[t] = self.embed_one(q, gram.col_as_slice(t), row);
                    }
                })
        });
        Ok((out, nearest))
    }

    /// Exact similarity of the unit query `q` to training point `j`.
    fn similarity(&self, q: &[f64], j: usize) -> f64 {
        let p = &self.points[j * self.dims..(j + 1) * self.dims];
        q.iter().zip(p).map(|(a, b)| a * b).sum()
    }

    /// One point: `q` its unit row, `sim32` its `f32` similarities to every training point.
    /// Returns its similarity to its most similar training point (−1 without one).
    fn embed_one(&self, q: &[f64], sim32: &[f32], row: &mut [f64]) -> f64 {
        let n = self.n_points();
        let k = self.knn.k.min(n - 1).max(1);
        // Candidates: the k + margin largest f32 similarities, then exact ranking.
        let c = (k + CANDIDATE_MARGIN).min(n);
        let mut cand: Vec<(f32, u32)> = sim32
            .iter()
            .enumerate()
            .map(|(j, &s)| (s, j as u32))
            .collect();
        let cmp = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
        if c < n {
            cand.select_nth_unstable_by(c - 1, cmp);
            cand.truncate(c);
        }
        let mut ranked: Vec<(f64, u32)> = cand
            .iter()
            .map(|&(_, j)| (self.similarity(q, j as usize), j))
            .filter(|&(s, _)| s < 1.0 - SAME_POINT)
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        ranked.truncate(k);
        let Some(&(most_similar, _)) = ranked.first() else {
            return -1.0;
        };
        let mi = self.knn.scale_neighbour.clamp(1, ranked.len()) - 1;
        let s_x = dist2(ranked[mi].0).sqrt();
        // (training point, similarity, whether it would list x too)
        let mut edges: Vec<(u32, f64, bool)> = ranked
            .iter()
            .map(|&(s, j)| (j, s, s >= self.kth[j as usize]))
            .collect();
        // Reverse edges: training points that would list the new point.
        for (j, &s32) in sim32.iter().enumerate() {
            if f64::from(s32) + F32_MARGIN < self.kth[j] {
                continue;
            }
            if edges.iter().any(|&(e, _, _)| e as usize == j) {
                continue;
            }
            let s = self.similarity(q, j);
            if s >= self.kth[j] && s < 1.0 - SAME_POINT {
                edges.push((j as u32, s, false));
            }
        }
        let kdim = row.len();
        for (j, s, both) in edges {
            let j = j as usize;
            let a = (-dist2(s) / (s_x * self.scales[j] + SCALE_GUARD)).exp();
            let w = if both { self.knn.union.merge(a, a) } else { a };
            let d = self.degrees[j];
            let f = w * if d > 0.0 { 1.0 / d.sqrt() } else { 1.0 };
            let u = &self.vectors[j * kdim..(j + 1) * kdim];
            for (o, &v) in row.iter_mut().zip(u) {
                *o += f * v;
            }
        }
        for (o, &l) in row.iter_mut().zip(&self.eigenvalues) {
            *o = if l.abs() > SMALLEST_EIGENVALUE {
                *o / l * eigen_weight(l, self.power)
            } else {
                0.0
            };
        }
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|v| *v /= norm);
        }
        most_similar
    }
}
