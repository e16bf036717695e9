//! AVX2 (+FMA) implementations of the kernels. Every function here returns the same
//! bits as its scalar reference in [`super::scalar`]; the lane layouts below are the
//! reference's, written with 256-bit registers.
//!
//! # Safety
//!
//! Every function is `unsafe` because it must only be called on a CPU with AVX2 and
//! FMA (checked once by [`super::dispatch`]). Slice lengths are checked by the safe
//! callers in `dispatch`; the functions here index through raw pointers within them.

#![allow(clippy::missing_safety_doc)]
// The body of every kernel here is raw-pointer intrinsics from end to end, under the one
// contract above: an `unsafe` block around each whole body would say nothing more.
#![allow(unsafe_op_in_unsafe_fn)]

use std::arch::x86_64::*;

use super::scalar::BLOCK;

/// Eight bytes widened to eight exact `f32`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn load8_u8(p: *const u8) -> __m256 {
    _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(p as *const __m128i)))
}

/// Eight `f32`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn load8_f32(p: *const f32) -> __m256 {
    _mm256_loadu_ps(p)
}

/// OpenCV's final combine of the four 4-lane accumulators held in two registers:
/// `d01 = [d0 | d1]`, `d23 = [d2 | d3]`; lane-wise `((d0 + d1) + d2) + d3`, then
/// `(s0 + s2) + (s1 + s3)`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn opencv_combine(d01: __m256, d23: __m256) -> f32 {
    let d0 = _mm256_castps256_ps128(d01);
    let d1 = _mm256_extractf128_ps::<1>(d01);
    let d2 = _mm256_castps256_ps128(d23);
    let d3 = _mm256_extractf128_ps::<1>(d23);
    let s = _mm_add_ps(_mm_add_ps(_mm_add_ps(d0, d1), d2), d3);
    // [s0 + s2, s1 + s3, ..], then lane 0 + lane 1.
    let h = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let r = _mm_add_ss(h, _mm_shuffle_ps::<0b01>(h, h));
    _mm_cvtss_f32(r)
}

macro_rules! l2sq_opencv_impl {
    ($name:ident, $pair:ident, $t:ty, $load:ident) => {
        /// OpenCV's `normL2Sqr_` order (see `scalar::l2sq_opencv`): two registers hold
        /// the four 4-lane accumulators; multiply then add, never fused.
        #[target_feature(enable = "avx2,fma")]
        pub unsafe fn $name(a: &[$t], b: &[f32]) -> f32 {
            let n = a.len();
            let blocks = n / BLOCK;
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut d01 = _mm256_setzero_ps();
            let mut d23 = _mm256_setzero_ps();
            for blk in 0..blocks {
                let j = blk * BLOCK;
                let t0 = _mm256_sub_ps($load(pa.add(j)), _mm256_loadu_ps(pb.add(j)));
                let t1 = _mm256_sub_ps($load(pa.add(j + 8)), _mm256_loadu_ps(pb.add(j + 8)));
                d01 = _mm256_add_ps(d01, _mm256_mul_ps(t0, t0));
                d23 = _mm256_add_ps(d23, _mm256_mul_ps(t1, t1));
            }
            super::scalar::opencv_tail(a, b, blocks * BLOCK, opencv_combine(d01, d23))
        }

        /// Two independent [`$name`] computations interleaved (hides the latency of the
        /// accumulation chains); same results as two separate calls.
        #[target_feature(enable = "avx2,fma")]
        pub unsafe fn $pair(a0: &[$t], b0: &[f32], a1: &[$t], b1: &[f32]) -> (f32, f32) {
            let n = a0.len();
            let blocks = n / BLOCK;
            let (pa0, pb0, pa1, pb1) = (a0.as_ptr(), b0.as_ptr(), a1.as_ptr(), b1.as_ptr());
            let mut e01 = _mm256_setzero_ps();
            let mut e23 = _mm256_setzero_ps();
            let mut f01 = _mm256_setzero_ps();
            let mut f23 = _mm256_setzero_ps();
            for blk in 0..blocks {
                let j = blk * BLOCK;
                let t0 = _mm256_sub_ps($load(pa0.add(j)), _mm256_loadu_ps(pb0.add(j)));
                let t1 = _mm256_sub_ps($load(pa0.add(j + 8)), _mm256_loadu_ps(pb0.add(j + 8)));
                let u0 = _mm256_sub_ps($load(pa1.add(j)), _mm256_loadu_ps(pb1.add(j)));
                let u1 = _mm256_sub_ps($load(pa1.add(j + 8)), _mm256_loadu_ps(pb1.add(j + 8)));
                e01 = _mm256_add_ps(e01, _mm256_mul_ps(t0, t0));
                e23 = _mm256_add_ps(e23, _mm256_mul_ps(t1, t1));
                f01 = _mm256_add_ps(f01, _mm256_mul_ps(u0, u0));
                f23 = _mm256_add_ps(f23, _mm256_mul_ps(u1, u1));
            }
            let from = blocks * BLOCK;
            (
                super::scalar::opencv_tail(a0, b0, from, opencv_combine(e01, e23)),
                super::scalar::opencv_tail(a1, b1, from, opencv_combine(f01, f23)),
            )
        }
    };
}

l2sq_opencv_impl!(l2sq_opencv_f32, l2sq_opencv_f32_x2, f32, load8_f32);
l2sq_opencv_impl!(l2sq_opencv_u8, l2sq_opencv_u8_x2, u8, load8_u8);

