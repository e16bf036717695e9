//! Scores of a clustering against the true classes: accuracy, mutual information, NMI and
//! ARI, following scikit-learn's definitions.

use std::fmt;

use super::contingency::check_lengths;
use super::{Contingency, MetricsError};

/// A classification accuracy: `correct` of `total` samples, kept as exact counts.
///
/// [`Display`](fmt::Display) prints [`Accuracy::format_percent`] followed by `%`.
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::Accuracy;
///
/// let a = Accuracy::from_labels(&[0, 1, 2, 2], &[0, 1, 2, 0])?;
/// assert_eq!((a.correct(), a.total()), (3, 4));
/// assert_eq!(a.fraction(), 0.75);
/// assert_eq!(a.percent(), 75.0);
/// assert_eq!(a.to_string(), "75.00%");
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Accuracy {
    correct: u64,
    total: u64,
}

impl Accuracy {
    /// `correct <= total` and `total > 0` are the caller's promise.
    pub(crate) fn from_counts_unchecked(correct: u64, total: u64) -> Self {
        debug_assert!(total > 0 && correct <= total);
        Self { correct, total }
    }

    /// The fraction of samples whose predicted label equals the true label (no mapping
    /// is applied: use it on classes, not on raw cluster ids).
    ///
    /// # Errors
    ///
    /// [`MetricsError::LengthMismatch`] when the slices differ in length,
    /// [`MetricsError::Empty`] when they are empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{Accuracy, MetricsError};
    ///
    /// assert_eq!(Accuracy::from_labels(&[1, 1], &[1, 0])?.fraction(), 0.5);
    /// assert_eq!(Accuracy::from_labels(&[], &[]), Err(MetricsError::Empty));
    /// # Ok::<(), MetricsError>(())
    /// ```
    pub fn from_labels(truth: &[u32], predicted: &[u32]) -> Result<Self, MetricsError> {
        check_lengths(truth, predicted)?;
        let correct = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
        Ok(Self::from_counts_unchecked(
            correct as u64,
            truth.len() as u64,
        ))
    }

    /// Correctly classified samples.
    #[must_use]
    pub fn correct(&self) -> u64 {
        self.correct
    }

    /// All samples (at least 1).
    #[must_use]
    pub fn total(&self) -> u64 {
        self.total
    }

    /// `correct / total`, in `[0, 1]`.
    #[must_use]
    pub fn fraction(&self) -> f64 {
        self.correct as f64 / self.total as f64
    }

    /// `100 × correct / total`, in `[0, 100]`.
    #[must_use]
    pub fn percent(&self) -> f64 {
        self.correct as f64 * 100.0 / self.total as f64
    }

    /// The percentage with exactly two decimals and no `%` sign, e.g. `"53.18"` for
    /// 2659 of 5000.
    ///
    /// Rounding is done on the exact ratio of the counts (not on a float), to the nearest
    /// hundredth of a percent, halves rounded up: 1 of 8 prints `"12.50"`, 1 of 32
    /// (3.125 %) prints `"3.13"`, 2 of 3 prints `"66.67"`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::ConfusionMatrix;
    ///
    /// // 2659 correct of 5000: OpenCV's k-means tutorial on its digits.
    /// let cm = ConfusionMatrix::from_counts(2, vec![2659, 2341, 0, 0])?;
    /// assert_eq!(cm.accuracy().format_percent(), "53.18");
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn format_percent(&self) -> String {
        let (c, t) = (u128::from(self.correct), u128::from(self.total));
        // floor(c·10000/t + 1/2) in hundredths of a percent.
        let hundredths = (2 * c * 10_000 + t) / (2 * t);
        format!("{}.{:02}", hundredths / 100, hundredths % 100)
    }
}

impl fmt::Display for Accuracy {
    /// [`Accuracy::format_percent`] followed by `%`, e.g. `53.18%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.format_percent())
    }
}

/// Entropy (natural log) of a labelling given its label counts, as scikit-learn's
/// `_entropy`: zero counts are ignored and a single label has entropy 0.
fn entropy(sizes: &[u64]) -> f64 {
    let nonzero = || sizes.iter().filter(|&&s| s > 0).map(|&s| s as f64);
    if nonzero().count() <= 1 {
        return 0.0;
    }
    let sum: f64 = nonzero().sum();
    let ln_sum = sum.ln();
    -nonzero()
        .map(|p| (p / sum) * (p.ln() - ln_sum))
        .sum::<f64>()
}

fn distinct(sizes: &[u64]) -> usize {
    sizes.iter().filter(|&&s| s > 0).count()
}

