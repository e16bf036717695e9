//! The "deskew" preprocessing of OpenCV's handwritten-digits tutorials: a horizontal
//! shear, estimated from the image moments, that straightens slanted strokes while
//! keeping the row through the cell's centre roughly in place. The public documentation
//! of [`deskew`] quotes the tutorial code this reproduces.

use super::error::ImgprocError;
use super::moments::{moments, Moments};
use super::warp::{warp_affine_into, Border, Interpolation, MapDirection, WarpOptions};
use crate::image::{GrayImage, GrayView};

/// Unchecked deskew parameters; [`DeskewParams::check`] turns them into
/// [`DeskewValidParams`], which [`deskew`] takes.
///
/// [`DeskewParams::new`] (also [`Default`]) gives the tutorial's values.
///
/// # Examples
/// ```
/// use imgcluster::imgproc::{DeskewParams, Interpolation};
///
/// let p = DeskewParams::new().factor(0.5).interpolation(Interpolation::Linear).check()?;
/// assert_eq!((p.factor(), p.threshold()), (0.5, 1e-2));
/// # Ok::<(), imgcluster::imgproc::ImgprocError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeskewParams {
    factor: f64,
    threshold: f64,
    interpolation: Interpolation,
}

impl Default for DeskewParams {
    fn default() -> Self {
        Self::new()
    }
}

impl DeskewParams {
    /// The tutorial's parameters: shift factor `0.6`, threshold `1e-2` on `|mu02|`,
    /// [`Interpolation::Cubic`].
    pub fn new() -> Self {
        Self {
            factor: 0.6,
            threshold: 1e-2,
            interpolation: Interpolation::Cubic,
        }
    }

    /// Sets the shift factor: the matrix's x offset is `-factor · W · skew`.
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets the threshold: images with `|mu02| < threshold` are returned unchanged.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Sets the interpolation of the warp.
    pub fn interpolation(mut self, interpolation: Interpolation) -> Self {
        self.interpolation = interpolation;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`ImgprocError::InvalidParam`] if the factor is not within ±[`MAX_DESKEW_FACTOR`] (a larger
    /// shift moves any skewed image out of its frame, and overflows), or the threshold is not
    /// finite and positive (a zero threshold would divide by `mu02 = 0` on blank images).
    pub fn check(&self) -> Result<DeskewValidParams, ImgprocError> {
        if self.factor.is_nan() || self.factor.abs() > MAX_DESKEW_FACTOR {
            return Err(ImgprocError::InvalidParam {
                name: "factor",
                value: self.factor,
                reason: "must be a number from -100 to 100 (the shift is factor x size x skew)",
            });
        }
        if !(self.threshold.is_finite() && self.threshold > 0.0) {
            return Err(ImgprocError::InvalidParam {
                name: "threshold",
                value: self.threshold,
                reason: "must be finite and positive",
            });
        }
        Ok(DeskewValidParams {
            factor: self.factor,
            threshold: self.threshold,
            interpolation: self.interpolation,
        })
    }
}

/// The largest factor [`DeskewParams::check`] accepts, in magnitude (the tutorial's is 0.6).
pub const MAX_DESKEW_FACTOR: f64 = 100.0;

/// Checked deskew parameters, made by [`DeskewParams::check`].
///
/// [`DeskewValidParams::default`] holds the tutorial's values (those of
/// [`DeskewParams::new`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeskewValidParams {
    factor: f64,
    threshold: f64,
    interpolation: Interpolation,
}

impl Default for DeskewValidParams {
    fn default() -> Self {
        Self {
            factor: 0.6,
            threshold: 1e-2,
            interpolation: Interpolation::Cubic,
        }
    }
}

impl DeskewValidParams {
    /// The shift factor.
    pub fn factor(&self) -> f64 {
        self.factor
    }

    /// The threshold on `|mu02|`.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The interpolation of the warp.
    pub fn interpolation(&self) -> Interpolation {
        self.interpolation
    }
}

/// The tutorial's inverse-map shear for an image of width `width` with moments `m`, or
/// `None` when `|mu02| < threshold` (the image is then left unchanged).
///
/// The entries are `[[1, skew, -factor·width·skew], [0, 1, 0]]` with
/// `skew = mu11 / mu02`, each rounded to `f32` as the tutorial's `np.float32` matrix is.
///
/// # Examples
/// ```
/// use imgcluster::imgproc::{deskew_matrix, DeskewValidParams, Moments};
///
/// let m = Moments { mu11: 1.0, mu02: 4.0, ..Moments::default() };
/// let shear = deskew_matrix(&m, 20, &DeskewValidParams::default()).unwrap();
/// assert_eq!(shear, [[1.0, 0.25, -3.0], [0.0, 1.0, 0.0]]);
/// ```
pub fn deskew_matrix(
    m: &Moments,
    width: usize,
    params: &DeskewValidParams,
) -> Option<[[f64; 3]; 2]> {
    if m.mu02.abs() < params.threshold {
        return None;
    }
    let skew = m.mu11 / m.mu02;
    let shift = -params.factor * width as f64 * skew;
    let f32_round = |v: f64| f64::from(v as f32);
    Some([[1.0, f32_round(skew), f32_round(shift)], [0.0, 1.0, 0.0]])
}