/// The reduction tree of `scalar::reduce16` on the 16 lanes `[lo | hi]`.
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn reduce16(lo: __m256, hi: __m256) -> f32 {
    let s8 = _mm256_add_ps(lo, hi);
    let s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps::<1>(s8));
    let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps::<0b01>(s2, s2)))
}

/// `scalar::dot16` with 16 lanes held in two registers.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot16(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let blocks = n / 16;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut lo = _mm256_setzero_ps();
    let mut hi = _mm256_setzero_ps();
    for blk in 0..blocks {
        let j = blk * 16;
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(j)), _mm256_loadu_ps(pb.add(j)), lo);
        hi = _mm256_fmadd_ps(
            _mm256_loadu_ps(pa.add(j + 8)),
            _mm256_loadu_ps(pb.add(j + 8)),
            hi,
        );
    }
    let rem = n - blocks * 16;
    if rem > 0 {
        // Padding lanes add (−0)·0 = −0, which leaves every accumulator as it is (a +0
        // product would turn a −0 lane into +0), as the reference leaves them untouched.
        let mut xa = [-0.0_f32; 16];
        let mut xb = [0.0_f32; 16];
        xa[..rem].copy_from_slice(&a[blocks * 16..]);
        xb[..rem].copy_from_slice(&b[blocks * 16..]);
        lo = _mm256_fmadd_ps(
            _mm256_loadu_ps(xa.as_ptr()),
            _mm256_loadu_ps(xb.as_ptr()),
            lo,
        );
        hi = _mm256_fmadd_ps(
            _mm256_loadu_ps(xa.as_ptr().add(8)),
            _mm256_loadu_ps(xb.as_ptr().add(8)),
            hi,
        );
    }
    reduce16(lo, hi)
}

/// An `MR × NR` tile of `dot16` products: rows `r0..r0+MR` against columns
/// `c0..c0+NR`, both with `stride` values (a multiple of 16).
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn tile<const MR: usize, const NR: usize>(
    rows: [*const f32; MR],
    cols: *const f32,
    stride: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let mut acc = [[[_mm256_setzero_ps(); 2]; NR]; MR];
    let mut j = 0;
    while j < stride {
        let mut x = [[_mm256_setzero_ps(); 2]; MR];
        for (r, xr) in x.iter_mut().enumerate() {
            xr[0] = _mm256_loadu_ps(rows[r].add(j));
            xr[1] = _mm256_loadu_ps(rows[r].add(j + 8));
        }
        #[allow(clippy::needless_range_loop)]
        for c in 0..NR {
            let y0 = _mm256_loadu_ps(cols.add(c * stride + j));
            let y1 = _mm256_loadu_ps(cols.add(c * stride + j + 8));
            for r in 0..MR {
                acc[r][c][0] = _mm256_fmadd_ps(x[r][0], y0, acc[r][c][0]);
                acc[r][c][1] = _mm256_fmadd_ps(x[r][1], y1, acc[r][c][1]);
            }
        }
        j += 16;
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (c, a) in acc_r.iter().enumerate() {
            *out.add(r * out_stride + c) = reduce16(a[0], a[1]);
        }
    }
}

/// Rows per block of the blocked products: as many (a multiple of `multiple`, at least one
/// multiple) as fit in `budget` bytes, so that a block of rows stays in the L1 or near
/// cache while each group of columns is read from L2 once per block, not once per tile.
#[inline]
fn row_block(stride: usize, multiple: usize, budget: usize) -> usize {
    let rows = budget / (stride * 4).max(1);
    (rows / multiple * multiple).max(multiple)
}

/// `scalar::dot16_panel`: tiles of 2 rows × 3 columns (smaller at the edges), columns in
/// the outer loop over a block of rows that stays in L1. `stride` must be a multiple of 16.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot16_panel(
    rows: &[f32],
    n_rows: usize,
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(stride % 16, 0);
    let (pr, pc, po) = (rows.as_ptr(), cols.as_ptr(), out.as_mut_ptr());
    let row = |r: usize| pr.add(r * stride);
    let block = row_block(stride, 2, 24 * 1024);
    let mut r0 = 0;
    while r0 < n_rows {
        let r1 = (r0 + block).min(n_rows);
        let mut c = 0;
        while c + 3 <= n_cols {
            let (pcc, mut r) = (pc.add(c * stride), r0);
            while r + 2 <= r1 {
                let o = po.add(r * n_cols + c);
                tile::<2, 3>([row(r), row(r + 1)], pcc, stride, o, n_cols);
                r += 2;
            }
            if r < r1 {
                tile::<1, 3>([row(r)], pcc, stride, po.add(r * n_cols + c), n_cols);
            }
            c += 3;
        }
        while c < n_cols {
            let (pcc, mut r) = (pc.add(c * stride), r0);
            while r + 2 <= r1 {
                let o = po.add(r * n_cols + c);
                tile::<2, 1>([row(r), row(r + 1)], pcc, stride, o, n_cols);
                r += 2;
            }
            if r < r1 {
                tile::<1, 1>([row(r)], pcc, stride, po.add(r * n_cols + c), n_cols);
            }
            c += 1;
        }
        r0 = r1;
    }
}

