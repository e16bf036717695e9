//! Initial centers: random in the bounding box (`generateRandomCenter`) and k-means++
//! (`generateCentersPP`), drawing from the random number generator exactly as OpenCV does.

use super::lloyd::{for_each_chunk, Samples};
use super::KMeansError;
use crate::kernels::Element;
use crate::CvRng;

/// Candidate centers tried per k-means++ step (OpenCV's `SPP_TRIALS`).
pub(crate) const SPP_TRIALS: usize = 3;

/// Per-coordinate `[min, max]` of the samples, as `f32` (OpenCV's `box`).
pub(crate) fn bounding_box<T: Element>(samples: Samples<'_, T>, bbox: &mut Vec<[f32; 2]>) {
    bbox.clear();
    if let Some(bytes) = T::as_bytes(samples.data) {
        // Integer minima and maxima (vectorised row by row), the same values.
        let dims = samples.dims;
        let mut lo = bytes[..dims].to_vec();
        let mut hi = lo.clone();
        for row in bytes.chunks_exact(dims).skip(1) {
            for ((l, h), &v) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                *l = (*l).min(v);
                *h = (*h).max(v);
            }
        }
        bbox.extend(
            lo.iter()
                .zip(&hi)
                .map(|(&l, &h)| [f32::from(l), f32::from(h)]),
        );
        return;
    }
    bbox.extend(samples.row(0).iter().map(|&v| [v.to_f32(), v.to_f32()]));
    for i in 1..samples.n {
        for (b, &v) in bbox.iter_mut().zip(samples.row(i)) {
            let v = v.to_f32();
            // std::min / std::max on finite values.
            if v < b[0] {
                b[0] = v;
            }
            if b[1] < v {
                b[1] = v;
            }
        }
    }
}

/// One random center (OpenCV's `generateRandomCenter`): with `margin = 1/dims`,
/// coordinate `j` is `(u * (1 + 2 margin) - margin) * (max_j - min_j) + min_j` for a
/// fresh `u = rng.next_f32()`, all in `f32`. Coordinates are drawn in order.
pub(crate) fn random_center(bbox: &[[f32; 2]], center: &mut [f32], rng: &mut CvRng) {
    let margin = 1.0_f32 / bbox.len() as f32;
    for (c, b) in center.iter_mut().zip(bbox) {
        *c = (rng.next_f32() * (1.0 + margin * 2.0) - margin) * (b[1] - b[0]) + b[0];
    }
}

/// Scratch buffers of k-means++.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlusPlusScratch {
    dist: Vec<f32>,
    tdist: Vec<f32>,
    tdist2: Vec<f32>,
    chosen: Vec<usize>,
}

