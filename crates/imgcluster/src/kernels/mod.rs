//! Distance kernels: the only place that owns arithmetic whose exact rounding matters,
//! and the only place with `unsafe` and SIMD.
//!
//! * [`l2sq_opencv`] — OpenCV's `normL2Sqr_`, bit for bit (k-means in OpenCV mode);
//! * [`dot16`], [`dot16_panel`] — the fast-mode dot product in one fixed order, single
//!   pairs or blocked (GEMM-like), with the same bits either way;
//! * [`SparseU8::dot_t16`] — a sparse byte sample against 16 transposed columns in one fixed
//!   order (OpenCV mode's shortlist on byte images, which are mostly zeros), and
//!   [`SparseU8::dot_cols`] against a range of many columns (several attempts at once),
//!   best with the columns in an [`AlignedF32`];
//! * [`fast_sq_distances`], [`le_mask16`] — OpenCV mode's shortlist arithmetic in `f64`
//!   (the same IEEE operations on every ISA, only wider);
//! * [`bounds_shift`], [`bounds_open`] — fast mode's per-sample lower bounds, decayed by
//!   the centers' drifts and scanned for the ones that may still hold the nearest center;
//! * [`Element`] — the sample types (`f32`, `u8`) the kernels read directly.
//!
//! [`scalar`] holds the reference implementations, always compiled. The SIMD versions
//! (AVX2 + FMA on x86-64, with AVX-512F blocks where the CPU has them; NEON on aarch64;
//! detected once per process and capped by the environment variable [`ISA_VARIABLE`], see
//! [`isa`] and [`isa_name`]) return bit-identical results; the tests check that on awkward
//! sizes.

mod aligned;
mod dispatch;
#[cfg(target_arch = "aarch64")]
mod neon;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

pub use aligned::AlignedF32;
pub use dispatch::{
    add_rows_u8, add_u8, bounds_open, bounds_shift, dot16, dot16_gather, dot16_panel, dot16_select,
    fast_shortlist16, fast_sq_distances, isa, isa_name, l2sq_opencv, l2sq_opencv_u8, le_mask16,
    near_min_mask16, sub_rows_u8, sub_u8, Element, Isa, SparseU8, ISA_NAMES, ISA_VARIABLE,
};
