//! Spectral embedding: coordinates in which the clusters of a graph become compact.
//!
//! For a graph with weights `W` and degrees `D`, the embedding is made of the `r`
//! eigenvectors `u_c` of `M = D^-½ W D^-½` with the largest eigenvalues `λ_c` (those of
//! the normalised Laplacian `I − M` with the smallest), each scaled by `λ_c^p`
//! ([`SpectralOptions::power`]), each row then scaled to unit length (Ng, Jordan & Weiss,
//! with the eigenvalue weighting of diffusion maps, Coifman & Lafon). Points of one
//! well-separated cluster land near one direction, which k-means then finds.
//!
//! Why the weighting: `λ_c^p` is how much of direction `c` survives `p` steps of the
//! random walk on the graph. With more eigenvectors than clusters, the first ones (λ near
//! 1: the clusters) keep their weight while the later ones (λ further from 1: the
//! structure inside a cluster, and noise) fade smoothly instead of being cut off at an
//! arbitrary rank, so a cluster that the `K`-th eigenvector alone would not separate can
//! still be told apart. With `p = 0` every kept eigenvector weighs the same.
//!
//! How the eigenvectors are computed, deterministically:
//!
//! * The graph is split into its connected components (each node's component is found by
//!   a breadth-first search from the lowest unvisited node). A component's eigenvalue 1 is
//!   simple, so single-vector Krylov methods cannot miss copies of it, as they could on a
//!   disconnected graph.
//! * A component of at most [`SpectralOptions::dense_up_to`] nodes is solved densely
//!   (`faer`'s symmetric eigensolver). A larger one is solved by Lanczos with full
//!   reorthogonalisation and thick restarts (Wu & Simon), whose dense steps (products,
//!   the small Rayleigh–Ritz eigenproblems) are `faer`'s. The start vector is
//!   pseudo-random with a fixed seed (uniform in `[-1, 1]`, from [`CvRng`] with state 1),
//!   as ARPACK-based solvers do: an all-ones start lies close to the
//!   top eigenvector `D^½ 1` (exactly on it for a regular graph) and can have no
//!   component at all along eigenvectors of a symmetric graph. The iteration stops once
//!   every wanted residual is below [`SpectralOptions::tolerance`]. Like any
//!   single-vector Krylov method it can miss an exact copy of a repeated eigenvalue
//!   within one component, which takes an exact symmetry of the graph (data graphs do
//!   not have them; the dense path has no such limit).
//! * A component's top eigenpair is known exactly (eigenvalue 1, eigenvector
//!   `√degree`, normalised) and replaces the computed one.
//! * The eigenpairs of all components are merged by decreasing eigenvalue (ties: larger
//!   component, then earlier component, then earlier eigenpair) and the first `K` kept.
//!   With `K` or more components the embedding holds only component indicators, of the
//!   `K` largest components; the nodes of the others get zero rows. Each eigenvector's
//!   sign is fixed so that its largest-magnitude entry is positive.

use faer::{Mat, MatRef};

use super::linalg::{fix_sign, gemm, symmetric_eigen};
use super::{FeaturesError, KnnGraph};
use crate::rng::CvRng;

/// State of the generator that draws the Lanczos start vector of each component.
const START_STATE: u64 = 1;

/// Spectral embedding options.
///
/// # Examples
/// ```
/// use imgcluster::features::SpectralOptions;
///
/// let o = SpectralOptions::new();
/// assert_eq!((o.tolerance, o.max_restarts, o.dense_up_to), (1e-8, 1000, 256));
/// assert_eq!(o.power, 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralOptions {
    /// The power `p` of the eigenvalue weighting `λ_c^p` (0: none).
    pub power: u32,
    /// Largest residual `‖M v − λ v‖` accepted for each eigenpair (finite, > 0).
    pub tolerance: f64,
    /// Restarts of the Lanczos iteration before giving up (at least 1).
    pub max_restarts: usize,
    /// Components with at most this many nodes are solved densely (at least 1; smaller
    /// values than 64 act as 64, the smallest component the Lanczos iteration takes).
    pub dense_up_to: usize,
}

