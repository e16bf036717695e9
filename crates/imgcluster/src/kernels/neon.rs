//! NEON implementations of the kernels (aarch64). Every function here returns the same
//! bits as its scalar reference in [`super::scalar`]: the lane layouts and the order of
//! every floating-point operation below are the reference's, written with 128-bit
//! registers. Where the reference multiplies and adds separately (OpenCV mode) so does
//! the code here, and where it fuses (`f32::mul_add`) the code here uses `vfmaq_f32`,
//! which rounds once as well.
//!
//! # Safety
//!
//! Every function is `unsafe` because it must only be called on a CPU with NEON (checked
//! once by [`super::dispatch`]). Slice lengths are checked by the safe callers in
//! `dispatch`; the functions here index through raw pointers within them.

#![allow(clippy::missing_safety_doc)]
// The body of every kernel here is raw-pointer intrinsics from end to end, under the one
// contract above: an `unsafe` block around each whole body would say nothing more.
#![allow(unsafe_op_in_unsafe_fn)]

use std::arch::aarch64::*;

use super::scalar::{BLOCK, FAST_LANES};

/// Sixteen bytes widened to sixteen exact `u32`, four to a register.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn widen16_u32(p: *const u8) -> [uint32x4_t; 4] {
    let b = vld1q_u8(p);
    let lo = vmovl_u8(vget_low_u8(b));
    let hi = vmovl_high_u8(b);
    [
        vmovl_u16(vget_low_u16(lo)),
        vmovl_high_u16(lo),
        vmovl_u16(vget_low_u16(hi)),
        vmovl_high_u16(hi),
    ]
}

/// Sixteen bytes widened to sixteen exact `f32`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load16_u8(p: *const u8) -> [float32x4_t; 4] {
    widen16_u32(p).map(|v| vcvtq_f32_u32(v))
}

/// Sixteen `f32`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn load16_f32(p: *const f32) -> [float32x4_t; 4] {
    [
        vld1q_f32(p),
        vld1q_f32(p.add(4)),
        vld1q_f32(p.add(8)),
        vld1q_f32(p.add(12)),
    ]
}

/// OpenCV's final combine of the four 4-lane accumulators: lane-wise
/// `((d0 + d1) + d2) + d3`, then SSE's horizontal sum `(s0 + s2) + (s1 + s3)`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn opencv_combine(d: [float32x4_t; 4]) -> f32 {
    let s = vaddq_f32(vaddq_f32(vaddq_f32(d[0], d[1]), d[2]), d[3]);
    // [s0 + s2, s1 + s3], then lane 0 + lane 1.
    vpadds_f32(vadd_f32(vget_low_f32(s), vget_high_f32(s)))
}

/// One block of 16 elements of OpenCV's loop: `d_v += t_v * t_v` with
/// `t_v = a_v - b_v`, the product rounded before the addition (never fused).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn opencv_block(d: &mut [float32x4_t; 4], a: [float32x4_t; 4], b: *const f32) {
    let b = load16_f32(b);
    for v in 0..4 {
        let t = vsubq_f32(a[v], b[v]);
        d[v] = vaddq_f32(d[v], vmulq_f32(t, t));
    }
}

macro_rules! l2sq_opencv_impl {
    ($name:ident, $pair:ident, $t:ty, $load:ident) => {
        /// OpenCV's `normL2Sqr_` order (see `scalar::l2sq_opencv`): four 4-lane
        /// accumulators, as in OpenCV's SSE build; multiply then add, never fused.
        #[target_feature(enable = "neon")]
        pub unsafe fn $name(a: &[$t], b: &[f32]) -> f32 {
            let n = a.len();
            let blocks = n / BLOCK;
            let (pa, pb) = (a.as_ptr(), b.as_ptr());
            let mut d = [vdupq_n_f32(0.0); 4];
            for blk in 0..blocks {
                let j = blk * BLOCK;
                opencv_block(&mut d, $load(pa.add(j)), pb.add(j));
            }
            super::scalar::opencv_tail(a, b, blocks * BLOCK, opencv_combine(d))
        }

        /// Two independent [`$name`] computations interleaved (hides the latency of the
        /// accumulation chains); same results as two separate calls.
        #[target_feature(enable = "neon")]
        pub unsafe fn $pair(a0: &[$t], b0: &[f32], a1: &[$t], b1: &[f32]) -> (f32, f32) {
            let n = a0.len();
            let blocks = n / BLOCK;
            let (pa0, pb0, pa1, pb1) = (a0.as_ptr(), b0.as_ptr(), a1.as_ptr(), b1.as_ptr());
            let mut e = [vdupq_n_f32(0.0); 4];
            let mut f = [vdupq_n_f32(0.0); 4];
            for blk in 0..blocks {
                let j = blk * BLOCK;
                opencv_block(&mut e, $load(pa0.add(j)), pb0.add(j));
                opencv_block(&mut f, $load(pa1.add(j)), pb1.add(j));
            }
            let from = blocks * BLOCK;
            (
                super::scalar::opencv_tail(a0, b0, from, opencv_combine(e)),
                super::scalar::opencv_tail(a1, b1, from, opencv_combine(f)),
            )
        }
    };
}

l2sq_opencv_impl!(l2sq_opencv_f32, l2sq_opencv_f32_x2, f32, load16_f32);
l2sq_opencv_impl!(l2sq_opencv_u8, l2sq_opencv_u8_x2, u8, load16_u8);

