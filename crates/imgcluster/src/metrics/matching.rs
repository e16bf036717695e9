//! Cluster→class mappings: the optimal one-to-one matching (Hungarian algorithm) and the
//! many-to-one majority vote.

use pathfinding::kuhn_munkres::kuhn_munkres;
use pathfinding::matrix::Matrix;

use super::{Contingency, MetricsError};

/// How clusters are mapped to classes.
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::{ClusterMapping, Contingency, Mapping};
///
/// // Clusters 0 and 1 are both mostly class 0.
/// let table = Contingency::from_counts(2, 2, vec![3, 0, 2, 1])?;
/// assert_eq!(ClusterMapping::from_table(&table, Mapping::Majority).as_slice(), &[0, 0]);
/// assert_eq!(ClusterMapping::from_table(&table, Mapping::OneToOne).as_slice(), &[0, 1]);
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mapping {
    /// The one-to-one matching of clusters to classes that maximises the number of matched
    /// samples (the sum of the matched cells of the contingency table), found with the
    /// Hungarian algorithm. This is the usual "clustering accuracy".
    ///
    /// * With `k == n_classes` the mapping is a bijection.
    /// * With `k < n_classes` every cluster gets a distinct class; some classes get none,
    ///   and all their samples count as misclassified.
    /// * With `k > n_classes` only `n_classes` clusters can be matched. The other clusters
    ///   **fall back to their majority class** (as in [`Mapping::Majority`]), so that every
    ///   sample still gets a predicted class and the confusion matrix stays square; those
    ///   clusters then share a class with a matched cluster. Among the matchings with the
    ///   most matched samples, one is chosen whose left-over clusters' majority classes
    ///   cover the most samples, so the accuracy is the best this two-stage rule allows and
    ///   does not depend on how the clusters are numbered.
    ///
    /// Remaining ties are broken deterministically: among all equally good matchings, the
    /// one whose classes, read in cluster order, form the lexicographically smallest
    /// sequence — cluster 0 gets the lowest class it has in any of them, then cluster 1 the
    /// lowest one compatible with that, and so on, "left unmatched" ranking after every
    /// class. Accuracy never depends on this tie-break; which cluster gets which class may.
    OneToOne,
    /// Many-to-one: each cluster is mapped to its most frequent class, ties to the lowest
    /// class index. A cluster with no sample maps to class 0.
    Majority,
}

/// A cluster→class mapping: `k` clusters, each sent to a class in `0..n_classes`.
///
/// # Examples
///
/// ```
/// use imgcluster::metrics::ClusterMapping;
///
/// let m = ClusterMapping::new(vec![2, 0, 1], 3)?;
/// assert_eq!(m.apply(&[0, 0, 1, 2])?, vec![2, 2, 0, 1]);
/// assert_eq!(m.class_of(1), Some(0));
/// assert!(m.is_bijection());
/// # Ok::<(), imgcluster::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClusterMapping {
    classes: Vec<u32>,
    n_classes: usize,
}

impl ClusterMapping {
    /// A mapping from a list of classes, one per cluster.
    ///
    /// # Errors
    ///
    /// [`MetricsError::MappedClassOutOfRange`] for the first cluster whose class is not
    /// below `n_classes`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{ClusterMapping, MetricsError};
    ///
    /// assert_eq!(
    ///     ClusterMapping::new(vec![0, 3], 2),
    ///     Err(MetricsError::MappedClassOutOfRange { cluster: 1, class: 3, n_classes: 2 })
    /// );
    /// ```
    pub fn new(classes: Vec<u32>, n_classes: usize) -> Result<Self, MetricsError> {
        if let Some((cluster, &class)) = classes
            .iter()
            .enumerate()
            .find(|&(_, &c)| c as usize >= n_classes)
        {
            return Err(MetricsError::MappedClassOutOfRange {
                cluster,
                class,
                n_classes,
            });
        }
        Ok(Self { classes, n_classes })
    }