impl Default for SpectralOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SpectralOptions {
    /// Eigenvalue weighting `λ^10`, tolerance `1e-8`, 1000 restarts, dense solve up to
    /// 256 nodes.
    pub const fn new() -> Self {
        Self {
            power: DEFAULT_POWER,
            tolerance: 1e-8,
            max_restarts: 1000,
            dense_up_to: 256,
        }
    }

    /// Sets the power of the eigenvalue weighting.
    pub const fn power(mut self, power: u32) -> Self {
        self.power = power;
        self
    }

    /// Sets the residual tolerance.
    pub const fn tolerance(mut self, tolerance: f64) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Sets the number of restarts.
    pub const fn max_restarts(mut self, max_restarts: usize) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// Sets the largest component solved densely.
    pub const fn dense_up_to(mut self, nodes: usize) -> Self {
        self.dense_up_to = nodes;
        self
    }
}

/// The power of the eigenvalue weighting in [`SpectralOptions::new`]: ten steps of the
/// random walk. On every data set measured (digits of 8, 20 and 28 pixels, shapes), `λ^5`
/// kept too much of the within-class directions and `λ^20` faded the last class
/// directions too far.
pub const DEFAULT_POWER: u32 = 10;

/// `λ^p` for the eigenvalue weighting: 0 for `λ ≤ 0` (such directions oscillate from node
/// to node and carry no cluster), 1 for `p = 0`.
pub(crate) fn eigen_weight(value: f64, power: u32) -> f64 {
    if power == 0 {
        1.0
    } else if value > 0.0 {
        value.powi(power as i32)
    } else {
        0.0
    }
}

/// Smallest component solved by Lanczos rather than densely.
const LANCZOS_MIN_NODES: usize = 65;

/// The `K`-dimensional spectral embedding of a graph: one unit-length row per node.
///
/// # Examples
/// Two triangles joined by one weak edge: the 2-D embedding puts each triangle on its own
/// direction.
/// ```
/// use imgcluster::features::{KnnGraph, SpectralEmbedding, SpectralOptions};
///
/// let g = KnnGraph::from_edges(6, &[
///     (0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0),
///     (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0),
///     (2, 3, 0.01),
/// ])?;
/// let e = SpectralEmbedding::fit(&g, 2, &SpectralOptions::new())?;
/// assert!((e.eigenvalues()[0] - 1.0).abs() < 1e-12);
/// let dot = |a: &[f64], b: &[f64]| a[0] * b[0] + a[1] * b[1];
/// assert!(dot(e.row(0), e.row(1)) > 0.99 && dot(e.row(4), e.row(5)) > 0.99);
/// assert!(dot(e.row(0), e.row(5)) < 0.5);
/// # Ok::<(), imgcluster::features::FeaturesError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SpectralEmbedding {
    dims: usize,
    power: u32,
    rows: Vec<f64>,
    /// The eigenvectors before the rows were scaled: N × K, column `c` a unit vector.
    vectors: Vec<f64>,
    eigenvalues: Vec<f64>,
}