/// The reduction tree of `scalar::reduce16` on the 16 lanes `[v0 | v1 | v2 | v3]`:
/// `s8 = [v0 + v2 | v1 + v3]`, `s4 = s8_lo + s8_hi`, `s2 = [s4_0 + s4_2, s4_1 + s4_3]`,
/// then `s2_0 + s2_1`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn reduce16(v: [float32x4_t; 4]) -> f32 {
    let s4 = vaddq_f32(vaddq_f32(v[0], v[2]), vaddq_f32(v[1], v[3]));
    vpadds_f32(vadd_f32(vget_low_f32(s4), vget_high_f32(s4)))
}

/// `acc_q = fma(x_q, y_q, acc_q)` on the four registers of 16 lanes.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn fma16(acc: &mut [float32x4_t; 4], x: &[float32x4_t; 4], y: *const f32) {
    for q in 0..4 {
        acc[q] = vfmaq_f32(acc[q], x[q], vld1q_f32(y.add(4 * q)));
    }
}

/// `scalar::dot16` with 16 lanes held in four registers.
#[target_feature(enable = "neon")]
pub unsafe fn dot16(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len();
    let blocks = n / 16;
    let (pa, pb) = (a.as_ptr(), b.as_ptr());
    let mut acc = [vdupq_n_f32(0.0); 4];
    for blk in 0..blocks {
        fma16(&mut acc, &load16_f32(pa.add(blk * 16)), pb.add(blk * 16));
    }
    let rem = n - blocks * 16;
    if rem > 0 {
        // The padded last block: `fma(-0, +0, acc)` is `acc` for every `acc`, -0 (an
        // underflow) included, like the reference's untouched lanes.
        let mut xa = [-0.0_f32; 16];
        let mut xb = [0.0_f32; 16];
        xa[..rem].copy_from_slice(&a[blocks * 16..]);
        xb[..rem].copy_from_slice(&b[blocks * 16..]);
        fma16(&mut acc, &load16_f32(xa.as_ptr()), xb.as_ptr());
    }
    reduce16(acc)
}

/// An `MR × NR` tile of `dot16` products: rows `rows[0..MR]` against the columns from
/// `cols` on, all with `stride` values (a multiple of 16).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn tile<const MR: usize, const NR: usize>(
    rows: [*const f32; MR],
    cols: *const f32,
    stride: usize,
    out: *mut f32,
    out_stride: usize,
) {
    let mut acc = [[[vdupq_n_f32(0.0); 4]; NR]; MR];
    let mut j = 0;
    while j < stride {
        let x = rows.map(|r| load16_f32(r.add(j)));
        #[allow(clippy::needless_range_loop)]
        for c in 0..NR {
            let y = cols.add(c * stride + j);
            for r in 0..MR {
                fma16(&mut acc[r][c], &x[r], y);
            }
        }
        j += 16;
    }
    for (r, acc_r) in acc.iter().enumerate() {
        for (c, &a) in acc_r.iter().enumerate() {
            *out.add(r * out_stride + c) = reduce16(a);
        }
    }
}

/// The blocked products of rows `row(0..n_rows)` against `n_cols` columns: bands of
/// 2 rows in tiles of 2 columns (16 accumulator registers of the 32), a last row in
/// tiles of 4 columns.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn panel(
    row: impl Fn(usize) -> *const f32,
    n_rows: usize,
    cols: *const f32,
    n_cols: usize,
    stride: usize,
    out: *mut f32,
) {
    let mut r = 0;
    while r + 2 <= n_rows {
        let o = out.add(r * n_cols);
        band::<2, 2>([row(r), row(r + 1)], cols, n_cols, stride, o);
        r += 2;
    }
    if r < n_rows {
        band::<1, 4>([row(r)], cols, n_cols, stride, out.add(r * n_cols));
    }
}

/// One band of `MR` rows of [`panel`]: tiles of `MR × NR` columns, then `MR × 1`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn band<const MR: usize, const NR: usize>(
    rows: [*const f32; MR],
    cols: *const f32,
    n_cols: usize,
    stride: usize,
    out: *mut f32,
) {
    let mut c = 0;
    while c + NR <= n_cols {
        tile::<MR, NR>(rows, cols.add(c * stride), stride, out.add(c), n_cols);
        c += NR;
    }
    while c < n_cols {
        tile::<MR, 1>(rows, cols.add(c * stride), stride, out.add(c), n_cols);
        c += 1;
    }
}

/// `scalar::dot16_panel`. `stride` must be a multiple of 16.
#[target_feature(enable = "neon")]
pub unsafe fn dot16_panel(
    rows: &[f32],
    n_rows: usize,
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(stride % 16, 0);
    let pr = rows.as_ptr();
    let row = |r: usize| pr.add(r * stride);
    panel(row, n_rows, cols.as_ptr(), n_cols, stride, out.as_mut_ptr());
}

/// `scalar::dot16_gather`: [`dot16_panel`] on the rows `rows[idx[m]]` of a larger
/// matrix. `stride` must be a multiple of 16.
#[target_feature(enable = "neon")]
pub unsafe fn dot16_gather(
    rows: &[f32],
    idx: &[usize],
    cols: &[f32],
    n_cols: usize,
    stride: usize,
    out: &mut [f32],
) {
    debug_assert_eq!(stride % 16, 0);
    let pr = rows.as_ptr();
    let row = |m: usize| pr.add(idx[m] * stride);
    panel(
        row,
        idx.len(),
        cols.as_ptr(),
        n_cols,
        stride,
        out.as_mut_ptr(),
    );
}

