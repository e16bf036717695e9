//! The entry points the library calls; each picks an implementation once per process.
//!
//! The instruction set is detected on first use and cached ([`isa`]). Every SIMD
//! implementation returns bit-identical results to the scalar reference in
//! [`super::scalar`], so callers never observe which one ran.

use std::sync::OnceLock;

use super::scalar;

/// The instruction set the kernels use on this CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isa {
    /// Plain Rust, the reference.
    Scalar,
    /// x86-64 AVX2 with FMA.
    Avx2Fma,
}

/// The instruction set chosen for this process (detected once, then cached).
pub fn isa() -> Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    *ISA.get_or_init(detect)
}

fn detect() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Isa::Avx2Fma;
        }
    }
    Isa::Scalar
}

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
    assert_eq!(a.len(), b.len(), "l2sq_opencv: slices of different lengths");
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the lengths are equal.
        Isa::Avx2Fma => unsafe { super::x86::l2sq_opencv_f32(a, b) },
        _ => scalar::l2sq_opencv(a, b),
    }
}

/// [`l2sq_opencv`] of a byte sample (widened exactly to `f32`) and an `f32` center;
/// bit-identical to [`scalar::l2sq_opencv_u8`].
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
#[inline]
pub fn l2sq_opencv_u8(a: &[u8], b: &[f32]) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "l2sq_opencv_u8: slices of different lengths"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the lengths are equal.
        Isa::Avx2Fma => unsafe { super::x86::l2sq_opencv_u8(a, b) },
        _ => scalar::l2sq_opencv_u8(a, b),
    }
}

/// The fast-mode dot product in [`scalar::dot16`]'s order (same bits on every ISA).
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::dot16;
///
/// assert_eq!(dot16(&[1.0; 20], &[2.0; 20]), 40.0);
/// ```
#[inline]
pub fn dot16(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot16: slices of different lengths");
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the lengths are equal.
        Isa::Avx2Fma => unsafe { super::x86::dot16(a, b) },
        _ => scalar::dot16(a, b),
    }
}

/// Blocked [`dot16`] products: `out[r * n_cols + c] = dot16(row r, column c)`, where
/// rows and columns are stored with `stride` values each (`stride` a multiple of 16;
/// values past the real length must be zero, which leaves `dot16` unchanged).
///
/// # Panics
///
/// Panics if `stride` is not a multiple of 16 or a slice is shorter than its shape.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::dot16_panel;
///
/// let rows = [[1.0_f32; 16], [2.0; 16]].concat();
/// let cols = [[3.0_f32; 16]].concat();
/// let mut out = [0.0_f32; 2];
/// dot16_panel(&rows, 2, &cols, 1, 16, &mut out);
/// assert_eq!(out, [48.0, 96.0]);
/// ```
pub fn dot16_panel(
    rows: &[f32],
    n_rows: usize,
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    assert_eq!(
        stride % 16,
        0,
        "dot16_panel: stride must be a multiple of 16"
    );
    assert!(
        rows.len() >= n_rows * stride
            && cols.len() >= n_cols * stride
            && out.len() >= n_rows * n_cols,
        "dot16_panel: slices shorter than their shapes"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the shapes were checked above.
        Isa::Avx2Fma => unsafe { super::x86::dot16_panel(rows, n_rows, cols, n_cols, stride, out) },
        _ => scalar::dot16_panel(rows, n_rows, cols, n_cols, stride, out),
    }
}

/// [`dot16_panel`] on selected rows of a larger row-major matrix:
/// `out[m * n_cols + c] = dot16(rows[idx[m]], cols[c])` (same bits as `dot16`).
///
/// # Panics
///
/// Panics if `stride` is not a multiple of 16, a row index is out of range, or a
/// slice is shorter than its shape.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::dot16_gather;
///
/// let rows = [[1.0_f32; 16], [2.0; 16], [3.0; 16]].concat();
/// let mut out = [0.0_f32; 2];
/// dot16_gather(&rows, &[2, 0], &[1.0; 16], 1, 16, &mut out);
/// assert_eq!(out, [48.0, 16.0]);
/// ```
pub fn dot16_gather(
    rows: &[f32],
    idx: &[usize],
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    assert_eq!(
        stride % 16,
        0,
        "dot16_gather: stride must be a multiple of 16"
    );
    let n_rows = rows.len() / stride.max(1);
    assert!(
        idx.iter().all(|&r| r < n_rows),
        "dot16_gather: row index out of range"
    );
    assert!(
        cols.len() >= n_cols * stride && out.len() >= idx.len() * n_cols,
        "dot16_gather: slices shorter than their shapes"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; shapes and indices were checked above.
        Isa::Avx2Fma => unsafe { super::x86::dot16_gather(rows, idx, cols, n_cols, stride, out) },
        _ => scalar::dot16_gather(rows, idx, cols, n_cols, stride, out),
    }
}

