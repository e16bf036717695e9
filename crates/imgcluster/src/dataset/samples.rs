use super::DatasetError;
use crate::image::GrayView;

/// The pixel or feature values of a data set, row-major, one sample after another.
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// 8-bit values (images, or u8 feature vectors).
    U8(Vec<u8>),
    /// 32-bit floats (f64 inputs are narrowed to f32, the precision k-means works in).
    F32(Vec<f32>),
}

impl Pixels {
    fn len(&self) -> usize {
        match self {
            Pixels::U8(v) => v.len(),
            Pixels::F32(v) => v.len(),
        }
    }
}

/// A data set in memory: N samples of `dims` values, optionally images of `height × width`,
/// optionally with a class label per sample and a name per class.
///
/// # Examples
/// ```
/// use imgcluster::dataset::Dataset;
/// let ds = Dataset::from_images(2, 1, 2, vec![0, 255, 10, 20])?.with_labels(vec![1, 0])?;
/// assert_eq!(ds.len(), 2);
/// assert_eq!(ds.dims(), 2);
/// assert_eq!(ds.n_classes(), Some(2));
/// assert_eq!(ds.image(1).unwrap().data(), &[10, 20]);
/// # Ok::<(), imgcluster::dataset::DatasetError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    n: usize,
    dims: usize,
    shape: Option<(usize, usize)>,
    pixels: Pixels,
    labels: Option<Vec<u32>>,
    class_names: Option<Vec<String>>,
    grid_cols: Option<usize>,
}

/// A data set split into a training and a test part, with the original index of each sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// The training part.
    pub train: Dataset,
    /// The test part.
    pub test: Dataset,
    /// Original index of each training sample.
    pub train_indices: Vec<usize>,
    /// Original index of each test sample.
    pub test_indices: Vec<usize>,
}

impl Dataset {
    /// N images of `height × width` 8-bit pixels, row-major, one image after another.
    ///
    /// # Errors
    /// [`DatasetError::InvalidParameter`] when the buffer length is not `n * height * width`,
    /// [`DatasetError::Empty`] when `n` or the image size is zero.
    pub fn from_images(
        n: usize,
        height: usize,
        width: usize,
        pixels: Vec<u8>,
    ) -> Result<Self, DatasetError> {
        let dims = height
            .checked_mul(width)
            .ok_or(DatasetError::InvalidParameter {
                name: "image size",
                reason: format!("{height}x{width} overflows"),
            })?;
        if n == 0 || dims == 0 {
            return Err(DatasetError::Empty);
        }
        check_len(pixels.len(), n, dims)?;
        Ok(Self {
            n,
            dims,
            shape: Some((height, width)),
            pixels: Pixels::U8(pixels),
            labels: None,
            class_names: None,
            grid_cols: None,
        })
    }

    /// N feature vectors of `dims` values each.
    ///
    /// `shape`, when given, says the vectors are `height × width` images (used to show
    /// centers as pictures); it must multiply to `dims`.
    ///
    /// # Errors
    /// [`DatasetError::NonFinite`] for a NaN or infinite value, [`DatasetError::Empty`] for no
    /// samples, [`DatasetError::InvalidParameter`] for a length or shape that does not fit.
    pub fn from_features(
        n: usize,
        dims: usize,
        shape: Option<(usize, usize)>,
        pixels: Pixels,
    ) -> Result<Self, DatasetError> {
        if n == 0 || dims == 0 {
            return Err(DatasetError::Empty);
        }
        check_len(pixels.len(), n, dims)?;
        if let Some((h, w)) = shape
            && h.checked_mul(w) != Some(dims)
        {
            return Err(DatasetError::InvalidParameter {
                name: "shape",
                reason: format!("{h}x{w} images do not have {dims} values"),
            });
        }
        if let Pixels::F32(v) = &pixels
            && let Some(i) = v.iter().position(|x| !x.is_finite())
        {
            return Err(DatasetError::NonFinite {
                row: i / dims,
                col: i % dims,
            });
        }
        Ok(Self {
            n,
            dims,
            shape,
            pixels,
            labels: None,
            class_names: None,
            grid_cols: None,
        })
    }

    /// Attaches one class label per sample.
    ///
    /// # Errors
    /// [`DatasetError::LabelCount`] when there is not exactly one label per sample,
    /// [`DatasetError::BadLabel`] for a label without a name when class names are set.
    pub fn with_labels(mut self, labels: Vec<u32>) -> Result<Self, DatasetError> {
        if labels.len() != self.n {
            return Err(DatasetError::LabelCount {
                labels: labels.len(),
                samples: self.n,
            });
        }
        if let Some(names) = &self.class_names {
            check_named(&labels, names.len())?;
        }
        self.labels = Some(labels);
        Ok(self)
    }