/// `scalar::dot16_select`: one row `x` against the columns `cols[idx[m]]`, four at a
/// time, then the last one to three together.
#[target_feature(enable = "neon")]
pub unsafe fn dot16_select(x: &[f32], cols: &[f32], idx: &[usize], stride: usize, out: &mut [f32]) {
    debug_assert_eq!(stride % 16, 0);
    let (px, pc, po) = (x.as_ptr(), cols.as_ptr(), out.as_mut_ptr());
    let col = |m: usize| pc.add(idx[m] * stride);
    let mut m = 0;
    while m + 4 <= idx.len() {
        select_tile::<4>(
            px,
            [col(m), col(m + 1), col(m + 2), col(m + 3)],
            stride,
            po.add(m),
        );
        m += 4;
    }
    match idx.len() - m {
        1 => select_tile::<1>(px, [col(m)], stride, po.add(m)),
        2 => select_tile::<2>(px, [col(m), col(m + 1)], stride, po.add(m)),
        3 => select_tile::<3>(px, [col(m), col(m + 1), col(m + 2)], stride, po.add(m)),
        _ => {}
    }
}

/// `C` products of one row `x` with the columns at `c` (all `stride` values).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn select_tile<const C: usize>(
    px: *const f32,
    c: [*const f32; C],
    stride: usize,
    out: *mut f32,
) {
    let mut acc = [[vdupq_n_f32(0.0); 4]; C];
    let mut j = 0;
    while j < stride {
        let x = load16_f32(px.add(j));
        for (a, &p) in acc.iter_mut().zip(&c) {
            fma16(a, &x, p.add(j));
        }
        j += 16;
    }
    for (q, &a) in acc.iter().enumerate() {
        *out.add(q) = reduce16(a);
    }
}

/// Widens bytes to `f32` (exact).
#[target_feature(enable = "neon")]
pub unsafe fn widen_u8(x: &[u8], out: &mut [f32]) {
    let n = x.len();
    let (px, po) = (x.as_ptr(), out.as_mut_ptr());
    let mut j = 0;
    while j + 16 <= n {
        for (q, v) in load16_u8(px.add(j)).into_iter().enumerate() {
            vst1q_f32(po.add(j + 4 * q), v);
        }
        j += 16;
    }
    for k in j..n {
        *po.add(k) = f32::from(*px.add(k));
    }
}

/// `scalar::sparse_dot_t16`: lanes 0–7, then lanes 8–15, each pass with the eight
/// accumulators in two registers each (16 of the 32), term `t` fused into accumulator
/// `t % 8` (same bits). Every index must be below `ct.len() / 16`, and
/// `idx.len() == val.len()`.
#[target_feature(enable = "neon")]
pub unsafe fn sparse_dot_t16(idx: &[u32], val: &[f32], ct: &[f32], out: &mut [f32; 16]) {
    let n = idx.len();
    let (pi, pv, pc) = (idx.as_ptr(), val.as_ptr(), ct.as_ptr());
    for h in 0..2 {
        let mut a = [[vdupq_n_f32(0.0); 2]; 8];
        for t in 0..n {
            let v = *pv.add(t);
            let col = pc.add(*pi.add(t) as usize * 16 + 8 * h);
            let al = &mut a[t % 8];
            al[0] = vfmaq_n_f32(al[0], vld1q_f32(col), v);
            al[1] = vfmaq_n_f32(al[1], vld1q_f32(col.add(4)), v);
        }
        for q in 0..2 {
            let s01 = vaddq_f32(a[0][q], a[1][q]);
            let s23 = vaddq_f32(a[2][q], a[3][q]);
            let s45 = vaddq_f32(a[4][q], a[5][q]);
            let s67 = vaddq_f32(a[6][q], a[7][q]);
            let s = vaddq_f32(vaddq_f32(s01, s23), vaddq_f32(s45, s67));
            vst1q_f32(out.as_mut_ptr().add(8 * h + 4 * q), s);
        }
    }
}

/// `scalar::sparse_dot_cols`: passes of up to eight registers (32 columns) over the
/// terms, two accumulators per register (even and odd terms), the sum of the two at the
/// end (same bits). `range` must start and end on multiples of 16 within `cols`, every
/// index be below `ct.len() / cols`, `idx.len() == val.len()` and
/// `out.len() >= range.len()`.
#[target_feature(enable = "neon")]
pub unsafe fn sparse_dot_cols(
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
        // The range is whole blocks of 16 columns: one or two blocks a pass.
        if range.end - c >= 32 {
            sparse_cols_block::<8>(idx, val, pc, cols, po);
            c += 32;
        } else {
            sparse_cols_block::<4>(idx, val, pc, cols, po);
            c += 16;
        }
    }
}

/// `B` registers of columns of [`sparse_dot_cols`], starting at `ct` (row stride
/// `stride`), written to `out`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn sparse_cols_block<const B: usize>(
    idx: &[u32],
    val: &[f32],
    ct: *const f32,
    stride: usize,
    out: *mut f32,
) {
    let mut acc = [[vdupq_n_f32(0.0); B]; 2];
    for (t, (&p, &v)) in idx.iter().zip(val).enumerate() {
        let col = ct.add(p as usize * stride);
        for (b, a) in acc[t % 2].iter_mut().enumerate() {
            *a = vfmaq_n_f32(*a, vld1q_f32(col.add(4 * b)), v);
        }
    }
    for b in 0..B {
        vst1q_f32(out.add(4 * b), vaddq_f32(acc[0][b], acc[1][b]));
    }
}

