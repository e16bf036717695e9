//! One call that scores a clustering against the true classes.

use super::{Accuracy, ClusterMapping, ConfusionMatrix, Contingency, Mapping, MetricsError};

/// Everything [`evaluate`] computes about a clustering.
///
/// Accuracy and the confusion matrix depend on the [`Mapping`]; NMI and ARI do not (they
/// compare partitions and ignore cluster names).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Evaluation {
    /// Clusters × classes counts everything else is computed from.
    pub contingency: Contingency,
    /// The class each cluster is mapped to.
    pub mapping: ClusterMapping,
    /// True classes × predicted classes after mapping.
    pub confusion: ConfusionMatrix,
    /// Trace of `confusion` over its total.
    pub accuracy: Accuracy,
    /// Normalised mutual information (see [`Contingency::nmi`]).
    pub nmi: f64,
    /// Adjusted Rand index (see [`Contingency::ari`]).
    pub ari: f64,
}

impl Evaluation {
    /// Scores a clustering given its contingency table.
    ///
    /// # Errors
    ///
    /// [`MetricsError::TableTooLarge`] when the `n_classes × n_classes` confusion matrix
    /// cannot be allocated.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{Contingency, Evaluation, Mapping};
    ///
    /// let table = Contingency::from_counts(2, 2, vec![0, 3, 4, 1])?;
    /// let e = Evaluation::from_contingency(table, Mapping::OneToOne)?;
    /// assert_eq!(e.mapping.as_slice(), &[1, 0]);
    /// assert_eq!(e.accuracy.correct(), 7);
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    pub fn from_contingency(
        contingency: Contingency,
        mapping: Mapping,
    ) -> Result<Self, MetricsError> {
        let mapping = ClusterMapping::from_table(&contingency, mapping);
        let confusion = ConfusionMatrix::from_contingency(&contingency, &mapping)?;
        Ok(Self {
            accuracy: confusion.accuracy(),
            nmi: contingency.nmi(),
            ari: contingency.ari(),
            contingency,
            mapping,
            confusion,
        })
    }
}

/// Scores a clustering against the true classes: maps clusters to classes, builds the
/// confusion matrix, and computes accuracy, NMI and ARI.
///
/// `truth[i]` is the class of sample `i` (in `0..n_classes`), `clusters[i]` its cluster id
/// (in `0..k`).
///
/// # Errors
///
/// As [`Contingency::new`]: [`MetricsError::LengthMismatch`], [`MetricsError::Empty`],
/// [`MetricsError::TruthOutOfRange`], [`MetricsError::ClusterOutOfRange`],
/// [`MetricsError::TableTooLarge`] (for the contingency table or the confusion matrix).
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::{evaluate, Mapping};
///
/// let truth = [0, 0, 0, 1, 1, 1, 2, 2, 2];
/// let clusters = [2, 2, 2, 0, 0, 1, 1, 1, 1];
/// let e = evaluate(&truth, &clusters, 3, 3, Mapping::OneToOne)?;
/// assert_eq!(e.mapping.as_slice(), &[1, 2, 0]);
/// assert_eq!(e.accuracy.format_percent(), "88.89");
/// assert_eq!(e.confusion.to_string(), "[[3 0 0]\n [0 2 1]\n [0 0 3]]");
/// assert!(e.nmi > 0.7 && e.nmi < 1.0);
/// assert!(e.ari > 0.6 && e.ari < 1.0);
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
pub fn evaluate(
    truth: &[u32],
    clusters: &[u32],
    n_classes: usize,
    k: usize,
    mapping: Mapping,
) -> Result<Evaluation, MetricsError> {
    let table = Contingency::new(truth, clusters, n_classes, k)?;
    Evaluation::from_contingency(table, mapping)
}