    /// Names the classes: label `i` is class `names[i]` (e.g. the sub-folder names of an image
    /// folder), so that reports can say "cat" rather than "3".
    ///
    /// # Errors
    /// [`DatasetError::BadLabel`] when a label has no name,
    /// [`DatasetError::InvalidParameter`] when a name is repeated.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::dataset::Dataset;
    /// let ds = Dataset::from_images(2, 1, 1, vec![0, 255])?
    ///     .with_labels(vec![1, 0])?
    ///     .with_class_names(vec!["cat".into(), "dog".into()])?;
    /// assert_eq!(ds.class_name(ds.labels().unwrap()[0]), Some("dog"));
    /// assert_eq!(ds.n_classes(), Some(2));
    /// # Ok::<(), imgcluster::dataset::DatasetError>(())
    /// ```
    pub fn with_class_names(mut self, names: Vec<String>) -> Result<Self, DatasetError> {
        if let Some(labels) = &self.labels {
            check_named(labels, names.len())?;
        }
        let mut sorted: Vec<&String> = names.iter().collect();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(DatasetError::InvalidParameter {
                name: "class names",
                reason: format!("'{}' appears twice", w[0]),
            });
        }
        self.class_names = Some(names);
        Ok(self)
    }

    /// Records that the samples come from a grid with `cols` cells per row, so that
    /// [`Dataset::split`] splits each grid row as OpenCV's samples do.
    ///
    /// # Errors
    /// [`DatasetError::InvalidParameter`] when `cols` is zero or does not divide the sample count.
    pub fn with_grid_cols(mut self, cols: usize) -> Result<Self, DatasetError> {
        if cols == 0 || !self.n.is_multiple_of(cols) {
            return Err(DatasetError::InvalidParameter {
                name: "grid columns",
                reason: format!("{cols} does not divide {} samples", self.n),
            });
        }
        self.grid_cols = Some(cols);
        Ok(self)
    }

    /// The same data set (labels, grid layout) with new 8-bit images of the same size.
    ///
    /// # Errors
    /// [`DatasetError::NotImages`] when this data set does not hold images,
    /// [`DatasetError::InvalidParameter`] when `pixels` has another length.
    pub fn with_images(&self, pixels: Vec<u8>) -> Result<Dataset, DatasetError> {
        let shape = self
            .shape
            .ok_or_else(|| DatasetError::NotImages(self.describe()))?;
        check_len(pixels.len(), self.n, self.dims)?;
        Ok(Dataset {
            shape: Some(shape),
            pixels: Pixels::U8(pixels),
            ..self.clone_meta()
        })
    }

    fn clone_meta(&self) -> Dataset {
        Dataset {
            n: self.n,
            dims: self.dims,
            shape: self.shape,
            pixels: Pixels::U8(Vec::new()),
            labels: self.labels.clone(),
            class_names: self.class_names.clone(),
            grid_cols: self.grid_cols,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Always false: a data set holds at least one sample.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Values per sample.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// `(height, width)` when the samples are images.
    pub fn image_shape(&self) -> Option<(usize, usize)> {
        self.shape
    }

    /// The data set with labels that skip values (`{0, 2, 5}`, or one label `10⁹`)
    /// renumbered `0..m` in increasing order of value, as scikit-learn's `LabelEncoder`
    /// does, the original values kept as the class names; unchanged when the labels are
    /// already `0..m` or the classes have names.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::dataset::Dataset;
    ///
    /// let ds = Dataset::from_images(3, 1, 1, vec![0, 1, 2])?
    ///     .with_labels(vec![7, 1_000_000_000, 7])?
    ///     .with_dense_labels();
    /// assert_eq!(ds.labels(), Some(&[0, 1, 0][..]));
    /// assert_eq!(ds.n_classes(), Some(2));
    /// assert_eq!(ds.class_names().unwrap(), ["7", "1000000000"]);
    /// # Ok::<(), imgcluster::dataset::DatasetError>(())
    /// ```
    pub fn with_dense_labels(mut self) -> Dataset {
        if self.class_names.is_some() {
            return self;
        }
        if let Some((dense, names)) = self.labels.as_deref().and_then(dense_labels) {
            self.labels = Some(dense);
            self.class_names = Some(names);
        }
        self
    }

    /// The raw values.
    pub fn pixels(&self) -> &Pixels {
        &self.pixels
    }

    /// The raw values, taking them out of the data set.
    pub fn into_pixels(self) -> Pixels {
        self.pixels
    }

    /// The class labels, if known.
    pub fn labels(&self) -> Option<&[u32]> {
        self.labels.as_deref()
    }

    /// The class names, if known (label `i` is class `names[i]`).
    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }

    /// The name of class `label`, if class names are known and it has one.
    pub fn class_name(&self, label: u32) -> Option<&str> {
        self.class_names
            .as_ref()
            .and_then(|n| n.get(label as usize))
            .map(String::as_str)
    }

    /// Number of classes, if labels are known: the number of class names when they are set,
    /// else the largest label + 1.
    pub fn n_classes(&self) -> Option<usize> {
        let largest = self
            .labels
            .as_ref()
            .map(|l| l.iter().max().map_or(0, |&m| m as usize + 1))?;
        Some(
            self.class_names
                .as_ref()
                .map_or(largest, |n| n.len().max(largest)),
        )
    }

    /// Sample `i` as an 8-bit image, when the samples are u8 images.
    pub fn image(&self, i: usize) -> Option<GrayView<'_>> {
        match (&self.pixels, self.shape) {
            (Pixels::U8(v), Some((h, w))) if i < self.n => {
                Some(GrayView::new(w, h, &v[i * self.dims..(i + 1) * self.dims]))
            }
            _ => None,
        }
    }

    /// The u8 images as one buffer (N × H × W), when the samples are u8 images.
    ///
    /// # Errors
    /// [`DatasetError::NotImages`] when the samples are not 8-bit images.
    pub fn images_u8(&self) -> Result<(&[u8], usize, usize), DatasetError> {
        match (&self.pixels, self.shape) {
            (Pixels::U8(v), Some((h, w))) => Ok((v, h, w)),
            _ => Err(DatasetError::NotImages(self.describe())),
        }
    }

    /// All values as f32 (a copy), N × dims row-major: the matrix k-means clusters.
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.pixels {
            Pixels::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            Pixels::F32(v) => v.clone(),
        }
    }

    /// A short description such as `5000 images of 20x20 u8` or `100 vectors of 64 f32`.
    pub fn describe(&self) -> String {
        let kind = match self.pixels {
            Pixels::U8(_) => "u8",
            Pixels::F32(_) => "f32",
        };
        match self.shape {
            Some((h, w)) => format!("{} images of {h}x{w} {kind}", self.n),
            None => format!("{} vectors of {} {kind}", self.n, self.dims),
        }
    }

    /// The samples at `indices`, in that order (labels follow; the grid layout does not).
    ///
    /// # Panics
    /// Panics if an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let d = self.dims;
        let pixels = match &self.pixels {
            Pixels::U8(v) => Pixels::U8(gather(v, d, indices)),
            Pixels::F32(v) => Pixels::F32(gather(v, d, indices)),
        };
        Dataset {
            n: indices.len(),
            dims: d,
            shape: self.shape,
            pixels,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
            class_names: self.class_names.clone(),
            grid_cols: None,
        }
    }

    /// Splits into a training part and a test part.
    ///
    /// * Grid data (see [`Dataset::with_grid_cols`]): the first `floor(ratio * cols)` cells of
    ///   every grid row train, the rest test — the split of OpenCV's digits samples.
    /// * Otherwise, with labels: the first `floor(ratio * count)` samples of every class, in file
    ///   order, train (a stratified split without shuffling).
    /// * Otherwise: the first `floor(ratio * N)` samples train.
    ///
    /// # Errors
    /// [`DatasetError::InvalidParameter`] when `ratio` is not in (0, 1) or a part would be empty.
    pub fn split(&self, ratio: f64) -> Result<Split, DatasetError> {
        if !(ratio > 0.0 && ratio < 1.0) {
            return Err(DatasetError::InvalidParameter {
                name: "train ratio",
                reason: format!("{ratio} is not strictly between 0 and 1"),
            });
        }
        let take = |count: usize| (ratio * count as f64).floor() as usize;
        let mut is_train = vec![false; self.n];
        if let Some(cols) = self.grid_cols {
            let k = take(cols);
            for (i, t) in is_train.iter_mut().enumerate() {
                *t = i % cols < k;
            }
        } else if let Some(labels) = &self.labels {
            let n_classes = self.n_classes().unwrap_or(0);
            let mut counts = vec![0usize; n_classes];
            for &l in labels {
                counts[l as usize] += 1;
            }
            let mut seen = vec![0usize; n_classes];
            for (i, &l) in labels.iter().enumerate() {
                let l = l as usize;
                is_train[i] = seen[l] < take(counts[l]);
                seen[l] += 1;
            }
        } else {
            let k = take(self.n);
            is_train[..k].iter_mut().for_each(|t| *t = true);
        }
        let train_indices: Vec<usize> = (0..self.n).filter(|&i| is_train[i]).collect();
        let test_indices: Vec<usize> = (0..self.n).filter(|&i| !is_train[i]).collect();
        if train_indices.is_empty() || test_indices.is_empty() {
            return Err(DatasetError::InvalidParameter {
                name: "train ratio",
                reason: format!(
                    "{ratio} leaves {} training and {} test samples",
                    train_indices.len(),
                    test_indices.len()
                ),
            });
        }
        Ok(Split {
            train: self.subset(&train_indices),
            test: self.subset(&test_indices),
            train_indices,
            test_indices,
        })
    }
}