/// `scalar::accumulate_rows_u8`: strips of up to 64 coordinates (16 registers of `u32`),
/// summed over all the rows in registers and added to `sums` once, then the last
/// coordinates one row at a time (the same wrapping sums). `sums` must hold at least
/// `dims` values and every row be inside `bytes`.
#[target_feature(enable = "neon")]
pub unsafe fn accumulate_rows_u8<const SUB: bool>(
    sums: &mut [u32],
    bytes: &[u8],
    dims: usize,
    rows: &[u32],
) {
    let (ps, pb) = (sums.as_mut_ptr(), bytes.as_ptr());
    let mut p = 0;
    while p + 16 <= dims {
        let (ps, pb) = (ps.add(p), pb.add(p));
        let blocks = ((dims - p) / 16).min(4);
        match blocks {
            1 => rows_strip::<1, SUB>(ps, pb, dims, rows),
            2 => rows_strip::<2, SUB>(ps, pb, dims, rows),
            3 => rows_strip::<3, SUB>(ps, pb, dims, rows),
            _ => rows_strip::<4, SUB>(ps, pb, dims, rows),
        }
        p += 16 * blocks;
    }
    let tail = &mut sums[p..dims];
    for &r in rows {
        let at = r as usize * dims;
        for (s, &b) in tail.iter_mut().zip(&bytes[at + p..at + dims]) {
            *s = if SUB {
                s.wrapping_sub(u32::from(b))
            } else {
                s.wrapping_add(u32::from(b))
            };
        }
    }
}

/// `B` blocks of 16 coordinates of [`accumulate_rows_u8`], from `ps` and `pb` on.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn rows_strip<const B: usize, const SUB: bool>(
    ps: *mut u32,
    pb: *const u8,
    dims: usize,
    rows: &[u32],
) {
    let mut acc = [[vdupq_n_u32(0); 4]; B];
    for &r in rows {
        let at = pb.add(r as usize * dims);
        for (b, a) in acc.iter_mut().enumerate() {
            for (a, w) in a.iter_mut().zip(widen16_u32(at.add(16 * b))) {
                *a = vaddq_u32(*a, w);
            }
        }
    }
    for (b, a) in acc.iter().enumerate() {
        for (q, &a) in a.iter().enumerate() {
            let at = ps.add(16 * b + 4 * q);
            let s = vld1q_u32(at);
            vst1q_u32(
                at,
                if SUB {
                    vsubq_u32(s, a)
                } else {
                    vaddq_u32(s, a)
                },
            );
        }
    }
}

/// `scalar::sparse_fill`, skipping 16 zero bytes at a time (the same values). Writes at
/// most `idx.len()` values (`val` must be as long) and returns the number of nonzeros of
/// `row`, so the caller can check it against that length.
#[target_feature(enable = "neon")]
pub unsafe fn sparse_fill(row: &[u8], idx: &mut [u32], val: &mut [f32]) -> usize {
    let (n, cap) = (row.len(), idx.len().min(val.len()));
    let pr = row.as_ptr();
    let mut w = 0;
    let mut keep = |p: usize| {
        let b = *pr.add(p);
        if b != 0 {
            if w < cap {
                idx[w] = p as u32;
                val[w] = f32::from(b);
            }
            w += 1;
        }
    };
    let mut p = 0;
    while p + 16 <= n {
        if vmaxvq_u8(vld1q_u8(pr.add(p))) != 0 {
            (p..p + 16).for_each(&mut keep);
        }
        p += 16;
    }
    (p..n).for_each(&mut keep);
    w
}

/// The lanes `l` of `x` with `x[l] <= cut` as bits `shift + l` (never for NaN).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn le_bits_f64(x: float64x2_t, cut: float64x2_t, shift: usize) -> u32 {
    let bit = vld1q_u64([1_u64, 2].as_ptr());
    (vaddvq_u64(vandq_u64(vcleq_f64(x, cut), bit)) as u32) << shift
}

/// `a < b ? a : b` lane by lane, as the reference's minimum (NaN in `a` keeps `b`).
#[inline]
#[target_feature(enable = "neon")]
unsafe fn min_f64(a: float64x2_t, b: float64x2_t) -> float64x2_t {
    vbslq_f64(vcltq_f64(a, b), a, b)
}

/// The halving reduction of `scalar::fast_sq_distances` on its 16 running minima, two
/// to a register: lane `l` against lane `l + w` for `w = 8, 4, 2, 1`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn min16(m: [float64x2_t; 8]) -> f64 {
    let m4: [float64x2_t; 4] = std::array::from_fn(|k| min_f64(m[k + 4], m[k]));
    let m2 = [min_f64(m4[2], m4[0]), min_f64(m4[3], m4[1])];
    let m1 = min_f64(m2[1], m2[0]);
    let (l0, l1) = (vgetq_lane_f64::<0>(m1), vgetq_lane_f64::<1>(m1));
    if l1 < l0 {
        l1
    } else {
        l0
    }
}

/// One block of 16 lanes of `scalar::fast_sq_distances`: stores `t` and `lo`, updates
/// the running minima `m`, and returns the `lo` registers.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn fast_block(
    xx: float64x2_t,
    e: float64x2_t,
    dots: *const f32,
    cc: *const f64,
    t: *mut f64,
    lo: *mut f64,
    m: &mut [float64x2_t; 8],
) -> [float64x2_t; 8] {
    let two = vdupq_n_f64(2.0);
    let mut out = [vdupq_n_f64(0.0); 8];
    for k in 0..8 {
        let d = vcvt_f64_f32(vld1_f32(dots.add(2 * k)));
        let tk = vsubq_f64(vaddq_f64(xx, vld1q_f64(cc.add(2 * k))), vmulq_f64(two, d));
        let lk = vsubq_f64(tk, e);
        vst1q_f64(t.add(2 * k), tk);
        vst1q_f64(lo.add(2 * k), lk);
        m[k] = min_f64(tk, m[k]);
        out[k] = lk;
    }
    out
}