/// `dot16_panel` on the rows `rows[idx[m]]` of a larger matrix:
/// `out[m * n_cols + c] = dot16(row idx[m], column c)`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot16_gather(
    rows: &[f32],
    idx: &[usize],
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(stride % 16, 0);
    let (pr, pc, po) = (rows.as_ptr(), cols.as_ptr(), out.as_mut_ptr());
    let row = |m: usize| pr.add(idx[m] * stride);
    let n_rows = idx.len();
    let mut r = 0;
    while r + 2 <= n_rows {
        let mut c = 0;
        while c + 3 <= n_cols {
            tile::<2, 3>(
                [row(r), row(r + 1)],
                pc.add(c * stride),
                stride,
                po.add(r * n_cols + c),
                n_cols,
            );
            c += 3;
        }
        while c < n_cols {
            tile::<2, 1>(
                [row(r), row(r + 1)],
                pc.add(c * stride),
                stride,
                po.add(r * n_cols + c),
                n_cols,
            );
            c += 1;
        }
        r += 2;
    }
    if r < n_rows {
        let mut c = 0;
        while c + 4 <= n_cols {
            tile::<1, 4>(
                [row(r)],
                pc.add(c * stride),
                stride,
                po.add(r * n_cols + c),
                n_cols,
            );
            c += 4;
        }
        while c < n_cols {
            tile::<1, 1>(
                [row(r)],
                pc.add(c * stride),
                stride,
                po.add(r * n_cols + c),
                n_cols,
            );
            c += 1;
        }
    }
}

/// `C` products of one row `x` with the columns at `c` (all `stride` values).
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn select_tile<const C: usize>(
    px: *const f32,
    c: [*const f32; C],
    stride: usize,
    out: *mut f32,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; C];
    let mut j = 0;
    while j < stride {
        let x0 = _mm256_loadu_ps(px.add(j));
        let x1 = _mm256_loadu_ps(px.add(j + 8));
        for (a, &p) in acc.iter_mut().zip(&c) {
            a[0] = _mm256_fmadd_ps(x0, _mm256_loadu_ps(p.add(j)), a[0]);
            a[1] = _mm256_fmadd_ps(x1, _mm256_loadu_ps(p.add(j + 8)), a[1]);
        }
        j += 16;
    }
    for (q, a) in acc.iter().enumerate() {
        *out.add(q) = reduce16(a[0], a[1]);
    }
}

/// `dot16` of one row `x` (`stride` values) against the columns `cols[idx[m]]`,
/// four at a time, then the last one to three together (independent chains, so even
/// a few columns cost little more than one): `out[m] = dot16(x, column idx[m])`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot16_select(x: &[f32], cols: &[f32], idx: &[usize], stride: usize, out: &mut [f32]) {
    debug_assert_eq!(stride % 16, 0);
    let (px, pc, po) = (x.as_ptr(), cols.as_ptr(), out.as_mut_ptr());
    let col = |m: usize| pc.add(idx[m] * stride);
    let mut m = 0;
    while m + 4 <= idx.len() {
        let c = [col(m), col(m + 1), col(m + 2), col(m + 3)];
        select_tile::<4>(px, c, stride, po.add(m));
        m += 4;
    }
    match idx.len() - m {
        1 => select_tile::<1>(px, [col(m)], stride, po.add(m)),
        2 => select_tile::<2>(px, [col(m), col(m + 1)], stride, po.add(m)),
        3 => select_tile::<3>(px, [col(m), col(m + 1), col(m + 2)], stride, po.add(m)),
        _ => {}
    }
}

/// Widens bytes to `f32` (exact).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn widen_u8(x: &[u8], out: &mut [f32]) {
    let n = x.len();
    let (px, po) = (x.as_ptr(), out.as_mut_ptr());
    let mut j = 0;
    while j + 8 <= n {
        _mm256_storeu_ps(po.add(j), load8_u8(px.add(j)));
        j += 8;
    }
    while j < n {
        *po.add(j) = f32::from(*px.add(j));
        j += 1;
    }
}

/// The 16 lanes of `v` as `[lo | hi]` for [`reduce16`].
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn reduce16_512(v: __m512) -> f32 {
    let lo = _mm512_castps512_ps256(v);
    let hi = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
    reduce16(lo, hi)
}

/// [`tile`] with the 16 lanes of `dot16` in one 512-bit register (same bits).
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn tile512<const MR: usize, const NR: usize>(
    rows: *const f32,
    cols: *const f32,
    stride: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let mut acc = [[_mm512_setzero_ps(); NR]; MR];
    let mut j = 0;
    while j < stride {
        let mut x = [_mm512_setzero_ps(); MR];
        for (r, xr) in x.iter_mut().enumerate() {
            *xr = _mm512_loadu_ps(rows.add(r * stride + j));
        }
        #[allow(clippy::needless_range_loop)]
        for c in 0..NR {
            let y = _mm512_loadu_ps(cols.add(c * stride + j));
            for r in 0..MR {
                acc[r][c] = _mm512_fmadd_ps(x[r], y, acc[r][c]);
            }
        }
        j += 16;
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (c, &a) in acc_r.iter().enumerate() {
            *out.add(r * out_stride + c) = reduce16_512(a);
        }
    }
}

/// `scalar::dot16_panel` with AVX-512F: tiles of 4 rows × 6 columns (24 accumulators),
/// smaller at the edges, columns in the outer loop over a block of rows that stays in L1.
/// `stride` must be a multiple of 16.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn dot16_panel_512(
    rows: &[f32],
    n_rows: usize,
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(stride % 16, 0);
    let (pr, pc, po) = (rows.as_ptr(), cols.as_ptr(), out.as_mut_ptr());
    let block = row_block(stride, 4, 32 * 1024);
    let mut r0 = 0;
    while r0 < n_rows {
        let r1 = (r0 + block).min(n_rows);
        let mut c = 0;
        while c < n_cols {
            let w = (n_cols - c).min(6);
            let (pcc, mut r) = (pc.add(c * stride), r0);
            while r < r1 {
                let h = (r1 - r).min(4);
                let (prr, o) = (pr.add(r * stride), po.add(r * n_cols + c));
                match (h, w) {
                    (4, 6) => tile512::<4, 6>(prr, pcc, stride, o, n_cols),
                    (4, _) => edge512::<4>(prr, pcc, w, stride, o, n_cols),
                    (3, _) => edge512::<3>(prr, pcc, w, stride, o, n_cols),
                    (2, _) => edge512::<2>(prr, pcc, w, stride, o, n_cols),
                    _ => edge512::<1>(prr, pcc, w, stride, o, n_cols),
                }
                r += h;
            }
            c += w;
        }
        r0 = r1;
    }
}

