//! Principal component analysis: centre the data and project it on the leading
//! eigenvectors of its scatter matrix.
//!
//! [`Pca::fit`] forms the `D × D` scatter matrix `Xcᵀ Xc` of the centred data (in `f64`;
//! its lower triangle in column blocks of fixed width computed independently, so the
//! thread count never changes a bit) and diagonalises it with `faer`'s symmetric eigensolver. The `d` eigenvectors
//! with the largest eigenvalues are the components; [`Pca::transform`] returns the scores
//! `(x − mean) · V`, optionally divided by the standard deviation of each component.

use faer::Mat;
use rayon::prelude::*;

use super::error::check_rows;
use super::linalg::{gemm, symmetric_eigen};
use super::FeaturesError;
use crate::threads::Threads;

/// Columns of the scatter matrix per parallel task.
const COLS_PER_TASK: usize = 64;

/// Samples per parallel task in [`Pca::transform`].
const ROWS_PER_TASK: usize = 512;

/// How scores are scaled by the spread of their component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Whiten {
    /// Scores as projected: their variances are the eigenvalues (the default).
    #[default]
    No,
    /// Each score divided by the square root of its component's standard deviation
    /// (`σ^½`), so that each component's variance becomes its standard deviation: the
    /// geometric mean of [`Whiten::No`] and [`Whiten::Yes`] (components with zero variance
    /// give zero scores).
    ///
    /// Why, for the graph of the `best` pipeline: the first components of a HOG
    /// descriptor carry a few global factors (stroke weight, size, position) whose
    /// variance dwarfs the rest and decides most cosine neighbours; full whitening makes
    /// the last of 100 components, mostly noise, as loud as the first. Halving the
    /// spectrum's dynamic range in log scale keeps the order of the components while
    /// letting the smaller ones, where classes that look alike differ, take part.
    Half,
    /// Each score divided by the standard deviation of its component (components with
    /// zero variance give zero scores).
    Yes,
}

impl Whiten {
    /// `no`, `half` or `yes`.
    pub fn name(self) -> &'static str {
        match self {
            Whiten::No => "no",
            Whiten::Half => "half",
            Whiten::Yes => "yes",
        }
    }

    /// The whitening named `name` (as [`Whiten::name`] gives it).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "no" => Some(Whiten::No),
            "half" => Some(Whiten::Half),
            "yes" => Some(Whiten::Yes),
            _ => None,
        }
    }

    /// The factor a score of a component of variance `var` is multiplied by.
    fn scale(self, var: f64) -> f64 {
        match self {
            Whiten::No => 1.0,
            _ if var <= 0.0 => 0.0,
            Whiten::Half => 1.0 / var.sqrt().sqrt(),
            Whiten::Yes => 1.0 / var.sqrt(),
        }
    }
}

/// PCA options.
///
/// # Examples
/// ```
/// use imgcluster::features::{PcaOptions, Whiten};
///
/// let o = PcaOptions::new();
/// assert_eq!((o.max_components, o.whiten), (100, Whiten::No));
/// assert_eq!(o.max_components(20).max_components, 20);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcaOptions {
    /// The largest number of components kept (at least 1); the number kept is
    /// `d = min(max_components, D, N − 1)`.
    pub max_components: usize,
    /// How scores are scaled by their component's spread.
    pub whiten: Whiten,
}

impl Default for PcaOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl PcaOptions {
    /// At most 100 components, [`Whiten::No`].
    pub const fn new() -> Self {
        Self {
            max_components: 100,
            whiten: Whiten::No,
        }
    }

    /// Sets the largest number of components kept.
    pub const fn max_components(mut self, n: usize) -> Self {
        self.max_components = n;
        self
    }

    /// Sets whitening.
    pub const fn whiten(mut self, whiten: Whiten) -> Self {
        self.whiten = whiten;
        self
    }
}