impl SpectralEmbedding {
    /// The embedding of `graph` in `k` dimensions; see the module documentation.
    ///
    /// # Errors
    /// [`FeaturesError::TooFewSamples`] when `k` exceeds the number of nodes,
    /// [`FeaturesError::InvalidParam`] for `k == 0` or invalid options,
    /// [`FeaturesError::NotConverged`] when an eigensolver fails.
    pub fn fit(graph: &KnnGraph, k: usize, opts: &SpectralOptions) -> Result<Self, FeaturesError> {
        let n = graph.n_nodes();
        check(k, n, opts)?;
        let inv_sqrt_deg: Vec<f64> = graph
            .degrees()
            .iter()
            .map(|&d| if d > 0.0 { 1.0 / d.sqrt() } else { 1.0 })
            .collect();

        let mut candidates: Vec<Candidate> = Vec::new();
        for (ci, nodes) in components(graph).into_iter().enumerate() {
            let local = LocalOperator::new(graph, &nodes, &inv_sqrt_deg);
            let r = k.min(nodes.len());
            let (mut values, vectors) =
                if nodes.len() <= opts.dense_up_to.max(LANCZOS_MIN_NODES - 1) {
                    local.dense_top(r)?
                } else {
                    local.lanczos_top(r, opts)?
                };
            let mut first = vectors.col_as_slice(0).to_vec();
            if nodes.len() > 1 {
                // A connected component's top eigenpair is known exactly: eigenvalue 1,
                // eigenvector √degree. Exact values make ties between components exact.
                values[0] = 1.0;
                first = nodes.iter().map(|&i| graph.degrees()[i].sqrt()).collect();
                let norm = first.iter().map(|v| v * v).sum::<f64>().sqrt();
                first.iter_mut().for_each(|v| *v /= norm);
            }
            for (j, value) in values.into_iter().enumerate() {
                candidates.push(Candidate {
                    value,
                    component: ci,
                    size: nodes.len(),
                    order: j,
                    nodes: nodes.clone(),
                    vector: if j == 0 {
                        first.clone()
                    } else {
                        vectors.col_as_slice(j).to_vec()
                    },
                });
            }
        }
        candidates.sort_by(|a, b| {
            b.value
                .total_cmp(&a.value)
                .then(b.size.cmp(&a.size))
                .then(a.component.cmp(&b.component))
                .then(a.order.cmp(&b.order))
        });
        let mut rows = vec![0.0f64; n * k];
        let mut eigenvalues = Vec::with_capacity(k);
        for (c, mut cand) in candidates.into_iter().take(k).enumerate() {
            fix_sign(&mut cand.vector);
            for (&node, &v) in cand.nodes.iter().zip(&cand.vector) {
                rows[node * k + c] = v;
            }
            eigenvalues.push(cand.value);
        }
        let vectors = rows.clone();
        let weights: Vec<f64> = eigenvalues
            .iter()
            .map(|&l| eigen_weight(l, opts.power))
            .collect();
        for row in rows.chunks_exact_mut(k) {
            row.iter_mut().zip(&weights).for_each(|(v, w)| *v *= w);
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|v| *v /= norm);
            }
        }
        Ok(Self {
            dims: k,
            power: opts.power,
            rows,
            vectors,
            eigenvalues,
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.rows.len() / self.dims
    }

    /// Always false: an embedding has at least one node.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Dimensions `K`.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Row `i` (unit length, or zero for a node outside every kept eigenvector).
    ///
    /// # Panics
    /// Panics if `i >= self.len()`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.rows[i * self.dims..(i + 1) * self.dims]
    }

    /// All rows, N × K, row-major.
    pub fn rows(&self) -> &[f64] {
        &self.rows
    }

    /// The eigenvectors themselves, N × K row-major (column `c` is the unit eigenvector of
    /// eigenvalue `c`): the rows before they were scaled to unit length.
    pub fn vectors(&self) -> &[f64] {
        &self.vectors
    }

    /// The power of the eigenvalue weighting the rows were made with.
    pub fn power(&self) -> u32 {
        self.power
    }

    /// The eigenvalues of `D^-½ W D^-½` of the kept eigenvectors, in decreasing order.
    pub fn eigenvalues(&self) -> &[f64] {
        &self.eigenvalues
    }

    /// The rows as `f32`, the precision k-means works in.
    pub fn to_f32(&self) -> Vec<f32> {
        self.rows.iter().map(|&v| v as f32).collect()
    }
}

fn check(k: usize, n: usize, opts: &SpectralOptions) -> Result<(), FeaturesError> {
    if k == 0 {
        return Err(FeaturesError::InvalidParam {
            name: "k",
            reason: "at least one dimension is needed".into(),
        });
    }
    if k > n {
        return Err(FeaturesError::TooFewSamples {
            stage: "spectral embedding",
            n,
            needed: k,
        });
    }
    if !(opts.tolerance.is_finite() && opts.tolerance > 0.0) {
        return Err(FeaturesError::InvalidParam {
            name: "tolerance",
            reason: format!("{} is not finite and positive", opts.tolerance),
        });
    }
    if opts.max_restarts == 0 || opts.dense_up_to == 0 {
        return Err(FeaturesError::InvalidParam {
            name: "spectral options",
            reason: "max_restarts and dense_up_to must be at least 1".into(),
        });
    }
    Ok(())
}