impl Contingency {
    /// Mutual information (natural log, in nats) between the clustering and the classes,
    /// as scikit-learn's `mutual_info_score`.
    ///
    /// Computed in `f64` with scikit-learn's formula and order of operations: terms whose
    /// magnitude is below `f64::EPSILON` are set to 0 and the sum is clipped at 0. It is 0
    /// when only one class or only one cluster occurs.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::Contingency;
    ///
    /// // Two equal halves matched perfectly: MI = ln 2.
    /// let t = Contingency::new(&[0, 0, 1, 1], &[1, 1, 0, 0], 2, 2)?;
    /// assert!((t.mutual_info() - std::f64::consts::LN_2).abs() < 1e-15);
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn mutual_info(&self) -> f64 {
        let a = self.class_sizes();
        let b = self.cluster_sizes();
        if distinct(&a) == 1 || distinct(&b) == 1 {
            return 0.0;
        }
        let n = self.total() as f64;
        let ln_n = n.ln();
        let mut mi = 0.0;
        // scikit-learn's order: classes (its rows) outer, clusters inner.
        for (t, &at) in a.iter().enumerate() {
            for (c, &bc) in b.iter().enumerate() {
                let nij = self.get(c, t).unwrap_or(0);
                if nij == 0 {
                    continue;
                }
                let nij = nij as f64;
                let cnm = nij / n;
                let outer = (u128::from(at) * u128::from(bc)) as f64;
                let log_outer = -outer.ln() + ln_n + ln_n;
                let term = cnm * (nij.ln() - ln_n) + cnm * log_outer;
                if term.abs() >= f64::EPSILON {
                    mi += term;
                }
            }
        }
        mi.max(0.0)
    }

    /// Normalised mutual information, as scikit-learn's `normalized_mutual_info_score`
    /// with its default arithmetic-mean normalisation: `MI / ((H(classes) + H(clusters)) / 2)`,
    /// natural log, in `[0, 1]`, symmetric and unchanged by renaming clusters.
    ///
    /// Degenerate cases follow scikit-learn (only classes and clusters that have samples
    /// count): when one class and one cluster occur, the labellings agree and the score is
    /// 1.0; when only one of the two labellings is constant, MI is 0 and so is the score.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::Contingency;
    ///
    /// let perfect = Contingency::new(&[0, 0, 1, 1], &[0, 0, 1, 1], 2, 2)?;
    /// assert_eq!(perfect.nmi(), 1.0);
    /// let constant = Contingency::new(&[0, 0, 0], &[2, 2, 2], 1, 3)?;
    /// assert_eq!(constant.nmi(), 1.0);
    /// let one_cluster = Contingency::new(&[0, 0, 1, 1], &[0, 0, 0, 0], 2, 1)?;
    /// assert_eq!(one_cluster.nmi(), 0.0);
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn nmi(&self) -> f64 {
        let a = self.class_sizes();
        let b = self.cluster_sizes();
        if distinct(&a) == 1 && distinct(&b) == 1 {
            return 1.0;
        }
        let mi = self.mutual_info();
        if mi == 0.0 {
            return 0.0;
        }
        let normalizer = (entropy(&a) + entropy(&b)) / 2.0;
        mi / normalizer
    }

