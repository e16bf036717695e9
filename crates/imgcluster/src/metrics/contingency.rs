//! The contingency table of a clustering against the true classes, and the input checks
//! shared by the module.

use std::fmt;

use super::print::{MatrixDisplay, PrintOptions};
use super::MetricsError;

/// Largest number of samples a table may hold: 2^53, so that every count and every
/// marginal is exact in `f64` (and sums of counts cannot overflow the integer arithmetic).
pub const MAX_SAMPLES: u64 = 1 << 53;

/// Checks that two label slices have the same, non-zero length.
pub(crate) fn check_lengths(truth: &[u32], predicted: &[u32]) -> Result<(), MetricsError> {
    if truth.len() != predicted.len() {
        return Err(MetricsError::LengthMismatch {
            truth: truth.len(),
            predicted: predicted.len(),
        });
    }
    if truth.is_empty() {
        return Err(MetricsError::Empty);
    }
    Ok(())
}

/// A zeroed `rows × cols` table, or [`MetricsError::TableTooLarge`] when it cannot be
/// allocated.
pub(crate) fn zeroed(rows: usize, cols: usize) -> Result<Vec<u64>, MetricsError> {
    let too_large = MetricsError::TableTooLarge { rows, cols };
    let len = rows.checked_mul(cols).ok_or(too_large.clone())?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| too_large)?;
    v.resize(len, 0);
    Ok(v)
}

/// Checks a user-supplied flat table and returns its total.
pub(crate) fn check_counts(rows: usize, cols: usize, counts: &[u64]) -> Result<u64, MetricsError> {
    let expected = rows
        .checked_mul(cols)
        .ok_or(MetricsError::TableTooLarge { rows, cols })?;
    if counts.len() != expected {
        return Err(MetricsError::ShapeMismatch {
            rows,
            cols,
            expected,
            actual: counts.len(),
        });
    }
    let mut total: u64 = 0;
    for &c in counts {
        total = total
            .checked_add(c)
            .filter(|t| *t <= MAX_SAMPLES)
            .ok_or(MetricsError::TooManySamples { max: MAX_SAMPLES })?;
    }
    if total == 0 {
        return Err(MetricsError::Empty);
    }
    Ok(total)
}

/// The contingency table of a clustering: `k` rows (cluster ids `0..k`) by `n_classes`
/// columns (true classes `0..n_classes`); entry `(c, t)` counts the samples of true class
/// `t` put in cluster `c`.
///
/// Every score of the module (matching, NMI, ARI) is computed from this table. Empty rows
/// (clusters with no sample) and empty columns (classes with no sample) are allowed; they
/// do not change NMI or ARI, exactly as scikit-learn, which only sees the labels that occur.
///
/// Its [`Display`](fmt::Display) prints it like NumPy prints an integer array (see
/// [`PrintOptions`]).
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::Contingency;
///
/// let truth = [0, 0, 1, 1, 1];
/// let clusters = [2, 2, 0, 0, 1];
/// let t = Contingency::new(&truth, &clusters, 2, 3)?;
/// assert_eq!(t.get(2, 0), Some(2));
/// assert_eq!(t.cluster_sizes(), vec![2, 1, 2]);
/// assert_eq!(t.class_sizes(), vec![2, 3]);
/// assert_eq!(t.to_string(), "[[0 2]\n [0 1]\n [2 0]]");
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contingency {
    k: usize,
    n_classes: usize,
    counts: Vec<u64>,
    total: u64,
}