struct Candidate {
    value: f64,
    component: usize,
    size: usize,
    order: usize,
    nodes: Vec<usize>,
    vector: Vec<f64>,
}

/// The connected components, each as its increasing list of nodes, in order of their
/// lowest node.
fn components(graph: &KnnGraph) -> Vec<Vec<usize>> {
    let n = graph.n_nodes();
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let mut nodes = vec![start];
        let mut head = 0;
        while head < nodes.len() {
            let i = nodes[head];
            head += 1;
            for &j in graph.neighbours(i).0 {
                let j = j as usize;
                if !seen[j] {
                    seen[j] = true;
                    nodes.push(j);
                }
            }
        }
        nodes.sort_unstable();
        out.push(nodes);
    }
    out
}

/// `(M + I) / 2` restricted to one component, in compressed rows of local indices.
#[derive(Debug)]
struct LocalOperator {
    indptr: Vec<usize>,
    indices: Vec<usize>,
    values: Vec<f64>,
}

impl LocalOperator {
    fn new(graph: &KnnGraph, nodes: &[usize], inv_sqrt_deg: &[f64]) -> Self {
        let local = |g: usize| nodes.binary_search(&g).ok();
        let mut indptr = vec![0];
        let mut indices = Vec::new();
        let mut values = Vec::new();
        for &i in nodes {
            let (cols, ws) = graph.neighbours(i);
            for (&j, &w) in cols.iter().zip(ws) {
                if let Some(lj) = local(j as usize) {
                    indices.push(lj);
                    values.push(inv_sqrt_deg[i] * w * inv_sqrt_deg[j as usize]);
                }
            }
            indptr.push(indices.len());
        }
        Self {
            indptr,
            indices,
            values,
        }
    }

    fn n(&self) -> usize {
        self.indptr.len() - 1
    }

    /// `out = M · x`, each row summed in column order.
    fn apply_col(&self, x: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            let mut s = 0.0;
            for t in self.indptr[i]..self.indptr[i + 1] {
                s += self.values[t] * x[self.indices[t]];
            }
            *o = s;
        }
    }

    /// The `r` largest eigenpairs of `M` by a dense solve.
    fn dense_top(&self, r: usize) -> Result<(Vec<f64>, Mat<f64>), FeaturesError> {
        let n = self.n();
        let mut a = Mat::<f64>::zeros(n, n);
        for i in 0..n {
            for t in self.indptr[i]..self.indptr[i + 1] {
                a[(i, self.indices[t])] = self.values[t];
            }
        }
        let (values, vectors) = symmetric_eigen(a.as_ref(), "spectral embedding")?;
        let mut top = Mat::<f64>::zeros(n, r);
        let mut vals = Vec::with_capacity(r);
        for c in 0..r {
            let j = n - 1 - c;
            top.col_as_slice_mut(c)
                .copy_from_slice(vectors.col_as_slice(j));
            vals.push(values[j]);
        }
        Ok((vals, top))
    }

    /// The `r` largest eigenpairs of `M` by thick-restart Lanczos; see [`lanczos`].
    fn lanczos_top(
        &self,
        r: usize,
        opts: &SpectralOptions,
    ) -> Result<(Vec<f64>, Mat<f64>), FeaturesError> {
        lanczos(self, r, opts)
    }
}

/// Below this length (relative to the vector before orthogonalisation) a new basis vector
/// counts as zero.
const BREAKDOWN: f64 = 1e-10;

