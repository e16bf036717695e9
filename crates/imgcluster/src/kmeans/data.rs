//! Samples to cluster, borrowed: bytes or floats, `n × dims` row-major.

use crate::dataset::{Dataset, Pixels};

/// Samples to cluster, borrowed: `n × dims` values, row-major, as bytes (pixels, read as
/// bytes by every engine) or as `f32`. A [`Dataset`] converts into it.
///
/// # Examples
/// ```
/// use imgcluster::dataset::Dataset;
/// use imgcluster::kmeans::Data;
///
/// let ds = Dataset::from_images(2, 1, 2, vec![0, 255, 10, 20])?;
/// assert_eq!(Data::from(&ds), Data::u8(&[0, 255, 10, 20], 2));
/// assert_eq!(Data::f32(&[1.0, 2.0], 1).len(), 2);
/// # Ok::<(), imgcluster::dataset::DatasetError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Data<'a> {
    /// Byte values.
    U8 {
        /// The values.
        values: &'a [u8],
        /// Values per sample.
        dims: usize,
    },
    /// Float values.
    F32 {
        /// The values.
        values: &'a [f32],
        /// Values per sample.
        dims: usize,
    },
}

impl<'a> Data<'a> {
    /// Byte samples of `dims` values each.
    pub fn u8(values: &'a [u8], dims: usize) -> Self {
        Data::U8 { values, dims }
    }

    /// Float samples of `dims` values each.
    pub fn f32(values: &'a [f32], dims: usize) -> Self {
        Data::F32 { values, dims }
    }

    /// Values per sample.
    pub fn dims(&self) -> usize {
        match *self {
            Data::U8 { dims, .. } | Data::F32 { dims, .. } => dims,
        }
    }

    /// Number of samples (whole rows).
    pub fn len(&self) -> usize {
        let n = match self {
            Data::U8 { values, .. } => values.len(),
            Data::F32 { values, .. } => values.len(),
        };
        n.checked_div(self.dims()).unwrap_or(0)
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<'a> From<&'a Dataset> for Data<'a> {
    fn from(ds: &'a Dataset) -> Self {
        match ds.pixels() {
            Pixels::U8(v) => Data::u8(v, ds.dims()),
            Pixels::F32(v) => Data::f32(v, ds.dims()),
        }
    }
}
