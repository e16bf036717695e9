//! The confusion matrix of true classes against predicted classes.

use std::fmt;

use super::contingency::{check_counts, check_lengths, zeroed};
use super::print::{MatrixDisplay, PrintOptions};
use super::{Accuracy, ClusterMapping, Contingency, MetricsError};

/// A confusion matrix: entry `(t, p)` counts the samples of true class `t` predicted as
/// class `p`; rows are true classes, columns predicted classes (scikit-learn's
/// `confusion_matrix` convention), both in `0..n_classes`.
///
/// For a clustering, the predicted class of a sample is the class its cluster is mapped
/// to (see [`ClusterMapping`]).
///
/// Its [`Display`](fmt::Display) prints exactly what NumPy's `print` prints for the same
/// integer array: every entry right-aligned to the width of the widest, one space apart,
/// rows prefixed `[[` then ` [`, with NumPy's default line wrapping and summarising
/// (see [`PrintOptions`]).
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::ConfusionMatrix;
///
/// let truth = [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
/// let cm = ConfusionMatrix::new(&truth, &truth, 2)?;
/// assert_eq!(cm.to_string(), "[[ 1  0]\n [ 0 12]]");
/// assert_eq!((cm.trace(), cm.total()), (13, 13));
/// assert_eq!(cm.accuracy().fraction(), 1.0);
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    n_classes: usize,
    counts: Vec<u64>,
    total: u64,
}

/// Per-class counts read from a [`ConfusionMatrix`], with precision and recall.
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::ConfusionMatrix;
///
/// // Class 1: 3 samples, 2 found; 4 predictions of class 1, 2 of them right.
/// let cm = ConfusionMatrix::from_counts(2, vec![1, 2, 1, 2])?;
/// let s = cm.class_stats()[1];
/// assert_eq!((s.correct, s.support, s.predicted), (2, 3, 4));
/// assert_eq!(s.precision(), Some(0.5));
/// assert_eq!(s.recall(), Some(2.0 / 3.0));
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassStats {
    /// Samples of this class predicted as this class (the diagonal entry).
    pub correct: u64,
    /// Samples whose true class is this class (the row sum).
    pub support: u64,
    /// Samples predicted as this class (the column sum).
    pub predicted: u64,
}

impl ClassStats {
    /// `correct / predicted`, or `None` when nothing was predicted as this class
    /// (scikit-learn reports 0 with a warning there; `None` keeps "undefined" visible).
    #[must_use]
    pub fn precision(&self) -> Option<f64> {
        ratio(self.correct, self.predicted)
    }

