//! The nearest center of a sample, as each mode's assignment step finds it.

use super::Mode;
use crate::kernels::{dot16, l2sq_opencv};

/// Centers ready for nearest-center queries with the distance of a [`Mode`]'s assignment
/// step, so that a sample gets the cluster the fit would give it:
///
/// * [`Mode::OpenCv`]: `l2sq_opencv(x, c)` in `f32`, OpenCV's kernel;
/// * [`Mode::Fast`]: `(‖x‖² + ‖c‖²) − 2·dot16(x, c)` in `f64` with the norms summed in
///   `f64` (fast mode's arithmetic), reported clamped at 0.
///
/// Ties go to the lowest cluster index in both.
///
/// # Examples
/// ```
/// use imgcluster::kmeans::{Mode, NearestCenter};
///
/// let centers = [0.0_f32, 0.0, 10.0, 10.0];
/// for mode in [Mode::OpenCv, Mode::Fast] {
///     let n = NearestCenter::new(mode, &centers, 2);
///     assert_eq!(n.nearest(&[9.0, 8.0]), (1, 5.0));
///     assert_eq!(n.nearest(&[5.0, 5.0]).0, 0); // a tie: the lower index
/// }
/// ```
#[derive(Debug, Clone)]
pub struct NearestCenter<'a> {
    mode: Mode,
    centers: &'a [f32],
    dims: usize,
    /// `‖c‖²` in `f64`, for [`Mode::Fast`].
    cc: Vec<f64>,
}

impl<'a> NearestCenter<'a> {
    /// `centers` are `k × dims`, row-major.
    ///
    /// # Panics
    /// Panics if `dims` is 0 or does not divide `centers.len()`.
    pub fn new(mode: Mode, centers: &'a [f32], dims: usize) -> Self {
        assert!(
            dims > 0 && centers.len().is_multiple_of(dims),
            "NearestCenter: {} center values are not rows of {dims}",
            centers.len()
        );
        let cc = match mode {
            Mode::Fast => centers
                .chunks_exact(dims)
                .map(|c| c.iter().map(|&v| f64::from(v) * f64::from(v)).sum())
                .collect(),
            _ => Vec::new(),
        };
        Self {
            mode,
            centers,
            dims,
            cc,
        }
    }

    /// The nearest center to `x` and the squared distance to it.
    ///
    /// # Panics
    /// Panics if `x.len()` is not the centers' `dims`.
    pub fn nearest(&self, x: &[f32]) -> (u32, f32) {
        assert_eq!(x.len(), self.dims, "NearestCenter::nearest: sample length");
        let rows = self.centers.chunks_exact(self.dims);
        match self.mode {
            Mode::Fast => {
                let xx: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                let mut best = (0u32, f64::INFINITY);
                for (c, (center, &cc)) in rows.zip(&self.cc).enumerate() {
                    let d = (xx + cc) - 2.0 * f64::from(dot16(x, center));
                    if d < best.1 {
                        best = (c as u32, d);
                    }
                }
                (best.0, best.1.max(0.0) as f32)
            }
            _ => {
                let mut best = (0u32, f32::INFINITY);
                for (c, center) in rows.enumerate() {
                    let d = l2sq_opencv(x, center);
                    if d < best.1 {
                        best = (c as u32, d);
                    }
                }
                best
            }
        }
    }

    /// The squared distance from `x` to center `c`, measured as [`NearestCenter::nearest`]
    /// measures it.
    ///
    /// # Panics
    /// Panics if `x.len()` is not the centers' `dims` or `c` is not a center.
    pub fn distance(&self, x: &[f32], c: usize) -> f32 {
        assert_eq!(x.len(), self.dims, "NearestCenter::distance: sample length");
        let center = &self.centers[c * self.dims..(c + 1) * self.dims];
        match self.mode {
            Mode::Fast => {
                let xx: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                let d = (xx + self.cc[c]) - 2.0 * f64::from(dot16(x, center));
                d.max(0.0) as f32
            }
            _ => l2sq_opencv(x, center),
        }
    }
}
