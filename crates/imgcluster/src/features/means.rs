//! The mean image of each cluster: what a cluster looks like when k-means worked in a
//! feature space (HOG, spectral embedding) whose centers are not pictures.

use super::FeaturesError;
use crate::dataset::{Dataset, Pixels};

/// The mean of the samples of `ds` in each of the `k` clusters given by `labels`:
/// `k × ds.dims()` values, row-major (cluster `c` is row `c`), summed in `f64` in sample
/// order. An empty cluster's mean is all zeros.
///
/// # Errors
/// [`FeaturesError::InvalidParam`] when `labels` does not hold one label `< k` per sample.
///
/// # Examples
/// ```
/// use imgcluster::dataset::Dataset;
/// use imgcluster::features::cluster_means;
///
/// let ds = Dataset::from_images(3, 1, 2, vec![0, 10, 20, 30, 100, 100])?;
/// let means = cluster_means(&ds, &[0, 0, 2], 3)?;
/// assert_eq!(means, [10.0, 20.0, 0.0, 0.0, 100.0, 100.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cluster_means(ds: &Dataset, labels: &[u32], k: usize) -> Result<Vec<f32>, FeaturesError> {
    if labels.len() != ds.len() {
        return Err(FeaturesError::InvalidParam {
            name: "labels",
            reason: format!("{} labels for {} samples", labels.len(), ds.len()),
        });
    }
    if let Some(&l) = labels.iter().find(|&&l| l as usize >= k) {
        return Err(FeaturesError::InvalidParam {
            name: "labels",
            reason: format!("label {l} is not below k = {k}"),
        });
    }
    let d = ds.dims();
    let mut sums = vec![0.0f64; k * d];
    let mut counts = vec![0usize; k];
    fn add<T: Copy + Into<f64>>(
        sums: &mut [f64],
        counts: &mut [usize],
        v: &[T],
        labels: &[u32],
        d: usize,
    ) {
        for (row, &l) in v.chunks_exact(d).zip(labels) {
            let l = l as usize;
            counts[l] += 1;
            for (s, &x) in sums[l * d..(l + 1) * d].iter_mut().zip(row) {
                *s += x.into();
            }
        }
    }
    match ds.pixels() {
        Pixels::U8(v) => add(&mut sums, &mut counts, v, labels, d),
        Pixels::F32(v) => add(&mut sums, &mut counts, v, labels, d),
    }
    Ok(sums
        .chunks_exact(d)
        .zip(&counts)
        .flat_map(|(s, &c)| {
            s.iter()
                .map(move |&x| if c > 0 { (x / c as f64) as f32 } else { 0.0 })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_labels() {
        let ds = Dataset::from_images(2, 1, 1, vec![1, 2]).unwrap();
        assert!(cluster_means(&ds, &[0], 1).is_err());
        assert!(cluster_means(&ds, &[0, 1], 1).is_err());
        assert_eq!(cluster_means(&ds, &[0, 0], 1).unwrap(), [1.5]);
    }
}
