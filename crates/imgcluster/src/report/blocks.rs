//! Report content computed from metrics and data: the confusion matrix as a heat-map
//! table, per-class precision and recall, cluster mean images, misclassified samples.
//!
//! These return plain [`html`](super::html) values (tables, image rows) or plain data
//! (means, sample indices), so any pipeline can put them in its own report.

use super::colormap::{normalize, Colormap, ValueRange};
use super::error::ReportError;
use super::html::{Cell, Image, ImageRow, Table, TableStyle};
use crate::dataset::{Dataset, Pixels};
use crate::metrics::ConfusionMatrix;

/// Class names: the given ones, or `0, 1, …` when none are given.
fn names(given: &[String], n: usize) -> Result<Vec<String>, ReportError> {
    if given.is_empty() {
        Ok((0..n).map(|i| i.to_string()).collect())
    } else if given.len() == n {
        Ok(given.to_vec())
    } else {
        Err(ReportError::LengthMismatch {
            what: "class names",
            expected: n,
            actual: given.len(),
        })
    }
}

/// The confusion matrix as a heat-map table: rows are true classes, columns predicted
/// classes, every cell shows its count on its viridis colour, scaled over the smallest to
/// the largest count as matplotlib's `imshow(counts)` colours it. `class_names` labels
/// rows and columns (`0, 1, …` when empty).
///
/// # Errors
/// [`ReportError::LengthMismatch`] when a non-empty `class_names` does not have one name
/// per class.
///
/// # Examples
/// ```
/// use imgcluster::metrics::ConfusionMatrix;
/// use imgcluster::report::blocks::confusion_table;
/// use imgcluster::report::html::Cell;
/// let cm = ConfusionMatrix::from_counts(2, vec![5, 1, 0, 4])?;
/// let t = confusion_table(&cm, &[])?;
/// assert_eq!(t.header, ["", "0", "1"]);
/// assert_eq!(t.rows[0][0], Cell::header("0"));
/// assert!(matches!(&t.rows[0][1], Cell::Shaded { text, .. } if text == "5"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn confusion_table(cm: &ConfusionMatrix, class_names: &[String]) -> Result<Table, ReportError> {
    let n = cm.n_classes();
    let names = names(class_names, n)?;
    let counts = cm.as_slice();
    let (lo, hi) = ValueRange::Auto.resolve(counts.iter().map(|&c| c as f64))?;
    let mut table = Table::new(std::iter::once(String::new()).chain(names.iter().cloned()))
        .style(TableStyle::Heatmap)
        .caption(
            "Rows: true class. Columns: predicted class (the class each cluster is matched to).",
        );
    for (t, name) in names.iter().enumerate() {
        let row = std::iter::once(Cell::header(name.clone())).chain(
            counts[t * n..(t + 1) * n].iter().map(|&c| {
                let colour = Colormap::Viridis.at(normalize(c as f64, lo, hi));
                Cell::shaded(c.to_string(), colour)
            }),
        );
        table = table.row(row);
    }
    Ok(table)
}

/// Per-class scores: samples, correct predictions, and precision and recall as percentages
/// with small bars ("—" where undefined: nothing predicted, or no sample).
///
/// # Errors
/// As [`confusion_table`].
///
/// # Examples
/// ```
/// use imgcluster::metrics::ConfusionMatrix;
/// use imgcluster::report::blocks::class_scores_table;
/// use imgcluster::report::html::Cell;
/// let cm = ConfusionMatrix::from_counts(2, vec![1, 2, 1, 2])?;
/// let t = class_scores_table(&cm, &["cat".into(), "dog".into()])?;
/// assert_eq!(t.rows[1][0], Cell::header("dog"));
/// assert_eq!(t.header, ["class", "samples", "correct", "precision", "recall"]);
/// assert_eq!(t.rows[1][3], Cell::bar(0.5, "50.0%"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn class_scores_table(
    cm: &ConfusionMatrix,
    class_names: &[String],
) -> Result<Table, ReportError> {
    let names = names(class_names, cm.n_classes())?;
    let score = |v: Option<f64>| match v {
        Some(f) => Cell::bar(f, format!("{:.1}%", 100.0 * f)),
        None => Cell::text("—"),
    };
    let mut table = Table::new(["class", "samples", "correct", "precision", "recall"]);
    for (stats, name) in cm.class_stats().iter().zip(names) {
        table = table.row([
            Cell::header(name),
            Cell::number(stats.support.to_string()),
            Cell::number(stats.correct.to_string()),
            score(stats.precision()),
            score(stats.recall()),
        ]);
    }
    Ok(table.caption(
        "Precision: share of the samples predicted as the class that belong to it \
         (correct / predicted). Recall: share of the class's samples predicted as it \
         (correct / samples).",
    ))
}

