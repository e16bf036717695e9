//! Scalar reference kernels.
//!
//! # `l2sq_opencv`: OpenCV's `normL2Sqr_` order, emulated
//!
//! OpenCV 4.x computes `cv::hal::normL2Sqr_(a, b, n)` (in `core/src/norm.cpp`, built
//! with the baseline instruction set) with universal intrinsics. In an x86-64 build
//! with the default SSE3 baseline a `v_float32` has 4 lanes and `v_muladd` is a
//! separate multiply and add (no FMA in the baseline). The function is:
//!
//! 1. Four vector accumulators `d0..d3` of 4 lanes each, all zero. For every full
//!    block of 16 elements starting at `j` (while `j + 16 <= n`), with
//!    `t = a[i] - b[i]` rounded to `f32`:
//!    `d_v[l] = t*t + d_v[l]` for `i = j + 4v + l`, the product rounded to `f32`
//!    before the addition.
//! 2. Lane-wise `s = ((d0 + d1) + d2) + d3`.
//! 3. Horizontal sum as SSE `v_reduce_sum` does it (two shifted adds):
//!    `d = (s[0] + s[2]) + (s[1] + s[3])`.
//! 4. Scalar tail for the remaining `n mod 16` elements in order: `d += t*t`.
//!
//! Everything is `f32`; no fused multiply-add is used anywhere (Rust never contracts
//! `a * b + c` into an FMA), so the result is bit-identical to OpenCV's.

/// `a · b + c` with one rounding, as `f32::mul_add`: the instruction where the target
/// has one (aarch64; x86-64 built with FMA), else computed in `f64` with rounding to
/// odd, which gives the same bits without the library call `mul_add` becomes there.
///
/// In `f64` the product of two `f32` is exact (48 significant bits). The sum `s` is
/// rounded to nearest; its exact error `e` comes from TwoSum. Where `e ≠ 0`, `s` is
/// replaced by whichever neighbour of the exact sum has an odd last bit ("rounding
/// to odd"): with 53 bits, at least two more than `f32`'s 24, the rounding of that
/// value to `f32` is the correctly rounded exact sum (Boldo and Melquiond, "Emulation of
/// FMA and correctly rounded sums: proved algorithms using rounding to odd", 2008). An
/// infinite or NaN sum is returned as it is (the error is not defined). Plain
/// operations throughout, so a loop of them vectorises.
#[inline(always)]
pub fn fmadd(a: f32, b: f32, c: f32) -> f32 {
    #[cfg(any(target_arch = "aarch64", target_feature = "fma"))]
    {
        a.mul_add(b, c)
    }
    #[cfg(not(any(target_arch = "aarch64", target_feature = "fma")))]
    {
        let p = f64::from(a) * f64::from(b);
        let c = f64::from(c);
        let s = p + c;
        let v = s - p;
        let e = (p - (s - v)) + (c - v);
        let bits = s.to_bits();
        // Towards the exact sum (s + e) by one unit in the last place, when s is even
        // and inexact; `e > 0` with `s > 0`, or `e < 0` with `s < 0`, means away from 0.
        let odd = if e != 0.0 && bits & 1 == 0 && s.is_finite() {
            if (e > 0.0) == (s > 0.0) {
                bits + 1
            } else {
                bits - 1
            }
        } else {
            bits
        };
        f64::from_bits(odd) as f32
    }
}

/// Lanes per vector in the emulated SIMD code (SSE: 128 bits of `f32`).
pub const LANES: usize = 4;

/// Vector accumulators in the emulated SIMD code.
pub const ACCUMULATORS: usize = 4;

/// Elements consumed per iteration of the main loop (`LANES * ACCUMULATORS`).
pub const BLOCK: usize = LANES * ACCUMULATORS;

/// Step 4 of the order above, shared by every implementation: `d += t·t` over the
/// elements from `from` on, in order, each element widened to `f32` (exactly, for bytes).
#[inline(always)]
pub fn opencv_tail<T: Copy + Into<f32>>(a: &[T], b: &[f32], from: usize, mut d: f32) -> f32 {
    for (&x, &y) in a[from..].iter().zip(&b[from..]) {
        let t = x.into() - y;
        d += t * t;
    }
    d
}