    /// The mapping of the given kind for a contingency table (see [`Mapping`] for the
    /// definitions and tie-breaking).
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{ClusterMapping, Contingency, Mapping};
    ///
    /// // Three clusters, two classes: cluster 2 is left out of the one-to-one matching
    /// // and falls back to its majority class.
    /// let table = Contingency::from_counts(3, 2, vec![0, 5, 4, 0, 3, 1])?;
    /// let m = ClusterMapping::from_table(&table, Mapping::OneToOne);
    /// assert_eq!(m.as_slice(), &[1, 0, 0]);
    /// # Ok::<(), imgcluster::metrics::MetricsError>(())
    /// ```
    #[must_use]
    pub fn from_table(table: &Contingency, mapping: Mapping) -> Self {
        let majority = majority(table);
        let classes = match mapping {
            Mapping::Majority => majority,
            Mapping::OneToOne => one_to_one(table)
                .into_iter()
                .zip(majority)
                .map(|(matched, fallback)| matched.unwrap_or(fallback))
                .collect(),
        };
        Self {
            classes,
            n_classes: table.n_classes(),
        }
    }

    /// Number of clusters.
    #[must_use]
    pub fn k(&self) -> usize {
        self.classes.len()
    }

    /// Number of classes.
    #[must_use]
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// The class of each cluster, indexed by cluster id.
    #[must_use]
    pub fn as_slice(&self) -> &[u32] {
        &self.classes
    }

    /// The class of each cluster, indexed by cluster id.
    #[must_use]
    pub fn into_vec(self) -> Vec<u32> {
        self.classes
    }

    /// The class of one cluster, or `None` when `cluster >= k`.
    #[must_use]
    pub fn class_of(&self, cluster: usize) -> Option<u32> {
        self.classes.get(cluster).copied()
    }

    /// Whether every class is the image of exactly one cluster.
    #[must_use]
    pub fn is_bijection(&self) -> bool {
        if self.classes.len() != self.n_classes {
            return false;
        }
        let mut seen = vec![false; self.n_classes];
        self.classes
            .iter()
            .all(|&c| !std::mem::replace(&mut seen[c as usize], true))
    }

    /// Maps cluster ids to classes.
    ///
    /// # Errors
    ///
    /// [`MetricsError::ClusterOutOfRange`] for the first cluster id not below `k`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::metrics::{ClusterMapping, MetricsError};
    ///
    /// let m = ClusterMapping::new(vec![1, 0], 2)?;
    /// assert_eq!(m.apply(&[0, 1, 1])?, vec![1, 0, 0]);
    /// assert_eq!(m.apply(&[0, 5]), Err(MetricsError::ClusterOutOfRange { index: 1, label: 5, k: 2 }));
    /// # Ok::<(), MetricsError>(())
    /// ```
    pub fn apply(&self, clusters: &[u32]) -> Result<Vec<u32>, MetricsError> {
        clusters
            .iter()
            .enumerate()
            .map(|(index, &c)| {
                self.class_of(c as usize)
                    .ok_or(MetricsError::ClusterOutOfRange {
                        index,
                        label: c,
                        k: self.k(),
                    })
            })
            .collect()
    }
}

/// Each cluster's most frequent class, ties (and empty clusters) to the lowest class.
fn majority(table: &Contingency) -> Vec<u32> {
    (0..table.k())
        .map(|c| {
            let row = table.row(c).unwrap_or(&[]);
            let mut best = 0;
            for (t, &n) in row.iter().enumerate() {
                if n > row[best] {
                    best = t;
                }
            }
            best as u32
        })
        .collect()
}

