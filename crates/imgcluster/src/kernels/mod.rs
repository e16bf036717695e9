//! Distance kernels: the only place that owns arithmetic whose exact rounding matters.
//!
//! k-means reproduces OpenCV's labels only if every squared distance is computed with
//! the same `f32` operations in the same order as OpenCV's `cv::hal::normL2Sqr_`.
//! [`scalar::l2sq_opencv`] is the reference implementation of that order in plain
//! `f32` arithmetic (see its documentation for the lane structure); [`l2sq_opencv`]
//! is the entry point the rest of the library calls, which is where a SIMD version
//! with the same results will be selected once it exists.

mod dispatch;
pub mod scalar;

pub use dispatch::l2sq_opencv;