/// A fitted PCA: the mean, the components and their variances.
///
/// # Examples
/// Points on the line `y = 2x`: one component along `(1, 2)/√5` carries all the
/// variance, and the scores are the signed distances from the mean along it.
/// ```
/// use imgcluster::features::{Pca, PcaOptions};
/// use imgcluster::Threads;
///
/// let data = [0.0f32, 0.0, 1.0, 2.0, 2.0, 4.0];
/// let pca = Pca::fit(&data, 2, &PcaOptions::new(), Threads::Fixed(1))?;
/// assert_eq!(pca.n_components(), 2); // min(100, D = 2, N − 1 = 2)
/// let c = pca.component(0);
/// assert!((c[0] - 1.0 / 5f64.sqrt()).abs() < 1e-12 && (c[1] - 2.0 / 5f64.sqrt()).abs() < 1e-12);
/// assert!((pca.variances()[0] - 5.0).abs() < 1e-12 && pca.variances()[1].abs() < 1e-12);
/// let z = pca.transform(&data, Threads::Fixed(1))?;
/// assert!((z[0] + 5f64.sqrt()).abs() < 1e-12 && z[2].abs() < 1e-12 && (z[4] - 5f64.sqrt()).abs() < 1e-12);
/// # Ok::<(), imgcluster::features::FeaturesError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    dims: usize,
    mean: Vec<f64>,
    /// `d × dims`, row-major: component `c` is row `c`.
    components: Vec<f64>,
    variances: Vec<f64>,
    whiten: Whiten,
}

impl Pca {
    /// Fits the PCA to `data` (N rows of `dims` values, row-major).
    ///
    /// Components come in decreasing order of variance; each is a unit vector whose
    /// entry of largest magnitude is positive. Variances are `eigenvalue / (N − 1)`.
    ///
    /// # Errors
    /// [`FeaturesError::Shape`] or [`FeaturesError::NonFinite`] for malformed data,
    /// [`FeaturesError::TooFewSamples`] for fewer than 2 samples,
    /// [`FeaturesError::InvalidParam`] for `max_components == 0`,
    /// [`FeaturesError::NotConverged`] if the eigensolver fails.
    pub fn fit(
        data: &[f32],
        dims: usize,
        opts: &PcaOptions,
        threads: Threads,
    ) -> Result<Self, FeaturesError> {
        let n = check_rows("PCA", data, dims)?;
        if n < 2 {
            return Err(FeaturesError::TooFewSamples {
                stage: "PCA",
                n,
                needed: 2,
            });
        }
        if opts.max_components == 0 {
            return Err(FeaturesError::InvalidParam {
                name: "max_components",
                reason: "at least one component is needed".into(),
            });
        }
        let d = opts.max_components.min(dims).min(n - 1);

        let mut mean = vec![0.0f64; dims];
        for row in data.chunks_exact(dims) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let xc = Mat::<f64>::from_fn(n, dims, |i, j| f64::from(data[i * dims + j]) - mean[j]);

        // Lower triangle of the scatter matrix, one fixed block of columns per task:
        // block [j0, j0 + w) gets rows j0.. (the rest is its mirror image).
        let blocks: Vec<(usize, usize)> = (0..dims)
            .step_by(COLS_PER_TASK)
            .map(|j0| (j0, COLS_PER_TASK.min(dims - j0)))
            .collect();
        let parts: Vec<Mat<f64>> = threads.install(|| {
            blocks
                .par_iter()
                .map(|&(j0, w)| {
                    let mut part = Mat::<f64>::zeros(dims - j0, w);
                    gemm(
                        part.as_mut(),
                        xc.as_ref().subcols(j0, dims - j0).transpose(),
                        xc.as_ref().subcols(j0, w),
                    );
                    part
                })
                .collect()
        });
        let mut scatter = Mat::<f64>::zeros(dims, dims);
        for (&(j0, w), part) in blocks.iter().zip(&parts) {
            for j in 0..w {
                for i in j..dims - j0 {
                    scatter[(j0 + i, j0 + j)] = part[(i, j)];
                }
            }
        }
        // The eigensolver reads the lower triangle; make it the upper one's mirror too.
        for j in 0..dims {
            for i in 0..j {
                scatter[(i, j)] = scatter[(j, i)];
            }
        }
        let (values, vectors) = symmetric_eigen(scatter.as_ref(), "PCA")?;
        let mut components = Vec::with_capacity(d * dims);
        let mut variances = Vec::with_capacity(d);
        for c in 0..d {
            let j = dims - 1 - c;
            components.extend_from_slice(vectors.col_as_slice(j));
            variances.push(values[j].max(0.0) / (n - 1) as f64);
        }
        Ok(Self {
            dims,
            mean,
            components,
            variances,
            whiten: opts.whiten,
        })
    }

    /// Number of components `d`.
    pub fn n_components(&self) -> usize {
        self.variances.len()
    }