/// Squared Euclidean distance with OpenCV's `normL2Sqr_` accumulation order.
///
/// See the [module documentation](self) for the exact order of operations.
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::scalar::l2sq_opencv;
///
/// let a = [1.0_f32; 17];
/// let b = [0.0_f32; 17];
/// assert_eq!(l2sq_opencv(&a, &b), 17.0);
/// assert_eq!(l2sq_opencv(&[], &[]), 0.0);
/// ```
pub fn l2sq_opencv(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "l2sq_opencv: slices of different lengths");
    let mut acc = [0.0_f32; BLOCK];
    let blocks = a.len() / BLOCK;
    let (a_main, b_main) = (&a[..blocks * BLOCK], &b[..blocks * BLOCK]);
    for (ca, cb) in a_main.chunks_exact(BLOCK).zip(b_main.chunks_exact(BLOCK)) {
        for i in 0..BLOCK {
            let t = ca[i] - cb[i];
            acc[i] += t * t;
        }
    }
    // Lane-wise ((d0 + d1) + d2) + d3.
    let mut s = [0.0_f32; LANES];
    for (l, s) in s.iter_mut().enumerate() {
        *s = ((acc[l] + acc[LANES + l]) + acc[2 * LANES + l]) + acc[3 * LANES + l];
    }
    // SSE v_reduce_sum: [s0+s2, s1+s3, ..] then lane 0 + lane 1.
    opencv_tail(a, b, blocks * BLOCK, (s[0] + s[2]) + (s[1] + s[3]))
}

/// [`l2sq_opencv`] for a sample of bytes: each byte is widened to `f32` (exactly)
/// and the result is bit-identical to `l2sq_opencv` on the widened sample.
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::scalar::{l2sq_opencv, l2sq_opencv_u8};
///
/// let a: Vec<u8> = (0..40).collect();
/// let b = [1.5_f32; 40];
/// let wide: Vec<f32> = a.iter().map(|&v| f32::from(v)).collect();
/// assert_eq!(l2sq_opencv_u8(&a, &b), l2sq_opencv(&wide, &b));
/// ```
pub fn l2sq_opencv_u8(a: &[u8], b: &[f32]) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "l2sq_opencv_u8: slices of different lengths"
    );
    let mut acc = [0.0_f32; BLOCK];
    let blocks = a.len() / BLOCK;
    let (a_main, b_main) = (&a[..blocks * BLOCK], &b[..blocks * BLOCK]);
    for (ca, cb) in a_main.chunks_exact(BLOCK).zip(b_main.chunks_exact(BLOCK)) {
        for i in 0..BLOCK {
            let t = f32::from(ca[i]) - cb[i];
            acc[i] += t * t;
        }
    }
    let mut s = [0.0_f32; LANES];
    for (l, s) in s.iter_mut().enumerate() {
        *s = ((acc[l] + acc[LANES + l]) + acc[2 * LANES + l]) + acc[3 * LANES + l];
    }
    opencv_tail(a, b, blocks * BLOCK, (s[0] + s[2]) + (s[1] + s[3]))
}

/// Lanes of the fast dot product [`dot16`].
pub const DOT_LANES: usize = 16;

