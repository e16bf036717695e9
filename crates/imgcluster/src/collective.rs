//! The seam between the clustering engines and the processes that share a data set.
//!
//! A distributed fit ([`fit_distributed`](crate::kmeans::fit_distributed)) runs the same
//! engine in every process (a *rank*), each over its own rows, and talks to the others only
//! through [`Collective`]: sums of per-cluster statistics, a few bytes broadcast or
//! gathered, and an ordered fold for the sums whose rounding must follow sample order. The
//! library ships the one-process implementation, [`SingleProcess`], and [`ThreadRank`], ranks
//! that are threads of one process (for tests and examples); the `imgcluster` binary
//! implements it over MPI behind its `mpi` feature, so the library itself needs no MPI.
//!
//! Every method is collective: all ranks call it, in the same order, with buffers of the
//! same length, and every rank gets the same result. A rank that fails must still take part
//! (the engines agree on errors before they part ways), or the others wait for ever.

use std::sync::{Arc, Barrier, Mutex};

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

/// Ranks that are threads of one process, exchanging bytes through shared memory: a
/// [`Collective`] for tests and examples of distributed code without MPI. [`ThreadRank::group`]
/// makes the ranks; each thread runs the distributed code with its own.
///
/// Sums add the ranks' values in rank order, starting from zero.
///
/// # Examples
/// ```
/// use imgcluster::collective::{Collective, ThreadRank};
///
/// let ranks = ThreadRank::group(3);
/// let sums: Vec<u64> = std::thread::scope(|s| {
///     let all: Vec<_> = ranks
///         .iter()
///         .map(|r| s.spawn(move || {
///             let mut v = [r.rank() as u64 + 1];
///             r.allreduce_sum_u64(&mut v);
///             v[0]
///         }))
///         .collect();
///     all.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// assert_eq!(sums, [6, 6, 6]);
/// ```
#[derive(Debug)]
pub struct ThreadRank {
    rank: usize,
    size: usize,
    slots: Arc<Mutex<Vec<Vec<u8>>>>,
    barrier: Arc<Barrier>,
}

impl ThreadRank {
    /// `size` ranks over the same shared memory, rank `r` at index `r`.
    pub fn group(size: usize) -> Vec<ThreadRank> {
        let slots = Arc::new(Mutex::new(vec![Vec::new(); size]));
        let barrier = Arc::new(Barrier::new(size));
        (0..size)
            .map(|rank| ThreadRank {
                rank,
                size,
                slots: Arc::clone(&slots),
                barrier: Arc::clone(&barrier),
            })
            .collect()
    }

    /// Every rank's bytes, in rank order.
    fn exchange(&self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())[self.rank] = bytes.to_vec();
        self.barrier.wait();
        let all = self.slots.lock().unwrap_or_else(|e| e.into_inner()).clone();
        self.barrier.wait();
        all
    }
}

impl Collective for ThreadRank {
    fn rank(&self) -> usize {
        self.rank
    }

    fn size(&self) -> usize {
        self.size
    }

    fn allreduce_sum_u64(&self, values: &mut [u64]) {
        let mine: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        values.fill(0);
        for part in self.exchange(&mine) {
            for (v, w) in values.iter_mut().zip(part.chunks_exact(8)) {
                *v += u64::from_le_bytes(w.try_into().expect("8 bytes"));
            }
        }
    }

    fn allreduce_sum_f64(&self, values: &mut [f64]) {
        let parts = self.exchange(&f64_bytes(values));
        values.fill(0.0);
        for part in parts {
            for (v, w) in values.iter_mut().zip(bytes_f64(&part)) {
                *v += w;
            }
        }
    }

    fn broadcast(&self, root: usize, bytes: &mut [u8]) {
        let all = self.exchange(bytes);
        bytes.copy_from_slice(&all[root]);
    }

    fn allgather(&self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.exchange(bytes)
    }

    fn fold_in_rank_order(&self, state: &mut [f64], step: &mut dyn FnMut(&mut [f64])) {
        for r in 0..self.size {
            if r == self.rank {
                step(state);
            }
            let all = self.exchange(&f64_bytes(state));
            state.copy_from_slice(&bytes_f64(&all[r]));
        }
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