/// A tile of `MR` rows × `w ≤ 6` columns of [`dot16_panel_512`].
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn edge512<const MR: usize>(
    rows: *const f32,
    cols: *const f32,
    w: usize,
    stride: usize,
    out: *mut f32,
    out_stride: usize,
) {
    match w {
        1 => tile512::<MR, 1>(rows, cols, stride, out, out_stride),
        2 => tile512::<MR, 2>(rows, cols, stride, out, out_stride),
        3 => tile512::<MR, 3>(rows, cols, stride, out, out_stride),
        4 => tile512::<MR, 4>(rows, cols, stride, out, out_stride),
        5 => tile512::<MR, 5>(rows, cols, stride, out, out_stride),
        _ => tile512::<MR, 6>(rows, cols, stride, out, out_stride),
    }
}

/// `acc + val[t] · ct[idx[t] * 16 ..][..16]`, fused.
#[inline]
#[target_feature(enable = "avx512f,avx2,fma")]
unsafe fn fma_term(
    pi: *const u32,
    pv: *const f32,
    pc: *const f32,
    t: usize,
    acc: __m512,
) -> __m512 {
    let v = _mm512_set1_ps(*pv.add(t));
    _mm512_fmadd_ps(v, _mm512_loadu_ps(pc.add(*pi.add(t) as usize * 16)), acc)
}

/// `scalar::sparse_dot_t16` with eight 512-bit accumulators (same bits).
/// Every index must be below `ct.len() / 16`, and `idx.len() == val.len()`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn sparse_dot_t16_512(idx: &[u32], val: &[f32], ct: &[f32], out: &mut [f32; 16]) {
    let n = idx.len();
    let (pi, pv, pc) = (idx.as_ptr(), val.as_ptr(), ct.as_ptr());
    let mut a = [_mm512_setzero_ps(); 8];
    let mut t = 0;
    // Whole groups of eight terms, unrolled so the accumulators stay in registers.
    while t + 8 <= n {
        a[0] = fma_term(pi, pv, pc, t, a[0]);
        a[1] = fma_term(pi, pv, pc, t + 1, a[1]);
        a[2] = fma_term(pi, pv, pc, t + 2, a[2]);
        a[3] = fma_term(pi, pv, pc, t + 3, a[3]);
        a[4] = fma_term(pi, pv, pc, t + 4, a[4]);
        a[5] = fma_term(pi, pv, pc, t + 5, a[5]);
        a[6] = fma_term(pi, pv, pc, t + 6, a[6]);
        a[7] = fma_term(pi, pv, pc, t + 7, a[7]);
        t += 8;
    }
    for (l, al) in a.iter_mut().enumerate().take(n - t) {
        *al = fma_term(pi, pv, pc, t + l, *al);
    }
    let s = _mm512_add_ps(
        _mm512_add_ps(_mm512_add_ps(a[0], a[1]), _mm512_add_ps(a[2], a[3])),
        _mm512_add_ps(_mm512_add_ps(a[4], a[5]), _mm512_add_ps(a[6], a[7])),
    );
    _mm512_storeu_ps(out.as_mut_ptr(), s);
}

/// `scalar::sparse_fill` with AVX-512F: 16 bytes at a time, the nonzero lanes
/// compressed in registers and written with a store masked to their count (the same
/// values). Writes at most `idx.len()` values (`val` must be as long) and returns the
/// number of nonzeros of `row`, so the caller can check it against that length.
/// `row.len()` must fit in `i32`.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn sparse_fill_512(row: &[u8], idx: &mut [u32], val: &mut [f32]) -> usize {
    let (n, cap) = (row.len(), idx.len().min(val.len()));
    let (pr, pi, pv) = (row.as_ptr(), idx.as_mut_ptr(), val.as_mut_ptr());
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let mut w = 0;
    let mut p = 0;
    while p + 16 <= n {
        let v = _mm512_cvtepu8_epi32(_mm_loadu_si128(pr.add(p) as *const __m128i));
        let m = _mm512_test_epi32_mask(v, v);
        let count = m.count_ones() as usize;
        if m != 0 && w + count <= cap {
            let at = _mm512_add_epi32(lanes, _mm512_set1_epi32(p as i32));
            let keep = ((1_u32 << count) - 1) as u16;
            _mm512_mask_storeu_epi32(
                pi.add(w) as *mut i32,
                keep,
                _mm512_maskz_compress_epi32(m, at),
            );
            _mm512_mask_storeu_ps(
                pv.add(w),
                keep,
                _mm512_maskz_compress_ps(m, _mm512_cvtepi32_ps(v)),
            );
        }
        w += count;
        p += 16;
    }
    fill_tail(row, p, idx, val, w)
}