/// Dot product in the fixed order every fast-mode kernel uses, so that a blocked,
/// a single-pair and a scalar computation give the same bits:
///
/// 1. 16 `f32` lanes, all zero. The input is zero-padded to a multiple of 16;
///    element `i` goes to lane `i mod 16`, and each lane is updated in index order
///    with a fused multiply-add `acc = fma(a[i], b[i], acc)` (one rounding).
/// 2. Tree reduction: `s8[l] = acc[l] + acc[l+8]`, `s4[l] = s8[l] + s8[l+4]`,
///    `s2[l] = s4[l] + s4[l+2]`, result `s2[0] + s2[1]`.
///
/// Every term passes through at most `ceil(n/16) + 4` roundings, so the error is at
/// most `γ(ceil(n/16) + 4) · Σ|a_i b_i|` with `γ(m) = m u / (1 - m u)`, `u = 2^-24`
/// (plus an underflow term of a few `2^-149` per operation).
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::scalar::dot16;
///
/// assert_eq!(dot16(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// assert_eq!(dot16(&[], &[]), 0.0);
/// ```
pub fn dot16(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "dot16: slices of different lengths");
    let mut acc = [0.0_f32; DOT_LANES];
    let mut ca = a.chunks_exact(DOT_LANES);
    let mut cb = b.chunks_exact(DOT_LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..DOT_LANES {
            acc[l] = fmadd(x[l], y[l], acc[l]);
        }
    }
    // The zero-padded last block: padding lanes add fma(0, 0, acc) = acc.
    for (l, (&x, &y)) in ca.remainder().iter().zip(cb.remainder()).enumerate() {
        acc[l] = fmadd(x, y, acc[l]);
    }
    reduce16(&acc)
}

/// The reduction tree of [`dot16`].
pub fn reduce16(acc: &[f32; DOT_LANES]) -> f32 {
    let mut s8 = [0.0_f32; 8];
    for l in 0..8 {
        s8[l] = acc[l] + acc[l + 8];
    }
    let mut s4 = [0.0_f32; 4];
    for l in 0..4 {
        s4[l] = s8[l] + s8[l + 4];
    }
    let s2 = [s4[0] + s4[2], s4[1] + s4[3]];
    s2[0] + s2[1]
}

/// All dot products between `rows` rows and `cols` columns stored row-major with a
/// common `stride`: `out[r * cols + c] = dot16(rows[r], cols[c])` over the first
/// `stride` values of each (callers zero-pad past the real length, which does not
/// change [`dot16`]'s result).
///
/// # Panics
///
/// Panics if a slice is shorter than its shape says.
pub fn dot16_panel(
    rows: &[f32],
    n_rows: usize,
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    assert!(
        n_rows.checked_mul(stride).is_some_and(|n| rows.len() >= n)
            && n_cols.checked_mul(stride).is_some_and(|n| cols.len() >= n)
            && n_rows.checked_mul(n_cols).is_some_and(|n| out.len() >= n)
    );
    for r in 0..n_rows {
        let x = &rows[r * stride..(r + 1) * stride];
        for c in 0..n_cols {
            out[r * n_cols + c] = dot16(x, &cols[c * stride..(c + 1) * stride]);
        }
    }
}

/// Squared Euclidean distance summed left to right in `f32` (`d += t*t`), the
/// textbook order. Not used by k-means; kept to show (in tests) that the order matters.
///
/// # Panics
///
/// Panics if `a` and `b` have different lengths.
///
/// # Examples
///
/// ```
/// use imgcluster::kernels::scalar::l2sq_sequential;
///
/// assert_eq!(l2sq_sequential(&[3.0, 4.0], &[0.0, 0.0]), 25.0);
/// ```
pub fn l2sq_sequential(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "l2sq_sequential: slices of different lengths"
    );
    a.iter().zip(b).fold(0.0_f32, |d, (&x, &y)| {
        let t = x - y;
        d + t * t
    })
}

/// `out[m * n_cols + c] = dot16(rows[idx[m]], cols[c])`, rows and columns stored with
/// `stride` values each.
///
/// # Panics
///
/// Panics if a slice is shorter than its shape says.
pub fn dot16_gather(
    rows: &[f32],
    idx: &[usize],
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    for (m, &r) in idx.iter().enumerate() {
        let x = &rows[r * stride..(r + 1) * stride];
        for c in 0..n_cols {
            out[m * n_cols + c] = dot16(x, &cols[c * stride..(c + 1) * stride]);
        }
    }
}

/// `out[m] = dot16(x, column idx[m])` for columns stored with `stride` values.
///
/// # Panics
///
/// Panics if an index is out of range or `x` does not hold `stride` values.
pub fn dot16_select(x: &[f32], cols: &[f32], idx: &[usize], stride: usize, out: &mut [f32]) {
    for (o, &c) in out.iter_mut().zip(idx) {
        *o = dot16(&x[..stride], &cols[c * stride..(c + 1) * stride]);
    }
}