/// The mean of the samples of each cluster.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClusterMeans {
    /// `k × dims` means, row-major; all zero for an empty cluster.
    pub means: Vec<f32>,
    /// Samples in each cluster.
    pub counts: Vec<usize>,
    /// Number of clusters.
    pub k: usize,
    /// Values per sample.
    pub dims: usize,
}

impl ClusterMeans {
    /// The mean of cluster `c`, or `None` if `c >= k`.
    pub fn mean(&self, c: usize) -> Option<&[f32]> {
        (c < self.k).then(|| &self.means[c * self.dims..(c + 1) * self.dims])
    }
}

/// The mean of the samples of `ds` in each of `k` clusters (`clusters[i]` is the cluster of
/// sample `i`), summed in `f64`.
///
/// When k-means runs on the pixels, these are close to the centers; when it runs on other
/// features (or on part of the data), they show what the images of a cluster look like.
///
/// # Errors
/// [`ReportError::ZeroSize`] if `k` is 0; [`ReportError::LengthMismatch`] unless there is
/// one cluster per sample; [`ReportError::ClusterOutOfRange`] for a cluster `>= k`.
///
/// # Examples
/// ```
/// use imgcluster::dataset::Dataset;
/// use imgcluster::report::blocks::cluster_means;
/// let ds = Dataset::from_images(3, 1, 2, vec![0, 10, 4, 20, 9, 9])?;
/// let m = cluster_means(&ds, &[1, 1, 0], 3)?;
/// assert_eq!(m.mean(1), Some(&[2.0, 15.0][..]));
/// assert_eq!(m.mean(0), Some(&[9.0, 9.0][..]));
/// assert_eq!(m.counts, [1, 2, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn cluster_means(
    ds: &Dataset,
    clusters: &[u32],
    k: usize,
) -> Result<ClusterMeans, ReportError> {
    if k == 0 {
        return Err(ReportError::ZeroSize { what: "k" });
    }
    if clusters.len() != ds.len() {
        return Err(ReportError::LengthMismatch {
            what: "clusters",
            expected: ds.len(),
            actual: clusters.len(),
        });
    }
    if let Some((index, &cluster)) = clusters.iter().enumerate().find(|&(_, &c)| c as usize >= k) {
        return Err(ReportError::ClusterOutOfRange { index, cluster, k });
    }
    let d = ds.dims();
    let mut sums = vec![0f64; k * d];
    let mut counts = vec![0usize; k];
    let mut add = |c: usize, row: &mut dyn Iterator<Item = f64>| {
        counts[c] += 1;
        for (s, v) in sums[c * d..(c + 1) * d].iter_mut().zip(row) {
            *s += v;
        }
    };
    match ds.pixels() {
        Pixels::U8(v) => {
            for (row, &c) in v.chunks_exact(d).zip(clusters) {
                add(c as usize, &mut row.iter().map(|&x| f64::from(x)));
            }
        }
        Pixels::F32(v) => {
            for (row, &c) in v.chunks_exact(d).zip(clusters) {
                add(c as usize, &mut row.iter().map(|&x| f64::from(x)));
            }
        }
    }
    let means = sums
        .chunks_exact(d.max(1))
        .zip(&counts)
        .flat_map(|(s, &n)| {
            s.iter()
                .map(move |&v| if n > 0 { (v / n as f64) as f32 } else { 0.0 })
        })
        .collect();
    Ok(ClusterMeans {
        means,
        counts,
        k,
        dims: d,
    })
}