/// `scalar::fast_sq_distances` with pairs of `f64` lanes (the same operations, so the
/// same bits). Requirements as the scalar function.
#[target_feature(enable = "neon")]
pub unsafe fn fast_sq_distances(
    xx: f64,
    e: f64,
    dots: &[f32],
    cc: &[f64],
    t: &mut [f64],
    lo: &mut [f64],
) -> f64 {
    let (x, ev) = (vdupq_n_f64(xx), vdupq_n_f64(e));
    let mut m = [vdupq_n_f64(f64::INFINITY); 8];
    for j in (0..dots.len()).step_by(FAST_LANES) {
        let (pt, pl) = (t.as_mut_ptr().add(j), lo.as_mut_ptr().add(j));
        fast_block(
            x,
            ev,
            dots.as_ptr().add(j),
            cc.as_ptr().add(j),
            pt,
            pl,
            &mut m,
        );
    }
    min16(m)
}

/// `scalar::le_mask16` (same result).
#[target_feature(enable = "neon")]
pub unsafe fn le_mask16(v: &[f64; FAST_LANES], cut: f64) -> u32 {
    let c = vdupq_n_f64(cut);
    (0..8).fold(0, |mask, k| {
        mask | le_bits_f64(vld1q_f64(v.as_ptr().add(2 * k)), c, 2 * k)
    })
}

/// `scalar::fast_shortlist16` with pairs of `f64` lanes: the same operations, so the
/// same bits; the mask is taken from the registers, not from the values just stored.
#[target_feature(enable = "neon")]
pub unsafe fn fast_shortlist16(
    xx: f64,
    e: f64,
    dots: &[f32; FAST_LANES],
    cc: &[f64; FAST_LANES],
    t: &mut [f64; FAST_LANES],
    lo: &mut [f64; FAST_LANES],
    cutoff: impl Fn(f64) -> f64,
) -> (f64, u32) {
    let (x, ev) = (vdupq_n_f64(xx), vdupq_n_f64(e));
    let mut m = [vdupq_n_f64(f64::INFINITY); 8];
    let (pt, pl) = (t.as_mut_ptr(), lo.as_mut_ptr());
    let l = fast_block(x, ev, dots.as_ptr(), cc.as_ptr(), pt, pl, &mut m);
    let min = min16(m);
    let cut = vdupq_n_f64(cutoff(min));
    let mask = (0..8).fold(0, |mask, k| mask | le_bits_f64(l[k], cut, 2 * k));
    (min, mask)
}

/// `scalar::near_min_mask16`: `u = fma(-2, dots, cc)` in four registers, NaN lanes
/// turned to +∞ for the minimum (the reference never takes them), the mask of
/// `u <= umin + width`. The same `f32` operations, so the same mask.
#[target_feature(enable = "neon")]
pub unsafe fn near_min_mask16(dots: &[f32; 16], cc: &[f32; 16], width: f32) -> u32 {
    let (pd, pc) = (dots.as_ptr(), cc.as_ptr());
    let u: [float32x4_t; 4] = std::array::from_fn(|q| {
        vfmaq_n_f32(vld1q_f32(pc.add(4 * q)), vld1q_f32(pd.add(4 * q)), -2.0)
    });
    let inf = vdupq_n_f32(f32::INFINITY);
    let m = u.map(|v| vbslq_f32(vceqq_f32(v, v), v, inf));
    let umin = vminvq_f32(vminq_f32(vminq_f32(m[0], m[1]), vminq_f32(m[2], m[3])));
    let cut = vdupq_n_f32(umin + width);
    let bit = vld1q_u32([1_u32, 2, 4, 8].as_ptr());
    u.iter().enumerate().fold(0, |mask, (q, &v)| {
        mask | vaddvq_u32(vandq_u32(vcleq_f32(v, cut), bit)) << (4 * q)
    })
}

/// Every kernel above against the scalar reference, bit for bit, on awkward sizes (every
/// tail length of the 4-lane registers, the 16-lane blocks and the tiles), with infinite,
/// NaN, tied, huge and tiny values where the kernel compares or could round differently.
#[cfg(test)]
mod tests {
    use super::super::{dispatch, scalar, Isa, SparseU8};
    use super::*;

    /// Test data without a dependency: a 64-bit linear congruential stream, the top bits.
    struct Stream(u64);

    impl Stream {
        fn bits(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0 >> 16
        }
        /// Uniform in `[lo, hi)`, as `f32`.
        fn f32(&mut self, lo: f32, hi: f32) -> f32 {
            lo + (hi - lo) * ((self.bits() >> 24) as f32 / (1u64 << 24) as f32)
        }
        fn f32s(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
            (0..n).map(|_| self.f32(lo, hi)).collect()
        }
        fn below(&mut self, n: usize) -> usize {
            (self.bits() % n as u64) as usize
        }
    }