impl Contingency {
    /// Counts the samples of each (cluster, class) pair.
    ///
    /// `truth[i]` is the true class of sample `i` (in `0..n_classes`) and `clusters[i]` its
    /// cluster id (in `0..k`).
    ///
    /// # Errors
    ///
    /// * [`MetricsError::LengthMismatch`] when the slices differ in length;
    /// * [`MetricsError::Empty`] when they are empty;
    /// * [`MetricsError::TruthOutOfRange`] / [`MetricsError::ClusterOutOfRange`] for the
    ///   first sample (lowest index) with a label out of range, the true label checked first;
    /// * [`MetricsError::TableTooLarge`] when `k × n_classes` counts cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{Contingency, MetricsError};
    ///
    /// let t = Contingency::new(&[0, 1, 1], &[1, 0, 0], 2, 2)?;
    /// assert_eq!(t.as_slice(), &[0, 2, 1, 0]);
    /// assert_eq!(
    ///     Contingency::new(&[0, 1, 1], &[1, 0, 2], 2, 2),
    ///     Err(MetricsError::ClusterOutOfRange { index: 2, label: 2, k: 2 })
    /// );
    /// # Ok::<(), MetricsError>(())
    /// ```
    pub fn new(
        truth: &[u32],
        clusters: &[u32],
        n_classes: usize,
        k: usize,
    ) -> Result<Self, MetricsError> {
        check_lengths(truth, clusters)?;
        let mut counts = zeroed(k, n_classes)?;
        for (index, (&t, &c)) in truth.iter().zip(clusters).enumerate() {
            let (ti, ci) = (t as usize, c as usize);
            if ti >= n_classes {
                return Err(MetricsError::TruthOutOfRange {
                    index,
                    label: t,
                    n_classes,
                });
            }
            if ci >= k {
                return Err(MetricsError::ClusterOutOfRange { index, label: c, k });
            }
            counts[ci * n_classes + ti] += 1;
        }
        Ok(Self {
            k,
            n_classes,
            counts,
            total: truth.len() as u64,
        })
    }

    /// A table from its counts, row-major: `counts[c * n_classes + t]` is the number of
    /// samples of class `t` in cluster `c`.
    ///
    /// # Errors
    ///
    /// * [`MetricsError::ShapeMismatch`] when `counts.len() != k * n_classes`;
    /// * [`MetricsError::Empty`] when all counts are zero;
    /// * [`MetricsError::TooManySamples`] when the counts add up to more than [`MAX_SAMPLES`];
    /// * [`MetricsError::TableTooLarge`] when `k * n_classes` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::Contingency;
    ///
    /// let t = Contingency::from_counts(2, 3, vec![5, 0, 1, 0, 4, 0])?;
    /// assert_eq!(t.total(), 10);
    /// assert_eq!(t.row(1), Some(&[0, 4, 0][..]));
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    pub fn from_counts(k: usize, n_classes: usize, counts: Vec<u64>) -> Result<Self, MetricsError> {
        let total = check_counts(k, n_classes, &counts)?;
        Ok(Self {
            k,
            n_classes,
            counts,
            total,
        })
    }

    /// Number of clusters (rows).
    #[must_use]
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of classes (columns).
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Number of samples (sum of all counts, at least 1).
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Samples of class `class` in cluster `cluster`, or `None` when either is out of range.
    #[must_use]
    pub fn get(&self, cluster: usize, class: usize) -> Option<u64> {
        self.row(cluster)?.get(class).copied()
    }

    /// The counts of one cluster, one per class, or `None` when `cluster >= k`.
    #[must_use]
    pub fn row(&self, cluster: usize) -> Option<&[u64]> {
        if cluster >= self.k {
            return None;
        }
        let start = cluster * self.n_classes;
        self.counts.get(start..start + self.n_classes)
    }

    /// All counts, row-major (`k` rows of `n_classes`).
    #[must_use]
    pub fn as_slice(&self) -> &[u64] {
        &self.counts
    }

    /// Samples per cluster (row sums), `k` entries.
    #[must_use]
    pub fn cluster_sizes(&self) -> Vec<u64> {
        (0..self.k)
            .map(|c| self.row(c).map_or(0, |r| r.iter().sum()))
            .collect()
    }

    /// Samples per class (column sums), `n_classes` entries.
    #[must_use]
    pub fn class_sizes(&self) -> Vec<u64> {
        let mut sizes = vec![0; self.n_classes];
        for row in self.counts.chunks_exact(self.n_classes.max(1)) {
            for (s, &c) in sizes.iter_mut().zip(row) {
                *s += c;
            }
        }
        sizes
    }

    /// The table printed with the given options instead of NumPy's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{Contingency, PrintOptions};
    ///
    /// let t = Contingency::from_counts(1, 3, vec![10, 20, 30])?;
    /// let text = t.display_with(PrintOptions::new().line_width(9)).to_string();
    /// assert_eq!(text, "[[10 20\n  30]]");
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn display_with(&self, options: PrintOptions) -> impl fmt::Display + '_ {
        MatrixDisplay {
            rows: self.k,
            cols: self.n_classes,
            data: &self.counts,
            options,
        }
    }
}

impl fmt::Display for Contingency {
    /// Prints the table as NumPy prints an integer array with default options.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with(PrintOptions::new()).fmt(f)
    }
}