/// The sparse fills' last bytes, one at a time from `row[p]` on, after `w` values:
/// writes while there is room and returns the whole count of nonzeros.
fn fill_tail(row: &[u8], p: usize, idx: &mut [u32], val: &mut [f32], mut w: usize) -> usize {
    for (q, &b) in row.iter().enumerate().skip(p) {
        if b != 0 {
            if let (Some(i), Some(v)) = (idx.get_mut(w), val.get_mut(w)) {
                *i = q as u32;
                *v = f32::from(b);
            }
            w += 1;
        }
    }
    w
}

/// For each mask of eight lanes, the lanes that are set, in order, padded with zeros:
/// the permutation that packs the nonzero lanes to the front.
const PACK8: [[u8; 8]; 256] = {
    let mut t = [[0_u8; 8]; 256];
    let mut m = 0;
    while m < 256 {
        let (mut l, mut w) = (0, 0);
        while l < 8 {
            if m & (1 << l) != 0 {
                t[m][w] = l as u8;
                w += 1;
            }
            l += 1;
        }
        m += 1;
    }
    t
};

/// `scalar::sparse_fill` with AVX2: eight bytes at a time, the nonzero lanes packed to
/// the front by a permutation from [`PACK8`] and stored whole while eight more values
/// fit; the rest one byte at a time (the same values). Writes at most `idx.len()`
/// values (`val` must be as long) and returns the number of nonzeros of `row`, so the
/// caller can check it against that length. `row.len()` must fit in `i32`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn sparse_fill(row: &[u8], idx: &mut [u32], val: &mut [f32]) -> usize {
    let (n, cap) = (row.len(), idx.len().min(val.len()));
    let (pr, pi, pv) = (row.as_ptr(), idx.as_mut_ptr(), val.as_mut_ptr());
    let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    let zero = _mm256_setzero_si256();
    let mut w = 0;
    let mut p = 0;
    while p + 8 <= n && w + 8 <= cap {
        let v = _mm256_cvtepu8_epi32(_mm_loadl_epi64(pr.add(p) as *const __m128i));
        let zeros = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(v, zero)));
        let m = !zeros as u32 & 0xff;
        if m != 0 {
            let perm = _mm256_cvtepu8_epi32(_mm_loadl_epi64(
                PACK8.as_ptr().add(m as usize) as *const __m128i
            ));
            let at = _mm256_add_epi32(lanes, _mm256_set1_epi32(p as i32));
            _mm256_storeu_si256(
                pi.add(w) as *mut __m256i,
                _mm256_permutevar8x32_epi32(at, perm),
            );
            _mm256_storeu_ps(
                pv.add(w),
                _mm256_permutevar8x32_ps(_mm256_cvtepi32_ps(v), perm),
            );
            w += m.count_ones() as usize;
        }
        p += 8;
    }
    fill_tail(row, p, idx, val, w)
}

/// `scalar::sparse_dot_cols` on one instruction set (same bits): passes of up to four
/// registers of columns over the terms, two accumulators per register (even and odd
/// terms; at most `$max` registers per pass, at most seven). `range` must start and end on multiples of 16 within `cols`, every index be
/// below `ct.len() / cols`, `idx.len() == val.len()` and `out.len() >= range.len()`.
macro_rules! sparse_cols_kernel {
    ($(#[$doc:meta])* $name:ident, $block:ident, $feature:literal, $lanes:literal, $max:literal,
     $zero:ident, $set1:ident, $load:ident, $fmadd:ident, $add:ident, $store:ident) => {
        $(#[$doc])*
        #[target_feature(enable = $feature)]
        pub unsafe fn $name(
            idx: &[u32],
            val: &[f32],
            ct: &[f32],
            cols: usize,
            range: std::ops::Range<usize>,
            out: &mut [f32],
        ) {
            let mut c = range.start;
            while c < range.end {
                let (pc, po) = (ct.as_ptr().add(c), out.as_mut_ptr().add(c - range.start));
                // The registers left, in as few passes of at most `$max` as can hold
                // them, the passes as even as they can be.
                let left = (range.end - c) / $lanes;
                let blocks = left.div_ceil(left.div_ceil($max)).min($max);
                match blocks {
                    1 => $block::<1>(idx, val, pc, cols, po),
                    2 => $block::<2>(idx, val, pc, cols, po),
                    3 => $block::<3>(idx, val, pc, cols, po),
                    4 => $block::<4>(idx, val, pc, cols, po),
                    5 => $block::<5>(idx, val, pc, cols, po),
                    6 => $block::<6>(idx, val, pc, cols, po),
                    _ => $block::<7>(idx, val, pc, cols, po),
                }
                c += $lanes * blocks;
            }
        }

        /// `B` registers of columns of the kernel above, starting at `ct` (row stride
        /// `stride`), written to `out`.
        #[target_feature(enable = $feature)]
        unsafe fn $block<const B: usize>(
            idx: &[u32],
            val: &[f32],
            ct: *const f32,
            stride: usize,
            out: *mut f32,
        ) {
            let n = idx.len();
            let (pi, pv) = (idx.as_ptr(), val.as_ptr());
            // Term `t` into accumulator set `a`.
            let term = |t: usize, a: &mut [_; B]| {
                let v = $set1(*pv.add(t));
                let col = ct.add(*pi.add(t) as usize * stride);
                for (b, a) in a.iter_mut().enumerate() {
                    *a = $fmadd(v, $load(col.add($lanes * b)), *a);
                }
            };
            let (mut a0, mut a1) = ([$zero(); B], [$zero(); B]);
            let mut t = 0;
            while t + 2 <= n {
                term(t, &mut a0);
                term(t + 1, &mut a1);
                t += 2;
            }
            if t < n {
                term(t, &mut a0);
            }
            for b in 0..B {
                $store(out.add($lanes * b), $add(a0[b], a1[b]));
            }
        }
    };
}

sparse_cols_kernel!(
    /// `scalar::sparse_dot_cols` with AVX-512F, up to 64 columns per pass over the
    /// terms: four rows of 64 bytes per term keep a pass's slab of `ct` mostly in the
    /// L1 cache when the caller runs it over many samples.
    sparse_dot_cols_512,
    sparse_cols_block_512,
    "avx512f,avx2,fma",
    16,
    4,
    _mm512_setzero_ps,
    _mm512_set1_ps,
    _mm512_loadu_ps,
    _mm512_fmadd_ps,
    _mm512_add_ps,
    _mm512_storeu_ps
);

sparse_cols_kernel!(
    /// `scalar::sparse_dot_cols` with AVX2, up to 56 columns per pass over the terms:
    /// fourteen accumulators and the broadcast term fill fifteen of the sixteen
    /// registers, so a pass reads each term once for as many columns as it can.
    sparse_dot_cols,
    sparse_cols_block,
    "avx2,fma",
    8,
    7,
    _mm256_setzero_ps,
    _mm256_set1_ps,
    _mm256_loadu_ps,
    _mm256_fmadd_ps,
    _mm256_add_ps,
    _mm256_storeu_ps
);

/// `scalar::fast_sq_distances` compiled for AVX-512F (the same `f64` operations,
/// so the same bits). Requirements as the scalar function.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn fast_sq_distances_512(
    xx: f64,
    e: f64,
    dots: &[f32],
    cc: &[f64],
    t: &mut [f64],
    lo: &mut [f64],
) -> f64 {
    super::scalar::fast_sq_distances(xx, e, dots, cc, t, lo)
}

/// `scalar::fast_sq_distances` compiled for AVX2 (same bits).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn fast_sq_distances(
    xx: f64,
    e: f64,
    dots: &[f32],
    cc: &[f64],
    t: &mut [f64],
    lo: &mut [f64],
) -> f64 {
    super::scalar::fast_sq_distances(xx, e, dots, cc, t, lo)
}