/// k-means++ centers, following OpenCV's `generateCentersPP` step by step:
///
/// * the first center is sample `rng.next_u32() % n`;
/// * `dist[i]` is the `f32` squared distance to the nearest chosen center, `sum0`
///   its sum in `f64` (left to right);
/// * each further center: for each of [`SPP_TRIALS`] trials draw `p = next_f64() * sum0`,
///   walk `p -= dist[ci]` until `p <= 0` (stopping at `n - 1`), compute the
///   candidate's `min(dist, d(ci))` and its `f64` sum; the first trial with the
///   strictly smallest sum wins and its distances become `dist`.
///
/// # Errors
///
/// [`KMeansError::DistanceOverflow`] if no trial has a sum below `f64::MAX`
/// (distances overflowed).
pub(crate) fn plus_plus<T: Element>(
    samples: Samples<'_, T>,
    k: usize,
    centers: &mut [f32],
    rng: &mut CvRng,
    scratch: &mut PlusPlusScratch,
    parallel: bool,
) -> Result<(), KMeansError> {
    let n = samples.n;
    let dims = samples.dims;
    let PlusPlusScratch {
        dist,
        tdist,
        tdist2,
        chosen,
    } = scratch;
    for buf in [&mut *dist, &mut *tdist, &mut *tdist2] {
        buf.clear();
        buf.resize(n, 0.0);
    }
    chosen.clear();

    // n fits in u32: fit() rejects larger data.
    let first = (rng.next_u32() % n as u32) as usize;
    chosen.push(first);
    let mut first_f32 = vec![0.0_f32; dims];
    T::widen(samples.row(first), &mut first_f32);
    let mut sum0 = 0.0_f64;
    for (i, d) in dist.iter_mut().enumerate() {
        *d = T::l2sq_opencv(samples.row(i), &first_f32);
        sum0 += f64::from(*d);
    }

    for _ in 1..k {
        let mut best_sum = f64::MAX;
        let mut best_center = None;
        for _ in 0..SPP_TRIALS {
            let mut p = rng.next_f64() * sum0;
            let mut ci = 0;
            while ci < n - 1 {
                p -= f64::from(dist[ci]);
                if p <= 0.0 {
                    break;
                }
                ci += 1;
            }

            let mut candidate = vec![0.0_f32; dims];
            T::widen(samples.row(ci), &mut candidate);
            let candidate = &candidate[..];
            let current: &[f32] = dist;
            for_each_chunk(tdist2, parallel, |start, chunk| {
                for (offset, t) in chunk.iter_mut().enumerate() {
                    let i = start + offset;
                    let d = T::l2sq_opencv(samples.row(i), candidate);
                    // std::min(d, dist[i]) returns d unless dist[i] < d.
                    *t = if current[i] < d { current[i] } else { d };
                }
            });
            let s = tdist2.iter().fold(0.0_f64, |s, &t| s + f64::from(t));

            if s < best_sum {
                best_sum = s;
                best_center = Some(ci);
                std::mem::swap(tdist, tdist2);
            }
        }
        let best = best_center.ok_or(KMeansError::DistanceOverflow)?;
        chosen.push(best);
        sum0 = best_sum;
        std::mem::swap(dist, tdist);
    }

    for (center, &i) in centers.chunks_exact_mut(dims).zip(chosen.iter()) {
        T::widen(samples.row(i), center);
    }
    Ok(())
}

/// The `k` random initial centers OpenCV's `KMEANS_RANDOM_CENTERS` would draw from
/// `rng` for `data` (`k × dims`, row-major).
///
/// Center by center, coordinate by coordinate, with `margin = 1/dims` and
/// `u = rng.next_f32()`: `(u * (1 + 2 margin) - margin) * (max_j - min_j) + min_j`
/// in `f32`, where `[min_j, max_j]` is the range of coordinate `j` over the samples.
/// The centers lie in that range widened by `margin` times its width on each side.
///
/// # Errors
///
/// The data checks of [`fit`](super::fit): [`KMeansError::ZeroClusters`],
/// [`KMeansError::ZeroDims`], [`KMeansError::RaggedData`],
/// [`KMeansError::TooFewSamples`], [`KMeansError::TooManySamples`],
/// [`KMeansError::NonFinite`].
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::random_box_centers;
/// use imgcluster::CvRng;
///
/// let data = [0.0_f32, 10.0, 4.0, 20.0];
/// let centers = random_box_centers(&data, 2, 2, &mut CvRng::opencv_default())?;
/// assert_eq!(centers.len(), 4);
/// // margin = 1/2: coordinate 0 within [0 - 2, 4 + 2], coordinate 1 within [5, 25].
/// assert!(centers.chunks(2).all(|c| (-2.0..=6.0).contains(&c[0]) && (5.0..=25.0).contains(&c[1])));
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn random_box_centers(
    data: &[f32],
    dims: usize,
    k: usize,
    rng: &mut CvRng,
) -> Result<Vec<f32>, KMeansError> {
    let samples = Samples::new(data, dims, k)?;
    let mut bbox = Vec::with_capacity(dims);
    bounding_box(samples, &mut bbox);
    let mut centers = vec![0.0; k * dims];
    for center in centers.chunks_exact_mut(dims) {
        random_center(&bbox, center, rng);
    }
    Ok(centers)
}