/// Deskews `img` as OpenCV's digits tutorials do, returning an image of the same size.
///
/// The tutorial code, for a `SZ`×`SZ` cell (with the tutorial's parameters, those of
/// [`DeskewValidParams::default`]):
///
/// ```text
/// m = cv.moments(img)
/// if abs(m['mu02']) < 1e-2:
///     return img.copy()
/// skew = m['mu11'] / m['mu02']
/// M = np.float32([[1, skew, -0.6*SZ*skew], [0, 1, 0]])
/// return cv.warpAffine(img, M, (SZ, SZ), flags=cv.INTER_CUBIC | cv.WARP_INVERSE_MAP)
/// ```
///
/// This function computes the same: [`moments`](super::moments), the matrix of
/// [`deskew_matrix`] (entries rounded to `f32` like `np.float32`), and
/// [`warp_affine`](super::warp_affine) with [`MapDirection::Inverse`] and a constant
/// border of 0. For a `W`×`H` image, `SZ` in the shift is the width `W` (the shear acts
/// along x); the threshold test keeps the tutorial's strict `<`.
///
/// # Errors
/// [`ImgprocError::NonFiniteMatrix`] if the shear overflows `f32` (only possible with a
/// tiny threshold on a large image).
///
/// # Examples
/// A slanted bar becomes (nearly) upright: the x–y correlation `mu11` mostly vanishes.
/// ```
/// use imgcluster::imgproc::{deskew, moments, DeskewValidParams};
/// use imgcluster::GrayView;
///
/// let mut img = [0u8; 64];
/// for y in 0..8 {
///     img[y * 8 + 2 + y / 2] = 255; // x drifts right as y grows
/// }
/// let src = GrayView::new(8, 8, &img);
/// let out = deskew(src, &DeskewValidParams::default())?;
/// assert_eq!((out.width(), out.height()), (8, 8));
/// assert!(moments(out.view()).mu11.abs() < moments(src).mu11.abs() / 4.0);
/// # Ok::<(), imgcluster::imgproc::ImgprocError>(())
/// ```
pub fn deskew(img: GrayView<'_>, params: &DeskewValidParams) -> Result<GrayImage, ImgprocError> {
    let mut out = GrayImage::new(img.width(), img.height());
    deskew_into(img, params, out.data_mut())?;
    Ok(out)
}

/// [`deskew`] into a caller's row-major buffer of `img.width() * img.height()` bytes.
///
/// # Errors
/// [`ImgprocError::BufferSize`] if `dst` has the wrong length, and the errors of
/// [`deskew`].
///
/// # Examples
/// A blank image has `mu02 = 0` and is copied unchanged:
/// ```
/// use imgcluster::imgproc::{deskew_into, DeskewValidParams};
/// use imgcluster::GrayView;
///
/// let mut dst = [9u8; 4];
/// deskew_into(GrayView::new(2, 2, &[0; 4]), &DeskewValidParams::default(), &mut dst)?;
/// assert_eq!(dst, [0; 4]);
/// # Ok::<(), imgcluster::imgproc::ImgprocError>(())
/// ```
pub fn deskew_into(
    img: GrayView<'_>,
    params: &DeskewValidParams,
    dst: &mut [u8],
) -> Result<(), ImgprocError> {
    let (width, height) = (img.width(), img.height());
    if dst.len() != img.data().len() {
        return Err(ImgprocError::BufferSize {
            width,
            height,
            expected: img.data().len(),
            actual: dst.len(),
        });
    }
    match deskew_matrix(&moments(img), width, params) {
        None => {
            dst.copy_from_slice(img.data());
            Ok(())
        }
        Some(shear) => {
            let opts = WarpOptions::new(params.interpolation)
                .direction(MapDirection::Inverse)
                .border(Border::Constant(0));
            warp_affine_into(img, &shear, (width, height), &opts, dst)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_tutorials() {
        for p in [DeskewParams::new(), DeskewParams::default()] {
            assert_eq!(p.check().unwrap(), DeskewValidParams::default());
        }
        let v = DeskewValidParams::default();
        assert_eq!(v.factor(), 0.6);
        assert_eq!(v.threshold(), 1e-2);
        assert_eq!(v.interpolation(), Interpolation::Cubic);
    }

    #[test]
    fn invalid_params_are_rejected() {
        let err = DeskewParams::new().factor(f64::NAN).check().unwrap_err();
        assert!(matches!(
            err,
            ImgprocError::InvalidParam { name: "factor", .. }
        ));
        for t in [0.0, -1.0, f64::INFINITY] {
            let err = DeskewParams::new().threshold(t).check().unwrap_err();
            assert!(matches!(
                err,
                ImgprocError::InvalidParam {
                    name: "threshold",
                    ..
                }
            ));
        }
    }

    #[test]
    fn threshold_is_strictly_below() {
        let p = DeskewParams::new().threshold(0.5).check().unwrap();
        let at = Moments {
            mu11: 1.0,
            mu02: 0.5,
            ..Moments::default()
        };
        assert!(deskew_matrix(&at, 4, &p).is_some());
        let below = Moments { mu02: -0.49, ..at };
        assert!(deskew_matrix(&below, 4, &p).is_none());
    }

    #[test]
    fn matrix_entries_are_rounded_to_f32() {
        let m = Moments {
            mu11: 1.0,
            mu02: 3.0,
            ..Moments::default()
        };
        let shear = deskew_matrix(&m, 20, &DeskewValidParams::default()).unwrap();
        let skew = 1.0f64 / 3.0;
        assert_eq!(shear[0][1], f64::from(skew as f32));
        assert_eq!(shear[0][2], f64::from((-0.6 * 20.0 * skew) as f32));
        assert_ne!(shear[0][1], skew);
    }

    #[test]
    fn wrong_buffer_is_an_error() {
        let mut dst = [0u8; 3];
        let err = deskew_into(
            GrayView::new(2, 2, &[1; 4]),
            &DeskewValidParams::default(),
            &mut dst,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ImgprocError::BufferSize {
                expected: 4,
                actual: 3,
                ..
            }
        ));
    }
}