/// `scalar::near_min_mask16` with AVX-512F (the same `f32` operations, so the same
/// mask).
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn near_min_mask16_512(dots: &[f32; 16], cc: &[f32; 16], width: f32) -> u32 {
    let u = _mm512_fmadd_ps(
        _mm512_set1_ps(-2.0),
        _mm512_loadu_ps(dots.as_ptr()),
        _mm512_loadu_ps(cc.as_ptr()),
    );
    // NaN lanes become +∞ for the minimum (`min_ps` would pass them on).
    let finite = _mm512_cmp_ps_mask::<_CMP_ORD_Q>(u, u);
    let m = _mm512_mask_blend_ps(finite, _mm512_set1_ps(f32::INFINITY), u);
    let umin = _mm512_reduce_min_ps(m);
    let cut = _mm512_set1_ps(umin + width);
    u32::from(_mm512_cmp_ps_mask::<_CMP_LE_OQ>(u, cut))
}

/// `scalar::near_min_mask16` with AVX2: the sixteen lanes in two registers, the same
/// `f32` operations (one fused multiply-add per lane, the minimum over the numbers, one
/// rounded sum), so the same mask.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn near_min_mask16(dots: &[f32; 16], cc: &[f32; 16], width: f32) -> u32 {
    let (pd, pc) = (dots.as_ptr(), cc.as_ptr());
    let m2 = _mm256_set1_ps(-2.0);
    let u0 = _mm256_fmadd_ps(m2, _mm256_loadu_ps(pd), _mm256_loadu_ps(pc));
    let u1 = _mm256_fmadd_ps(m2, _mm256_loadu_ps(pd.add(8)), _mm256_loadu_ps(pc.add(8)));
    // NaN lanes become +∞ for the minimum (`min_ps` would pass them on).
    let inf = _mm256_set1_ps(f32::INFINITY);
    let n0 = _mm256_blendv_ps(inf, u0, _mm256_cmp_ps::<_CMP_ORD_Q>(u0, u0));
    let n1 = _mm256_blendv_ps(inf, u1, _mm256_cmp_ps::<_CMP_ORD_Q>(u1, u1));
    let m = _mm256_min_ps(n0, n1);
    let h = _mm_min_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let h = _mm_min_ps(h, _mm_movehl_ps(h, h));
    let h = _mm_min_ss(h, _mm_shuffle_ps::<0b01>(h, h));
    let cut = _mm256_set1_ps(_mm_cvtss_f32(h) + width);
    let k0 = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(u0, cut)) as u32;
    let k1 = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(u1, cut)) as u32;
    k0 | (k1 << 8)
}

