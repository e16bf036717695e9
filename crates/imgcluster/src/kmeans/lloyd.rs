//! One Lloyd iteration, split as OpenCV splits it: label assignment, center update
//! with empty-cluster repair, center shift, and the final distances and compactness.
//!
//! All functions work on row-major `f32` samples (`n × dims`) and centers
//! (`k × dims`) and write into caller-provided buffers, so the iteration loop in
//! [`fit`](super::fit) allocates nothing.

use rayon::prelude::*;

use super::KMeansError;
use crate::kernels::Element;

/// Samples per work item of the parallel loops. Every sample's result depends only
/// on that sample, so chunking never changes results; a fixed size keeps the work
/// split independent of the thread count anyway.
pub(crate) const CHUNK: usize = 256;

/// Clears `v` and fills it with `len` default values (reusing its allocation).
pub(crate) fn sized<T: Clone + Default>(v: &mut Vec<T>, len: usize) {
    v.clear();
    v.resize(len, T::default());
}

/// Row-major samples of `f32` or `u8` values.
#[derive(Debug)]
pub(crate) struct Samples<'a, T = f32> {
    /// `n * dims` values.
    pub data: &'a [T],
    /// Number of samples.
    pub n: usize,
    /// Values per sample.
    pub dims: usize,
}

impl<T> Clone for Samples<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Samples<'_, T> {}

impl<'a, T: Element> Samples<'a, T> {
    /// Whether the pruned engines' error analysis covers these samples: with their
    /// largest magnitude `m`, no `f32` distance or dot product can overflow
    /// (`dims · (4m)² < 10³⁶`). Bytes take an integer (vectorised) maximum.
    pub fn magnitude_ok(&self) -> bool {
        let max_abs = match T::as_bytes(self.data) {
            Some(bytes) => f32::from(bytes.iter().copied().max().unwrap_or(0)),
            None => self
                .data
                .iter()
                .fold(0.0_f32, |m, &v| m.max(v.to_f32().abs())),
        };
        let m = f64::from(max_abs);
        (self.dims as f64) * (4.0 * m) * (4.0 * m) < 1e36
    }

    /// `‖x‖²` of every sample in `f64`, summing in sample order. Bytes are summed as
    /// integers (vectorised): every partial sum is an integer below 2^53, so the value
    /// is that of the `f64` sum.
    pub fn squared_norms(&self, parallel: bool) -> Vec<f64> {
        let dims = self.dims;
        let mut xx = vec![0.0_f64; self.n];
        for_each_chunk(&mut xx, parallel, |start, chunk| {
            for (o, v) in chunk.iter_mut().enumerate() {
                let row = self.row(start + o);
                *v = match T::as_bytes(row) {
                    // `u32` holds 66051 squares of 255.
                    Some(b) if dims <= 66_051 => {
                        f64::from(b.iter().map(|&x| u32::from(x) * u32::from(x)).sum::<u32>())
                    }
                    Some(b) => b.iter().map(|&x| u64::from(x) * u64::from(x)).sum::<u64>() as f64,
                    None => row
                        .iter()
                        .map(|&x| f64::from(x.to_f32()) * f64::from(x.to_f32()))
                        .sum(),
                };
            }
        });
        xx
    }

    /// Validates `data` as `n × dims` finite samples with at least `k` samples.
    ///
    /// # Errors
    ///
    /// [`KMeansError::ZeroClusters`], [`KMeansError::ZeroDims`],
    /// [`KMeansError::RaggedData`], [`KMeansError::TooFewSamples`],
    /// [`KMeansError::TooManySamples`] or [`KMeansError::NonFinite`].
    pub fn new(data: &'a [T], dims: usize, k: usize) -> Result<Self, KMeansError> {
        if k == 0 {
            return Err(KMeansError::ZeroClusters);
        }
        if dims == 0 {
            return Err(KMeansError::ZeroDims);
        }
        if !data.len().is_multiple_of(dims) {
            return Err(KMeansError::RaggedData {
                len: data.len(),
                dims,
            });
        }
        let n = data.len() / dims;
        if n < k {
            return Err(KMeansError::TooFewSamples { n, k });
        }
        if n > i32::MAX as usize {
            return Err(KMeansError::TooManySamples { n });
        }
        // Bytes are always finite.
        let finite = T::as_bytes(data).is_some();
        if let Some(pos) = (!finite)
            .then(|| data.iter().position(|v| !v.to_f32().is_finite()))
            .flatten()
        {
            return Err(KMeansError::NonFinite {
                row: pos / dims,
                col: pos % dims,
            });
        }
        Ok(Samples { data, n, dims })
    }