/// The misclassified samples of one true class.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Misses {
    /// How many samples of the class were predicted as another class.
    pub total: usize,
    /// Indices of up to the requested number of them, spread evenly over all of them in
    /// sample order.
    pub shown: Vec<usize>,
}

/// For each true class in `0..n_classes`, the samples predicted as another class: how many,
/// and up to `per_class` of them picked evenly in sample order (deterministic).
///
/// # Errors
/// [`ReportError::LengthMismatch`] unless `predicted` is as long as `truth`;
/// [`ReportError::ClusterOutOfRange`] for a true class `>= n_classes`.
///
/// # Examples
/// ```
/// use imgcluster::report::blocks::misclassified;
/// let truth = [0, 0, 0, 0, 1, 1];
/// let pred = [1, 1, 0, 1, 1, 1];
/// let m = misclassified(&truth, &pred, 2, 2)?;
/// assert_eq!((m[0].total, m[0].shown.clone()), (3, vec![0, 1]));
/// assert_eq!((m[1].total, m[1].shown.len()), (0, 0));
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn misclassified(
    truth: &[u32],
    predicted: &[u32],
    n_classes: usize,
    per_class: usize,
) -> Result<Vec<Misses>, ReportError> {
    if predicted.len() != truth.len() {
        return Err(ReportError::LengthMismatch {
            what: "predicted",
            expected: truth.len(),
            actual: predicted.len(),
        });
    }
    let mut wrong = vec![Vec::new(); n_classes];
    for (i, (&t, &p)) in truth.iter().zip(predicted).enumerate() {
        let slot = wrong
            .get_mut(t as usize)
            .ok_or(ReportError::ClusterOutOfRange {
                index: i,
                cluster: t,
                k: n_classes,
            })?;
        if p != t {
            slot.push(i);
        }
    }
    Ok(wrong
        .into_iter()
        .map(|all| {
            let total = all.len();
            let take = per_class.min(total);
            let shown = (0..take).map(|j| all[j * total / take]).collect();
            Misses { total, shown }
        })
        .collect())
}

/// Rows of sample images for a report: for each true class, its misclassified samples
/// (see [`misclassified`]) in gray at `scale` times their size, each captioned with the
/// predicted class ("→ 9") and described as "true 4 → predicted 9". Row labels read
/// "true 4" and, on a second line, the number of misclassified samples of the class.
///
/// # Errors
/// [`ReportError::NotImages`] when `ds` does not hold 8-bit images or has no labels; as
/// [`misclassified`] and [`Image::gray`] otherwise.
///
/// # Examples
/// ```
/// use imgcluster::dataset::Dataset;
/// use imgcluster::report::blocks::misclassified_rows;
/// let ds = Dataset::from_images(3, 1, 1, vec![0, 50, 255])?.with_labels(vec![0, 0, 1])?;
/// let rows = misclassified_rows(&ds, &[0, 1, 0], &[], 8, 3)?;
/// assert_eq!(rows[0].label.as_deref(), Some("true 0\n1 wrong"));
/// assert_eq!(rows[0].images[0].alt, "true 0 → predicted 1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn misclassified_rows(
    ds: &Dataset,
    predicted: &[u32],
    class_names: &[String],
    per_class: usize,
    scale: usize,
) -> Result<Vec<ImageRow>, ReportError> {
    let (Some(truth), Some(n_classes)) = (ds.labels(), ds.n_classes()) else {
        return Err(ReportError::NotImages {
            what: "a labelled data set",
        });
    };
    if ds.images_u8().is_err() {
        return Err(ReportError::NotImages {
            what: "8-bit images",
        });
    }
    let names = names(class_names, n_classes)?;
    let name_of = |c: u32| {
        names
            .get(c as usize)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    };
    misclassified(truth, predicted, n_classes, per_class)?
        .into_iter()
        .enumerate()
        .map(|(t, m)| {
            let images = m
                .shown
                .iter()
                .map(|&i| {
                    let img = ds.image(i).ok_or(ReportError::NotImages {
                        what: "8-bit images",
                    })?;
                    let p = name_of(predicted[i]);
                    Ok(Image::gray(img, scale)?
                        .caption(format!("→ {p}"))
                        .alt(format!("true {} → predicted {p}", names[t])))
                })
                .collect::<Result<Vec<_>, ReportError>>()?;
            Ok(ImageRow::new(images).label(format!("true {}\n{} wrong", names[t], m.total)))
        })
        .collect()
}