/// `scalar::fast_shortlist16` with AVX-512F: the same `f64` operations (`2·dot` is
/// exact, the minimum keeps the earlier lane unless the later one is smaller, NaN
/// lanes never count), so the same bits; the mask is taken from the registers, not
/// from the values just stored.
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn fast_shortlist16_512(
    xx: f64,
    e: f64,
    dots: &[f32; 16],
    cc: &[f64; 16],
    t: &mut [f64; 16],
    lo: &mut [f64; 16],
    cutoff: impl Fn(f64) -> f64,
) -> (f64, u32) {
    let x = _mm512_set1_pd(xx);
    let two = _mm512_set1_pd(2.0);
    let ev = _mm512_set1_pd(e);
    let d0 = _mm512_cvtps_pd(_mm256_loadu_ps(dots.as_ptr()));
    let d1 = _mm512_cvtps_pd(_mm256_loadu_ps(dots.as_ptr().add(8)));
    let t0 = _mm512_sub_pd(
        _mm512_add_pd(x, _mm512_loadu_pd(cc.as_ptr())),
        _mm512_mul_pd(two, d0),
    );
    let t1 = _mm512_sub_pd(
        _mm512_add_pd(x, _mm512_loadu_pd(cc.as_ptr().add(8))),
        _mm512_mul_pd(two, d1),
    );
    let lo0 = _mm512_sub_pd(t0, ev);
    let lo1 = _mm512_sub_pd(t1, ev);
    _mm512_storeu_pd(t.as_mut_ptr(), t0);
    _mm512_storeu_pd(t.as_mut_ptr().add(8), t1);
    _mm512_storeu_pd(lo.as_mut_ptr(), lo0);
    _mm512_storeu_pd(lo.as_mut_ptr().add(8), lo1);
    // `min_pd(a, b)` is `a < b ? a : b`: lane l's running minimum over its two
    // values, then the halving reduction of the scalar code.
    let inf = _mm512_set1_pd(f64::INFINITY);
    let m = _mm512_min_pd(t1, _mm512_min_pd(t0, inf));
    let m4 = _mm256_min_pd(_mm512_extractf64x4_pd::<1>(m), _mm512_castpd512_pd256(m));
    let m2 = _mm_min_pd(_mm256_extractf128_pd::<1>(m4), _mm256_castpd256_pd128(m4));
    let m1 = _mm_min_sd(_mm_unpackhi_pd(m2, m2), m2);
    let min = _mm_cvtsd_f64(m1);
    let cut = _mm512_set1_pd(cutoff(min));
    let mask = u32::from(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(lo0, cut))
        | u32::from(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(lo1, cut)) << 8;
    (min, mask)
}

/// `scalar::fast_shortlist16` compiled for AVX2 (same bits).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn fast_shortlist16(
    xx: f64,
    e: f64,
    dots: &[f32; 16],
    cc: &[f64; 16],
    t: &mut [f64; 16],
    lo: &mut [f64; 16],
    cutoff: impl Fn(f64) -> f64,
) -> (f64, u32) {
    super::scalar::fast_shortlist16(xx, e, dots, cc, t, lo, cutoff)
}

/// `scalar::le_mask16` compiled for AVX-512F (same result).
#[target_feature(enable = "avx512f,avx2,fma")]
pub unsafe fn le_mask16_512(v: &[f64; 16], cut: f64) -> u32 {
    super::scalar::le_mask16(v, cut)
}

/// `scalar::le_mask16` compiled for AVX2 (same result).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn le_mask16(v: &[f64; 16], cut: f64) -> u32 {
    super::scalar::le_mask16(v, cut)
}

/// `scalar::sparse_dot_t16` with AVX2: each 16-lane accumulator in two registers
/// (same bits). Every index must be below `ct.len() / 16`, and `idx.len() == val.len()`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn sparse_dot_t16(idx: &[u32], val: &[f32], ct: &[f32], out: &mut [f32; 16]) {
    let n = idx.len();
    let (pi, pv, pc) = (idx.as_ptr(), val.as_ptr(), ct.as_ptr());
    let mut a = [[_mm256_setzero_ps(); 2]; 8];
    for t in 0..n {
        let v = _mm256_set1_ps(*pv.add(t));
        let col = pc.add(*pi.add(t) as usize * 16);
        let al = &mut a[t % 8];
        al[0] = _mm256_fmadd_ps(v, _mm256_loadu_ps(col), al[0]);
        al[1] = _mm256_fmadd_ps(v, _mm256_loadu_ps(col.add(8)), al[1]);
    }
    #[allow(clippy::needless_range_loop)]
    for h in 0..2 {
        let s = _mm256_add_ps(
            _mm256_add_ps(
                _mm256_add_ps(a[0][h], a[1][h]),
                _mm256_add_ps(a[2][h], a[3][h]),
            ),
            _mm256_add_ps(
                _mm256_add_ps(a[4][h], a[5][h]),
                _mm256_add_ps(a[6][h], a[7][h]),
            ),
        );
        _mm256_storeu_ps(out.as_mut_ptr().add(8 * h), s);
    }
}