    /// `correct / support`, or `None` when the class has no sample.
    #[must_use]
    pub fn recall(&self) -> Option<f64> {
        ratio(self.correct, self.support)
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl ConfusionMatrix {
    /// Counts the samples of each (true class, predicted class) pair.
    ///
    /// # Errors
    ///
    /// * [`MetricsError::LengthMismatch`] when the slices differ in length;
    /// * [`MetricsError::Empty`] when they are empty;
    /// * [`MetricsError::TruthOutOfRange`] / [`MetricsError::PredictedOutOfRange`] for the
    ///   first sample with a label not below `n_classes`, the true label checked first;
    /// * [`MetricsError::TableTooLarge`] when `n_classes²` counts cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{ConfusionMatrix, MetricsError};
    ///
    /// let cm = ConfusionMatrix::new(&[0, 0, 1], &[0, 1, 1], 2)?;
    /// assert_eq!(cm.as_slice(), &[1, 1, 0, 1]);
    /// assert_eq!(
    ///     ConfusionMatrix::new(&[0, 0], &[0], 2),
    ///     Err(MetricsError::LengthMismatch { truth: 2, predicted: 1 })
    /// );
    /// # Ok::<(), MetricsError>(())
    /// ```
    pub fn new(truth: &[u32], predicted: &[u32], n_classes: usize) -> Result<Self, MetricsError> {
        check_lengths(truth, predicted)?;
        let mut counts = zeroed(n_classes, n_classes)?;
        for (index, (&t, &p)) in truth.iter().zip(predicted).enumerate() {
            if t as usize >= n_classes {
                return Err(MetricsError::TruthOutOfRange {
                    index,
                    label: t,
                    n_classes,
                });
            }
            if p as usize >= n_classes {
                return Err(MetricsError::PredictedOutOfRange {
                    index,
                    label: p,
                    n_classes,
                });
            }
            counts[t as usize * n_classes + p as usize] += 1;
        }
        Ok(Self {
            n_classes,
            counts,
            total: truth.len() as u64,
        })
    }

    /// A matrix from its counts, row-major: `counts[t * n_classes + p]`.
    ///
    /// # Errors
    ///
    /// * [`MetricsError::ShapeMismatch`] when `counts.len() != n_classes²`;
    /// * [`MetricsError::Empty`] when all counts are zero;
    /// * [`MetricsError::TooManySamples`] when the counts add up to more than
    ///   [`MAX_SAMPLES`](super::MAX_SAMPLES);
    /// * [`MetricsError::TableTooLarge`] when `n_classes²` overflows.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::ConfusionMatrix;
    ///
    /// let cm = ConfusionMatrix::from_counts(2, vec![453, 0, 7, 1000])?;
    /// assert_eq!(cm.to_string(), "[[ 453    0]\n [   7 1000]]");
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    pub fn from_counts(n_classes: usize, counts: Vec<u64>) -> Result<Self, MetricsError> {
        let total = check_counts(n_classes, n_classes, &counts)?;
        Ok(Self {
            n_classes,
            counts,
            total,
        })
    }

    /// The confusion matrix of a clustering whose clusters are mapped to classes by
    /// `mapping`, read off the contingency table without going back to the labels.
    ///
    /// # Errors
    ///
    /// [`MetricsError::MappingMismatch`] when `mapping` is not for the table's number of
    /// clusters and classes.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{ClusterMapping, ConfusionMatrix, Contingency, Mapping};
    ///
    /// let table = Contingency::new(&[0, 0, 1, 1], &[1, 1, 0, 1], 2, 2)?;
    /// let mapping = ClusterMapping::from_table(&table, Mapping::OneToOne);
    /// assert_eq!(mapping.as_slice(), &[1, 0]);
    /// let cm = ConfusionMatrix::from_contingency(&table, &mapping)?;
    /// assert_eq!(cm.as_slice(), &[2, 0, 1, 1]);
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    pub fn from_contingency(
        table: &Contingency,
        mapping: &ClusterMapping,
    ) -> Result<Self, MetricsError> {
        let n = table.n_classes();
        if mapping.k() != table.k() || mapping.n_classes() != n {
            return Err(MetricsError::MappingMismatch {
                mapping_k: mapping.k(),
                mapping_classes: mapping.n_classes(),
                table_k: table.k(),
                table_classes: n,
            });
        }
        let mut counts = zeroed(n, n)?;
        for (cluster, &class) in mapping.as_slice().iter().enumerate() {
            let row = table.row(cluster).unwrap_or(&[]);
            for (t, &c) in row.iter().enumerate() {
                counts[t * n + class as usize] += c;
            }
        }
        Ok(Self {
            n_classes: n,
            counts,
            total: table.total(),
        })
    }

    /// Number of classes (rows and columns).
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Number of samples (sum of all entries, at least 1).
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Correctly classified samples (sum of the diagonal).
    #[must_use]
    pub fn trace(&self) -> u64 {
        (0..self.n_classes)
            .map(|i| self.counts[i * self.n_classes + i])
            .sum()
    }

    /// `trace / total`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::ConfusionMatrix;
    ///
    /// let cm = ConfusionMatrix::new(&[0, 0, 1, 1], &[0, 1, 1, 1], 2)?;
    /// assert_eq!(cm.accuracy().fraction(), 0.75);
    /// assert_eq!(cm.accuracy().format_percent(), "75.00");
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn accuracy(&self) -> Accuracy {
        Accuracy::from_counts_unchecked(self.trace(), self.total)
    }

    /// Samples of true class `truth` predicted as `predicted`, or `None` when either is out
    /// of range.
    #[must_use]
    pub fn get(&self, truth: usize, predicted: usize) -> Option<u64> {
        self.row(truth)?.get(predicted).copied()
    }

    /// The row of true class `truth`, or `None` when it is out of range.
    #[must_use]
    pub fn row(&self, truth: usize) -> Option<&[u64]> {
        if truth >= self.n_classes {
            return None;
        }
        let start = truth * self.n_classes;
        self.counts.get(start..start + self.n_classes)
    }

    /// All counts, row-major.
    #[must_use]
    pub fn as_slice(&self) -> &[u64] {
        &self.counts
    }

    /// Counts for each class, indexed by class.
    #[must_use]
    pub fn class_stats(&self) -> Vec<ClassStats> {
        let n = self.n_classes;
        let mut stats = vec![
            ClassStats {
                correct: 0,
                support: 0,
                predicted: 0,
            };
            n
        ];
        for t in 0..n {
            for p in 0..n {
                let c = self.counts[t * n + p];
                stats[t].support += c;
                stats[p].predicted += c;
                if t == p {
                    stats[t].correct += c;
                }
            }
        }
        stats
    }

    /// Precision of one class: correct predictions of `class` over all predictions of
    /// `class`. `None` when `class` is out of range or nothing was predicted as `class`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::ConfusionMatrix;
    ///
    /// let cm = ConfusionMatrix::new(&[0, 0, 1, 1], &[0, 0, 0, 0], 2)?;
    /// assert_eq!(cm.precision(0), Some(0.5));
    /// assert_eq!(cm.precision(1), None);
    /// assert_eq!(cm.recall(0), Some(1.0));
    /// assert_eq!(cm.recall(1), Some(0.0));
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn precision(&self, class: usize) -> Option<f64> {
        let n = self.n_classes;
        if class >= n {
            return None;
        }
        let predicted = (0..n).map(|t| self.counts[t * n + class]).sum();
        ratio(self.counts[class * n + class], predicted)
    }

    /// Recall of one class: samples of `class` predicted as `class` over all samples of
    /// `class`. `None` when `class` is out of range or has no sample.
    #[must_use]
    pub fn recall(&self, class: usize) -> Option<f64> {
        let row = self.row(class)?;
        ratio(row[class], row.iter().sum())
    }

    /// The matrix printed with the given options instead of NumPy's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{ConfusionMatrix, PrintOptions};
    ///
    /// let cm = ConfusionMatrix::from_counts(2, vec![1, 0, 0, 12])?;
    /// let wide = PrintOptions::new().line_width(usize::MAX).threshold(usize::MAX);
    /// assert_eq!(cm.display_with(wide).to_string(), cm.to_string());
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn display_with(&self, options: PrintOptions) -> impl fmt::Display + '_ {
        MatrixDisplay {
            rows: self.n_classes,
            cols: self.n_classes,
            data: &self.counts,
            options,
        }
    }
}

impl ConfusionMatrix {
    /// The matrix as a table with the class names as row and column headers (rows: true
    /// classes, columns: predicted), numbers right-aligned. `names` shorter than the
    /// number of classes are completed with class numbers.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::metrics::ConfusionMatrix;
    ///
    /// let cm = ConfusionMatrix::new(&[0, 0, 1], &[0, 1, 1], 2)?;
    /// let names = ["cat".to_string(), "dog".to_string()];
    /// assert_eq!(cm.labelled(&names).to_string(), "     cat  dog\ncat    1    1\ndog    0    1");
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    pub fn labelled<'a>(&'a self, names: &'a [String]) -> impl fmt::Display + 'a {
        LabelledMatrix { cm: self, names }
    }
}

struct LabelledMatrix<'a> {
    cm: &'a ConfusionMatrix,
    names: &'a [String],
}

impl fmt::Display for LabelledMatrix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.cm.n_classes;
        let name = |c: usize| self.names.get(c).cloned().unwrap_or_else(|| c.to_string());
        let names: Vec<String> = (0..n).map(name).collect();
        let head = names.iter().map(|s| s.chars().count()).max().unwrap_or(0);
        let widest = self
            .cm
            .counts
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len());
        let col = |c: usize| names[c].chars().count().max(widest);
        write!(f, "{:head$}", "")?;
        for (c, s) in names.iter().enumerate() {
            write!(f, "  {s:>w$}", w = col(c))?;
        }
        for (r, s) in names.iter().enumerate() {
            write!(f, "\n{s:<head$}")?;
            for c in 0..n {
                write!(f, "  {:>w$}", self.cm.counts[r * n + c], w = col(c))?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for ConfusionMatrix {
    /// Prints the matrix as NumPy prints an integer array with default options.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display_with(PrintOptions::new()).fmt(f)
    }
}