/// Accumulators of [`sparse_dot_t16`].
pub const SPARSE_ACCS: usize = 8;

/// Dot products of one sparse sample (`val[t]` at coordinate `idx[t]`) with 16
/// columns stored transposed: `ct[p * 16 + l]` is coordinate `p` of column `l`.
///
/// Order: term `t` is added with a fused multiply-add to accumulator `t % 8`, lane by
/// lane; the accumulators are combined as `((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))`.
/// Each product therefore passes through at most `⌈nnz / 8⌉ + 3` roundings.
///
/// # Panics
///
/// Panics if `idx` and `val` differ in length or an index is out of range of `ct`.
pub fn sparse_dot_t16(idx: &[u32], val: &[f32], ct: &[f32], out: &mut [f32; 16]) {
    assert_eq!(idx.len(), val.len());
    let mut acc = [[0.0_f32; 16]; SPARSE_ACCS];
    for (t, (&p, &v)) in idx.iter().zip(val).enumerate() {
        let col = &ct[p as usize * 16..p as usize * 16 + 16];
        let a = &mut acc[t % SPARSE_ACCS];
        for l in 0..16 {
            a[l] = fmadd(v, col[l], a[l]);
        }
    }
    for l in 0..16 {
        let s01 = acc[0][l] + acc[1][l];
        let s23 = acc[2][l] + acc[3][l];
        let s45 = acc[4][l] + acc[5][l];
        let s67 = acc[6][l] + acc[7][l];
        out[l] = (s01 + s23) + (s45 + s67);
    }
}

/// `sums[p] += Σ_r bytes[r · dims + p]` over the rows `r` in `rows` (or `-=` when
/// `SUB`), for every `p < dims`; bytes widened to `u32`, wrapping, so the result is
/// the same in any order.
///
/// # Panics
///
/// Panics if `sums` holds fewer than `dims` values or a row is out of range.
pub fn accumulate_rows_u8<const SUB: bool>(
    sums: &mut [u32],
    bytes: &[u8],
    dims: usize,
    rows: &[u32],
) {
    let sums = &mut sums[..dims];
    for &r in rows {
        let row = &bytes[r as usize * dims..(r as usize + 1) * dims];
        for (s, &b) in sums.iter_mut().zip(row) {
            *s = if SUB {
                s.wrapping_sub(u32::from(b))
            } else {
                s.wrapping_add(u32::from(b))
            };
        }
    }
}

/// The nonzeros of `row` in order: coordinate `idx[t]`, value `val[t]`.
///
/// # Panics
///
/// Panics if `idx` or `val` does not hold exactly as many values as `row` has
/// nonzeros.
pub fn sparse_fill(row: &[u8], idx: &mut [u32], val: &mut [f32]) {
    let nnz = row.iter().filter(|&&b| b != 0).count();
    assert!(
        idx.len() == nnz && val.len() == nnz,
        "sparse_fill: wrong count of nonzeros"
    );
    for ((p, &b), (i, v)) in row
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b != 0)
        .zip(idx.iter_mut().zip(val.iter_mut()))
    {
        *i = p as u32;
        *v = f32::from(b);
    }
}

/// Accumulators per column of [`sparse_dot_cols`].
pub const SPARSE_COLS_ACCS: usize = 2;

