//! The entry points the library calls; each picks an implementation once per process.
//!
//! The instruction set is detected on first use and cached ([`isa`]), capped by the
//! environment variable [`ISA_VARIABLE`] when it is set ([`isa_name`] names the one in
//! use). Every SIMD implementation returns bit-identical results to the scalar reference
//! in [`super::scalar`], so callers never observe which one ran.

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
    /// aarch64 NEON (Advanced SIMD, with its fused multiply-add).
    Neon,
}

/// The environment variable that caps the instruction set, in the manner of OpenCV's
/// `OPENCV_CPU_DISABLE` and NumPy's `NPY_DISABLE_CPU_FEATURES`: `scalar` (the reference
/// kernels), `avx2` (AVX2 + FMA, without the AVX-512F blocks), `avx512` (AVX2 + FMA with
/// the AVX-512F blocks, the most this build uses on x86-64) or `neon` (aarch64's NEON
/// kernels). Unset or empty: the best the CPU has. A set the CPU
/// lacks falls back to the best one it has below it (`neon` on x86-64 and `avx2` or `avx512`
/// on aarch64: the CPU's best), and
/// an unknown value to the CPU's best, each with a warning on stderr, once per process.
/// Results are the same on every set.
pub const ISA_VARIABLE: &str = "IMGCLUSTER_ISA";

/// The values [`ISA_VARIABLE`] accepts, from the least to the most.
pub const ISA_NAMES: [&str; 4] = ["scalar", "neon", "avx2", "avx512"];

/// What the process runs: the kernels' set and whether the AVX-512F blocks are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Choice {
    isa: Isa,
    avx512: bool,
}

/// What the CPU offers (x86-64: AVX2 + FMA, AVX-512F; aarch64: NEON).
fn native() -> Choice {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return Choice {
                isa: Isa::Avx2Fma,
                avx512: is_x86_feature_detected!("avx512f"),
            };
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            return Choice {
                isa: Isa::Neon,
                avx512: false,
            };
        }
    }
    Choice {
        isa: Isa::Scalar,
        avx512: false,
    }
}

fn name(c: Choice) -> &'static str {
    match (c.isa, c.avx512) {
        (Isa::Scalar, _) => "scalar",
        (Isa::Avx2Fma, false) => "avx2",
        (Isa::Avx2Fma, true) => "avx512",
        (Isa::Neon, _) => "neon",
    }
}

/// The set for a value of [`ISA_VARIABLE`] on a CPU offering `native`, and the warning to
/// print, if any.
fn choose(request: Option<&str>, native: Choice) -> (Choice, Option<String>) {
    let scalar = Choice {
        isa: Isa::Scalar,
        avx512: false,
    };
    let request = request.map(str::trim).filter(|r| !r.is_empty());
    let Some(request) = request else {
        return (native, None);
    };
    let lower = request.to_ascii_lowercase();
    let (want, available) = match lower.as_str() {
        "scalar" => (scalar, true),
        "avx2" => (
            Choice {
                isa: Isa::Avx2Fma,
                avx512: false,
            },
            native.isa == Isa::Avx2Fma,
        ),
        "avx512" => (
            Choice {
                isa: Isa::Avx2Fma,
                avx512: true,
            },
            native.avx512,
        ),
        "neon" => (
            Choice {
                isa: Isa::Neon,
                avx512: false,
            },
            native.isa == Isa::Neon,
        ),
        _ => {
            let warning = format!(
                "warning: {ISA_VARIABLE}={request:?} is not one of {}; using {}",
                ISA_NAMES.join(", "),
                name(native)
            );
            return (native, Some(warning));
        }
    };
    if available {
        return (want, None);
    }
    // The best the CPU has below what was asked for.
    let fallback = match lower.as_str() {
        "avx512" if native.isa == Isa::Avx2Fma => Choice {
            isa: Isa::Avx2Fma,
            avx512: false,
        },
        "neon" => native,
        // `avx2` or `avx512` on aarch64: NEON is below them.
        _ if native.isa == Isa::Neon => native,
        _ => scalar,
    };
    let warning = format!(
        "warning: {ISA_VARIABLE}={request}: this CPU does not have {request}; using {}",
        name(fallback)
    );
    (fallback, Some(warning))
}

/// The set of this process: chosen once, its warning printed once.
fn choice() -> Choice {
    static CHOICE: OnceLock<Choice> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        let request = std::env::var(ISA_VARIABLE).ok();
        let (c, warning) = choose(request.as_deref(), native());
        if let Some(w) = warning {
            eprintln!("{w}");
        }
        c
    })
}

/// The instruction set chosen for this process (detected once, then cached), capped by
/// [`ISA_VARIABLE`].
pub fn isa() -> Isa {
    choice().isa
}

/// The name of the instruction set the kernels use in this process, as [`ISA_VARIABLE`]
/// spells it: `scalar`, `neon`, `avx2` or `avx512`.
///
/// # Examples
/// ```
/// assert!(["scalar", "avx2", "avx512", "neon"].contains(&imgcluster::kernels::isa_name()));
/// ```
pub fn isa_name() -> &'static str {
    name(choice())
}

/// Whether the AVX-512F blocks are on (the CPU has AVX-512F and [`ISA_VARIABLE`] allows
/// them); only the blocked dot products use them, with the same bits as every other path.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
fn avx512() -> bool {
    choice().avx512
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
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the lengths are equal.
        Isa::Neon => unsafe { super::neon::l2sq_opencv_f32(a, b) },
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
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the lengths are equal.
        Isa::Neon => unsafe { super::neon::l2sq_opencv_u8(a, b) },
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
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the lengths are equal.
        Isa::Neon => unsafe { super::neon::dot16(a, b) },
        _ => scalar::dot16(a, b),
    }
}