    const SIZES: [usize; 16] = [0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 64, 65, 400, 785];

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    fn bits64(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn the_dispatch_runs_neon() {
        if std::env::var_os(dispatch::ISA_VARIABLE).is_none() {
            assert_eq!(dispatch::isa(), Isa::Neon);
            assert_eq!(dispatch::isa_name(), "neon");
        }
    }

    #[test]
    fn opencv_distances_match_the_reference() {
        let mut s = Stream(1);
        for n in SIZES {
            for scale in [1.0, 255.0, 1e-20, 1e15] {
                let (a, b) = (s.f32s(n, -scale, scale), s.f32s(n, -scale, scale));
                let c: Vec<u8> = (0..n).map(|_| s.bits() as u8).collect();
                let want = scalar::l2sq_opencv(&a, &b).to_bits();
                let want_u8 = scalar::l2sq_opencv_u8(&c, &b).to_bits();
                // SAFETY: NEON is in every aarch64 target; the lengths are equal.
                unsafe {
                    assert_eq!(l2sq_opencv_f32(&a, &b).to_bits(), want, "f32 {n} {scale}");
                    assert_eq!(l2sq_opencv_u8(&c, &b).to_bits(), want_u8, "u8 {n} {scale}");
                    let (x, y) = l2sq_opencv_f32_x2(&a, &b, &b, &a);
                    assert_eq!((x.to_bits(), y.to_bits()), (want, want), "f32 pair {n}");
                    let (x, y) = l2sq_opencv_u8_x2(&c, &b, &c, &a);
                    let want_a = scalar::l2sq_opencv_u8(&c, &a).to_bits();
                    assert_eq!((x.to_bits(), y.to_bits()), (want_u8, want_a), "u8 pair {n}");
                }
            }
        }
    }

    #[test]
    fn dot_products_match_the_reference() {
        let mut s = Stream(2);
        for n in SIZES {
            let (a, b) = (s.f32s(n, -255.0, 255.0), s.f32s(n, -3.0, 3.0));
            // SAFETY: NEON is in every aarch64 target; the lengths are equal.
            let got = unsafe { dot16(&a, &b) };
            assert_eq!(got.to_bits(), scalar::dot16(&a, &b).to_bits(), "n {n}");
        }
        // Every lane underflows to -0 and stays so in the reference: the padding of the
        // last block must not turn the untouched lanes into +0.
        let (a, b) = ([-1e-30_f32; 17], [1e-30_f32; 17]);
        let want = scalar::dot16(&a, &b);
        assert!(want == 0.0 && want.is_sign_negative());
        // SAFETY: as above.
        assert_eq!(unsafe { dot16(&a, &b) }.to_bits(), want.to_bits());
    }

    #[test]
    fn blocked_dot_products_match_the_reference() {
        let mut s = Stream(3);
        for stride in [16, 48, 400] {
            let rows = s.f32s(9 * stride, -7.0, 7.0);
            let cols = s.f32s(10 * stride, -7.0, 7.0);
            for (n_rows, n_cols) in (0..=9).flat_map(|r| [0, 1, 2, 3, 4, 5, 10].map(|c| (r, c))) {
                let mut want = vec![0.0; n_rows * n_cols];
                scalar::dot16_panel(&rows, n_rows, &cols, n_cols, stride, &mut want);
                let mut got = vec![f32::NAN; n_rows * n_cols];
                // SAFETY: NEON is in every aarch64 target; the shapes match.
                unsafe { dot16_panel(&rows, n_rows, &cols, n_cols, stride, &mut got) };
                assert_eq!(bits(&got), bits(&want), "panel {n_rows}x{n_cols}x{stride}");
                let idx: Vec<usize> = (0..n_rows).map(|_| s.below(9)).collect();
                scalar::dot16_gather(&rows, &idx, &cols, n_cols, stride, &mut want);
                // SAFETY: as above; the indices are below 9.
                unsafe { dot16_gather(&rows, &idx, &cols, n_cols, stride, &mut got) };
                assert_eq!(bits(&got), bits(&want), "gather {n_rows}x{n_cols}x{stride}");
            }
            let x = &rows[..stride];
            for n in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 63] {
                let idx: Vec<usize> = (0..n).map(|_| s.below(10)).collect();
                let mut want = vec![0.0; n];
                scalar::dot16_select(x, &cols, &idx, stride, &mut want);
                let mut got = vec![f32::NAN; n];
                // SAFETY: as above; the indices are below 10.
                unsafe { dot16_select(x, &cols, &idx, stride, &mut got) };
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "select {n} columns, stride {stride}"
                );
            }
        }
    }

    #[test]
    fn sparse_dot_products_match_the_reference() {
        let mut s = Stream(4);
        let dims = 67;
        for cols in [16, 32, 48, 64, 80, 112] {
            let ct = s.f32s(dims * cols, -100.0, 250.0);
            for nnz in [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 67, 200] {
                let idx: Vec<u32> = (0..nnz).map(|_| s.below(dims) as u32).collect();
                let val: Vec<f32> = (0..nnz).map(|_| (s.below(255) + 1) as f32).collect();
                if cols == 16 {
                    let (mut want, mut got) = ([0.0; 16], [f32::NAN; 16]);
                    scalar::sparse_dot_t16(&idx, &val, &ct, &mut want);
                    // SAFETY: NEON is in every aarch64 target; the indices are in range.
                    unsafe { sparse_dot_t16(&idx, &val, &ct, &mut got) };
                    assert_eq!(bits(&got), bits(&want), "t16 nnz {nnz}");
                }
                for range in [0..cols, 0..0, cols - 16..cols, 16.min(cols - 16)..cols] {
                    let mut want = vec![0.0; range.len()];
                    scalar::sparse_dot_cols(&idx, &val, &ct, cols, range.clone(), &mut want);
                    let mut got = vec![f32::NAN; range.len()];
                    // SAFETY: as above; the range is whole blocks of 16 within `cols`.
                    unsafe { sparse_dot_cols(&idx, &val, &ct, cols, range.clone(), &mut got) };
                    assert_eq!(bits(&got), bits(&want), "cols {cols} {range:?} nnz {nnz}");
                }
            }
        }
    }

    #[test]
    fn sparse_rows_and_byte_sums_match_the_reference() {
        let mut s = Stream(5);
        for dims in [
            0, 1, 7, 15, 16, 17, 31, 48, 63, 64, 65, 79, 80, 129, 400, 785,
        ] {
            let n = 23;
            for every in [1, 3, 1000] {
                let bytes: Vec<u8> = (0..n * dims)
                    .map(|_| {
                        if s.below(every) == 0 {
                            s.bits() as u8
                        } else {
                            0
                        }
                    })
                    .collect();
                for row in bytes.chunks_exact(dims.max(1)) {
                    let nnz = row.iter().filter(|&&b| b != 0).count();
                    let (mut wi, mut wv) = (vec![0; nnz], vec![0.0; nnz]);
                    scalar::sparse_fill(row, &mut wi, &mut wv);
                    let (mut gi, mut gv) = (vec![u32::MAX; nnz], vec![f32::NAN; nnz]);
                    // SAFETY: NEON is in every aarch64 target.
                    assert_eq!(unsafe { sparse_fill(row, &mut gi, &mut gv) }, nnz);
                    assert_eq!((gi, bits(&gv)), (wi, bits(&wv)), "fill dims {dims}");
                    // Too little room: the count all the same, nothing written past it.
                    let (mut gi, mut gv) = (vec![0; nnz / 2], vec![0.0; nnz / 2]);
                    // SAFETY: as above.
                    assert_eq!(unsafe { sparse_fill(row, &mut gi, &mut gv) }, nnz);
                }
            }
            let bytes: Vec<u8> = (0..n * dims).map(|_| s.bits() as u8).collect();
            for count in [0, 1, 2, 5, 300] {
                let rows: Vec<u32> = (0..count).map(|_| s.below(n) as u32).collect();
                let start: Vec<u32> = (0..dims + 2).map(|_| s.bits() as u32).collect();
                let mut want = start.clone();
                scalar::accumulate_rows_u8::<false>(&mut want, &bytes, dims, &rows);
                let mut got = start.clone();
                // SAFETY: NEON is in every aarch64 target; the rows are in range.
                unsafe { accumulate_rows_u8::<false>(&mut got, &bytes, dims, &rows) };
                assert_eq!(got, want, "add dims {dims} rows {count}");
                // SAFETY: as above.
                unsafe { accumulate_rows_u8::<true>(&mut got, &bytes, dims, &rows) };
                assert_eq!(got, start, "sub dims {dims} rows {count}");
            }
            let mut out = vec![f32::NAN; dims + 1];
            // SAFETY: NEON is in every aarch64 target; `out` is long enough.
            unsafe { widen_u8(&bytes[..dims], &mut out) };
            assert!(bytes
                .iter()
                .zip(&out[..dims])
                .all(|(&b, &f)| f32::from(b) == f));
            assert!(out[dims].is_nan());
        }
    }

    #[test]
    fn shortlist_arithmetic_matches_the_reference() {
        let mut s = Stream(6);
        for round in 0..400 {
            let n = 16 * (1 + round % 4);
            let mut dots = s.f32s(n, 0.0, 4e6);
            let mut cc: Vec<f64> = (0..n).map(|_| f64::from(s.f32(0.0, 1e7))).collect();
            cc[round % n] = f64::INFINITY;
            if round % 3 == 0 {
                cc[(round * 7) % n] = f64::NAN;
            }
            if round % 4 == 0 {
                // Tied lanes: the earlier one is kept.
                cc[(round * 5) % n] = cc[(round * 11) % n];
                dots[(round * 5) % n] = dots[(round * 11) % n];
            }
            if round % 10 == 0 {
                dots[(round / 10) % n] = f32::NAN;
            }
            if round % 50 == 7 {
                cc.iter_mut().for_each(|c| *c = f64::NAN);
            }
            let (xx, e) = (f64::from(s.f32(0.0, 1e7)), f64::from(s.f32(0.0, 100.0)));
            let (mut t0, mut lo0) = (vec![0.0; n], vec![0.0; n]);
            let want = scalar::fast_sq_distances(xx, e, &dots, &cc, &mut t0, &mut lo0);
            let (mut t1, mut lo1) = (vec![0.0; n], vec![0.0; n]);
            // SAFETY: NEON is in every aarch64 target; the lengths match.
            let got = unsafe { fast_sq_distances(xx, e, &dots, &cc, &mut t1, &mut lo1) };
            assert_eq!(got.to_bits(), want.to_bits(), "min {round}");
            assert_eq!(
                (bits64(&t1), bits64(&lo1)),
                (bits64(&t0), bits64(&lo0)),
                "{round}"
            );
            let block: &[f64; 16] = lo0[..16].try_into().unwrap();
            for cut in [lo0[round % 16], f64::NAN, f64::INFINITY, -0.0] {
                let want = scalar::le_mask16(block, cut);
                // SAFETY: as above.
                assert_eq!(unsafe { le_mask16(block, cut) }, want, "mask {round} {cut}");
            }
            let dots: &[f32; 16] = dots[..16].try_into().unwrap();
            let cc: &[f64; 16] = cc[..16].try_into().unwrap();
            let slack = [0.0, 1e3, 1e6, f64::NAN][round % 4];
            let cutoff = |m: f64| m + slack;
            let (mut t0, mut lo0, mut t1, mut lo1) = ([0.0; 16], [0.0; 16], [0.0; 16], [0.0; 16]);
            let want = scalar::fast_shortlist16(xx, e, dots, cc, &mut t0, &mut lo0, cutoff);
            // SAFETY: as above.
            let got = unsafe { fast_shortlist16(xx, e, dots, cc, &mut t1, &mut lo1, cutoff) };
            assert_eq!(
                (got.0.to_bits(), got.1),
                (want.0.to_bits(), want.1),
                "{round}"
            );
            assert_eq!(
                (bits64(&t1), bits64(&lo1)),
                (bits64(&t0), bits64(&lo0)),
                "{round}"
            );
        }
    }

    #[test]
    fn near_min_mask_matches_the_reference() {
        let mut s = Stream(7);
        // Ties, signed zeros, infinities, NaN, the smallest normal and subnormal values.
        let specials: [f32; 12] = [
            0.0,
            -0.0,
            1.0,
            1e30,
            -1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::MIN_POSITIVE,
            1e-45,
            3.5,
            3.5,
        ];
        for case in 0..2000 {
            let mut dots: [f32; 16] = std::array::from_fn(|_| s.f32(0.0, 14_000.0));
            let mut cc: [f32; 16] = std::array::from_fn(|_| s.f32(0.0, 330_000.0));
            for l in 0..16 {
                if case % 3 == 0 && s.below(4) == 0 {
                    dots[l] = specials[s.below(specials.len())];
                }
                if case % 5 == 0 && s.below(4) == 0 {
                    cc[l] = specials[s.below(specials.len())];
                }
            }
            let width = [0.0, 1.0, 1e3, f32::INFINITY][case % 4];
            let want = scalar::near_min_mask16(&dots, &cc, width);
            // SAFETY: NEON is in every aarch64 target.
            assert_eq!(
                unsafe { near_min_mask16(&dots, &cc, width) },
                want,
                "case {case}"
            );
        }
        // SAFETY: as above.
        assert_eq!(
            unsafe { near_min_mask16(&[f32::NAN; 16], &[1.0; 16], 1.0) },
            0
        );
    }

    /// The dispatched sparse kernels (NEON on this CPU) on real rows.
    #[test]
    fn the_dispatched_sparse_kernels_match_the_reference() {
        let mut s = Stream(8);
        let (dims, cols) = (67, 48);
        let bytes: Vec<u8> = (0..40 * dims)
            .map(|_| if s.below(3) == 0 { s.bits() as u8 } else { 0 })
            .collect();
        let sp = SparseU8::from_bytes(&bytes, dims);
        let ct = s.f32s(dims * cols, -100.0, 250.0);
        for i in 0..sp.rows() {
            let (idx, val) = sp.row(i);
            let (mut want, mut got) = (vec![0.0; cols], vec![f32::NAN; cols]);
            scalar::sparse_dot_cols(idx, val, &ct, cols, 0..cols, &mut want);
            sp.dot_cols(i, &ct, cols, 0..cols, &mut got);
            assert_eq!(bits(&got), bits(&want), "row {i}");
            let (mut want, mut got) = ([0.0; 16], [f32::NAN; 16]);
            scalar::sparse_dot_t16(idx, val, &ct, &mut want);
            sp.dot_t16(i, &ct, &mut got);
            assert_eq!(bits(&got), bits(&want), "row {i}");
        }
    }
}

