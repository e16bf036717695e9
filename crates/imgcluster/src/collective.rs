//! The seam between the clustering engines and the processes that share a data set.
//!
//! A distributed fit ([`fit_distributed`](crate::kmeans::fit_distributed)) runs the same
//! engine in every process (a *rank*), each over its own rows, and talks to the others only
//! through [`Collective`]: sums of per-cluster statistics, a few bytes broadcast or
//! gathered, and an ordered fold for the sums whose rounding must follow sample order. The
//! library ships the one-process implementation, [`SingleProcess`]; the `imgcluster` binary
//! implements it over MPI behind its `mpi` feature, so the library itself needs no MPI.
//!
//! Every method is collective: all ranks call it, in the same order, with buffers of the
//! same length, and every rank gets the same result. A rank that fails must still take part
//! (the engines agree on errors before they part ways), or the others wait for ever.

/// Collective operations over the ranks of one distributed fit.
///
/// # Examples
/// ```
/// use imgcluster::collective::{Collective, SingleProcess};
///
/// let one = SingleProcess;
/// let mut sums = [3_u64, 4];
/// one.allreduce_sum_u64(&mut sums);
/// assert_eq!((one.rank(), one.size(), sums), (0, 1, [3, 4]));
/// // The ordered fold runs the step once, on rank 0.
/// let mut acc = [1.0_f64];
/// one.fold_in_rank_order(&mut acc, &mut |s| s[0] += 0.5);
/// assert_eq!(acc, [1.5]);
/// ```
pub trait Collective: Sync {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;

    /// The number of ranks.
    fn size(&self) -> usize;

    /// Element-wise sum over the ranks, in place on every rank (integer sums are exact).
    fn allreduce_sum_u64(&self, values: &mut [u64]);

    /// Element-wise sum over the ranks, in place; every rank gets the same bits (the
    /// order of the additions is the implementation's, fixed for a given number of ranks).
    fn allreduce_sum_f64(&self, values: &mut [f64]);

    /// Rank `root`'s bytes, copied into `bytes` on every rank.
    fn broadcast(&self, root: usize, bytes: &mut [u8]);

    /// Every rank's bytes (of any length), in rank order, on every rank.
    fn allgather(&self, bytes: &[u8]) -> Vec<Vec<u8>>;

    /// An ordered fold: rank 0 runs `step` on `state`, hands the state to rank 1, which runs
    /// its `step`, and so on; the last rank's state ends up on every rank. This is how sums
    /// over samples keep the rounding of one process summing in sample order: each rank
    /// continues the running sum of the ranks before it.
    fn fold_in_rank_order(&self, state: &mut [f64], step: &mut dyn FnMut(&mut [f64]));
}

/// The single process: every operation is the identity (or one call of the step), at no cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SingleProcess;

impl Collective for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn size(&self) -> usize {
        1
    }

    fn allreduce_sum_u64(&self, _values: &mut [u64]) {}

    fn allreduce_sum_f64(&self, _values: &mut [f64]) {}

    fn broadcast(&self, _root: usize, _bytes: &mut [u8]) {}

    fn allgather(&self, bytes: &[u8]) -> Vec<Vec<u8>> {
        vec![bytes.to_vec()]
    }

    fn fold_in_rank_order(&self, state: &mut [f64], step: &mut dyn FnMut(&mut [f64])) {
        step(state);
    }
}

/// `f64` values as little-endian bytes (for [`Collective::allgather`]).
pub(crate) fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The `f64` values of little-endian bytes.
pub(crate) fn bytes_f64(bytes: &[u8]) -> Vec<f64> {
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}