/// `scalar::accumulate_rows_u8` on one instruction set: strips of up to eight
/// registers of coordinates, summed over all the rows in registers and added to
/// `sums` once (same results). `sums` must hold at least `dims` values and every row
/// be inside `bytes`.
macro_rules! rows_kernel {
    ($(#[$doc:meta])* $name:ident, $strip:ident, $feature:literal, $lanes:literal,
     $vec:ty, $zero:ident, $widen:expr, $add:ident, $sub:ident, $load:ident, $store:ident) => {
        $(#[$doc])*
        #[target_feature(enable = $feature)]
        pub unsafe fn $name<const SUB: bool>(
            sums: &mut [u32],
            bytes: &[u8],
            dims: usize,
            rows: &[u32],
        ) {
            let (ps, pb) = (sums.as_mut_ptr(), bytes.as_ptr());
            let mut p = 0;
            while p + $lanes <= dims {
                let blocks = ((dims - p) / $lanes).min(8);
                let (ps, pb) = (ps.add(p), pb.add(p));
                match blocks {
                    1 => $strip::<1, SUB>(ps, pb, dims, rows),
                    2 => $strip::<2, SUB>(ps, pb, dims, rows),
                    3 => $strip::<3, SUB>(ps, pb, dims, rows),
                    4 => $strip::<4, SUB>(ps, pb, dims, rows),
                    5 => $strip::<5, SUB>(ps, pb, dims, rows),
                    6 => $strip::<6, SUB>(ps, pb, dims, rows),
                    7 => $strip::<7, SUB>(ps, pb, dims, rows),
                    _ => $strip::<8, SUB>(ps, pb, dims, rows),
                }
                p += $lanes * blocks;
            }
            rows_tail::<SUB>(ps, pb, dims, rows, p);
        }

        /// `B` registers of coordinates of the kernel above, from `ps` and `pb` on.
        #[target_feature(enable = $feature)]
        unsafe fn $strip<const B: usize, const SUB: bool>(
            ps: *mut u32,
            pb: *const u8,
            dims: usize,
            rows: &[u32],
        ) {
            let mut acc = [$zero(); B];
            for &r in rows {
                let at = pb.add(r as usize * dims);
                for (b, a) in acc.iter_mut().enumerate() {
                    *a = $add(*a, $widen(at.add($lanes * b)));
                }
            }
            for (b, a) in acc.iter().enumerate() {
                let at = ps.add($lanes * b) as *mut $vec;
                let s = $load(at);
                $store(at, if SUB { $sub(s, *a) } else { $add(s, *a) });
            }
        }
    };
}

rows_kernel!(
    /// `scalar::accumulate_rows_u8` with AVX-512F: strips of up to 128 coordinates.
    accumulate_rows_u8_512,
    rows_strip_512,
    "avx512f,avx2,fma",
    16,
    __m512i,
    _mm512_setzero_si512,
    |at: *const u8| _mm512_cvtepu8_epi32(_mm_loadu_si128(at as *const __m128i)),
    _mm512_add_epi32,
    _mm512_sub_epi32,
    _mm512_loadu_si512,
    _mm512_storeu_si512
);

rows_kernel!(
    /// `scalar::accumulate_rows_u8` with AVX2: strips of up to 64 coordinates.
    accumulate_rows_u8,
    rows_strip,
    "avx2,fma",
    8,
    __m256i,
    _mm256_setzero_si256,
    |at: *const u8| _mm256_cvtepu8_epi32(_mm_loadl_epi64(at as *const __m128i)),
    _mm256_add_epi32,
    _mm256_sub_epi32,
    _mm256_loadu_si256,
    _mm256_storeu_si256
);

/// The coordinates from `p` on of a rows accumulation, one at a time.
#[inline(always)]
unsafe fn rows_tail<const SUB: bool>(
    ps: *mut u32,
    pb: *const u8,
    dims: usize,
    rows: &[u32],
    p: usize,
) {
    for q in p..dims {
        let mut acc = 0_u32;
        for &r in rows {
            acc = acc.wrapping_add(u32::from(*pb.add(r as usize * dims + q)));
        }
        let s = &mut *ps.add(q);
        *s = if SUB {
            s.wrapping_sub(acc)
        } else {
            s.wrapping_add(acc)
        };
    }
}

/// `scalar::bounds_shift` with AVX2: eight bounds at a time, the same `f32` operations.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn bounds_shift(lb: &mut [f32], drift: &[f32], th: f32) -> usize {
    let n = lb.len().min(drift.len());
    let (pl, pd) = (lb.as_mut_ptr(), drift.as_ptr());
    let (shrink, tiny) = (
        _mm256_set1_ps(super::scalar::BOUND_SHRINK),
        _mm256_set1_ps(f32::MIN_POSITIVE),
    );
    let t = _mm256_set1_ps(th);
    let mut open = 0;
    let mut j = 0;
    while j + 8 <= n {
        let v = _mm256_sub_ps(_mm256_loadu_ps(pl.add(j)), _mm256_loadu_ps(pd.add(j)));
        let v = _mm256_sub_ps(_mm256_mul_ps(v, shrink), tiny);
        _mm256_storeu_ps(pl.add(j), v);
        // Not greater, unordered: NaN counts as open.
        let m = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NGT_UQ>(v, t));
        open += m.count_ones() as usize;
        j += 8;
    }
    open + super::scalar::bounds_shift(&mut lb[j..n], &drift[j..n], th)
}

/// `scalar::bounds_open` with AVX2: for eight bounds at a time, the positions of the open
/// ones moved to the front by a permutation from [`PACK8`] and stored whole, then the
/// count advanced by their number: no branch per bound.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn bounds_open(lb: &[f32], th: f32, out: &mut [usize]) -> usize {
    let len = lb.len();
    debug_assert!(out.len() >= len);
    let (pl, po) = (lb.as_ptr(), out.as_mut_ptr());
    let t = _mm256_set1_ps(th);
    let mut n = 0;
    let mut j = 0;
    // `n ≤ j`, so the eight values stored at `n` stay within `out[..len]`.
    while j + 8 <= len {
        let v = _mm256_loadu_ps(pl.add(j));
        let m = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NGT_UQ>(v, t)) as usize;
        let pos = _mm_loadl_epi64(PACK8.as_ptr().add(m) as *const __m128i);
        let base = _mm256_set1_epi64x(j as i64);
        let lo = _mm256_add_epi64(_mm256_cvtepu8_epi64(pos), base);
        let hi = _mm256_add_epi64(_mm256_cvtepu8_epi64(_mm_srli_si128::<4>(pos)), base);
        _mm256_storeu_si256(po.add(n) as *mut __m256i, lo);
        _mm256_storeu_si256(po.add(n + 4) as *mut __m256i, hi);
        n += m.count_ones() as usize;
        j += 8;
    }
    let tail = super::scalar::bounds_open(&lb[j..], th, &mut out[n..]);
    for o in &mut out[n..n + tail] {
        *o += j;
    }
    n + tail
}