/// The optimal one-to-one matching with the lexicographic tie-break of
/// [`Mapping::OneToOne`]: `Some(class)` for matched clusters, `None` for the clusters left
/// over when `k > n_classes`.
pub(crate) fn one_to_one(table: &Contingency) -> Vec<Option<u32>> {
    let (k, c) = (table.k(), table.n_classes());
    // Pad to a square n × n problem: dummy clusters (rows ≥ k) and dummy classes
    // (columns ≥ c) weigh nothing. A cluster matched to a dummy class is unmatched, and
    // because dummy columns come after the real ones, the lexicographic order ranks
    // "unmatched" after every class.
    //
    // The two-level objective (most matched samples, then the most samples in left-over
    // clusters' majority classes) is one weight: a real cell weighs count × (N + 1) and a
    // real cluster's dummy cells weigh its majority count. Left-over clusters cover at
    // most N samples in all, less than one matched sample's weight. Counts add up to at
    // most MAX_SAMPLES = 2^53, so every weight and sum fits easily in i128.
    let n = k.max(c);
    let scale = i128::from(table.total()) + 1;
    let mut w = vec![0i128; n * n];
    for cl in 0..k {
        let row = table.row(cl).unwrap_or(&[]);
        let majority = row.iter().copied().max().unwrap_or(0);
        for (t, &count) in row.iter().enumerate() {
            w[cl * n + t] = i128::from(count) * scale;
        }
        for t in c..n {
            w[cl * n + t] = i128::from(majority);
        }
    }
    let assign = lexmin_max_assignment(&w, n);
    assign[..k]
        .iter()
        .map(|&col| (col < c).then_some(col as u32))
        .collect()
}