/// `k` images of `height × width` values (`values` holds them one after another), each
/// coloured on its own range with `colormap` as `imshow` would, `scale` times their size,
/// with one caption each (or none when `captions` is empty), on one wrapping row.
///
/// # Errors
/// [`ReportError::LengthMismatch`] when `values` or a non-empty `captions` has the wrong
/// length; as [`Image::colored`] otherwise.
///
/// # Examples
/// ```
/// use imgcluster::report::{blocks::value_images, Colormap};
/// let row = value_images(&[0.0, 1.0, 5.0, 2.0], 2, 1, 2, Colormap::Viridis, &[], 10)?;
/// assert_eq!(row.images.len(), 2);
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn value_images(
    values: &[f32],
    k: usize,
    height: usize,
    width: usize,
    colormap: Colormap,
    captions: &[String],
    scale: usize,
) -> Result<ImageRow, ReportError> {
    let d = height.saturating_mul(width);
    if d == 0 || k == 0 {
        return Err(ReportError::ZeroSize { what: "image size" });
    }
    let expected = k.saturating_mul(d);
    if values.len() != expected {
        return Err(ReportError::LengthMismatch {
            what: "values",
            expected,
            actual: values.len(),
        });
    }
    if !captions.is_empty() && captions.len() != k {
        return Err(ReportError::LengthMismatch {
            what: "captions",
            expected: k,
            actual: captions.len(),
        });
    }
    let images = values
        .chunks_exact(d)
        .enumerate()
        .map(|(i, v)| {
            let img = Image::colored(v, width, height, colormap, ValueRange::Auto, scale)?;
            Ok(match captions.get(i) {
                Some(c) => img.caption(c.clone()).alt(c.clone()),
                None => img,
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    Ok(ImageRow::new(images))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misclassified_spreads_picks_over_all_errors() {
        let truth = vec![0u32; 10];
        let pred = vec![1u32; 10];
        let m = misclassified(&truth, &pred, 2, 3).unwrap();
        assert_eq!(m[0].shown, [0, 3, 6]);
        assert_eq!(m[0].total, 10);
        assert!(matches!(
            misclassified(&[2], &[0], 2, 3),
            Err(ReportError::ClusterOutOfRange { cluster: 2, .. })
        ));
    }

    #[test]
    fn cluster_means_of_f32_vectors() {
        let ds = Dataset::from_features(2, 2, None, Pixels::F32(vec![1.0, 2.0, 3.0, 4.0])).unwrap();
        let m = cluster_means(&ds, &[0, 0], 1).unwrap();
        assert_eq!(m.means, [2.0, 3.0]);
        assert!(matches!(
            cluster_means(&ds, &[0, 1], 1),
            Err(ReportError::ClusterOutOfRange { index: 1, .. })
        ));
        assert!(matches!(
            cluster_means(&ds, &[0], 1),
            Err(ReportError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn confusion_colours_follow_imshow() {
        let cm = ConfusionMatrix::from_counts(2, vec![0, 10, 5, 10]).unwrap();
        let t = confusion_table(&cm, &[]).unwrap();
        let lut = Colormap::Viridis.lut();
        assert_eq!(t.rows[0][1], Cell::shaded("0", lut[0]));
        assert_eq!(t.rows[1][1], Cell::shaded("5", lut[128]));
        assert_eq!(t.rows[1][2], Cell::shaded("10", lut[255]));
        assert!(matches!(
            confusion_table(&cm, &["a".into()]),
            Err(ReportError::LengthMismatch { .. })
        ));
    }
}