    /// Adjusted Rand index, as scikit-learn's `adjusted_rand_score`: the Rand index
    /// corrected for chance, 1.0 for identical partitions (up to renaming), about 0 for
    /// random ones, and possibly negative (down to −0.5).
    ///
    /// Pair counts are exact integers (`i128`); the final ratio is computed as
    /// scikit-learn does, `2.0 * (tp·tn − fn·fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))`.
    /// When no pair is split differently by the two partitions (`fn = fp = 0`, which
    /// includes a single sample and two constant labellings) the score is 1.0.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::Contingency;
    ///
    /// let t = Contingency::new(&[0, 0, 1, 2], &[0, 0, 1, 1], 3, 2)?;
    /// assert!((t.ari() - 0.5714285714285715).abs() < 1e-15);
    /// let t = Contingency::new(&[0, 0, 1, 1], &[0, 1, 0, 1], 2, 2)?;
    /// assert_eq!(t.ari(), -0.5);
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn ari(&self) -> f64 {
        let n = i128::from(self.total());
        let square_sum =
            |s: &[u64]| -> i128 { s.iter().map(|&x| i128::from(x) * i128::from(x)).sum() };
        // Counts add up to at most 2^53, so these sums of squares fit in i128.
        let sum_squares = square_sum(self.as_slice());
        let tp = sum_squares - n;
        let fp = square_sum(&self.cluster_sizes()) - sum_squares;
        let fn_ = square_sum(&self.class_sizes()) - sum_squares;
        let tn = n * n - fp - fn_ - sum_squares;
        if fn_ == 0 && fp == 0 {
            return 1.0;
        }
        let exact = || -> Option<(i128, i128)> {
            let num = tp.checked_mul(tn)?.checked_sub(fn_.checked_mul(fp)?)?;
            let den = (tp + fn_)
                .checked_mul(fn_ + tn)?
                .checked_add((tp + fp).checked_mul(fp + tn)?)?;
            Some((num, den))
        };
        match exact() {
            Some((num, den)) => 2.0 * num as f64 / den as f64,
            None => {
                // Only for more than about 10^9 samples: finish in f64.
                let (tp, tn, fp, fn_) = (tp as f64, tn as f64, fp as f64, fn_ as f64);
                2.0 * (tp * tn - fn_ * fp) / ((tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(truth: &[u32], clusters: &[u32]) -> Contingency {
        let n_classes = truth.iter().max().map_or(0, |&m| m as usize + 1);
        let k = clusters.iter().max().map_or(0, |&m| m as usize + 1);
        Contingency::new(truth, clusters, n_classes, k).unwrap()
    }

    #[test]
    fn entropy_of_uniform_labels_is_ln_n() {
        assert_eq!(entropy(&[5]), 0.0);
        assert_eq!(entropy(&[0, 5, 0]), 0.0);
        assert!((entropy(&[3, 3]) - 2f64.ln()).abs() < 1e-15);
        assert!((entropy(&[1, 1, 1, 1]) - 4f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn format_percent_rounds_exact_ratio_half_up() {
        let f = |c, t| Accuracy::from_counts_unchecked(c, t).format_percent();
        assert_eq!(f(2659, 5000), "53.18");
        assert_eq!(f(3546, 5000), "70.92");
        assert_eq!(f(1, 8), "12.50");
        assert_eq!(f(1, 32), "3.13");
        assert_eq!(f(2, 3), "66.67");
        assert_eq!(f(1, 3), "33.33");
        assert_eq!(f(0, 7), "0.00");
        assert_eq!(f(7, 7), "100.00");
        assert_eq!(f(1, 20_001), "0.00");
        assert_eq!(f(u64::MAX - 1, u64::MAX), "100.00");
    }

    #[test]
    fn mutual_info_hand_computed() {
        // truth [0,0,1,1], clusters [0,0,0,1]: cells (0,0)=2, (1,0)=1, (1,1)=1;
        // class sizes 2,2, cluster sizes 3,1.
        // MI = 2/4 ln(2·4/(2·3)) + 1/4 ln(1·4/(2·3)) + 1/4 ln(1·4/(2·1)).
        let t = table(&[0, 0, 1, 1], &[0, 0, 0, 1]);
        let expected = 0.5 * (4.0f64 / 3.0).ln() + 0.25 * (2.0f64 / 3.0).ln() + 0.25 * 2f64.ln();
        assert!((t.mutual_info() - expected).abs() < 1e-15);
        let h_true = 2f64.ln();
        let h_pred = -(0.75 * 0.75f64.ln() + 0.25 * 0.25f64.ln());
        let nmi = expected / ((h_true + h_pred) / 2.0);
        assert!((t.nmi() - nmi).abs() < 1e-15);
    }

    #[test]
    fn ari_hand_computed() {
        // Same table: sum n_ij^2 = 6, sum a^2 = 8, sum b^2 = 10, n = 4.
        // tp = 2, fp = 4, fn = 2, tn = 16 - 4 - 2 - 6 = 4.
        // ARI = 2(2·4 − 2·4) / ((2+2)(2+4) + (2+4)(4+4)) = 0.
        let t = table(&[0, 0, 1, 1], &[0, 0, 0, 1]);
        assert_eq!(t.ari(), 0.0);
        // [0,0,1,2] vs [0,0,1,1]: sum n^2 = 6, a^2 = 6, b^2 = 8: tp = 2, fp = 2, fn = 0,
        // tn = 8; ARI = 2·16 / (2·8 + 4·10) = 32/56 = 4/7.
        let t = table(&[0, 0, 1, 2], &[0, 0, 1, 1]);
        assert_eq!(t.ari(), 2.0 * 16.0 / 56.0);
    }

    #[test]
    fn single_sample_is_perfect() {
        let t = table(&[0], &[0]);
        assert_eq!(t.ari(), 1.0);
        assert_eq!(t.nmi(), 1.0);
        assert_eq!(t.mutual_info(), 0.0);
    }
}