/// Whether a slice of `len` values holds `a × b` of them; `false` when the product
/// overflows `usize`, so that no shape check wraps around (in release builds plain
/// multiplication does) and lets an unchecked kernel read past a slice.
#[inline]
fn holds(len: usize, a: usize, b: usize) -> bool {
    a.checked_mul(b).is_some_and(|n| len >= n)
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
        holds(rows.len(), n_rows, stride)
            && holds(cols.len(), n_cols, stride)
            && holds(out.len(), n_rows, n_cols),
        "dot16_panel: slices shorter than their shapes"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F, AVX2 and FMA were detected; the shapes were checked above.
        Isa::Avx2Fma if avx512() => unsafe {
            super::x86::dot16_panel_512(rows, n_rows, cols, n_cols, stride, out)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the shapes were checked above.
        Isa::Avx2Fma => unsafe { super::x86::dot16_panel(rows, n_rows, cols, n_cols, stride, out) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the shapes were checked above.
        Isa::Neon => unsafe { super::neon::dot16_panel(rows, n_rows, cols, n_cols, stride, out) },
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
        holds(cols.len(), n_cols, stride) && holds(out.len(), idx.len(), n_cols),
        "dot16_gather: slices shorter than their shapes"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; shapes and indices were checked above.
        Isa::Avx2Fma => unsafe { super::x86::dot16_gather(rows, idx, cols, n_cols, stride, out) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; shapes and indices were checked above.
        Isa::Neon => unsafe { super::neon::dot16_gather(rows, idx, cols, n_cols, stride, out) },
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
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; shapes and indices were checked above.
        Isa::Neon => unsafe { super::neon::dot16_select(x, cols, idx, stride, out) },
        _ => scalar::dot16_select(x, cols, idx, stride, out),
    }
}

/// `sums[i] += x[i]` for every `i < x.len()` (bytes widened to `u32`, wrapping):
/// exact integer sums, the same on every ISA.
///
/// # Panics
///
/// Panics if `sums` is shorter than `x`.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::add_u8;
///
/// let mut sums = [1_u32, 2, 3];
/// add_u8(&mut sums, &[10, 20, 255]);
/// assert_eq!(sums, [11, 22, 258]);
/// ```
#[inline]
pub fn add_u8(sums: &mut [u32], x: &[u8]) {
    accumulate::<false>(sums, x);
}

/// `sums[i] -= x[i]` for every `i < x.len()` (wrapping); the inverse of [`add_u8`].
///
/// # Panics
///
/// Panics if `sums` is shorter than `x`.
#[inline]
pub fn sub_u8(sums: &mut [u32], x: &[u8]) {
    accumulate::<true>(sums, x);
}

/// `sums[p] += Σ_r bytes[r · dims + p]` over the rows `r` in `rows`, for every
/// `p < dims` (bytes widened to `u32`, wrapping): the rows of one cluster summed in
/// registers, strip by strip, and added once; the same results on every ISA and in
/// any order of the rows.
///
/// # Panics
///
/// Panics if `sums` holds fewer than `dims` values or a row is not a whole row of
/// `bytes`.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::add_rows_u8;
///
/// let bytes = [1_u8, 2, 10, 20, 100, 200];
/// let mut sums = [0_u32; 2];
/// add_rows_u8(&mut sums, &bytes, 2, &[0, 2]);
/// assert_eq!(sums, [101, 202]);
/// ```
#[inline]
pub fn add_rows_u8(sums: &mut [u32], bytes: &[u8], dims: usize, rows: &[u32]) {
    accumulate_rows::<false>(sums, bytes, dims, rows);
}

/// `sums[p] -= Σ_r bytes[r · dims + p]` (wrapping); the inverse of [`add_rows_u8`].
///
/// # Panics
///
/// As [`add_rows_u8`].
#[inline]
pub fn sub_rows_u8(sums: &mut [u32], bytes: &[u8], dims: usize, rows: &[u32]) {
    accumulate_rows::<true>(sums, bytes, dims, rows);
}

fn accumulate_rows<const SUB: bool>(sums: &mut [u32], bytes: &[u8], dims: usize, rows: &[u32]) {
    if dims == 0 {
        return;
    }
    let whole = bytes.len() / dims;
    assert!(
        sums.len() >= dims && rows.iter().all(|&r| (r as usize) < whole),
        "add_rows_u8/sub_rows_u8: bad shapes"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F, AVX2 and FMA were detected; `sums` holds `dims` values and
        // every row is a whole row of `bytes`.
        Isa::Avx2Fma if avx512() => unsafe {
            super::x86::accumulate_rows_u8_512::<SUB>(sums, bytes, dims, rows)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above, with AVX2 and FMA.
        Isa::Avx2Fma => unsafe { super::x86::accumulate_rows_u8::<SUB>(sums, bytes, dims, rows) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; `sums` holds `dims` values and every row is a
        // whole row of `bytes`.
        Isa::Neon => unsafe { super::neon::accumulate_rows_u8::<SUB>(sums, bytes, dims, rows) },
        _ => scalar::accumulate_rows_u8::<SUB>(sums, bytes, dims, rows),
    }
}

/// [`add_u8`] or [`sub_u8`]: the one-row case of the row accumulation.
fn accumulate<const SUB: bool>(sums: &mut [u32], x: &[u8]) {
    assert!(sums.len() >= x.len(), "add_u8/sub_u8: sums shorter than x");
    accumulate_rows::<SUB>(sums, x, x.len(), &[0]);
}

/// Byte samples stored sparsely (only the nonzero values), for
/// [`SparseU8::dot_t16`]. Every stored index is below `dims`, checked once here, so
/// the kernel needs no per-call validation.
#[derive(Debug, Clone, Default)]
pub struct SparseU8 {
    dims: usize,
    ptr: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f32>,
}

impl SparseU8 {
    /// The nonzero values of `bytes`, read as rows of `dims` values (a last partial
    /// row is ignored).
    ///
    /// # Panics
    ///
    /// Panics if `dims` is 0 or does not fit in `u32`.
    pub fn from_bytes(bytes: &[u8], dims: usize) -> Self {
        assert!(dims > 0, "SparseU8: bad dims");
        let counts: Vec<u32> = bytes
            .chunks_exact(dims)
            .map(|row| row.iter().map(|&b| u32::from(b != 0)).sum())
            .collect();
        Self::from_counts(bytes, dims, &counts, false)
    }

    /// [`from_bytes`](Self::from_bytes) with the nonzeros of each row already counted
    /// (`counts[r]` for row `r`, one per whole row), the rows filled in parallel on
    /// the current rayon pool when `parallel`. The result does not depend on
    /// `parallel`.
    ///
    /// # Panics
    ///
    /// Panics if `dims` is 0 or does not fit in `u32`, or if `counts` does not hold
    /// the true count of every whole row.
    pub fn from_counts(bytes: &[u8], dims: usize, counts: &[u32], parallel: bool) -> Self {
        assert!(
            dims > 0 && u32::try_from(dims).is_ok(),
            "SparseU8: bad dims"
        );
        let rows = bytes.len() / dims;
        assert_eq!(counts.len(), rows, "SparseU8: one count per row");
        let mut ptr = Vec::with_capacity(rows + 1);
        ptr.push(0);
        for &c in counts {
            ptr.push(ptr[ptr.len() - 1] + c as usize);
        }
        let nnz = ptr[rows];
        let mut idx = vec![0_u32; nnz];
        let mut val = vec![0.0_f32; nnz];
        // Blocks of rows with their own parts of `idx` and `val`.
        const ROWS: usize = 256;
        let mut parts = Vec::with_capacity(rows.div_ceil(ROWS));
        let (mut idx_rest, mut val_rest) = (&mut idx[..], &mut val[..]);
        for r0 in (0..rows).step_by(ROWS) {
            let r1 = (r0 + ROWS).min(rows);
            let len = ptr[r1] - ptr[r0];
            let (i, ir) = std::mem::take(&mut idx_rest).split_at_mut(len);
            let (v, vr) = std::mem::take(&mut val_rest).split_at_mut(len);
            (idx_rest, val_rest) = (ir, vr);
            parts.push((r0..r1, i, v));
        }
        let fill = |(range, idx, val): (std::ops::Range<usize>, &mut [u32], &mut [f32])| {
            let base = ptr[range.start];
            for r in range {
                let (from, to) = (ptr[r] - base, ptr[r + 1] - base);
                fill_row(
                    &bytes[r * dims..(r + 1) * dims],
                    &mut idx[from..to],
                    &mut val[from..to],
                );
            }
        };
        if parallel {
            use rayon::prelude::*;
            parts.into_par_iter().for_each(fill);
        } else {
            parts.into_iter().for_each(fill);
        }
        Self {
            dims,
            ptr,
            idx,
            val,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.ptr.len() - 1
    }

    /// Row `i`'s nonzeros: coordinates and values.
    ///
    /// # Panics
    ///
    /// Panics if `i` is not below [`rows`](Self::rows).
    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.ptr[i]..self.ptr[i + 1];
        (&self.idx[r.clone()], &self.val[r])
    }

    /// Dot products of row `i` with 16 columns stored transposed (`ct[p * 16 + l]` is
    /// coordinate `p` of column `l`), in [`scalar::sparse_dot_t16`]'s order: the same
    /// bits on every ISA.
    ///
    /// # Panics
    ///
    /// Panics if `i` is out of range or `ct` holds fewer than `dims * 16` values.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::kernels::SparseU8;
    ///
    /// let sp = SparseU8::from_bytes(&[0, 0, 2], 3);
    /// let mut ct = [0.0_f32; 3 * 16];
    /// ct[2 * 16 + 1] = 4.0; // coordinate 2 of column 1
    /// let mut out = [0.0_f32; 16];
    /// sp.dot_t16(0, &ct, &mut out);
    /// assert_eq!(out[1], 8.0);
    /// ```
    #[inline]
    pub fn dot_t16(&self, i: usize, ct: &[f32], out: &mut [f32; 16]) {
        assert!(
            holds(ct.len(), self.dims, 16),
            "SparseU8::dot_t16: ct too short"
        );
        let (idx, val) = self.row(i);
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX-512F, AVX2 and FMA were detected; every index is below
            // `dims` (checked in `from_bytes`), so every read is inside `ct`.
            Isa::Avx2Fma if avx512() => unsafe {
                super::x86::sparse_dot_t16_512(idx, val, ct, out)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, with AVX2 and FMA.
            Isa::Avx2Fma => unsafe { super::x86::sparse_dot_t16(idx, val, ct, out) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON was detected; every index is below `dims` (checked in
            // `from_bytes`), so every read is inside `ct`.
            Isa::Neon => unsafe { super::neon::sparse_dot_t16(idx, val, ct, out) },
            _ => scalar::sparse_dot_t16(idx, val, ct, out),
        }
    }
}

impl SparseU8 {
    /// Columns of centers per call of [`dot_cols`](Self::dot_cols) when it runs over
    /// many samples, one slab after the other, so that a slab of the transposed
    /// centers stays in the cache: as many as the kernel of this ISA takes in one or two
    /// passes over a sample's terms. AVX-512F: 64 (one pass of four registers); AVX2:
    /// 112 (two passes of seven registers, the most its sixteen registers hold); the
    /// scalar reference: 64. A multiple of 16; results do not depend on it.
    pub fn slab() -> usize {
        match isa() {
            Isa::Avx2Fma if !avx512() => 112,
            _ => 64,
        }
    }

    /// Dot products of row `i` with the columns `range` of `cols` columns stored
    /// transposed (`ct[p * cols + l]` is coordinate `p` of column `l`; column `l` goes
    /// to `out[l - range.start]`), in [`scalar::sparse_dot_cols`]'s order: the same
    /// bits on every ISA. Each term is read once for the whole range, which pays when
    /// there are many columns (the centers of several k-means attempts together).
    /// Running one [`slab`](Self::slab) of columns over many rows, then the next, keeps
    /// the slab's rows of `ct` in the cache; `ct` aligned to 64 bytes keeps every
    /// load within one cache line.
    ///
    /// # Panics
    ///
    /// Panics if `i` is out of range, `range` does not start and end on multiples of
    /// 16 within `cols`, `ct` holds fewer than `dims * cols` values or `out` fewer than
    /// `range.len()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use imgcluster::kernels::SparseU8;
    ///
    /// let sp = SparseU8::from_bytes(&[0, 3], 2);
    /// let mut ct = [0.0_f32; 2 * 32];
    /// ct[32 + 20] = 5.0; // coordinate 1 of column 20
    /// let mut out = [0.0_f32; 16];
    /// sp.dot_cols(0, &ct, 32, 16..32, &mut out);
    /// assert_eq!(out[4], 15.0);
    /// ```
    #[inline]
    pub fn dot_cols(
        &self,
        i: usize,
        ct: &[f32],
        cols: usize,
        range: std::ops::Range<usize>,
        out: &mut [f32],
    ) {
        assert!(
            range.start.is_multiple_of(16)
                && range.end.is_multiple_of(16)
                && range.start <= range.end
                && range.end <= cols
                && holds(ct.len(), self.dims, cols)
                && out.len() >= range.len(),
            "SparseU8::dot_cols: bad shapes"
        );
        let (idx, val) = self.row(i);
        match isa() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX-512F, AVX2 and FMA were detected; every index is below
            // `dims` (checked in `from_bytes`), so every read is inside `ct`, and
            // `range` is whole blocks of 16 within `cols` with `out` long enough.
            Isa::Avx2Fma if avx512() => unsafe {
                super::x86::sparse_dot_cols_512(idx, val, ct, cols, range, out)
            },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, with AVX2 and FMA.
            Isa::Avx2Fma => unsafe { super::x86::sparse_dot_cols(idx, val, ct, cols, range, out) },
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON was detected; every index is below `dims` (checked in
            // `from_bytes`), so every read is inside `ct`, and `range` is whole blocks
            // of 16 within `cols` with `out` long enough.
            Isa::Neon => unsafe { super::neon::sparse_dot_cols(idx, val, ct, cols, range, out) },
            _ => scalar::sparse_dot_cols(idx, val, ct, cols, range, out),
        }
    }
}

/// [`scalar::sparse_fill`] on the best ISA (the same values).
///
/// # Panics
///
/// Panics if `idx` or `val` does not hold exactly the nonzeros of `row`.
fn fill_row(row: &[u8], idx: &mut [u32], val: &mut [f32]) {
    // The SIMD kernels write within `idx` and `val` whatever the row holds and return
    // its count of nonzeros, checked here; the x86 ones need the length in `i32`.
    #[cfg(target_arch = "x86_64")]
    let wide = i32::try_from(row.len()).is_ok();
    let nnz = match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F was detected and the row length fits in `i32`.
        Isa::Avx2Fma if avx512() && wide => unsafe { super::x86::sparse_fill_512(row, idx, val) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 was detected and the row length fits in `i32`.
        Isa::Avx2Fma if wide => unsafe { super::x86::sparse_fill(row, idx, val) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected.
        Isa::Neon => unsafe { super::neon::sparse_fill(row, idx, val) },
        _ => return scalar::sparse_fill(row, idx, val),
    };
    assert!(
        idx.len() == nnz && val.len() == nnz,
        "SparseU8: wrong count of nonzeros"
    );
}

/// [`scalar::fast_sq_distances`]: fast squared distances `(xx + cc[l]) − 2·dots[l]`
/// in `f64`, their lower bounds `− e`, and the smallest distance; the same bits on
/// every ISA.
///
/// # Panics
///
/// Panics if the slices differ in length or the length is not a multiple of 16.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::fast_sq_distances;
///
/// let mut dots = [0.0_f32; 16];
/// dots[1] = 2.0;
/// let cc = [5.0_f64; 16];
/// let (mut t, mut lo) = ([0.0; 16], [0.0; 16]);
/// let min = fast_sq_distances(1.0, 0.5, &dots, &cc, &mut t, &mut lo);
/// assert_eq!((min, t[0], lo[1]), (2.0, 6.0, 1.5));
/// ```
#[inline]
pub fn fast_sq_distances(
    xx: f64,
    e: f64,
    dots: &[f32],
    cc: &[f64],
    t: &mut [f64],
    lo: &mut [f64],
) -> f64 {
    let n = dots.len();
    assert!(
        n.is_multiple_of(scalar::FAST_LANES) && cc.len() == n && t.len() == n && lo.len() == n,
        "fast_sq_distances: bad lengths"
    );
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F, AVX2 and FMA were detected.
        Isa::Avx2Fma if avx512() => unsafe {
            super::x86::fast_sq_distances_512(xx, e, dots, cc, t, lo)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected.
        Isa::Avx2Fma => unsafe { super::x86::fast_sq_distances(xx, e, dots, cc, t, lo) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the lengths were checked above.
        Isa::Neon => unsafe { super::neon::fast_sq_distances(xx, e, dots, cc, t, lo) },
        _ => scalar::fast_sq_distances(xx, e, dots, cc, t, lo),
    }
}

/// [`scalar::le_mask16`]: bit `l` set when `v[l] <= cut`.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::le_mask16;
///
/// let mut v = [9.0_f64; 16];
/// v[3] = 1.0;
/// v[15] = f64::NAN;
/// assert_eq!(le_mask16(&v, 1.0), 1 << 3);
/// ```
#[inline]
pub fn le_mask16(v: &[f64; 16], cut: f64) -> u32 {
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F, AVX2 and FMA were detected.
        Isa::Avx2Fma if avx512() => unsafe { super::x86::le_mask16_512(v, cut) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected.
        Isa::Avx2Fma => unsafe { super::x86::le_mask16(v, cut) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected.
        Isa::Neon => unsafe { super::neon::le_mask16(v, cut) },
        _ => scalar::le_mask16(v, cut),
    }
}

/// [`scalar::fast_shortlist16`]: [`fast_sq_distances`] and [`le_mask16`] on one
/// block of 16 lanes in one pass, the mask taken against `cutoff` of the smallest
/// distance; the same bits on every ISA.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::fast_shortlist16;
///
/// let mut dots = [0.0_f32; 16];
/// dots[1] = 2.0;
/// let cc = [5.0_f64; 16];
/// let (mut t, mut lo) = ([0.0; 16], [0.0; 16]);
/// let (min, mask) = fast_shortlist16(1.0, 0.5, &dots, &cc, &mut t, &mut lo, |m| m);
/// assert_eq!((min, mask, t[0], lo[1]), (2.0, 1 << 1, 6.0, 1.5));
/// ```
#[inline]
pub fn fast_shortlist16(
    xx: f64,
    e: f64,
    dots: &[f32; 16],
    cc: &[f64; 16],
    t: &mut [f64; 16],
    lo: &mut [f64; 16],
    cutoff: impl Fn(f64) -> f64,
) -> (f64, u32) {
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F, AVX2 and FMA were detected.
        Isa::Avx2Fma if avx512() => unsafe {
            super::x86::fast_shortlist16_512(xx, e, dots, cc, t, lo, cutoff)
        },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected.
        Isa::Avx2Fma => unsafe { super::x86::fast_shortlist16(xx, e, dots, cc, t, lo, cutoff) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected.
        Isa::Neon => unsafe { super::neon::fast_shortlist16(xx, e, dots, cc, t, lo, cutoff) },
        _ => scalar::fast_shortlist16(xx, e, dots, cc, t, lo, cutoff),
    }
}

/// [`scalar::near_min_mask16`]: the lanes whose `cc[l] − 2·dots[l]` (in `f32`) is
/// within `width` of the smallest; the same mask on every ISA.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::near_min_mask16;
///
/// let mut dots = [0.0_f32; 16];
/// dots[3] = 10.0; // u = 50 − 20 = 30, the smallest; the others are 50
/// let cc = [50.0_f32; 16];
/// assert_eq!(near_min_mask16(&dots, &cc, 5.0), 1 << 3);
/// assert_eq!(near_min_mask16(&dots, &cc, 20.0), 0xffff);
/// ```
#[inline]
pub fn near_min_mask16(dots: &[f32; 16], cc: &[f32; 16], width: f32) -> u32 {
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F, AVX2 and FMA were detected.
        Isa::Avx2Fma if avx512() => unsafe { super::x86::near_min_mask16_512(dots, cc, width) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected.
        Isa::Avx2Fma => unsafe { super::x86::near_min_mask16(dots, cc, width) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected.
        Isa::Neon => unsafe { super::neon::near_min_mask16(dots, cc, width) },
        _ => scalar::near_min_mask16(dots, cc, width),
    }
}

/// [`scalar::bounds_shift`]: one iteration of decaying lower bounds,
/// `lb[j] ← ((lb[j] − drift[j]) · (1 − 2⁻²³)) − 2⁻¹²⁶` in `f32` (never above the exact
/// difference, so a lower bound stays one), and the count of bounds not above `th`
/// (NaN included); the same bits on every ISA.
///
/// # Panics
///
/// Panics if `drift` is shorter than `lb`.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::bounds_shift;
///
/// let mut lb = [10.0_f32, 4.0, f32::INFINITY];
/// assert_eq!(bounds_shift(&mut lb, &[1.0, 1.0, 1.0], 5.0), 1);
/// assert!(lb[0] < 9.0 && lb[0] > 8.99 && lb[1] < 3.0 && lb[2] == f32::INFINITY);
/// ```
#[inline]
pub fn bounds_shift(lb: &mut [f32], drift: &[f32], th: f32) -> usize {
    assert!(
        drift.len() >= lb.len(),
        "bounds_shift: drift shorter than lb"
    );
    let drift = &drift[..lb.len()];
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the lengths were checked above.
        Isa::Avx2Fma => unsafe { super::x86::bounds_shift(lb, drift, th) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the lengths were checked above.
        Isa::Neon => unsafe { super::neon::bounds_shift(lb, drift, th) },
        _ => scalar::bounds_shift(lb, drift, th),
    }
}

/// [`scalar::bounds_open`]: writes to the front of `out` the indices, ascending, of the
/// bounds not above `th` (NaN included) and returns how many.
///
/// # Panics
///
/// Panics if `out` is shorter than `lb`.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::bounds_open;
///
/// let mut out = [0_usize; 4];
/// assert_eq!(bounds_open(&[7.0, 2.0, f32::NAN, 9.0], 5.0, &mut out), 2);
/// assert_eq!(out[..2], [1, 2]);
/// ```
#[inline]
pub fn bounds_open(lb: &[f32], th: f32, out: &mut [usize]) -> usize {
    assert!(out.len() >= lb.len(), "bounds_open: out shorter than lb");
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 and FMA were detected; the lengths were checked above.
        Isa::Avx2Fma => unsafe { super::x86::bounds_open(lb, th, out) },
        #[cfg(target_arch = "aarch64")]
        // SAFETY: NEON was detected; the lengths were checked above.
        Isa::Neon => unsafe { super::neon::bounds_open(lb, th, out) },
        _ => scalar::bounds_open(lb, th, out),
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
    /// Appends the values' little-endian bytes to `out` (to send samples to other processes).
    fn put_le(x: &[Self], out: &mut Vec<u8>);
    /// Appends the values of little-endian `bytes` written by [`Element::put_le`] to `out`.
    fn get_le(bytes: &[u8], out: &mut Vec<Self>);
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
    fn put_le(x: &[f32], out: &mut Vec<u8>) {
        out.extend(x.iter().flat_map(|v| v.to_le_bytes()));
    }
    fn get_le(bytes: &[u8], out: &mut Vec<f32>) {
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes"))),
        );
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
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON was detected; the lengths are equal.
            Isa::Neon => unsafe { super::neon::l2sq_opencv_f32_x2(a0, b0, a1, b1) },
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
    fn put_le(x: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(x);
    }
    fn get_le(bytes: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(bytes);
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
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON was detected; the lengths are equal.
            Isa::Neon => unsafe { super::neon::l2sq_opencv_u8_x2(a0, b0, a1, b1) },
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
            #[cfg(target_arch = "aarch64")]
            // SAFETY: NEON was detected; `out` has `x.len()` values.
            Isa::Neon => unsafe { super::neon::widen_u8(x, out) },
            _ => {
                for (o, &v) in out.iter_mut().zip(x) {
                    *o = f32::from(v);
                }
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::kernels::AlignedF32;

    /// A xorshift64 stream from a nonzero `state`: test data without a dependency.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// Both SIMD panels (AVX2 and, where present, AVX-512) against the scalar one.
    #[test]
    fn every_panel_path_matches_the_scalar_reference() {
        if isa() != Isa::Avx2Fma {
            eprintln!("every_panel_path_matches_the_scalar_reference: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("every_panel_path_matches_the_scalar_reference: no AVX-512F on this CPU: its kernels were not run");
        }
        let mut bits = xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let mut next = move || {
            let x = bits();
            ((x >> 40) as f32 / (1u64 << 20) as f32) - 7.0
        };
        for (n_rows, n_cols, stride) in [
            (1, 1, 16),
            (3, 5, 16),
            (4, 6, 32),
            (7, 13, 400),
            (9, 10, 416),
            (33, 256, 48),
        ] {
            let rows: Vec<f32> = (0..n_rows * stride).map(|_| next()).collect();
            let cols: Vec<f32> = (0..n_cols * stride).map(|_| next()).collect();
            let mut want = vec![0.0_f32; n_rows * n_cols];
            scalar::dot16_panel(&rows, n_rows, &cols, n_cols, stride, &mut want);
            let mut got = vec![0.0_f32; n_rows * n_cols];
            // SAFETY: AVX2 and FMA were detected; the shapes match.
            unsafe {
                super::super::x86::dot16_panel(&rows, n_rows, &cols, n_cols, stride, &mut got)
            };
            assert_eq!(got, want, "avx2 {n_rows}x{n_cols}x{stride}");
            if avx512() {
                let mut got = vec![0.0_f32; n_rows * n_cols];
                // SAFETY: AVX-512F was detected; the shapes match.
                unsafe {
                    super::super::x86::dot16_panel_512(
                        &rows, n_rows, &cols, n_cols, stride, &mut got,
                    )
                };
                assert_eq!(got, want, "avx512 {n_rows}x{n_cols}x{stride}");
            }
        }
        // A lane that underflows to −0 keeps its sign through the padded last block.
        let (a, b) = ([-1e-30_f32; 17], [1e-30_f32; 17]);
        assert_eq!(dot16(&a, &b).to_bits(), scalar::dot16(&a, &b).to_bits());
    }

    /// Both SIMD sparse kernels against the scalar one, on every tail length.
    #[test]
    fn every_sparse_path_matches_the_scalar_reference() {
        if isa() != Isa::Avx2Fma {
            eprintln!("every_sparse_path_matches_the_scalar_reference: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("every_sparse_path_matches_the_scalar_reference: no AVX-512F on this CPU: its kernels were not run");
        }
        let mut next = xorshift(0x2545_f491_4f6c_dd1d_u64);
        let dims = 400;
        let ct: Vec<f32> = (0..dims * 16)
            .map(|_| (next() % 100_000) as f32 / 391.0)
            .collect();
        for nnz in [0, 1, 7, 8, 9, 15, 16, 17, 63, 100, 400] {
            let idx: Vec<u32> = (0..nnz).map(|_| (next() % dims as u64) as u32).collect();
            let val: Vec<f32> = (0..nnz).map(|_| (next() % 255 + 1) as f32).collect();
            let mut row = vec![0_u8; dims];
            for (&p, &v) in idx.iter().zip(&val) {
                row[p as usize] = v as u8;
            }
            let sp = SparseU8::from_bytes(&row, dims);
            let mut want = [0.0_f32; 16];
            scalar::sparse_dot_t16(&idx, &val, &ct, &mut want);
            let mut got = [0.0_f32; 16];
            // SAFETY: AVX2 and FMA were detected; indices are in range.
            unsafe { super::super::x86::sparse_dot_t16(&idx, &val, &ct, &mut got) };
            assert_eq!(got, want, "avx2 nnz {nnz}");
            if avx512() {
                let mut got = [0.0_f32; 16];
                // SAFETY: AVX-512F was detected; indices are in range.
                unsafe { super::super::x86::sparse_dot_t16_512(&idx, &val, &ct, &mut got) };
                assert_eq!(got, want, "avx512 nnz {nnz}");
            }
            let (si, sv) = sp.row(0);
            let mut want_row = [0.0_f32; 16];
            scalar::sparse_dot_t16(si, sv, &ct, &mut want_row);
            let mut got = [0.0_f32; 16];
            sp.dot_t16(0, &ct, &mut got);
            assert_eq!(got, want_row, "dispatch nnz {nnz}");
        }
    }

    /// Rows accumulated in registers against the scalar reference, on awkward widths
    /// (every strip and tail length of both ISAs), with repeated rows and none.
    #[test]
    fn rows_accumulation_matches_the_scalar_reference() {
        let mut next = xorshift(0x1234_5678_9abc_def1_u64);
        for dims in [
            0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200, 400, 785,
        ] {
            let n = 37;
            let bytes: Vec<u8> = (0..n * dims).map(|_| next() as u8).collect();
            for count in [0, 1, 2, 5, 37, 300] {
                let rows: Vec<u32> = (0..count).map(|_| (next() % n as u64) as u32).collect();
                let start: Vec<u32> = (0..dims).map(|_| next() as u32).collect();
                let mut want = start.clone();
                scalar::accumulate_rows_u8::<false>(&mut want, &bytes, dims, &rows);
                let mut got = start.clone();
                add_rows_u8(&mut got, &bytes, dims, &rows);
                assert_eq!(got, want, "add dims {dims} rows {count}");
                sub_rows_u8(&mut got, &bytes, dims, &rows);
                assert_eq!(got, start, "sub dims {dims} rows {count}");
                if isa() == Isa::Avx2Fma {
                    let mut got = start.clone();
                    // SAFETY: AVX2 and FMA were detected; rows are in range.
                    unsafe {
                        super::super::x86::accumulate_rows_u8::<false>(
                            &mut got, &bytes, dims, &rows,
                        );
                    }
                    assert_eq!(got, want, "avx2 dims {dims} rows {count}");
                }
            }
        }
    }

    /// The near-minimum mask against the scalar reference on ties, NaN, infinite and
    /// huge lanes, and random values.
    #[test]
    fn near_min_mask_matches_the_scalar_reference() {
        let mut next = xorshift(0x0bad_5eed_dead_beef_u64);
        let specials = [
            0.0,
            -0.0,
            1.0,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NAN,
            3.5,
            3.5,
        ];
        for case in 0..2000 {
            let mut dots = [0.0_f32; 16];
            let mut cc = [0.0_f32; 16];
            for l in 0..16 {
                dots[l] = (next() % 100_000) as f32 / 7.0;
                cc[l] = (next() % 1_000_000) as f32 / 3.0;
                if case % 3 == 0 && next().is_multiple_of(4) {
                    dots[l] = specials[(next() % specials.len() as u64) as usize];
                }
                if case % 5 == 0 && next().is_multiple_of(4) {
                    cc[l] = specials[(next() % specials.len() as u64) as usize];
                }
            }
            let width = [0.0, 1.0, 1e3, f32::INFINITY][case % 4];
            let want = scalar::near_min_mask16(&dots, &cc, width);
            assert_eq!(near_min_mask16(&dots, &cc, width), want, "case {case}");
            #[cfg(target_arch = "x86_64")]
            if native().isa == Isa::Avx2Fma {
                // SAFETY: AVX2 and FMA were detected.
                let avx2 = unsafe { super::super::x86::near_min_mask16(&dots, &cc, width) };
                assert_eq!(avx2, want, "avx2 case {case}");
            }
            #[cfg(target_arch = "x86_64")]
            if native().avx512 {
                // SAFETY: AVX-512F, AVX2 and FMA were detected.
                let avx512 = unsafe { super::super::x86::near_min_mask16_512(&dots, &cc, width) };
                assert_eq!(avx512, want, "avx512 case {case}");
            }
        }
        let all_nan = [f32::NAN; 16];
        assert_eq!(near_min_mask16(&all_nan, &[1.0; 16], 1.0), 0);
    }

    /// The sparse form on awkward row lengths and densities: the same rows as the
    /// scalar fill, in parallel or not, and a wrong count is refused.
    #[test]
    fn sparse_form_matches_the_scalar_fill_on_awkward_rows() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d_u64);
        for dims in [1, 2, 15, 16, 17, 31, 63, 64, 65, 400, 785] {
            for every in [1, 2, 5, 1000] {
                let rows = 300;
                let bytes: Vec<u8> = (0..rows * dims)
                    .map(|_| {
                        if next().is_multiple_of(every) {
                            (next() % 255 + 1) as u8
                        } else {
                            0
                        }
                    })
                    .collect();
                let sp = SparseU8::from_bytes(&bytes, dims);
                let counts: Vec<u32> = (0..rows).map(|r| sp.row(r).0.len() as u32).collect();
                let par = SparseU8::from_counts(&bytes, dims, &counts, true);
                for (r, row) in bytes.chunks_exact(dims).enumerate() {
                    let nnz = counts[r] as usize;
                    let (mut idx, mut val) = (vec![0_u32; nnz], vec![0.0_f32; nnz]);
                    scalar::sparse_fill(row, &mut idx, &mut val);
                    assert_eq!(sp.row(r), (&idx[..], &val[..]), "dims {dims} row {r}");
                    assert_eq!(par.row(r), (&idx[..], &val[..]), "dims {dims} row {r}");
                    every_fill_kernel(row, &idx, &val);
                }
            }
        }
        let bytes = [0_u8, 3, 0, 0, 4, 5];
        for counts in [[0, 2], [1, 3]] {
            let wrong =
                std::panic::catch_unwind(|| SparseU8::from_counts(&bytes, 3, &counts, false));
            assert!(wrong.is_err(), "{counts:?}");
        }
    }

    /// Each SIMD fill kernel this CPU runs on `row`, whose nonzeros are `idx` and `val`:
    /// the same values into buffers of the right length, and the right count without a
    /// write past buffers too short (one and eight values short) or into empty ones.
    fn every_fill_kernel(row: &[u8], idx: &[u32], val: &[f32]) {
        type Fill = unsafe fn(&[u8], &mut [u32], &mut [f32]) -> usize;
        #[allow(unused_mut)]
        let mut kernels: Vec<(&str, Fill)> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            if native().isa == Isa::Avx2Fma {
                kernels.push(("avx2", super::super::x86::sparse_fill));
            }
            if native().avx512 {
                kernels.push(("avx512", super::super::x86::sparse_fill_512));
            }
        }
        let nnz = idx.len();
        for (name, kernel) in kernels {
            for cap in [nnz, nnz.saturating_sub(1), nnz.saturating_sub(8), 0] {
                // One guard value past the end catches a write beyond `cap`.
                let (mut gi, mut gv) = (vec![u32::MAX; cap + 1], vec![-1.0_f32; cap + 1]);
                // SAFETY: this kernel's ISA was detected; the row is short.
                let got = unsafe { kernel(row, &mut gi[..cap], &mut gv[..cap]) };
                assert_eq!(got, nnz, "{name} count, cap {cap}");
                assert_eq!(
                    (gi[cap], gv[cap]),
                    (u32::MAX, -1.0),
                    "{name} wrote past {cap}"
                );
                if cap == nnz {
                    assert_eq!((&gi[..cap], &gv[..cap]), (idx, val), "{name} values");
                }
            }
        }
    }

    /// Both SIMD many-column sparse kernels against the scalar one, on every tail
    /// length and column count up to two full AVX-512 passes.
    #[test]
    fn every_many_column_sparse_path_matches_the_scalar_reference() {
        if isa() != Isa::Avx2Fma {
            eprintln!("every_many_column_sparse_path_matches_the_scalar_reference: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("every_many_column_sparse_path_matches_the_scalar_reference: no AVX-512F on this CPU: its kernels were not run");
        }
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let dims = 67;
        type Kernel = unsafe fn(&[u32], &[f32], &[f32], usize, std::ops::Range<usize>, &mut [f32]);
        let mut kernels: Vec<(&str, Kernel)> = vec![("avx2", super::super::x86::sparse_dot_cols)];
        if avx512() {
            kernels.push(("avx512", super::super::x86::sparse_dot_cols_512));
        }
        // AVX2 passes of 2, 4, 5, 6 and 7 registers; AVX-512 ones of 1 to 4.
        for cols in [16, 32, 48, 64, 80, 96, 112, 128, 144, 256] {
            let ct: Vec<f32> = (0..dims * cols)
                .map(|_| (next() % 100_000) as f32 / 391.0 - 100.0)
                .collect();
            // Whole ranges, empty ones, and every slab the k-means engine runs.
            let mut ranges = vec![0..cols, 0..0, cols - 16..cols];
            ranges.extend((0..cols).step_by(64).map(|c| c..(c + 64).min(cols)));
            for range in ranges {
                for nnz in [0, 1, 2, 3, 15, 16, 17, 63, 67] {
                    let idx: Vec<u32> = (0..nnz).map(|_| (next() % dims as u64) as u32).collect();
                    let val: Vec<f32> = (0..nnz).map(|_| (next() % 255 + 1) as f32).collect();
                    let mut want = vec![0.0_f32; range.len()];
                    scalar::sparse_dot_cols(&idx, &val, &ct, cols, range.clone(), &mut want);
                    for (name, kernel) in &kernels {
                        let mut got = vec![0.0_f32; range.len()];
                        // SAFETY: each kernel's ISA was detected; indices are in range.
                        unsafe { kernel(&idx, &val, &ct, cols, range.clone(), &mut got) };
                        assert_eq!(got, want, "{name} cols {cols} {range:?} nnz {nnz}");
                    }
                }
            }
            // Through the dispatch, on real rows, into an aligned buffer.
            let bytes: Vec<u8> = (0..3 * dims)
                .map(|_| {
                    if next().is_multiple_of(3) {
                        (next() % 256) as u8
                    } else {
                        0
                    }
                })
                .collect();
            let sp = SparseU8::from_bytes(&bytes, dims);
            let mut aligned = AlignedF32::default();
            aligned.resize_zeroed(ct.len());
            aligned.as_mut_slice().copy_from_slice(&ct);
            for i in 0..3 {
                let (si, sv) = sp.row(i);
                let mut want = vec![0.0_f32; cols];
                scalar::sparse_dot_cols(si, sv, &ct, cols, 0..cols, &mut want);
                let mut got = vec![0.0_f32; cols];
                sp.dot_cols(i, aligned.as_slice(), cols, 0..cols, &mut got);
                assert_eq!(got, want, "dispatch cols {cols} row {i}");
            }
        }
    }

    /// The fused one-block shortlist against the scalar one, with infinite, NaN,
    /// tied and all-NaN lanes and several cutoffs.
    #[test]
    fn every_fused_shortlist_path_matches_the_scalar_reference() {
        if isa() != Isa::Avx2Fma {
            eprintln!("every_fused_shortlist_path_matches_the_scalar_reference: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("every_fused_shortlist_path_matches_the_scalar_reference: no AVX-512F on this CPU: its kernels were not run");
        }
        let mut bits = xorshift(0x9e37_79b9_7f4a_7c15_u64);
        let mut next = move || {
            let x = bits();
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let bits = |v: &[f64; 16]| v.map(f64::to_bits);
        for round in 0..200 {
            let mut dots = [0.0_f32; 16];
            dots.iter_mut().for_each(|d| *d = (next() * 4e6) as f32);
            let mut cc = [0.0_f64; 16];
            cc.iter_mut().for_each(|c| *c = next() * 1e7);
            cc[round % 16] = f64::INFINITY;
            if round % 3 == 0 {
                cc[(round * 7) % 16] = f64::NAN;
            }
            if round % 4 == 0 {
                cc[(round * 5) % 16] = cc[(round * 11) % 16];
                dots[(round * 5) % 16] = dots[(round * 11) % 16];
            }
            if round % 10 == 0 {
                dots[(round / 10) % 16] = f32::NAN;
            }
            if round % 50 == 7 {
                cc = [f64::NAN; 16];
            }
            let (xx, e) = (next() * 1e7, next() * 100.0);
            let slack = [0.0, 1e3, 1e6, f64::NAN][round % 4];
            let cutoff = |m: f64| m + slack;
            let (mut t0, mut lo0) = ([0.0; 16], [0.0; 16]);
            let want = scalar::fast_shortlist16(xx, e, &dots, &cc, &mut t0, &mut lo0, cutoff);
            let (mut st, mut slo) = ([0.0; 16], [0.0; 16]);
            let min = scalar::fast_sq_distances(xx, e, &dots, &cc, &mut st, &mut slo);
            assert_eq!(want, (min, scalar::le_mask16(&slo, cutoff(min))));
            let check = |(min, mask): (f64, u32), t: &[f64; 16], lo: &[f64; 16], isa: &str| {
                assert_eq!(
                    (min.to_bits(), mask),
                    (want.0.to_bits(), want.1),
                    "{isa} {round}"
                );
                assert_eq!(
                    (bits(t), bits(lo)),
                    (bits(&t0), bits(&lo0)),
                    "{isa} {round}"
                );
            };
            let (mut t1, mut lo1) = ([0.0; 16], [0.0; 16]);
            // SAFETY: AVX2 and FMA were detected.
            let got = unsafe {
                super::super::x86::fast_shortlist16(xx, e, &dots, &cc, &mut t1, &mut lo1, cutoff)
            };
            check(got, &t1, &lo1, "avx2");
            if avx512() {
                let (mut t2, mut lo2) = ([0.0; 16], [0.0; 16]);
                // SAFETY: AVX-512F was detected.
                let got = unsafe {
                    super::super::x86::fast_shortlist16_512(
                        xx, e, &dots, &cc, &mut t2, &mut lo2, cutoff,
                    )
                };
                check(got, &t2, &lo2, "avx512");
            }
            let got = fast_shortlist16(xx, e, &dots, &cc, &mut t1, &mut lo1, cutoff);
            check(got, &t1, &lo1, "dispatch");
        }
    }

    /// The vectorised shortlist arithmetic against the scalar one, with infinite,
    /// NaN and tied lanes, on one to four blocks.
    #[test]
    fn every_fast_distance_path_matches_the_scalar_reference() {
        if isa() != Isa::Avx2Fma {
            eprintln!("every_fast_distance_path_matches_the_scalar_reference: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("every_fast_distance_path_matches_the_scalar_reference: no AVX-512F on this CPU: its kernels were not run");
        }
        let mut bits = xorshift(0x2545_f491_4f6c_dd1d_u64);
        let mut next = move || {
            let x = bits();
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        for blocks in 1..=4 {
            let n = blocks * 16;
            for round in 0..20 {
                let dots: Vec<f32> = (0..n).map(|_| (next() * 4e6) as f32).collect();
                let mut cc: Vec<f64> = (0..n).map(|_| next() * 1e7).collect();
                cc[round % n] = f64::INFINITY;
                if round % 3 == 0 {
                    cc[(round * 7) % n] = f64::NAN;
                }
                if round % 4 == 0 {
                    cc[(round * 5) % n] = cc[(round * 11) % n];
                }
                let (xx, e) = (next() * 1e7, next() * 100.0);
                let (mut t0, mut lo0) = (vec![0.0; n], vec![0.0; n]);
                let want = scalar::fast_sq_distances(xx, e, &dots, &cc, &mut t0, &mut lo0);
                let (mut t1, mut lo1) = (vec![0.0; n], vec![0.0; n]);
                // SAFETY: AVX2 and FMA were detected.
                let got = unsafe {
                    super::super::x86::fast_sq_distances(xx, e, &dots, &cc, &mut t1, &mut lo1)
                };
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(got.to_bits(), want.to_bits(), "avx2 min {n}");
                assert_eq!((bits(&t1), bits(&lo1)), (bits(&t0), bits(&lo0)), "avx2 {n}");
                let block: &[f64; 16] = lo0[..16].try_into().unwrap();
                let cut = lo0[round % 16];
                let mask = scalar::le_mask16(block, cut);
                // SAFETY: AVX2 and FMA were detected.
                assert_eq!(unsafe { super::super::x86::le_mask16(block, cut) }, mask);
                if avx512() {
                    let (mut t2, mut lo2) = (vec![0.0; n], vec![0.0; n]);
                    // SAFETY: AVX-512F was detected.
                    let got = unsafe {
                        super::super::x86::fast_sq_distances_512(
                            xx, e, &dots, &cc, &mut t2, &mut lo2,
                        )
                    };
                    assert_eq!(got.to_bits(), want.to_bits(), "avx512 min {n}");
                    assert_eq!(
                        (bits(&t2), bits(&lo2)),
                        (bits(&t0), bits(&lo0)),
                        "avx512 {n}"
                    );
                    // SAFETY: AVX-512F was detected.
                    assert_eq!(
                        unsafe { super::super::x86::le_mask16_512(block, cut) },
                        mask
                    );
                }
                assert_eq!(
                    fast_sq_distances(xx, e, &dots, &cc, &mut t1, &mut lo1).to_bits(),
                    want.to_bits()
                );
                assert_eq!(le_mask16(block, cut), mask);
            }
        }
    }

    #[test]
    fn sparse_rows_hold_exactly_the_nonzeros() {
        // Rows of 3: nonzeros first, last, none, all; then a partial row (ignored).
        let bytes = [5, 0, 0, 0, 0, 7, 0, 0, 0, 1, 2, 3, 9];
        let sp = SparseU8::from_bytes(&bytes, 3);
        assert_eq!(sp.rows(), 4);
        let want: [(&[u32], &[f32]); 4] = [
            (&[0], &[5.0]),
            (&[2], &[7.0]),
            (&[], &[]),
            (&[0, 1, 2], &[1.0, 2.0, 3.0]),
        ];
        for (i, (wi, wv)) in want.into_iter().enumerate() {
            assert_eq!(sp.row(i), (wi, wv), "row {i}");
        }
        assert_eq!(SparseU8::from_bytes(&[], 4).rows(), 0);
        assert_eq!(SparseU8::from_bytes(&[0; 8], 4).row(1), (&[][..], &[][..]));
    }

    /// Both SIMD byte accumulations against plain wrapping integer sums.
    #[test]
    fn every_byte_sum_path_matches_plain_integer_sums() {
        if isa() != Isa::Avx2Fma {
            eprintln!("every_byte_sum_path_matches_plain_integer_sums: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("every_byte_sum_path_matches_plain_integer_sums: no AVX-512F on this CPU: its kernels were not run");
        }
        for n in [0_usize, 1, 7, 8, 9, 15, 16, 17, 31, 63, 400] {
            let x: Vec<u8> = (0..n).map(|i| (i * 91 % 256) as u8).collect();
            let orig: Vec<u32> = (0..n as u32 + 3)
                .map(|i| i.wrapping_mul(0x9e37_79b9))
                .collect();
            let mut want = orig.clone();
            for (s, &v) in want.iter_mut().zip(&x) {
                *s = s.wrapping_add(u32::from(v));
            }
            // One row of the row kernels, as `add_u8` and `sub_u8` run them.
            let (dims, row) = (n, [0_u32]);
            let mut got = orig.clone();
            // SAFETY: AVX2 and FMA were detected; `got` holds `dims` values and row 0
            // is `x`.
            unsafe { super::super::x86::accumulate_rows_u8::<false>(&mut got, &x, dims, &row) };
            assert_eq!(got, want, "avx2 add {n}");
            // SAFETY: as above.
            unsafe { super::super::x86::accumulate_rows_u8::<true>(&mut got, &x, dims, &row) };
            assert_eq!(got, orig, "avx2 sub {n}");
            if avx512() {
                let mut got = orig.clone();
                // SAFETY: AVX-512F was detected; as above.
                unsafe {
                    super::super::x86::accumulate_rows_u8_512::<false>(&mut got, &x, dims, &row);
                }
                assert_eq!(got, want, "avx512 add {n}");
                // SAFETY: as above.
                unsafe {
                    super::super::x86::accumulate_rows_u8_512::<true>(&mut got, &x, dims, &row);
                }
                assert_eq!(got, orig, "avx512 sub {n}");
            }
        }
    }

    #[test]
    fn byte_sums_match_plain_integer_sums() {
        for n in [0_usize, 1, 7, 8, 9, 63, 400] {
            let x: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            let mut sums: Vec<u32> = (0..n as u32 + 3).collect();
            let orig = sums.clone();
            add_u8(&mut sums, &x);
            for i in 0..n + 3 {
                let want = orig[i] + if i < n { u32::from(x[i]) } else { 0 };
                assert_eq!(sums[i], want, "n {n} i {i}");
            }
            sub_u8(&mut sums, &x);
            assert_eq!(sums, orig);
        }
    }

    /// The AVX2 column selection against the scalar one for every count of columns
    /// around its blocks of four (the last one to three share one pass).
    #[test]
    fn select_matches_the_scalar_reference_for_every_count() {
        if isa() != Isa::Avx2Fma {
            eprintln!("select_matches_the_scalar_reference_for_every_count: no AVX2+FMA on this CPU: only the scalar path ran");
            return;
        }
        if !avx512() {
            eprintln!("select_matches_the_scalar_reference_for_every_count: no AVX-512F on this CPU: its kernels were not run");
        }
        let mut next = xorshift(0x1234_5678_9abc_def1_u64);
        for stride in [16_usize, 48, 784] {
            let x: Vec<f32> = (0..stride).map(|_| (next() % 256) as f32).collect();
            let cols: Vec<f32> = (0..11 * stride)
                .map(|_| (next() % 100_000) as f32 / 391.0)
                .collect();
            for n in [0_usize, 1, 2, 3, 4, 5, 6, 7, 8, 9, 63, 300] {
                let idx: Vec<usize> = (0..n).map(|_| (next() % 11) as usize).collect();
                let mut want = vec![0.0_f32; n];
                scalar::dot16_select(&x, &cols, &idx, stride, &mut want);
                let mut got = vec![f32::NAN; n];
                // SAFETY: AVX2 and FMA were detected; indices are in range.
                unsafe { super::super::x86::dot16_select(&x, &cols, &idx, stride, &mut got) };
                assert_eq!(got, want, "{n} columns, stride {stride}");
            }
        }
    }
}

#[cfg(test)]
mod switch {
    use super::*;

    const SCALAR: Choice = Choice {
        isa: Isa::Scalar,
        avx512: false,
    };
    const AVX2: Choice = Choice {
        isa: Isa::Avx2Fma,
        avx512: false,
    };
    const AVX512: Choice = Choice {
        isa: Isa::Avx2Fma,
        avx512: true,
    };
    const NEON: Choice = Choice {
        isa: Isa::Neon,
        avx512: false,
    };

    /// Every value of the switch on every kind of CPU: the set asked for when the CPU has
    /// it, else the best below it with a warning naming the variable; an unknown value
    /// keeps the CPU's best, with a warning listing the accepted values.
    #[test]
    fn the_switch_caps_the_instruction_set() {
        for cpu in [SCALAR, AVX2, AVX512, NEON] {
            assert_eq!(choose(None, cpu), (cpu, None));
            assert_eq!(choose(Some(""), cpu), (cpu, None));
            assert_eq!(choose(Some("scalar"), cpu), (SCALAR, None));
            assert_eq!(choose(Some(" SCALAR "), cpu), (SCALAR, None));
        }
        assert_eq!(choose(Some("avx2"), AVX512), (AVX2, None));
        assert_eq!(choose(Some("avx2"), AVX2), (AVX2, None));
        assert_eq!(choose(Some("avx512"), AVX512), (AVX512, None));
        let (c, w) = choose(Some("avx512"), AVX2);
        assert_eq!(c, AVX2);
        let w = w.unwrap();
        assert!(
            w.contains("IMGCLUSTER_ISA=avx512") && w.contains("using avx2"),
            "{w}"
        );
        let (c, w) = choose(Some("avx2"), SCALAR);
        assert_eq!(c, SCALAR);
        assert!(w.unwrap().contains("using scalar"));
        let (c, w) = choose(Some("bogus"), AVX512);
        assert_eq!(c, AVX512);
        let w = w.unwrap();
        assert!(
            w.contains("IMGCLUSTER_ISA=\"bogus\"") && w.contains("scalar, neon, avx2, avx512"),
            "{w}"
        );
        let (c, w) = choose(Some("neon"), AVX2);
        assert_eq!(c, AVX2);
        assert!(w.unwrap().contains("does not have neon"));
        // aarch64: NEON when asked for or unset, below it scalar; above it (the x86 sets)
        // NEON, with a warning.
        assert_eq!(choose(Some("neon"), NEON), (NEON, None));
        assert_eq!(choose(Some("Neon"), NEON), (NEON, None));
        for x86 in ["avx2", "avx512"] {
            let (c, w) = choose(Some(x86), NEON);
            assert_eq!(c, NEON);
            let w = w.unwrap();
            assert!(
                w.contains("does not have") && w.contains("using neon"),
                "{w}"
            );
        }
        let (c, w) = choose(Some("neon"), SCALAR);
        assert_eq!(c, SCALAR);
        assert!(w.unwrap().contains("using scalar"));
        assert_eq!(
            [SCALAR, AVX2, AVX512, NEON].map(name),
            ["scalar", "avx2", "avx512", "neon"]
        );
    }
}