fn check_len(len: usize, n: usize, dims: usize) -> Result<(), DatasetError> {
    if Some(len) != n.checked_mul(dims) {
        return Err(DatasetError::InvalidParameter {
            name: "data length",
            reason: format!("{len} values for {n} samples of {dims}"),
        });
    }
    Ok(())
}

fn check_named(labels: &[u32], n_names: usize) -> Result<(), DatasetError> {
    match labels.iter().position(|&l| l as usize >= n_names) {
        Some(i) => Err(DatasetError::BadLabel {
            index: i,
            value: format!("{} but there are only {n_names} class names", labels[i]),
        }),
        None => Ok(()),
    }
}

fn gather<T: Copy>(v: &[T], d: usize, indices: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(indices.len() * d);
    for &i in indices {
        out.extend_from_slice(&v[i * d..(i + 1) * d]);
    }
    out
}

/// Labels that skip values renumbered `0..m` in increasing order of value, with the
/// original values as names; `None` when they are already `0..m`.
pub fn dense_labels(labels: &[u32]) -> Option<(Vec<u32>, Vec<String>)> {
    let mut values = labels.to_vec();
    values.sort_unstable();
    values.dedup();
    let dense = values
        .last()
        .is_none_or(|&m| m as usize + 1 == values.len());
    if dense {
        return None;
    }
    let renumbered = labels
        .iter()
        .map(|l| values.binary_search(l).map_or(0, |i| i as u32))
        .collect();
    Some((renumbered, values.iter().map(u32::to_string).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, cols: usize) -> Dataset {
        Dataset::from_images(n, 1, 1, (0..n as u8).collect())
            .unwrap()
            .with_labels((0..n as u32).map(|i| i / cols as u32).collect())
            .unwrap()
    }

    #[test]
    fn grid_split_takes_first_part_of_each_row() {
        let ds = grid(8, 4).with_grid_cols(4).unwrap();
        let s = ds.split(0.5).unwrap();
        assert_eq!(s.train_indices, vec![0, 1, 4, 5]);
        assert_eq!(s.test_indices, vec![2, 3, 6, 7]);
        assert_eq!(s.test.labels(), Some(&[0, 0, 1, 1][..]));
    }

    #[test]
    fn labelled_split_is_stratified() {
        let ds = Dataset::from_images(6, 1, 1, vec![0; 6])
            .unwrap()
            .with_labels(vec![0, 1, 0, 1, 0, 1])
            .unwrap();
        let s = ds.split(0.5).unwrap();
        assert_eq!(s.train_indices, vec![0, 1]);
    }

    #[test]
    fn split_rejects_bad_ratios() {
        let ds = grid(4, 2);
        for r in [0.0, 1.0, -1.0, f64::NAN, 0.1] {
            assert!(ds.split(r).is_err(), "{r}");
        }
    }

    #[test]
    fn features_reject_nan_with_position() {
        let e = Dataset::from_features(2, 2, None, Pixels::F32(vec![0.0, 1.0, f32::NAN, 0.0]));
        assert!(matches!(e, Err(DatasetError::NonFinite { row: 1, col: 0 })));
    }

    #[test]
    fn class_names_follow_subsets_and_images() {
        let ds = grid(4, 2)
            .with_class_names(vec!["a".into(), "b".into(), "c".into()])
            .unwrap();
        let sub = ds.subset(&[3, 0]);
        assert_eq!(sub.class_name(sub.labels().unwrap()[0]), Some("b"));
        assert_eq!(sub.n_classes(), Some(3));
        let re = ds.with_images(vec![9; 4]).unwrap();
        assert_eq!(re.class_names(), ds.class_names());
    }

    #[test]
    fn class_names_must_cover_labels_and_be_distinct() {
        assert!(matches!(
            grid(4, 2).with_class_names(vec!["a".into()]),
            Err(DatasetError::BadLabel { index: 2, .. })
        ));
        let named = Dataset::from_images(2, 1, 1, vec![0, 1])
            .unwrap()
            .with_class_names(vec!["a".into()])
            .unwrap();
        assert!(named.with_labels(vec![0, 1]).is_err());
        let e = Dataset::from_images(1, 1, 1, vec![0])
            .unwrap()
            .with_class_names(vec!["a".into(), "a".into()]);
        assert!(matches!(e, Err(DatasetError::InvalidParameter { .. })));
    }

    #[test]
    fn labels_must_match() {
        let e = grid(4, 2).with_labels(vec![0]);
        assert!(matches!(
            e,
            Err(DatasetError::LabelCount {
                labels: 1,
                samples: 4
            })
        ));
    }
}
