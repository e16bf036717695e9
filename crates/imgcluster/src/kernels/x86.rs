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
            let mut d = opencv_combine(d01, d23);
            for j in blocks * BLOCK..n {
                let t = f32::from(*pa.add(j)) - *pb.add(j);
                d += t * t;
            }
            d
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
            let mut d0 = opencv_combine(e01, e23);
            let mut d1 = opencv_combine(f01, f23);
            for j in blocks * BLOCK..n {
                let t = f32::from(*pa0.add(j)) - *pb0.add(j);
                d0 += t * t;
                let t = f32::from(*pa1.add(j)) - *pb1.add(j);
                d1 += t * t;
            }
            (d0, d1)
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
        let mut xa = [0.0_f32; 16];
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

/// `scalar::dot16_panel`: tiles of 2 rows × 3 columns, with smaller tiles at the edges.
/// `stride` must be a multiple of 16.
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
    let two = |r: usize| [row(r), row(r + 1)];
    let mut r = 0;
    while r + 2 <= n_rows {
        let mut c = 0;
        while c + 3 <= n_cols {
            tile::<2, 3>(
                two(r),
                pc.add(c * stride),
                stride,
                po.add(r * n_cols + c),
                n_cols,
            );
            c += 3;
        }
        while c < n_cols {
            tile::<2, 1>(
                two(r),
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

/// `dot16` of one row `x` (`stride` values) against the columns `cols[idx[m]]`,
/// four at a time: `out[m] = dot16(x, column idx[m])`.
#[target_feature(enable = "avx2,fma")]
pub unsafe fn dot16_select(x: &[f32], cols: &[f32], idx: &[usize], stride: usize, out: &mut [f32]) {
    debug_assert_eq!(stride % 16, 0);
    let px = x.as_ptr();
    let pc = cols.as_ptr();
    let mut m = 0;
    while m + 4 <= idx.len() {
        let c = [
            pc.add(idx[m] * stride),
            pc.add(idx[m + 1] * stride),
            pc.add(idx[m + 2] * stride),
            pc.add(idx[m + 3] * stride),
        ];
        let mut acc = [[_mm256_setzero_ps(); 2]; 4];
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
            out[m + q] = reduce16(a[0], a[1]);
        }
        m += 4;
    }
    while m < idx.len() {
        out[m] = dot16(x, &cols[idx[m] * stride..(idx[m] + 1) * stride]);
        m += 1;
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