    /// Sample `i`.
    #[inline]
    pub fn row(&self, i: usize) -> &'a [T] {
        &self.data[i * self.dims..(i + 1) * self.dims]
    }
}

/// Runs `f(first_index, chunk)` over fixed-size chunks of `out`, on the current rayon
/// pool when `parallel`, else sequentially on the calling thread.
pub(crate) fn for_each_chunk<T: Send>(
    out: &mut [T],
    parallel: bool,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    if parallel {
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| f(c * CHUNK, chunk));
    } else {
        out.chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| f(c * CHUNK, chunk));
    }
}

/// Assigns every sample to its nearest center (OpenCV's `KMeansDistanceComputer<false>`).
///
/// Distances are `normL2Sqr_` values widened to `f64`, compared with a strict `<`
/// against a running minimum that starts at `f64::MAX`: ties go to the lowest
/// center index, and a sample whose distances all overflow stays in cluster 0.
pub(crate) fn assign<T: Element>(
    samples: Samples<'_, T>,
    centers: &[f32],
    k: usize,
    labels: &mut [u32],
    parallel: bool,
) {
    let dims = samples.dims;
    for_each_chunk(labels, parallel, |start, chunk| {
        for (offset, label) in chunk.iter_mut().enumerate() {
            let sample = samples.row(start + offset);
            let mut best = 0;
            let mut min_dist = f64::MAX;
            for c in 0..k {
                let dist = f64::from(T::l2sq_opencv(sample, &centers[c * dims..(c + 1) * dims]));
                if min_dist > dist {
                    min_dist = dist;
                    best = c;
                }
            }
            *label = best as u32;
        }
    });
}

/// Distance of every sample to the center of its current label
/// (OpenCV's `KMeansDistanceComputer<true>`, used by the last iteration).
pub(crate) fn distances_to_labels<T: Element>(
    samples: Samples<'_, T>,
    centers: &[f32],
    labels: &[u32],
    dists: &mut [f64],
    parallel: bool,
) {
    let dims = samples.dims;
    for_each_chunk(dists, parallel, |start, chunk| {
        for (offset, dist) in chunk.iter_mut().enumerate() {
            let i = start + offset;
            let c = labels[i] as usize;
            *dist = f64::from(T::l2sq_opencv(
                samples.row(i),
                &centers[c * dims..(c + 1) * dims],
            ));
        }
    });
}

/// Sum of the distances in the order of OpenCV's `cv::sum` for one `f64` channel:
/// `s += ((x[i] + x[i+1]) + x[i+2]) + x[i+3]` over blocks of four, then the rest one by one.
pub(crate) fn opencv_sum(values: &[f64]) -> f64 {
    let mut s = 0.0;
    let mut blocks = values.chunks_exact(4);
    for b in &mut blocks {
        s += b[0] + b[1] + b[2] + b[3];
    }
    for &v in blocks.remainder() {
        s += v;
    }
    s
}

/// Recomputes the centers from the labels, as OpenCV's "compute centers" step does:
///
/// 1. sums in `f32`, sample by sample in index order, and counts;
/// 2. for each empty cluster `k` in order: take the biggest cluster (first on ties),
///    its mean computed as `sum * (1/count)`, and its sample farthest from that mean
///    (the last one on ties, `max_dist <= dist`); move that sample to cluster `k`,
///    updating both sums and counts;
/// 3. scales every sum by `1.0f32 / count`.
///
/// `labels` is updated by the repair, and every sample it moves is appended to
/// `repaired`. `temp` holds one center.
///
/// # Errors
///
/// [`KMeansError::DistanceOverflow`] if an empty cluster must be repaired but every
/// distance in the biggest cluster is NaN (its sum overflowed).
pub(crate) fn update_centers<T: Element>(
    samples: Samples<'_, T>,
    labels: &mut [u32],
    centers: &mut [f32],
    counters: &mut [usize],
    temp: &mut [f32],
    repaired: &mut Vec<usize>,
) -> Result<(), KMeansError> {
    let dims = samples.dims;
    let k_count = counters.len();
    centers.fill(0.0);
    counters.fill(0);
    for (i, &label) in labels.iter().enumerate() {
        let c = label as usize;
        let center = &mut centers[c * dims..(c + 1) * dims];
        for (acc, &x) in center.iter_mut().zip(samples.row(i)) {
            *acc += x.to_f32();
        }
        counters[c] += 1;
    }

    for k in 0..k_count {
        if counters[k] != 0 {
            continue;
        }
        let mut max_k = 0;
        for k1 in 1..k_count {
            if counters[max_k] < counters[k1] {
                max_k = k1;
            }
        }
        let scale = 1.0_f32 / counters[max_k] as f32;
        for (t, &s) in temp
            .iter_mut()
            .zip(&centers[max_k * dims..(max_k + 1) * dims])
        {
            *t = s * scale;
        }
        let mut max_dist = 0.0_f64;
        let mut farthest = None;
        for (i, &label) in labels.iter().enumerate() {
            if label as usize != max_k {
                continue;
            }
            let dist = f64::from(T::l2sq_opencv(samples.row(i), temp));
            if max_dist <= dist {
                max_dist = dist;
                farthest = Some(i);
            }
        }
        let farthest = farthest.ok_or(KMeansError::DistanceOverflow)?;
        counters[max_k] -= 1;
        counters[k] += 1;
        labels[farthest] = k as u32;
        repaired.push(farthest);
        let sample = samples.row(farthest);
        for (j, &x) in sample.iter().enumerate() {
            centers[max_k * dims + j] -= x.to_f32();
            centers[k * dims + j] += x.to_f32();
        }
    }

    for (center, &count) in centers.chunks_exact_mut(dims).zip(counters.iter()) {
        let scale = 1.0_f32 / count as f32;
        for v in center {
            *v *= scale;
        }
    }
    Ok(())
}