/// [`dot16`] of one row against selected columns: `out[m] = dot16(x, column idx[m])`,
/// where `x` and every column hold `stride` values (a multiple of 16, zero-padded).
///
/// # Panics
///
/// Panics if `stride` is not a multiple of 16, `x` does not hold `stride` values,
/// an index is out of range, or `out` is shorter than `idx`.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::dot16_select;
///
/// let cols = [[1.0_f32; 16], [2.0; 16], [3.0; 16]].concat();
/// let mut out = [0.0_f32; 2];
/// dot16_select(&[1.0; 16], &cols, &[2, 0], 16, &mut out);
/// assert_eq!(out, [48.0, 16.0]);
/// ```
pub fn dot16_select(x: &[f32], cols: &[f32], idx: &[usize], stride: usize, out: &mut [f32]) {
    assert_eq!(
        stride % 16,
        0,
        "dot16_select: stride must be a multiple of 16"
    );
    assert_eq!(x.len(), stride, "dot16_select: x must hold stride values");
    assert!(out.len() >= idx.len(), "dot16_select: out shorter than idx");
    let n_cols = cols.len() / stride.max(1);
    assert!(
        idx.iter().all(|&c| c < n_cols),
        "dot16_select: column index out of range"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; shapes and indices were checked above.
        Isa::Avx2Fma => unsafe { super::x86::dot16_select(x, cols, idx, stride, out) },
        _ => scalar::dot16_select(x, cols, idx, stride, out),
    }
}

/// Sealed element types of samples: `f32`, and `u8` (pixels, widened exactly).
pub trait Element:
    Copy + Send + Sync + PartialEq + std::fmt::Debug + 'static + sealed::Sealed
{
    /// The value as `f32` (exact for both types).
    fn to_f32(self) -> f32;
    /// [`l2sq_opencv`] of a sample of this type and an `f32` center.
    fn l2sq_opencv(a: &[Self], b: &[f32]) -> f32;
    /// Two independent [`Element::l2sq_opencv`] computations (faster than two calls).
    fn l2sq_opencv_x2(a0: &[Self], b0: &[f32], a1: &[Self], b1: &[f32]) -> (f32, f32);
    /// Writes the values widened to `f32` into `out[..x.len()]`.
    fn widen(x: &[Self], out: &mut [f32]);
    /// `true` for `u8`.
    const IS_U8: bool;
    /// The values as bytes, for `u8`; `None` for `f32`.
    fn as_bytes(x: &[Self]) -> Option<&[u8]>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for u8 {}
}

impl Element for f32 {
    const IS_U8: bool = false;
    #[inline]
    fn as_bytes(_: &[f32]) -> Option<&[u8]> {
        None
    }
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
    #[inline]
    fn l2sq_opencv(a: &[f32], b: &[f32]) -> f32 {
        l2sq_opencv(a, b)
    }
    #[inline]
    fn l2sq_opencv_x2(a0: &[f32], b0: &[f32], a1: &[f32], b1: &[f32]) -> (f32, f32) {
        assert!(a0.len() == b0.len() && a1.len() == b1.len() && a0.len() == a1.len());
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and FMA were detected; the lengths are equal.
            Isa::Avx2Fma => unsafe { super::x86::l2sq_opencv_f32_x2(a0, b0, a1, b1) },
            _ => (scalar::l2sq_opencv(a0, b0), scalar::l2sq_opencv(a1, b1)),
        }
    }
    #[inline]
    fn widen(x: &[f32], out: &mut [f32]) {
        out[..x.len()].copy_from_slice(x);
    }
}

impl Element for u8 {
    const IS_U8: bool = true;
    #[inline]
    fn as_bytes(x: &[u8]) -> Option<&[u8]> {
        Some(x)
    }
    #[inline]
    fn to_f32(self) -> f32 {
        f32::from(self)
    }
    #[inline]
    fn l2sq_opencv(a: &[u8], b: &[f32]) -> f32 {
        l2sq_opencv_u8(a, b)
    }
    #[inline]
    fn l2sq_opencv_x2(a0: &[u8], b0: &[f32], a1: &[u8], b1: &[f32]) -> (f32, f32) {
        assert!(a0.len() == b0.len() && a1.len() == b1.len() && a0.len() == a1.len());
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and FMA were detected; the lengths are equal.
            Isa::Avx2Fma => unsafe { super::x86::l2sq_opencv_u8_x2(a0, b0, a1, b1) },
            _ => (
                scalar::l2sq_opencv_u8(a0, b0),
                scalar::l2sq_opencv_u8(a1, b1),
            ),
        }
    }
    #[inline]
    fn widen(x: &[u8], out: &mut [f32]) {
        let out = &mut out[..x.len()];
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX2 and FMA were detected; `out` has `x.len()` values.
            Isa::Avx2Fma => unsafe { super::x86::widen_u8(x, out) },
            _ => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = f32::from(v);
                }
            }
        }
    }
}