/// The `k` initial centers OpenCV's `KMEANS_PP_CENTERS` (k-means++ with 3 trials per
/// step) would choose from `rng` for `data` (`k × dims`, row-major; each center is a
/// copy of a sample). Runs on the calling thread.
///
/// # Errors
///
/// The data checks of [`fit`](super::fit) (see [`random_box_centers`]), and
/// [`KMeansError::DistanceOverflow`] if squared distances overflow `f32`.
///
/// # Examples
///
/// ```
/// use imgcluster::kmeans::plus_plus_centers;
/// use imgcluster::CvRng;
///
/// let data = [0.0_f32, 1.0, 100.0, 101.0];
/// let centers = plus_plus_centers(&data, 1, 2, &mut CvRng::opencv_default())?;
/// assert!(centers.iter().any(|&c| c < 50.0) && centers.iter().any(|&c| c > 50.0));
/// # Ok::<(), imgcluster::kmeans::KMeansError>(())
/// ```
pub fn plus_plus_centers(
    data: &[f32],
    dims: usize,
    k: usize,
    rng: &mut CvRng,
) -> Result<Vec<f32>, KMeansError> {
    let samples = Samples::new(data, dims, k)?;
    let mut centers = vec![0.0; k * dims];
    plus_plus(
        samples,
        k,
        &mut centers,
        rng,
        &mut PlusPlusScratch::default(),
        false,
    )?;
    Ok(centers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounding_box_per_coordinate() {
        let data = [1.0_f32, 5.0, -2.0, 7.0, 3.0, 6.0];
        let mut bbox = Vec::new();
        bounding_box(
            Samples {
                data: &data,
                n: 3,
                dims: 2,
            },
            &mut bbox,
        );
        assert_eq!(bbox, [[-2.0, 3.0], [5.0, 7.0]]);
    }

    #[test]
    fn byte_bounding_box_matches_the_widened_one() {
        let bytes: Vec<u8> = (0..7 * 5).map(|i| (i * 73 % 256) as u8).collect();
        let wide: Vec<f32> = bytes.iter().map(|&b| f32::from(b)).collect();
        for dims in [1, 5, 7] {
            let n = bytes.len() / dims;
            let (mut a, mut b) = (Vec::new(), Vec::new());
            bounding_box(
                Samples {
                    data: &bytes[..n * dims],
                    n,
                    dims,
                },
                &mut a,
            );
            bounding_box(
                Samples {
                    data: &wide[..n * dims],
                    n,
                    dims,
                },
                &mut b,
            );
            assert_eq!(a, b, "dims {dims}");
        }
    }

    #[test]
    fn random_center_uses_one_draw_per_coordinate() {
        let bbox = [[0.0_f32, 1.0], [10.0, 20.0]];
        let mut rng = CvRng::opencv_default();
        let mut center = [0.0_f32; 2];
        random_center(&bbox, &mut center, &mut rng);
        let mut r = CvRng::opencv_default();
        let (u0, u1) = (r.next_f32(), r.next_f32());
        assert_eq!(center[0], (u0 * 2.0 - 0.5) * 1.0 + 0.0);
        assert_eq!(center[1], (u1 * 2.0 - 0.5) * 10.0 + 10.0);
        assert_eq!(rng, r);
    }

    #[test]
    fn plus_plus_picks_distinct_far_points() {
        let data = [0.0_f32, 0.1, 0.2, 100.0, 100.1, 200.0];
        let samples = Samples {
            data: &data,
            n: 6,
            dims: 1,
        };
        let mut centers = [0.0_f32; 3];
        let mut rng = CvRng::new(5);
        let mut scratch = PlusPlusScratch::default();
        plus_plus(samples, 3, &mut centers, &mut rng, &mut scratch, false).unwrap();
        let mut sorted = centers;
        sorted.sort_by(f32::total_cmp);
        assert!(sorted[0] < 1.0 && (99.0..101.0).contains(&sorted[1]) && sorted[2] == 200.0);
        // One draw for the first center, two per trial afterwards.
        let mut r = CvRng::new(5);
        for _ in 0..1 + 2 * 3 * 2 {
            r.next_u32();
        }
        assert_eq!(rng, r);
    }
}