/// Dot products of one sparse sample (`val[t]` at coordinate `idx[t]`) with the
/// columns `range` of `cols` columns stored transposed: `ct[p * cols + l]` is
/// coordinate `p` of column `l`; `out[l - range.start]` receives column `l`. Made for
/// many columns at once (the centers of several k-means attempts), so that every term
/// is read once for a whole slab of them.
///
/// Order: term `t` is added with a fused multiply-add to accumulator `t % 2`, lane by
/// lane; the result is the sum of the two accumulators. Each product therefore passes
/// through at most `⌈nnz / 2⌉ + 1` roundings.
///
/// # Panics
///
/// Panics if `idx` and `val` differ in length, `range` ends past `cols`, `out` holds
/// fewer than `range.len()` values or an index is out of range of `ct`.
pub fn sparse_dot_cols(
    idx: &[u32],
    val: &[f32],
    ct: &[f32],
    cols: usize,
    range: std::ops::Range<usize>,
    out: &mut [f32],
) {
    assert_eq!(idx.len(), val.len());
    assert!(range.end <= cols, "sparse_dot_cols: range past cols");
    let out = &mut out[..range.len()];
    // One contiguous accumulator row per term parity, so the column loop vectorises.
    let mut acc = vec![vec![0.0_f32; range.len()]; SPARSE_COLS_ACCS];
    for (t, (&p, &v)) in idx.iter().zip(val).enumerate() {
        let row = p as usize * cols;
        let col = &ct[row + range.start..row + range.end];
        for (a, &c) in acc[t % SPARSE_COLS_ACCS].iter_mut().zip(col) {
            *a = fmadd(v, c, *a);
        }
    }
    for (l, o) in out.iter_mut().enumerate() {
        *o = acc[0][l] + acc[1][l];
    }
}

/// Lanes per block of [`fast_sq_distances`] and [`le_mask16`].
pub const FAST_LANES: usize = 16;

/// Fast squared distances from dot products, in `f64`, lane by lane:
/// `t[l] = (xx + cc[l]) − 2·dots[l]` and `lo[l] = t[l] − e`; returns the smallest
/// `t[l]` (`+∞` if there are none; NaN lanes are skipped). Every operation is one
/// IEEE `f64` operation, so any vectorisation gives the same bits.
///
/// # Panics
///
/// Panics if the slices differ in length or the length is not a multiple of
/// [`FAST_LANES`].
#[inline(always)]
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
        n.is_multiple_of(FAST_LANES) && cc.len() == n && t.len() == n && lo.len() == n,
        "fast_sq_distances: bad lengths"
    );
    let mut m = [f64::INFINITY; FAST_LANES];
    for (((d, c), t), lo) in dots
        .chunks_exact(FAST_LANES)
        .zip(cc.chunks_exact(FAST_LANES))
        .zip(t.chunks_exact_mut(FAST_LANES))
        .zip(lo.chunks_exact_mut(FAST_LANES))
    {
        for l in 0..FAST_LANES {
            t[l] = (xx + c[l]) - 2.0 * f64::from(d[l]);
            lo[l] = t[l] - e;
            m[l] = if t[l] < m[l] { t[l] } else { m[l] };
        }
    }
    let mut w = FAST_LANES / 2;
    while w > 0 {
        for l in 0..w {
            m[l] = if m[l + w] < m[l] { m[l + w] } else { m[l] };
        }
        w /= 2;
    }
    m[0]
}

/// The lanes near the smallest of `u[l] = cc[l] − 2·dots[l]` (one fused
/// multiply-add in `f32` per lane): bit `l` is set when `u[l] <= umin + width`, with
/// `umin` the smallest `u[l]` and the sum rounded in `f32`. NaN lanes are never the
/// minimum and never set; with no number at all the mask is empty. Every step is one
/// IEEE `f32` operation, so any vectorisation gives the same mask.
pub fn near_min_mask16(dots: &[f32; 16], cc: &[f32; 16], width: f32) -> u32 {
    let mut u = [0.0_f32; 16];
    let mut umin = f32::INFINITY;
    for l in 0..16 {
        u[l] = fmadd(-2.0, dots[l], cc[l]);
        umin = if u[l] < umin { u[l] } else { umin };
    }
    let cut = umin + width;
    let mut mask = 0;
    for (l, &v) in u.iter().enumerate() {
        mask |= u32::from(v <= cut) << l;
    }
    mask
}

/// Bit `l` set when `v[l] <= cut` (never for NaN).
#[inline(always)]
pub fn le_mask16(v: &[f64; FAST_LANES], cut: f64) -> u32 {
    let mut mask = 0_u32;
    for (l, &x) in v.iter().enumerate() {
        mask |= u32::from(x <= cut) << l;
    }
    mask
}