/// The `r` largest eigenpairs of the symmetric operator `op` (of more than
/// [`LANCZOS_MIN_NODES`]` − 1` rows) by Lanczos with full reorthogonalisation and thick
/// restarts (Wu & Simon), sequential `f64`:
///
/// 1. The basis `V` grows one vector at a time: `w = A v_last` (kept in `W`),
///    orthogonalised twice against all of `V` (classical Gram–Schmidt with `faer`
///    products), normalised. If it vanishes (an invariant subspace), a fresh pseudo-random
///    vector, orthogonalised the same way, takes its place.
/// 2. Once `V` has `m + 1` vectors, the Rayleigh–Ritz step diagonalises `H = Vᵀ A V`
///    (from `W`, `m × m`, `faer`'s symmetric eigensolver) and forms the Ritz vectors
///    `Y = V S` of the largest eigenvalues and `A Y = W S`.
/// 3. If each of the `r` largest has a residual `‖A y − θ y‖` within the tolerance, they
///    are the result. Otherwise the basis restarts from the `p` best Ritz vectors and the
///    last basis vector (so that it stays a Krylov subspace), and step 1 goes on.
///
/// `m = min(max(2r + 20, 40), n − 1)`, `p = r + (m − r)/2`.
fn lanczos(
    op: &LocalOperator,
    r: usize,
    opts: &SpectralOptions,
) -> Result<(Vec<f64>, Mat<f64>), FeaturesError> {
    let n = op.n();
    let m = (2 * r + 20).max(40).min(n - 1);
    let p = r + (m - r) / 2;
    let mut rng = CvRng::new(START_STATE);
    let random =
        |rng: &mut CvRng| -> Vec<f64> { (0..n).map(|_| rng.uniform_f64(-1.0, 1.0)).collect() };
    let mut v = Mat::<f64>::zeros(n, m + 1);
    let mut w = Mat::<f64>::zeros(n, m);
    let mut next = random(&mut rng);
    let len = orthogonalise(v.as_ref().subcols(0, 0), &mut next);
    v.col_as_slice_mut(0)
        .iter_mut()
        .zip(&next)
        .for_each(|(d, &x)| *d = x / len);
    // Columns of `v` in use; `w` holds the images of all but the last.
    let mut filled = 1;
    for _ in 0..opts.max_restarts {
        while filled <= m {
            let j = filled - 1;
            op.apply_col(v.col_as_slice(j), &mut next);
            w.col_as_slice_mut(j).copy_from_slice(&next);
            let before = norm(&next);
            let mut len = orthogonalise(v.as_ref().subcols(0, filled), &mut next);
            if len <= BREAKDOWN * before.max(1.0) {
                next = random(&mut rng);
                len = orthogonalise(v.as_ref().subcols(0, filled), &mut next);
                if len <= BREAKDOWN {
                    break;
                }
            }
            v.col_as_slice_mut(filled)
                .iter_mut()
                .zip(&next)
                .for_each(|(d, &x)| *d = x / len);
            filled += 1;
        }
        // Rayleigh–Ritz on the vectors whose images are known.
        let k = filled - 1;
        let mut h = Mat::<f64>::zeros(k, k);
        gemm(
            h.as_mut(),
            v.as_ref().subcols(0, k).transpose(),
            w.as_ref().subcols(0, k),
        );
        for a in 0..k {
            for b in 0..a {
                let s = 0.5 * (h[(a, b)] + h[(b, a)]);
                h[(a, b)] = s;
                h[(b, a)] = s;
            }
        }
        let (theta, s) = symmetric_eigen(h.as_ref(), "spectral embedding")?;
        let keep = p.min(k);
        let top = Mat::<f64>::from_fn(k, keep, |a, c| s[(a, k - 1 - c)]);
        let values: Vec<f64> = (0..keep).map(|c| theta[k - 1 - c]).collect();
        let mut y = Mat::<f64>::zeros(n, keep);
        let mut ay = Mat::<f64>::zeros(n, keep);
        gemm(y.as_mut(), v.as_ref().subcols(0, k), top.as_ref());
        gemm(ay.as_mut(), w.as_ref().subcols(0, k), top.as_ref());
        let residual = |c: usize| -> f64 {
            let (yc, ac) = (y.col_as_slice(c), ay.col_as_slice(c));
            norm(
                &ac.iter()
                    .zip(yc)
                    .map(|(a, b)| a - values[c] * b)
                    .collect::<Vec<f64>>(),
            )
        };
        if keep >= r && (0..r).all(|c| residual(c) <= opts.tolerance) {
            let out = Mat::<f64>::from_fn(n, r, |i, c| y[(i, c)]);
            return Ok((values[..r].to_vec(), out));
        }
        if filled <= m {
            // The basis could not grow: the component is exhausted.
            break;
        }
        // Thick restart: the kept Ritz vectors, then the last Lanczos vector.
        let last = v.col_as_slice(k).to_vec();
        for c in 0..keep {
            v.col_as_slice_mut(c).copy_from_slice(y.col_as_slice(c));
            w.col_as_slice_mut(c).copy_from_slice(ay.col_as_slice(c));
        }
        v.col_as_slice_mut(keep).copy_from_slice(&last);
        filled = keep + 1;
    }
    Err(FeaturesError::NotConverged {
        stage: "spectral embedding",
        found: 0,
        wanted: r,
    })
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// Orthogonalises `x` against the orthonormal columns of `basis` (classical Gram–Schmidt,
/// twice) and returns its remaining length.
fn orthogonalise(basis: MatRef<'_, f64>, x: &mut [f64]) -> f64 {
    let k = basis.ncols();
    if k > 0 {
        for _ in 0..2 {
            let xm = MatRef::from_column_major_slice(x, x.len(), 1);
            let mut coef = Mat::<f64>::zeros(k, 1);
            gemm(coef.as_mut(), basis.transpose(), xm);
            let mut proj = Mat::<f64>::zeros(basis.nrows(), 1);
            gemm(proj.as_mut(), basis, coef.as_ref());
            x.iter_mut()
                .zip(proj.col_as_slice(0))
                .for_each(|(a, b)| *a -= b);
        }
    }
    norm(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rings of `m` nodes each (node i joined to i±1, i±2 on its ring, with uneven
    /// weights so that no eigenvalue is repeated by symmetry), with `bridges` weak edges
    /// between them.
    fn two_rings(m: usize, bridges: bool) -> KnnGraph {
        let mut e = Vec::new();
        for ring in 0..2 {
            let o = (ring * m) as u32;
            for i in 0..m as u32 {
                let w = 1.0 + f64::from((i * 7919 + ring as u32 * 31) % 17) / 17.0;
                e.push((o + i, o + (i + 1) % m as u32, w));
                e.push((o + i, o + (i + 2) % m as u32, 0.5 * w));
            }
        }
        if bridges {
            e.push((0, m as u32, 0.01));
            e.push((m as u32 / 2, m as u32 + m as u32 / 2, 0.01));
        }
        KnnGraph::from_edges(2 * m, &e).unwrap()
    }

    #[test]
    fn defaults() {
        let o = SpectralOptions::default();
        assert_eq!(o, SpectralOptions::new());
        assert_eq!(
            (o.tolerance, o.max_restarts, o.dense_up_to),
            (1e-8, 1000, 256)
        );
    }

    #[test]
    fn disconnected_graph_gets_one_direction_per_component() {
        for m in [10, 300] {
            let g = two_rings(m, false);
            assert_eq!(components(&g).len(), 2);
            let e = SpectralEmbedding::fit(&g, 2, &SpectralOptions::new()).unwrap();
            // Eigenvalue 1 twice, one indicator per ring.
            assert!(
                (e.eigenvalues()[0] - 1.0).abs() < 1e-9,
                "{:?}",
                e.eigenvalues()
            );
            assert!(
                (e.eigenvalues()[1] - 1.0).abs() < 1e-9,
                "{:?}",
                e.eigenvalues()
            );
            for i in 0..2 * m {
                let want: [f64; 2] = if i < m { [1.0, 0.0] } else { [0.0, 1.0] };
                let r = e.row(i);
                assert!(
                    (r[0] - want[0]).abs() < 1e-6 && (r[1] - want[1]).abs() < 1e-6,
                    "{m} {i} {r:?}"
                );
            }
        }
    }

    /// The Lanczos path and the dense path agree on a connected graph.
    #[test]
    fn lanczos_matches_dense() {
        let g = two_rings(200, true);
        let lanczos = SpectralOptions::new().dense_up_to(1);
        let dense = SpectralOptions::new().dense_up_to(1000);
        let a = SpectralEmbedding::fit(&g, 6, &lanczos).unwrap();
        let b = SpectralEmbedding::fit(&g, 6, &dense).unwrap();
        for (x, y) in a.eigenvalues().iter().zip(b.eigenvalues()) {
            assert!(
                (x - y).abs() < 1e-8,
                "{:?} {:?}",
                a.eigenvalues(),
                b.eigenvalues()
            );
        }
        assert!((b.eigenvalues()[0] - 1.0).abs() < 1e-10);
        // The two leading eigenvalues are simple, so with k = 2 the rows agree (the sign
        // rule fixes each column the same way).
        let a = SpectralEmbedding::fit(&g, 2, &lanczos).unwrap();
        let b = SpectralEmbedding::fit(&g, 2, &dense).unwrap();
        for i in 0..g.n_nodes() {
            for c in 0..2 {
                let (x, y) = (a.row(i)[c], b.row(i)[c]);
                assert!((x - y).abs() < 1e-5, "node {i} col {c}: {x} {y}");
            }
        }
    }

    /// The eigenvalue weighting: the same eigenvectors, each row's coordinate `c` scaled
    /// by `λ_c^p` before the row is scaled to unit length, so the ratio of two coordinates
    /// of a row moves by `(λ_c / λ_0)^p`; the power is kept with the embedding.
    #[test]
    fn eigenvalue_weighting_scales_the_later_directions_down() {
        let g = two_rings(100, true);
        let flat = SpectralEmbedding::fit(&g, 4, &SpectralOptions::new().power(0)).unwrap();
        let ten = SpectralEmbedding::fit(&g, 4, &SpectralOptions::new()).unwrap();
        assert_eq!((flat.power(), ten.power()), (0, 10));
        assert_eq!(flat.vectors(), ten.vectors());
        assert_eq!(flat.eigenvalues(), ten.eigenvalues());
        let l = ten.eigenvalues();
        assert!(l[0] > l[3] && l[3] > 0.0, "{l:?}");
        for i in (0..g.n_nodes()).step_by(7) {
            let (f, t) = (flat.row(i), ten.row(i));
            let norm: f64 = t.iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-12);
            for c in 1..4 {
                let want = f[c] / f[0] * (l[c] / l[0]).powi(10);
                assert!(
                    (t[c] / t[0] - want).abs() < 1e-9 * want.abs().max(1.0),
                    "{i} {c}"
                );
            }
        }
        assert_eq!(
            (
                eigen_weight(0.5, 2),
                eigen_weight(-0.5, 2),
                eigen_weight(-0.5, 0)
            ),
            (0.25, 0.0, 1.0)
        );
    }

    /// More components than dimensions: the largest components win the ties at 1.
    #[test]
    fn ties_at_one_go_to_the_largest_components() {
        // Components {0, 1} (2 nodes), {2, 3, 4} (3 nodes), {5, 6, 7, 8} (4 nodes).
        let e = [
            (0, 1, 1.0),
            (2, 3, 1.0),
            (3, 4, 1.0),
            (5, 6, 1.0),
            (6, 7, 1.0),
            (7, 8, 1.0),
        ];
        let g = KnnGraph::from_edges(9, &e).unwrap();
        let emb = SpectralEmbedding::fit(&g, 2, &SpectralOptions::new()).unwrap();
        assert_eq!(emb.eigenvalues(), [1.0, 1.0]);
        for i in 0..9 {
            let want: [f64; 2] = match i {
                0 | 1 => [0.0, 0.0],
                2..=4 => [0.0, 1.0],
                _ => [1.0, 0.0],
            };
            assert_eq!(emb.row(i), want, "node {i}");
        }
    }

    #[test]
    fn rows_are_unit_and_bad_arguments_are_rejected() {
        let g = two_rings(100, true);
        let e = SpectralEmbedding::fit(&g, 4, &SpectralOptions::new()).unwrap();
        for i in 0..e.len() {
            let n: f64 = e.row(i).iter().map(|v| v * v).sum();
            assert!((n - 1.0).abs() < 1e-12);
        }
        let o = SpectralOptions::new();
        assert!(SpectralEmbedding::fit(&g, 0, &o).is_err());
        assert!(SpectralEmbedding::fit(&g, 201, &o).is_err());
        assert!(SpectralEmbedding::fit(&g, 2, &o.tolerance(0.0)).is_err());
        assert!(SpectralEmbedding::fit(&g, 2, &o.max_restarts(0)).is_err());
    }
}