/// The maximum-weight perfect matching of the square `n × n` weights `w` (row-major) that
/// is lexicographically smallest among all maximum-weight ones, as `row → column`.
///
/// 1. `kuhn_munkres` gives one optimal matching `M`.
/// 2. Dual variables `u, v` with `u[i] + v[j] >= w[i][j]` everywhere and equality on `M`
///    are the shortest distances of a difference-constraint system (Bellman–Ford). By
///    complementary slackness, the optimal matchings are exactly the perfect matchings of
///    the equality subgraph `u[i] + v[j] == w[i][j]`.
/// 3. Greedily, row by row, take the lowest column for which the remaining rows still have
///    a perfect matching in that subgraph (one alternating-path search per candidate).
///
/// Runs in O(n⁴) at worst (O(n³) without ties); all arithmetic is exact. The weights must
/// be small enough that sums of `2n` of them cannot overflow.
fn lexmin_max_assignment(w: &[i128], n: usize) -> Vec<usize> {
    if n == 0 {
        return Vec::new();
    }
    let at = |i: usize, j: usize| w[i * n + j];
    let Ok(matrix) = Matrix::from_vec(n, n, w.to_vec()) else {
        return (0..n).collect();
    };
    let (_, mut row_to_col) = kuhn_munkres(&matrix);

    // Duals on columns: v[m(i)] <= v[j] + w[i][m(i)] - w[i][j] for all i, j. Shortest
    // distances from a virtual source joined to every column at cost 0; no negative cycle
    // exists because M is optimal, so n + 1 rounds suffice.
    let mut v = vec![0i128; n];
    for _ in 0..=n {
        let mut changed = false;
        for (i, &mi) in row_to_col.iter().enumerate() {
            for j in 0..n {
                let cand = v[j] + at(i, mi) - at(i, j);
                if cand < v[mi] {
                    v[mi] = cand;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let u: Vec<i128> = row_to_col
        .iter()
        .enumerate()
        .map(|(i, &mi)| at(i, mi) - v[mi])
        .collect();
    if (0..n).any(|i| (0..n).any(|j| u[i] + v[j] < at(i, j))) {
        // Cannot happen for an optimal M; keep kuhn_munkres's answer rather than panic.
        debug_assert!(false, "infeasible duals");
        return row_to_col;
    }
    let tight: Vec<bool> = (0..n * n)
        .map(|ij| u[ij / n] + v[ij % n] == at(ij / n, ij % n))
        .collect();

    let mut col_to_row = vec![0; n];
    for (i, &j) in row_to_col.iter().enumerate() {
        col_to_row[j] = i;
    }
    let mut locked = vec![false; n];
    for i in 0..n {
        let current = row_to_col[i];
        for j in 0..current {
            if locked[j] || !tight[i * n + j] {
                continue;
            }
            // Give j to i; its owner (a later row) must reach the freed column `current`
            // along an alternating path through unlocked columns other than j.
            let mut search = AlternatingPath {
                tight: &tight,
                n,
                col_to_row: &col_to_row,
                blocked: locked.clone(),
                path: Vec::new(),
            };
            search.blocked[j] = true;
            if search.find(col_to_row[j], current) {
                for (row, col) in search.path {
                    row_to_col[row] = col;
                    col_to_row[col] = row;
                }
                row_to_col[i] = j;
                col_to_row[j] = i;
                break;
            }
        }
        locked[row_to_col[i]] = true;
    }
    row_to_col
}

/// Depth-first search for an alternating path in the equality subgraph.
struct AlternatingPath<'a> {
    /// `tight[i * n + j]`: edge (i, j) is in the equality subgraph.
    tight: &'a [bool],
    n: usize,
    /// The current perfect matching, column → row.
    col_to_row: &'a [usize],
    /// Columns the path may not use: locked, the one being handed out, or visited.
    blocked: Vec<bool>,
    /// On success, the new `(row, column)` assignments along the path.
    path: Vec<(usize, usize)>,
}

impl AlternatingPath<'_> {
    /// Whether `row` can move to another column so that, following the chain of displaced
    /// rows, the free column `target` ends up taken.
    fn find(&mut self, row: usize, target: usize) -> bool {
        for col in 0..self.n {
            if self.blocked[col] || !self.tight[row * self.n + col] {
                continue;
            }
            self.blocked[col] = true;
            self.path.push((row, col));
            if col == target || self.find(self.col_to_row[col], target) {
                return true;
            }
            self.path.pop();
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// All permutations of 0..n in lexicographic order.
    fn permutations(n: usize) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        let mut p: Vec<usize> = (0..n).collect();
        loop {
            out.push(p.clone());
            // next permutation
            let Some(i) = (1..n).rev().find(|&i| p[i - 1] < p[i]) else {
                return out;
            };
            let j = (i..n).rev().find(|&j| p[j] > p[i - 1]).unwrap();
            p.swap(i - 1, j);
            p[i..].reverse();
        }
    }

    /// First maximum-weight permutation in lexicographic order.
    fn brute_force(w: &[i128], n: usize) -> Vec<usize> {
        first_best(n, |p| {
            p.iter()
                .enumerate()
                .map(|(i, &j)| w[i * n + j])
                .sum::<i128>()
        })
    }

    /// First permutation of 0..n, in lexicographic order, with the greatest score.
    fn first_best<S: Ord>(n: usize, score: impl Fn(&[usize]) -> S) -> Vec<usize> {
        let mut best: Option<(S, Vec<usize>)> = None;
        for p in permutations(n) {
            let s = score(&p);
            if best.as_ref().is_none_or(|(b, _)| s > *b) {
                best = Some((s, p));
            }
        }
        best.map(|(_, p)| p).unwrap_or_default()
    }

    #[test]
    fn permutations_are_lexicographic() {
        assert_eq!(
            permutations(3),
            vec![
                vec![0, 1, 2],
                vec![0, 2, 1],
                vec![1, 0, 2],
                vec![1, 2, 0],
                vec![2, 0, 1],
                vec![2, 1, 0]
            ]
        );
    }

    #[test]
    fn all_ties_give_identity() {
        for n in 0..6 {
            let w = vec![7i128; n * n];
            assert_eq!(lexmin_max_assignment(&w, n), (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn tie_prefers_lowest_class_for_lowest_cluster() {
        // Both matchings match 2 samples; [0, 1] is lexicographically smaller.
        let w = [1i128, 1, 1, 1];
        assert_eq!(lexmin_max_assignment(&w, 2), vec![0, 1]);
        // Anti-diagonal heavier: the unique optimum wins over the tie-break.
        let w = [1i128, 5, 5, 1];
        assert_eq!(lexmin_max_assignment(&w, 2), vec![1, 0]);
    }

    #[test]
    fn rectangular_left_over_clusters_are_unmatched() {
        // 3 clusters, 2 classes: cluster 1 and 2 compete for class 0.
        let t = Contingency::from_counts(3, 2, vec![0, 5, 4, 0, 3, 1]).unwrap();
        assert_eq!(one_to_one(&t), vec![Some(1), Some(0), None]);
        // 2 clusters, 3 classes: every cluster gets a distinct class.
        let t = Contingency::from_counts(2, 3, vec![1, 2, 3, 0, 0, 9]).unwrap();
        assert_eq!(one_to_one(&t), vec![Some(1), Some(2)]);
    }

    #[test]
    fn left_over_majority_breaks_ties_before_lexicographic_order() {
        // Both [0, 1, -] and [0, -, 1] match 8 samples; leaving cluster 1 over keeps its
        // 4 samples of class 0, leaving cluster 2 over only 3 of class 1.
        let t = Contingency::from_counts(3, 2, vec![5, 0, 4, 3, 0, 3]).unwrap();
        assert_eq!(one_to_one(&t), vec![Some(0), None, Some(1)]);
        let m = ClusterMapping::from_table(&t, Mapping::OneToOne);
        assert_eq!(m.as_slice(), &[0, 0, 1]);
    }

    #[test]
    fn majority_breaks_ties_to_lowest_class() {
        let t = Contingency::from_counts(3, 3, vec![2, 2, 1, 0, 0, 0, 0, 3, 3]).unwrap();
        assert_eq!(majority(&t), vec![0, 0, 1]);
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 300,
            failure_persistence: None,
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0001),
            ..ProptestConfig::default()
        })]

        /// On raw square weights (negative ones too), the assignment is the first
        /// maximum-weight permutation in lexicographic order.
        #[test]
        fn assignment_equals_brute_force(
            (n, w) in (1usize..=6).prop_flat_map(|n| {
                (Just(n), proptest::collection::vec(-3i128..4, n * n))
            })
        ) {
            prop_assert_eq!(lexmin_max_assignment(&w, n), brute_force(&w, n));
        }

        /// The matching (including its tie-break) equals the first optimal permutation in
        /// lexicographic order, on square and padded rectangular tables; small counts
        /// make ties frequent.
        #[test]
        fn equals_brute_force(
            (k, c, counts) in (1usize..=6, 1usize..=6).prop_flat_map(|(k, c)| {
                (Just(k), Just(c), proptest::collection::vec(0u64..4, k * c))
            })
        ) {
            let mut counts = counts;
            counts[0] += 1; // never empty
            let t = Contingency::from_counts(k, c, counts.clone()).unwrap();
            // Padded to n × n; score = (matched samples, majority samples of the clusters
            // left over), compared lexicographically, computed directly.
            let n = k.max(c);
            let best = first_best(n, |p| {
                let mut matched = 0;
                let mut left_over = 0;
                for (cl, &col) in p[..k].iter().enumerate() {
                    let row = &counts[cl * c..(cl + 1) * c];
                    if col < c {
                        matched += row[col];
                    } else {
                        left_over += row.iter().max().unwrap();
                    }
                }
                (matched, left_over)
            });
            let expected: Vec<Option<u32>> = best[..k]
                .iter()
                .map(|&j| (j < c).then_some(j as u32))
                .collect();
            prop_assert_eq!(one_to_one(&t), expected);
        }
    }
}