    /// Input dimension `D`.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The mean of the fitted data (`D` values).
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Component `c` (a unit vector of `D` values).
    ///
    /// # Panics
    /// Panics if `c >= self.n_components()`.
    pub fn component(&self, c: usize) -> &[f64] {
        &self.components[c * self.dims..(c + 1) * self.dims]
    }

    /// The variance of the fitted data along each component, in decreasing order.
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }

    /// All components, `d × D` row-major.
    pub fn components(&self) -> &[f64] {
        &self.components
    }

    /// Whether the scores are whitened.
    pub fn whiten(&self) -> Whiten {
        self.whiten
    }

    /// A PCA from stored parts: the mean (`D` values), the components (`d × D`,
    /// row-major) and their variances (`d`).
    ///
    /// # Errors
    /// [`FeaturesError::InvalidParam`] when the lengths disagree, `D` or `d` is 0, or a
    /// value is not finite.
    pub fn from_parts(
        mean: Vec<f64>,
        components: Vec<f64>,
        variances: Vec<f64>,
        whiten: Whiten,
    ) -> Result<Self, FeaturesError> {
        let dims = mean.len();
        let d = variances.len();
        let bad = |reason: String| FeaturesError::InvalidParam {
            name: "pca",
            reason,
        };
        if dims == 0 || d == 0 || dims.checked_mul(d) != Some(components.len()) {
            return Err(bad(format!(
                "{} component values for {d} components of {dims} values",
                components.len()
            )));
        }
        if [&mean, &components, &variances]
            .iter()
            .any(|v| v.iter().any(|x| !x.is_finite()))
        {
            return Err(bad("a value is not finite".into()));
        }
        Ok(Self {
            dims,
            mean,
            components,
            variances,
            whiten,
        })
    }

    /// The scores of `data` (rows of `D` values): `N × d`, row-major.
    ///
    /// Rows are processed in fixed blocks on `threads`; the result does not depend on
    /// the thread count.
    ///
    /// # Errors
    /// [`FeaturesError::Shape`] or [`FeaturesError::NonFinite`] for malformed data.
    pub fn transform(&self, data: &[f32], threads: Threads) -> Result<Vec<f64>, FeaturesError> {
        let dims = self.dims;
        let n = check_rows("PCA transform", data, dims)?;
        let d = self.n_components();
        let v = Mat::<f64>::from_fn(dims, d, |i, c| self.components[c * dims + i]);
        let scale: Vec<f64> = self
            .variances
            .iter()
            .map(|&var| self.whiten.scale(var))
            .collect();
        let mut out = vec![0.0f64; n * d];
        threads.install(|| {
            out.par_chunks_mut(ROWS_PER_TASK * d)
                .zip(data.par_chunks(ROWS_PER_TASK * dims))
                .for_each(|(dst, src)| {
                    let rows = src.len() / dims;
                    let xc = Mat::<f64>::from_fn(rows, dims, |i, j| {
                        f64::from(src[i * dims + j]) - self.mean[j]
                    });
                    let mut z = Mat::<f64>::zeros(rows, d);
                    gemm(z.as_mut(), xc.as_ref(), v.as_ref());
                    for (i, row) in dst.chunks_exact_mut(d).enumerate() {
                        for (c, o) in row.iter_mut().enumerate() {
                            *o = z[(i, c)] * scale[c];
                        }
                    }
                })
        });
        Ok(out)
    }

    /// [`Pca::fit`] then [`Pca::transform`] of the same data.
    ///
    /// # Errors
    /// As [`Pca::fit`].
    pub fn fit_transform(
        data: &[f32],
        dims: usize,
        opts: &PcaOptions,
        threads: Threads,
    ) -> Result<(Self, Vec<f64>), FeaturesError> {
        let pca = Self::fit(data, dims, opts, threads)?;
        let scores = pca.transform(data, threads)?;
        Ok((pca, scores))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let o = PcaOptions::default();
        assert_eq!(o, PcaOptions::new());
        assert_eq!(o.max_components, 100);
        assert_eq!(o.whiten, Whiten::No);
    }

    /// Points on a line in 3-D, (t, 4t, 8t) for t = −1, 0, 1, 2: the mean is (0.5, 2, 4),
    /// the only component is (1, 4, 8)/9 (largest entry positive), the scores are
    /// 9(t − 0.5) and the variance is Σ 81(t − 0.5)² / 3 = 81·5/3 = 135.
    #[test]
    fn points_on_a_line_by_hand() {
        let ts = [-1.0f32, 0.0, 1.0, 2.0];
        let data: Vec<f32> = ts.iter().flat_map(|&t| [t, 4.0 * t, 8.0 * t]).collect();
        let pca = Pca::fit(
            &data,
            3,
            &PcaOptions::new().max_components(1),
            Threads::Fixed(1),
        )
        .unwrap();
        assert_eq!(pca.n_components(), 1);
        assert_eq!(pca.mean(), &[0.5, 2.0, 4.0]);
        let c = pca.component(0);
        for (got, want) in c.iter().zip([1.0 / 9.0, 4.0 / 9.0, 8.0 / 9.0]) {
            assert!((got - want).abs() < 1e-12, "{c:?}");
        }
        assert!((pca.variances()[0] - 135.0).abs() < 1e-9);
        let z = pca.transform(&data, Threads::Fixed(1)).unwrap();
        for (got, t) in z.iter().zip(ts) {
            assert!((got - 9.0 * (f64::from(t) - 0.5)).abs() < 1e-12, "{z:?}");
        }
        let white = Pca::fit(
            &data,
            3,
            &PcaOptions::new().max_components(1).whiten(Whiten::Yes),
            Threads::Fixed(1),
        )
        .unwrap();
        let zw = white.transform(&data, Threads::Fixed(1)).unwrap();
        let var = zw.iter().map(|z| z * z).sum::<f64>() / 3.0;
        assert!((var - 1.0).abs() < 1e-12);
        // Half whitening: the variance 135 becomes its standard deviation √135.
        let half = Pca::fit(
            &data,
            3,
            &PcaOptions::new().max_components(1).whiten(Whiten::Half),
            Threads::Fixed(1),
        )
        .unwrap();
        let zh = half.transform(&data, Threads::Fixed(1)).unwrap();
        let var = zh.iter().map(|z| z * z).sum::<f64>() / 3.0;
        assert!((var - 135f64.sqrt()).abs() < 1e-9, "{var}");
        for w in [Whiten::No, Whiten::Half, Whiten::Yes] {
            assert_eq!(Whiten::from_name(w.name()), Some(w));
        }
        assert_eq!(Whiten::from_name("full"), None);
    }

    #[test]
    fn component_count_rule() {
        let data: Vec<f32> = (0..5 * 4).map(|i| ((i * 7) % 11) as f32).collect();
        let p = Pca::fit(&data, 4, &PcaOptions::new(), Threads::Fixed(1)).unwrap();
        assert_eq!(p.n_components(), 4); // min(100, D = 4, N − 1 = 4)
        let p = Pca::fit(&data[..12], 4, &PcaOptions::new(), Threads::Fixed(1)).unwrap();
        assert_eq!(p.n_components(), 2); // N − 1 = 2
        let v = p.variances();
        assert!(v[0] >= v[1]);
    }

    #[test]
    fn bad_input() {
        let o = PcaOptions::new();
        assert!(matches!(
            Pca::fit(&[1.0], 1, &o, Threads::Fixed(1)),
            Err(FeaturesError::TooFewSamples { .. })
        ));
        assert!(matches!(
            Pca::fit(&[1.0, 2.0, 3.0], 2, &o, Threads::Fixed(1)),
            Err(FeaturesError::Shape { .. })
        ));
        assert!(matches!(
            Pca::fit(&[1.0, f32::NAN], 1, &o, Threads::Fixed(1)),
            Err(FeaturesError::NonFinite { row: 1, col: 0, .. })
        ));
        assert!(matches!(
            Pca::fit(&[1.0, 2.0], 1, &o.max_components(0), Threads::Fixed(1)),
            Err(FeaturesError::InvalidParam { .. })
        ));
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let (n, dims) = (1100, 70);
        let data: Vec<f32> = (0..n * dims)
            .map(|i| ((i * 2654435761usize) % 1000) as f32 / 100.0)
            .collect();
        let o = PcaOptions::new().max_components(10);
        let (p1, z1) = Pca::fit_transform(&data, dims, &o, Threads::Fixed(1)).unwrap();
        let (p2, z2) = Pca::fit_transform(&data, dims, &o, Threads::Fixed(2)).unwrap();
        assert_eq!(p1, p2);
        assert_eq!(z1, z2);
    }
}