/// The largest squared move of a center, as OpenCV measures it: per coordinate the
/// `f32` difference widened to `f64`, squared and summed in `f64`; the maximum over
/// centers keeps the old value when the new one is not larger (so NaN is ignored).
pub(crate) fn max_center_shift(centers: &[f32], old_centers: &[f32], dims: usize) -> f64 {
    let mut max_shift = 0.0_f64;
    for (c, o) in centers
        .chunks_exact(dims)
        .zip(old_centers.chunks_exact(dims))
    {
        let mut dist = 0.0_f64;
        for (&x, &y) in c.iter().zip(o) {
            let t = f64::from(x - y);
            dist += t * t;
        }
        if max_shift < dist {
            max_shift = dist;
        }
    }
    max_shift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(data: &[f32], dims: usize) -> Samples<'_> {
        Samples {
            data,
            n: data.len() / dims,
            dims,
        }
    }

    #[test]
    fn assign_prefers_the_lowest_index_on_ties() {
        let data = [1.0_f32, 5.0, 9.0];
        let centers = [0.0_f32, 2.0, 5.0, 9.0, 9.0];
        let mut labels = [7_u32; 3];
        assign(samples(&data, 1), &centers, 5, &mut labels, false);
        assert_eq!(labels, [0, 2, 3]);
    }

    #[test]
    fn empty_cluster_takes_the_farthest_point_of_the_biggest() {
        // Cluster 0 holds four points, cluster 1 one, cluster 2 none.
        let data = [0.0_f32, 1.0, 2.0, 10.0, 50.0];
        let mut labels = [0_u32, 0, 0, 0, 1];
        let mut centers = [0.0_f32; 3];
        let mut counters = [0_usize; 3];
        let mut temp = [0.0_f32; 1];
        update_centers(
            samples(&data, 1),
            &mut labels,
            &mut centers,
            &mut counters,
            &mut temp,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(labels, [0, 0, 0, 2, 1]);
        assert_eq!(counters, [3, 1, 1]);
        assert_eq!(centers, [1.0, 50.0, 10.0]);
    }

    #[test]
    fn farthest_ties_go_to_the_last_sample() {
        let data = [-1.0_f32, 1.0, 1.0, -1.0];
        let mut labels = [0_u32, 0, 0, 0];
        let mut centers = [0.0_f32; 2];
        let mut counters = [0_usize; 2];
        let mut temp = [0.0_f32; 1];
        update_centers(
            samples(&data, 1),
            &mut labels,
            &mut centers,
            &mut counters,
            &mut temp,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(labels, [0, 0, 0, 1]);
    }

    #[test]
    fn opencv_sum_order() {
        assert_eq!(opencv_sum(&[]), 0.0);
        assert_eq!(opencv_sum(&[1.0, 2.0, 3.0, 4.0, 5.0]), 15.0);
        // Blocks of four are summed before they meet the running sum, so four ones
        // survive next to 1e16 where a left-to-right sum loses each of them.
        let values = [1e16, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        assert_eq!(opencv_sum(&values), 1e16 + 4.0);
        assert_eq!(values.iter().fold(0.0, |s, &v| s + v), 1e16);
    }

    #[test]
    fn shift_ignores_nan() {
        let c = [f32::NAN, 0.0, 3.0, 4.0];
        let o = [0.0_f32; 4];
        assert_eq!(max_center_shift(&c, &o, 2), 25.0);
    }
}