/// [`fast_sq_distances`] and [`le_mask16`] on one block of [`FAST_LANES`], fused:
/// fills `t` and `lo`, and returns the smallest `t[l]` and the mask of the lanes with
/// `lo[l] <= cutoff(min)`, the same values as the two functions in sequence.
#[inline(always)]
pub fn fast_shortlist16(
    xx: f64,
    e: f64,
    dots: &[f32; FAST_LANES],
    cc: &[f64; FAST_LANES],
    t: &mut [f64; FAST_LANES],
    lo: &mut [f64; FAST_LANES],
    cutoff: impl Fn(f64) -> f64,
) -> (f64, u32) {
    let min = fast_sq_distances(xx, e, dots, cc, t, lo);
    (min, le_mask16(lo, cutoff(min)))
}

/// `v` is not above `th`: at most `th`, or either is NaN (an unknown bound stays open).
#[inline(always)]
pub fn not_above(v: f32, th: f32) -> bool {
    v.partial_cmp(&th) != Some(std::cmp::Ordering::Greater)
}

/// `1 − 2⁻²³`: multiplying a positive normal `f32` by it and rounding gives at most the
/// value one unit in the last place below it (see [`bounds_shift`]).
pub const BOUND_SHRINK: f32 = 1.0 - f32::EPSILON;

/// One iteration of decaying lower bounds: every `lb[j]` becomes
/// `((lb[j] − drift[j]) · (1 − 2⁻²³)) − 2⁻¹²⁶`, each operation rounded to nearest in `f32`;
/// returns how many of the new values are not above `th` (NaN counts, as unknown).
///
/// The result never exceeds the exact `lb[j] − drift[j]`: the difference is rounded by at
/// most half a unit in its last place, the product takes off at least a whole unit when the
/// difference is a positive normal number, the subtraction of the smallest normal number
/// covers the subnormal ones, and values at or below zero bound any distance from below.
/// So a lower bound on a distance minus an upper bound on how far the center moved stays a
/// lower bound, however many iterations it is carried. Plain IEEE operations, so every
/// vectorisation gives the same bits.
pub fn bounds_shift(lb: &mut [f32], drift: &[f32], th: f32) -> usize {
    let mut open = 0;
    for (l, &d) in lb.iter_mut().zip(drift) {
        let v = ((*l - d) * BOUND_SHRINK) - f32::MIN_POSITIVE;
        *l = v;
        open += usize::from(not_above(v, th));
    }
    open
}

