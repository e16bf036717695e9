//! The entry points the library calls; they pick an implementation of each kernel.
//!
//! Only the scalar reference exists today. A SIMD implementation must return
//! bit-identical results (the scalar code already emulates OpenCV's 4-lane SIMD
//! order), so callers never observe which one ran.

use super::scalar;

/// Squared Euclidean distance between `a` and `b`, bit-identical to OpenCV's
/// `cv::hal::normL2Sqr_(a, b, n)` in an x86-64 build with the SSE baseline.
///
/// See [`scalar::l2sq_opencv`] for the accumulation order.
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::l2sq_opencv;
///
/// assert_eq!(l2sq_opencv(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0]), 13.0);
/// ```
#[inline]
pub fn l2sq_opencv(a: &[f32], b: &[f32]) -> f32 {
    scalar::l2sq_opencv(a, b)
}
