//! The tutorial's image stage: what is done to each image before k-means.
//!
//! [`FeatureKind::Raw`] clusters the pixels as they are; [`FeatureKind::Deskew`] first
//! straightens every image with [`crate::imgproc::deskew`] (the tutorial's preprocessing).

use rayon::prelude::*;

use super::FeaturesError;
use crate::dataset::Dataset;
use crate::imgproc::{deskew_into, DeskewValidParams};
use crate::threads::Threads;

/// A preprocessing pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum FeatureKind {
    /// The pixels as they are (the default).
    #[default]
    Raw,
    /// The tutorial's deskew with the given parameters, then the pixels.
    Deskew(DeskewValidParams),
}

impl FeatureKind {
    /// A short name: `raw` or `deskew`.
    pub fn name(&self) -> &'static str {
        match self {
            FeatureKind::Raw => "raw",
            FeatureKind::Deskew(_) => "deskew",
        }
    }
}

/// Applies the image stage of `kind` and returns the resulting data set (labels kept).
///
/// `Raw` returns a copy of the input. Images are processed in parallel on `threads`;
/// each image is processed independently, so the output does not depend on the thread count.
///
/// # Errors
/// [`FeaturesError::Dataset`] when `kind` needs 8-bit images and the data are vectors.
///
/// # Examples
/// ```
/// use imgcluster::dataset::Dataset;
/// use imgcluster::features::{preprocess, FeatureKind};
/// use imgcluster::imgproc::DeskewValidParams;
/// use imgcluster::Threads;
/// let ds = Dataset::from_images(1, 2, 2, vec![0, 0, 0, 0])?;
/// let out = preprocess(&ds, &FeatureKind::Deskew(DeskewValidParams::default()), Threads::Fixed(1))?;
/// assert_eq!(out.images_u8()?.0, &[0, 0, 0, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn preprocess(
    ds: &Dataset,
    kind: &FeatureKind,
    threads: Threads,
) -> Result<Dataset, FeaturesError> {
    match kind {
        FeatureKind::Raw => Ok(ds.clone()),
        FeatureKind::Deskew(params) => {
            let (pixels, h, w) = ds.images_u8()?;
            let d = h * w;
            let mut out = vec![0u8; pixels.len()];
            threads.install(|| {
                out.par_chunks_mut(d)
                    .zip(pixels.par_chunks(d))
                    .try_for_each(|(dst, src)| {
                        deskew_into(crate::GrayView::new(w, h, src), params, dst)
                    })
            })?;
            Ok(ds.with_images(out)?)
        }
    }
}