/// Writes to the front of `out` the indices `j`, ascending, whose `lb[j]` is not above
/// `th` (NaN included), and returns how many; `out` must hold `lb.len()` values.
pub fn bounds_open(lb: &[f32], th: f32, out: &mut [usize]) -> usize {
    let mut n = 0;
    for (j, &l) in lb.iter().enumerate() {
        out[n] = j;
        n += usize::from(not_above(l, th));
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fmadd` against the standard library's correctly rounded `f32::mul_add` on
    /// random bit patterns (subnormal, infinite and NaN ones among them), on sums that
    /// cancel, and on sums that fall near the middle between two `f32` (where a plain
    /// double rounding would go wrong).
    #[test]
    fn fmadd_is_a_correctly_rounded_fused_multiply_add() {
        let mut state = 0x853c_49e6_748f_ea9b_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let same = |a: f32, b: f32, c: f32| {
            let (got, want) = (fmadd(a, b, c), a.mul_add(b, c));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "fmadd({a:e}, {b:e}, {c:e}) = {got:e}, want {want:e}"
            );
        };
        for _ in 0..200_000 {
            let (x, y, z) = (next(), next(), next());
            same(
                f32::from_bits(x as u32),
                f32::from_bits(y as u32),
                f32::from_bits(z as u32),
            );
            // Operands of ordinary size: mantissa bits random, exponents near one.
            let near = |r: u64| f32::from_bits(0x3f00_0000 | (r as u32 & 0x807f_ffff));
            let (a, b) = (near(x), near(y));
            let p = a * b;
            // Cancelling sums and sums a few units from a product rounded to `f32`.
            same(a, b, -p);
            let ulp = f32::from_bits(p.to_bits() & 0x7f80_0000) * f32::EPSILON;
            same(a, b, -p + ulp * ((z % 7) as f32 - 3.0) * 0.5);
            // A third term of another scale: the sum lands between two `f32` values.
            same(a, b, near(z) * 2.0_f32.powi((z >> 40) as i32 % 40 - 20));
        }
        for &(a, b, c) in &[
            (0.0, -0.0, 0.0),
            (-0.0, 1.0, 0.0),
            (f32::MAX, 2.0, f32::NEG_INFINITY),
            (f32::MAX, f32::MAX, -f32::INFINITY),
            (f32::MIN_POSITIVE, f32::MIN_POSITIVE, 0.0),
            (1e-45, 1e-45, -1e-45),
            (1.0 + f32::EPSILON, 1.0 - f32::EPSILON, -1.0),
            (3.0, 1.0 / 3.0, -1.0),
        ] {
            same(a, b, c);
        }
    }

    /// A literal transcription of the OpenCV SIMD loop with explicit 4-lane vectors.
    fn vector_transcription(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len();
        let mut d = [[0.0_f32; 4]; 4];
        let mut j = 0;
        while j + 16 <= n {
            for (v, dv) in d.iter_mut().enumerate() {
                for (l, dl) in dv.iter_mut().enumerate() {
                    let t = a[j + 4 * v + l] - b[j + 4 * v + l];
                    let p = t * t;
                    *dl += p;
                }
            }
            j += 16;
        }
        let mut s = [0.0_f32; 4];
        for l in 0..4 {
            let s01 = d[0][l] + d[1][l];
            let s012 = s01 + d[2][l];
            s[l] = s012 + d[3][l];
        }
        // _mm_add_ps(val, val >> 8 bytes), then _mm_add_ps(val, val >> 4 bytes), lane 0.
        let v1 = [s[0] + s[2], s[1] + s[3], s[2], s[3]];
        let mut r = v1[0] + v1[1];
        while j < n {
            let t = a[j] - b[j];
            r += t * t;
            j += 1;
        }
        r
    }

    fn pseudo_random(n: usize, seed: u32) -> Vec<f32> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (x >> 8) as f32 / 65_536.0 - 128.0
            })
            .collect()
    }

    #[test]
    fn matches_the_vector_transcription_on_awkward_sizes() {
        for n in [
            0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 399, 400, 401, 1000,
        ] {
            let a = pseudo_random(n, 1);
            let b = pseudo_random(n, 2);
            let got = l2sq_opencv(&a, &b);
            let want = vector_transcription(&a, &b);
            assert_eq!(got.to_bits(), want.to_bits(), "n = {n}");
        }
    }

    #[test]
    fn short_inputs_are_the_sequential_sum() {
        for n in 0..16 {
            let a = pseudo_random(n, 3);
            let b = pseudo_random(n, 4);
            assert_eq!(
                l2sq_opencv(&a, &b).to_bits(),
                l2sq_sequential(&a, &b).to_bits()
            );
        }
    }

    #[test]
    fn order_is_observable() {
        // The blocked order and the sequential order disagree on some inputs, which is
        // why the kernel has to follow OpenCV's order exactly.
        let differ = (0..50).any(|seed| {
            let a = pseudo_random(400, seed);
            let b = pseudo_random(400, seed + 100);
            l2sq_opencv(&a, &b) != l2sq_sequential(&a, &b)
        });
        assert!(differ);
    }

    #[test]
    fn integer_valued_inputs_are_exact() {
        let a: Vec<f32> = (0..400).map(|i| (i % 64) as f32).collect();
        let b: Vec<f32> = (0..400).map(|i| ((i * 7) % 64) as f32).collect();
        let exact: i64 = a
            .iter()
            .zip(&b)
            .map(|(&x, &y)| {
                let t = (x - y) as i64;
                t * t
            })
            .sum();
        assert!(exact < (1 << 24));
        assert_eq!(l2sq_opencv(&a, &b), exact as f32);
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn mismatched_lengths_panic() {
        l2sq_opencv(&[1.0], &[1.0, 2.0]);
    }
}