/// `scalar::bounds_shift` with NEON: four bounds at a time, the same `f32` operations
/// (separate multiply and subtract, no fused step).
#[target_feature(enable = "neon")]
pub unsafe fn bounds_shift(lb: &mut [f32], drift: &[f32], th: f32) -> usize {
    let n = lb.len().min(drift.len());
    let (pl, pd) = (lb.as_mut_ptr(), drift.as_ptr());
    let (shrink, tiny) = (
        vdupq_n_f32(super::scalar::BOUND_SHRINK),
        vdupq_n_f32(f32::MIN_POSITIVE),
    );
    let t = vdupq_n_f32(th);
    let mut open = vdupq_n_u32(0);
    let mut j = 0;
    while j + 4 <= n {
        let v = vsubq_f32(vld1q_f32(pl.add(j)), vld1q_f32(pd.add(j)));
        let v = vsubq_f32(vmulq_f32(v, shrink), tiny);
        vst1q_f32(pl.add(j), v);
        // Not greater (NaN included): one per open lane.
        open = vaddq_u32(open, vshrq_n_u32::<31>(vmvnq_u32(vcgtq_f32(v, t))));
        j += 4;
    }
    vaddvq_u32(open) as usize + super::scalar::bounds_shift(&mut lb[j..n], &drift[j..n], th)
}

/// `scalar::bounds_open` with NEON: a mask of four comparisons at a time, its set bits
/// written in order.
#[target_feature(enable = "neon")]
pub unsafe fn bounds_open(lb: &[f32], th: f32, out: &mut [usize]) -> usize {
    let len = lb.len();
    let (pl, po) = (lb.as_ptr(), out.as_mut_ptr());
    let t = vdupq_n_f32(th);
    let bits: [u32; 4] = [1, 2, 4, 8];
    let bits = vld1q_u32(bits.as_ptr());
    let mut n = 0;
    let mut j = 0;
    while j + 4 <= len {
        let open = vmvnq_u32(vcgtq_f32(vld1q_f32(pl.add(j)), t));
        let mut m = vaddvq_u32(vandq_u32(open, bits));
        while m != 0 {
            *po.add(n) = j + m.trailing_zeros() as usize;
            n += 1;
            m &= m - 1;
        }
        j += 4;
    }
    let tail = super::scalar::bounds_open(&lb[j..], th, &mut out[n..]);
    for o in &mut out[n..n + tail] {
        *o += j;
    }
    n + tail
}
