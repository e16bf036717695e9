//! Mini-batch k-means with the semantics of scikit-learn's `MiniBatchKMeans`.
//!
//! Lloyd's algorithm reads every sample on every iteration; on millions of samples most of
//! that work only confirms what a small random sample already says. Mini-batch k-means
//! (Sculley 2010) moves the centers after each random batch of samples instead, so it
//! needs far fewer distance computations, at the price of a slightly worse inertia.
//!
//! **What it does, as scikit-learn (1.x) does it.**
//!
//! * *Seeding*: `init_size` samples (default `3 · batch_size`, at least `3 · k`, at most N)
//!   drawn with replacement form a validation set; every attempt seeds centers (as fast mode
//!   seeds them, [`Init`](super::Init)) on its own draw of `init_size` samples, and the attempt whose
//!   centers give the smallest inertia on the validation set is kept.
//! * *Steps*: `max_iter` epochs are `max_iter · N / batch_size` steps. Each step draws
//!   `batch_size` samples with replacement, labels them with the current centers, and moves
//!   each center `c` that got `m` of them to `(count_c · c + Σ x) / (count_c + m)`: a
//!   learning rate of `m / (count_c + m)` from per-center counts that only grow.
//! * *Reassignment*: when some count is 0, or after every `10 · k` samples seen, centers
//!   whose count is below `reassignment_ratio` times the largest move to random samples of
//!   the batch (at most half a batch of them, the smallest counts first) and take the
//!   smallest count left among the others.
//! * *Stopping*: an exponentially weighted average of the batch inertia per sample (weight
//!   `2 · batch_size / (N + 1)`) that fails to improve on its minimum for
//!   `max_no_improvement` consecutive steps stops the fit early; so does (when `tol > 0`) a
//!   squared center change of at most `tol` times the mean variance of the features.
//! * Finally every sample gets its nearest center and the inertia is summed over all of them.
//!
//! **The arithmetic** is fast mode's: `d̃²(x, c) = (‖x‖² + ‖c‖²) − 2·dot16(x, c)` in `f64`,
//! with [`dot16_panel`](crate::kernels::dot16_panel) on blocks of rows, ties to the lowest
//! index. Centers and counts are kept in `f64` and updated in the batch's order. Random draws
//! come from the one [`CvRng`](crate::CvRng), and the parallel work (labelling rows, in fixed
//! chunks) only produces per-row results and sums combined in chunk order, so a seed gives the
//! same result for any thread count.
//!
//! **Memory**: one batch of labels and, per chunk of rows being labelled, a panel of
//! 32 rows × K dot products; never a matrix of N × K (or batch × K) distances. It
//! reads the samples where they are (a memory-mapped file works as well as a `Vec`).
//!
//! **Over several processes** ([`fit_minibatch_distributed`](super::fit_minibatch_distributed))
//! the steps are the same, from the same draws: every rank draws the same batch of global
//! sample indices from the one generator, labels the batch samples among its own rows, and
//! one sum over the ranks per step brings the batch's per-center sums and counts and each
//! batch sample's distance. The update rule above is already one per batch (batch sums and
//! counts, then the running means), so it does not depend on which rank holds which sample:
//! for byte samples the sums are exact integers and the result is the one-process result to
//! the bit, for any number of ranks; for `f32` samples the batch sums are `f64` sums over the
//! ranks (within a few ulps of the batch-order sums).

mod fit;
mod params;

pub(crate) use fit::run;
pub use fit::{fit_minibatch, fit_minibatch_u8};
pub use params::{CheckedMiniBatchParams, MiniBatchFit, MiniBatchParams, MiniBatchStop};
