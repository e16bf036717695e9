//! Exact cluster sums of byte samples, kept up to date from the labels that change.

use crate::kernels::{add_rows_u8, add_u8, sub_rows_u8, sub_u8};

/// Per-cluster sums of byte samples in `u32` (exact while `n · 255` fits), kept up
/// to date from the labels that changed since the last update: integer sums give the
/// same values in any order. The rows of one cluster are summed in registers
/// ([`add_rows_u8`]), so each update groups the samples it moves by cluster first.
#[derive(Debug, Clone, Default)]
pub(crate) struct ByteSums {
    /// `sums[c · dims + p]`: coordinate `p` summed over cluster `c`.
    pub sums: Vec<u32>,
    /// The labels the sums stand for.
    prev: Vec<u32>,
    ready: bool,
    /// Sample indices grouped by cluster, and where each group starts.
    order: Vec<u32>,
    starts: Vec<usize>,
}

impl ByteSums {
    /// Forgets the sums: the next update sums every sample.
    pub fn reset(&mut self) {
        self.ready = false;
    }

    /// Brings the sums and `counts` (samples per cluster) to `labels`: every sample
    /// on the first update or when more than half of the labels changed, otherwise
    /// only the samples that changed cluster.
    pub fn update(
        &mut self,
        bytes: &[u8],
        dims: usize,
        k: usize,
        labels: &[u32],
        counts: &mut [usize],
    ) {
        let n = labels.len();
        // The samples that changed cluster: (sample, new cluster) and (sample, old).
        let (mut into, mut out_of) = (Vec::new(), Vec::new());
        if self.ready {
            for (i, (&l, &p)) in labels.iter().zip(&self.prev).enumerate() {
                if l != p {
                    into.push((i, l));
                    out_of.push((i, p));
                }
            }
        }
        if !self.ready || into.len() * 2 > n {
            self.sums.clear();
            self.sums.resize(k * dims, 0);
            counts[..k].fill(0);
            self.accumulate::<false>(bytes, dims, k, labels.iter().copied().enumerate(), counts);
            self.prev.clear();
            self.prev.extend_from_slice(labels);
            self.ready = true;
            return;
        }
        // Into their new clusters, then out of their old ones.
        self.accumulate::<false>(bytes, dims, k, into.iter().copied(), counts);
        self.accumulate::<true>(bytes, dims, k, out_of.iter().copied(), counts);
        for (i, l) in into {
            self.prev[i] = l;
        }
    }

    /// Adds the rows of `items` (sample, cluster) to their clusters' sums and
    /// `counts`, or takes them away with `SUB`: grouped by cluster, each cluster's rows
    /// summed in registers.
    fn accumulate<const SUB: bool>(
        &mut self,
        bytes: &[u8],
        dims: usize,
        k: usize,
        items: impl Iterator<Item = (usize, u32)> + Clone,
        counts: &mut [usize],
    ) {
        self.group(k, items);
        for (c, count) in counts.iter_mut().enumerate().take(k) {
            let rows = &self.order[self.starts[c]..self.starts[c + 1]];
            let sums = &mut self.sums[c * dims..];
            if SUB {
                *count -= rows.len();
                sub_rows_u8(sums, bytes, dims, rows);
            } else {
                *count += rows.len();
                add_rows_u8(sums, bytes, dims, rows);
            }
        }
    }

    /// Moves sample `i` (row `x`) from cluster `from` to cluster `to` after an update
    /// (an empty-cluster repair): its sums, `counts` and the labels they stand for.
    pub fn move_sample(
        &mut self,
        x: &[u8],
        i: usize,
        from: usize,
        to: usize,
        counts: &mut [usize],
    ) {
        let dims = x.len();
        sub_u8(&mut self.sums[from * dims..(from + 1) * dims], x);
        add_u8(&mut self.sums[to * dims..(to + 1) * dims], x);
        counts[from] -= 1;
        counts[to] += 1;
        self.prev[i] = to as u32;
    }

    /// Cluster `c`'s sums.
    pub fn cluster(&self, c: usize, dims: usize) -> &[u32] {
        &self.sums[c * dims..(c + 1) * dims]
    }

    /// Groups the samples of `items` (sample, cluster) by cluster, in sample order
    /// within a cluster (a counting sort into `order` and `starts`).
    fn group(&mut self, k: usize, items: impl Iterator<Item = (usize, u32)> + Clone) {
        self.starts.clear();
        self.starts.resize(k + 2, 0);
        for (_, c) in items.clone() {
            self.starts[c as usize + 2] += 1;
        }
        for c in 2..k + 2 {
            self.starts[c] += self.starts[c - 1];
        }
        // `starts[c + 1]` is now where cluster `c` starts; it ends up where it ends.
        let len = self.starts[k + 1];
        self.order.clear();
        self.order.resize(len, 0);
        for (i, c) in items {
            let at = &mut self.starts[c as usize + 1];
            self.order[*at] = i as u32;
            *at += 1;
        }
        self.starts.truncate(k + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sums of every cluster, summed directly.
    fn direct(bytes: &[u8], dims: usize, k: usize, labels: &[u32]) -> (Vec<u32>, Vec<usize>) {
        let mut sums = vec![0_u32; k * dims];
        let mut counts = vec![0; k];
        for (i, &l) in labels.iter().enumerate() {
            counts[l as usize] += 1;
            for p in 0..dims {
                sums[l as usize * dims + p] += u32::from(bytes[i * dims + p]);
            }
        }
        (sums, counts)
    }

    #[test]
    fn updates_and_moves_agree_with_direct_sums() {
        let (n, dims, k) = (300, 37, 5);
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let bytes: Vec<u8> = (0..n * dims).map(|_| next() as u8).collect();
        let mut labels: Vec<u32> = (0..n).map(|_| (next() % k as u64) as u32).collect();
        let mut bs = ByteSums::default();
        let mut counts = vec![0; k];
        // A full update, then fewer and fewer changes (incremental), then many (full).
        for changes in [0, 100, 10, 1, 0, 250] {
            for _ in 0..changes {
                let i = (next() % n as u64) as usize;
                labels[i] = (next() % k as u64) as u32;
            }
            bs.update(&bytes, dims, k, &labels, &mut counts);
            let (sums, want_counts) = direct(&bytes, dims, k, &labels);
            assert_eq!(bs.sums, sums, "{changes} changes");
            assert_eq!(counts, want_counts, "{changes} changes");
            // A repair moves one sample; the next update starts from there.
            let i = (next() % n as u64) as usize;
            let to = (labels[i] as usize + 1) % k;
            bs.move_sample(
                &bytes[i * dims..(i + 1) * dims],
                i,
                labels[i] as usize,
                to,
                &mut counts,
            );
            labels[i] = to as u32;
            let (sums, want_counts) = direct(&bytes, dims, k, &labels);
            assert_eq!(bs.sums, sums);
            assert_eq!(counts, want_counts);
        }
        bs.reset();
        bs.update(&bytes, dims, k, &labels, &mut counts);
        assert_eq!((bs.sums.clone(), counts), direct(&bytes, dims, k, &labels));
    }
}
