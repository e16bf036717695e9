//! Affine warps equal to OpenCV 4.8's `cv::warpAffine` on 8-bit single-channel images.
//!
//! OpenCV does not interpolate in floating point. For every destination pixel it computes
//! the source position in fixed point from the (inverse) matrix:
//!
//! * per column `adelta[x] = round(M00·x·1024)`, `bdelta[x] = round(M10·x·1024)`;
//! * per row `X0 = round((M01·y + M02)·1024) + δ`, `Y0 = round((M11·y + M12)·1024) + δ`,
//!   with `δ = 512` for nearest and `δ = 16` otherwise (`round` is `cvRound`: ties to even);
//! * nearest: `sx = (X0 + adelta[x]) >> 10`;
//!   linear and cubic: `X = (X0 + adelta[x]) >> 5`, `sx = X >> 5`, and the low five bits of
//!   `X` and `Y` select one of 32×32 precomputed 16-bit weight sets (`INTER_REMAP_COEF_BITS = 15`);
//! * the weighted sum of the 2×2 or 4×4 neighbours, in integers, becomes the pixel
//!   `(sum + 2^14) >> 15`, saturated to 0..=255. Neighbours outside the source take the
//!   border value; a pixel whose neighbourhood lies entirely outside is the border value.
//!
//! The weight tables are built as OpenCV builds them (`initInterTab2D`): single-precision
//! 1-D coefficients (cubic with `A = -0.75`), products rounded to 16 bits, and the
//! adjustment that makes every set sum to exactly 2^15. OpenCV's SIMD variants of these
//! steps (SSE4.1/AVX2 block lines, `RemapVec_8u`) compute the same integers as its scalar
//! code, which is what this module follows. OpenCV 4.8 does not hand `warpAffine` to IPP
//! (`IPP_DISABLE_WARPAFFINE`, and the IPP-IW path only runs in the "not exact" mode, off
//! by default), so there is no second implementation to match.
//!
//! OpenCV stores source coordinates as 16-bit integers and rejects sources of 32767 or
//! more pixels per side. This module keeps the coordinates in 32 bits instead, which gives
//! identical results wherever OpenCV accepts the input (a saturated 16-bit coordinate is
//! outside such a source either way) and extends the warp to any image size; the
//! fixed-point positions wrap only beyond about 2^21 pixels, as OpenCV's 32-bit
//! intermediate values would.

use std::sync::OnceLock;

use super::error::ImgprocError;
use crate::image::{GrayImage, GrayView};

/// How source pixels are interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interpolation {
    /// Nearest neighbour (`INTER_NEAREST`).
    Nearest,
    /// Bilinear over 2×2 neighbours (`INTER_LINEAR`).
    Linear,
    /// Bicubic over 4×4 neighbours with `A = -0.75` (`INTER_CUBIC`).
    Cubic,
}

/// What the affine matrix maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MapDirection {
    /// The matrix maps source positions to destination positions; it is inverted
    /// internally (OpenCV's default).
    Forward,
    /// The matrix maps destination positions to source positions and is used as given
    /// (`WARP_INVERSE_MAP`).
    Inverse,
}

/// The value of source pixels outside the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Border {
    /// A constant value (`BORDER_CONSTANT` with this `borderValue`).
    Constant(u8),
}

/// Options of [`warp_affine`].
///
/// [`WarpOptions::default()`] is OpenCV's default call: [`Interpolation::Linear`],
/// [`MapDirection::Forward`], [`Border::Constant`]`(0)`.
///
/// # Examples
/// ```
/// use imgcluster::imgproc::{Border, Interpolation, MapDirection, WarpOptions};
///
/// let opts = WarpOptions::new(Interpolation::Cubic).direction(MapDirection::Inverse);
/// assert_eq!(opts.interpolation, Interpolation::Cubic);
/// assert_eq!(opts.border, Border::Constant(0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WarpOptions {
    /// How source pixels are interpolated.
    pub interpolation: Interpolation,
    /// Whether the matrix maps source → destination or destination → source.
    pub direction: MapDirection,
    /// The value of pixels outside the source.
    pub border: Border,
}

impl Default for WarpOptions {
    fn default() -> Self {
        Self::new(Interpolation::Linear)
    }
}

impl WarpOptions {
    /// Options with the given interpolation, [`MapDirection::Forward`] and
    /// [`Border::Constant`]`(0)`.
    pub fn new(interpolation: Interpolation) -> Self {
        Self {
            interpolation,
            direction: MapDirection::Forward,
            border: Border::Constant(0),
        }
    }

    /// Sets what the matrix maps.
    pub fn direction(mut self, direction: MapDirection) -> Self {
        self.direction = direction;
        self
    }

    /// Sets the value of pixels outside the source.
    pub fn border(mut self, border: Border) -> Self {
        self.border = border;
        self
    }
}

/// Warps `src` by the 2×3 affine matrix `m` into a new `dsize = (width, height)` image,
/// pixel for pixel as OpenCV 4.8's `cv::warpAffine` does for 8-bit single-channel images.
///
/// A destination pixel `(x, y)` samples the source at `m · (x, y, 1)` when
/// `opts.direction` is [`MapDirection::Inverse`], and at `m⁻¹ · (x, y, 1)` when it is
/// [`MapDirection::Forward`] (a singular matrix inverts to zero, as in OpenCV). Unlike
/// OpenCV, a zero `dsize` gives an empty image rather than meaning "same as the source",
/// and an empty source is allowed: every pixel then takes the border value.
///
/// The arithmetic is OpenCV's fixed point: source positions in 1/1024 pixel rounded
/// per row and per column, 32 sub-pixel steps, 16-bit interpolation weights summing to
/// 2^15 (cubic with `A = -0.75`), integer sums rounded back to 8 bits. OpenCV rejects
/// sources of 32767 or more pixels per side; here any size works, with results equal
/// to OpenCV's wherever OpenCV accepts the input. The work is single-threaded.
///
/// # Errors
/// [`ImgprocError::NonFiniteMatrix`] if an entry of `m` is NaN or infinite;
/// [`ImgprocError::ImageTooLarge`] if `width * height` overflows `usize`.
///
/// # Examples
/// Shift right by one pixel with nearest-neighbour sampling:
/// ```
/// use imgcluster::imgproc::{warp_affine, Interpolation, WarpOptions};
/// use imgcluster::GrayView;
///
/// let src = [1, 2, 3, 4, 5, 6];
/// let m = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]];
/// let opts = WarpOptions::new(Interpolation::Nearest);
/// let out = warp_affine(GrayView::new(3, 2, &src), &m, (3, 2), &opts)?;
/// assert_eq!(out.data(), &[0, 1, 2, 0, 4, 5]);
/// # Ok::<(), imgcluster::imgproc::ImgprocError>(())
/// ```
pub fn warp_affine(
    src: GrayView<'_>,
    m: &[[f64; 3]; 2],
    dsize: (usize, usize),
    opts: &WarpOptions,
) -> Result<GrayImage, ImgprocError> {
    let (width, height) = dsize;
    let len = width
        .checked_mul(height)
        .ok_or(ImgprocError::ImageTooLarge { width, height })?;
    check_finite(m)?;
    let mut data = vec![0; len];
    warp_checked(src, m, dsize, opts, &mut data);
    Ok(GrayImage::from_vec(width, height, data))
}

/// [`warp_affine`] into a caller's row-major `dst` buffer of `dsize.0 * dsize.1` bytes.
///
/// # Errors
/// [`ImgprocError::BufferSize`] if `dst` has the wrong length, and the errors of
/// [`warp_affine`].
///
/// # Examples
/// ```
/// use imgcluster::imgproc::{warp_affine_into, Interpolation, WarpOptions};
/// use imgcluster::GrayView;
///
/// let src = [10, 20, 30, 40];
/// let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
/// let mut dst = [0u8; 4];
/// let opts = WarpOptions::new(Interpolation::Cubic);
/// warp_affine_into(GrayView::new(2, 2, &src), &identity, (2, 2), &opts, &mut dst)?;
/// assert_eq!(dst, src);
/// # Ok::<(), imgcluster::imgproc::ImgprocError>(())
/// ```
pub fn warp_affine_into(
    src: GrayView<'_>,
    m: &[[f64; 3]; 2],
    dsize: (usize, usize),
    opts: &WarpOptions,
    dst: &mut [u8],
) -> Result<(), ImgprocError> {
    let (width, height) = dsize;
    let expected = width
        .checked_mul(height)
        .ok_or(ImgprocError::ImageTooLarge { width, height })?;
    if dst.len() != expected {
        return Err(ImgprocError::BufferSize {
            width,
            height,
            expected,
            actual: dst.len(),
        });
    }
    check_finite(m)?;
    warp_checked(src, m, dsize, opts, dst);
    Ok(())
}

fn check_finite(m: &[[f64; 3]; 2]) -> Result<(), ImgprocError> {
    for (row, r) in m.iter().enumerate() {
        for (col, &value) in r.iter().enumerate() {
            if !value.is_finite() {
                return Err(ImgprocError::NonFiniteMatrix { row, col, value });
            }
        }
    }
    Ok(())
}

/// Bits of the sub-pixel position (`INTER_BITS`).
const INTER_BITS: u32 = 5;
/// Sub-pixel positions per pixel (`INTER_TAB_SIZE`).
const INTER_TAB_SIZE: usize = 1 << INTER_BITS;
/// Fixed-point bits of the per-pixel position (`AB_BITS = max(10, INTER_BITS)`).
const AB_BITS: u32 = 10;
/// `AB_SCALE = 1 << AB_BITS`.
const AB_SCALE: f64 = (1 << AB_BITS) as f64;
/// Bits of the interpolation weights (`INTER_REMAP_COEF_BITS`).
const COEF_BITS: u32 = 15;
/// `INTER_REMAP_COEF_SCALE`: every weight set sums to this.
const COEF_SCALE: i32 = 1 << COEF_BITS;

/// `cvRound` on x86-64 (`cvtsd2si`): round half to even; NaN and values outside the
/// `i32` range give `i32::MIN` (the "integer indefinite" value), not a saturated one.
fn cv_round(v: f64) -> i32 {
    let r = v.round_ties_even();
    if (-2_147_483_648.0..=2_147_483_647.0).contains(&r) {
        r as i32
    } else {
        i32::MIN
    }
}

/// `saturate_cast<short>(float)`: `cvRound` then clamp to the `i16` range.
fn saturate_i16(v: f32) -> i16 {
    cv_round(f64::from(v)).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// The matrix as OpenCV uses it: row-major, inverted for [`MapDirection::Forward`] with
/// OpenCV's formula and operation order.
fn effective_matrix(m: &[[f64; 3]; 2], direction: MapDirection) -> [f64; 6] {
    let mut a = [m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]];
    if direction == MapDirection::Forward {
        let d = a[0] * a[4] - a[1] * a[3];
        let d = if d != 0.0 { 1.0 / d } else { 0.0 };
        let a11 = a[4] * d;
        let a22 = a[0] * d;
        a[0] = a11;
        a[1] *= -d;
        a[3] *= -d;
        a[4] = a22;
        let b1 = -a[0] * a[2] - a[1] * a[5];
        let b2 = -a[3] * a[2] - a[4] * a[5];
        a[2] = b1;
        a[5] = b2;
    }
    a
}

/// The 16-bit weight tables of OpenCV's `initInterTab2D`, indexed by
/// `(fy << INTER_BITS) | fx`.
struct Tables {
    linear: Vec<[i16; 4]>,
    cubic: Vec<[i16; 16]>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| Tables {
        linear: build_table::<2>(interpolate_linear)
            .chunks_exact(4)
            .map(|c| c.try_into().expect("chunk of 4"))
            .collect(),
        cubic: build_table::<4>(interpolate_cubic)
            .chunks_exact(16)
            .map(|c| c.try_into().expect("chunk of 16"))
            .collect(),
    })
}

/// `interpolateLinear`.
fn interpolate_linear(x: f32) -> [f32; 2] {
    [1.0 - x, x]
}

/// `interpolateCubic` in single precision, operation for operation.
fn interpolate_cubic(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let c0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let c1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    let c3 = 1.0 - c0 - c1 - c2;
    [c0, c1, c2, c3]
}

/// The fixed-point 2-D weights of `initInterTab2D` for a `K`×`K` kernel: products of the
/// 1-D coefficients rounded to `i16`, then the one adjustment that makes each set sum to
/// `COEF_SCALE`. The adjustment searches the entries `(K/2..K/2+2)²` relative to the set;
/// for `K = 2` that reaches into the next set, which OpenCV has not filled yet (zeros),
/// so the table keeps one zeroed set of slack at the end.
fn build_table<const K: usize>(coeffs: fn(f32) -> [f32; K]) -> Vec<i16> {
    let scale = 1.0f32 / INTER_TAB_SIZE as f32;
    let tab1d: Vec<[f32; K]> = (0..INTER_TAB_SIZE)
        .map(|i| coeffs(i as f32 * scale))
        .collect();
    let kk = K * K;
    let mut itab = vec![0i16; (INTER_TAB_SIZE * INTER_TAB_SIZE + 1) * kk];
    for i in 0..INTER_TAB_SIZE {
        for j in 0..INTER_TAB_SIZE {
            let base = (i * INTER_TAB_SIZE + j) * kk;
            let mut isum = 0i32;
            for k1 in 0..K {
                let vy = tab1d[i][k1];
                for k2 in 0..K {
                    let v = vy * tab1d[j][k2];
                    let iv = saturate_i16(v * COEF_SCALE as f32);
                    itab[base + k1 * K + k2] = iv;
                    isum += i32::from(iv);
                }
            }
            if isum != COEF_SCALE {
                let diff = isum - COEF_SCALE;
                let half = K / 2;
                let at = |k1: usize, k2: usize| base + k1 * K + k2;
                let (mut mk1, mut mk2, mut big1, mut big2) = (half, half, half, half);
                for k1 in half..half + 2 {
                    for k2 in half..half + 2 {
                        if itab[at(k1, k2)] < itab[at(mk1, mk2)] {
                            (mk1, mk2) = (k1, k2);
                        } else if itab[at(k1, k2)] > itab[at(big1, big2)] {
                            (big1, big2) = (k1, k2);
                        }
                    }
                }
                let idx = if diff < 0 {
                    at(big1, big2)
                } else {
                    at(mk1, mk2)
                };
                itab[idx] = (i32::from(itab[idx]) - diff) as i16;
            }
        }
    }
    itab.truncate(INTER_TAB_SIZE * INTER_TAB_SIZE * kk);
    itab
}

/// `FixedPtCast<int, uchar, 15>`: round the fixed-point sum and saturate to `u8`.
fn fixed_to_u8(sum: i32) -> u8 {
    ((sum + (1 << (COEF_BITS - 1))) >> COEF_BITS).clamp(0, 255) as u8
}

/// The source image with its size as signed numbers for bounds checks.
struct Source<'a> {
    data: &'a [u8],
    width: i64,
    height: i64,
}

impl Source<'_> {
    fn contains(&self, x: i64, y: i64) -> bool {
        (0..self.width).contains(&x) && (0..self.height).contains(&y)
    }

    /// The pixel at an in-bounds position.
    fn at(&self, x: i64, y: i64) -> u8 {
        self.data[(y * self.width + x) as usize]
    }

    fn get_or(&self, x: i64, y: i64, cval: u8) -> u8 {
        if self.contains(x, y) {
            self.at(x, y)
        } else {
            cval
        }
    }

    /// `remapNearest` with a constant border.
    fn nearest(&self, sx: i32, sy: i32, cval: u8) -> u8 {
        self.get_or(i64::from(sx), i64::from(sy), cval)
    }

    /// `remapBilinear` (8-bit, one channel) with a constant border. OpenCV's in-bounds
    /// path and border path compute the same sum whenever all four neighbours are inside.
    fn bilinear(&self, sx: i32, sy: i32, w: &[i16; 4], cval: u8) -> u8 {
        let (sx, sy) = (i64::from(sx), i64::from(sy));
        if sx >= self.width || sx + 1 < 0 || sy >= self.height || sy + 1 < 0 {
            return cval;
        }
        let v = |x, y| i32::from(self.get_or(x, y, cval));
        let sum = v(sx, sy) * i32::from(w[0])
            + v(sx + 1, sy) * i32::from(w[1])
            + v(sx, sy + 1) * i32::from(w[2])
            + v(sx + 1, sy + 1) * i32::from(w[3]);
        fixed_to_u8(sum)
    }

    /// `remapBicubic` (8-bit, one channel) with a constant border, both of OpenCV's
    /// paths: plain weighted sum inside, `cval·2^15 + Σ (S − cval)·w` over the in-bounds
    /// neighbours at the border.
    fn bicubic(&self, x: i32, y: i32, w: &[i16; 16], cval: u8) -> u8 {
        let (sx, sy) = (i64::from(x) - 1, i64::from(y) - 1);
        let sum = if (0..self.width - 3).contains(&sx) && (0..self.height - 3).contains(&sy) {
            let mut sum = 0i32;
            for r in 0..4 {
                let row = &self.data[((sy + r) * self.width + sx) as usize..][..4];
                for (c, &p) in row.iter().enumerate() {
                    sum += i32::from(p) * i32::from(w[r as usize * 4 + c]);
                }
            }
            sum
        } else {
            if sx >= self.width || sx + 4 <= 0 || sy >= self.height || sy + 4 <= 0 {
                return cval;
            }
            let cv = i32::from(cval);
            let mut sum = cv * COEF_SCALE;
            for r in 0..4 {
                let yi = sy + r;
                if !(0..self.height).contains(&yi) {
                    continue;
                }
                for c in 0..4 {
                    let xi = sx + c;
                    if (0..self.width).contains(&xi) {
                        let p = i32::from(self.at(xi, yi));
                        sum += (p - cv) * i32::from(w[(r * 4 + c) as usize]);
                    }
                }
            }
            sum
        };
        fixed_to_u8(sum)
    }
}

/// The warp proper; `m` is finite and `dst.len() == dsize.0 * dsize.1`.
fn warp_checked(
    src: GrayView<'_>,
    m: &[[f64; 3]; 2],
    dsize: (usize, usize),
    opts: &WarpOptions,
    dst: &mut [u8],
) {
    let (dw, dh) = dsize;
    if dw == 0 || dh == 0 {
        return;
    }
    let Border::Constant(cval) = opts.border;
    let a = effective_matrix(m, opts.direction);
    let source = Source {
        data: src.data(),
        width: src.width() as i64,
        height: src.height() as i64,
    };
    let adelta: Vec<i32> = (0..dw)
        .map(|x| cv_round(a[0] * x as f64 * AB_SCALE))
        .collect();
    let bdelta: Vec<i32> = (0..dw)
        .map(|x| cv_round(a[3] * x as f64 * AB_SCALE))
        .collect();
    let round_delta = match opts.interpolation {
        Interpolation::Nearest => 1 << (AB_BITS - 1),
        _ => (1 << AB_BITS) / INTER_TAB_SIZE as i32 / 2,
    };
    let tabs = match opts.interpolation {
        Interpolation::Nearest => None,
        _ => Some(tables()),
    };
    let sub_mask = INTER_TAB_SIZE as i32 - 1;
    for (y, row) in dst.chunks_exact_mut(dw).enumerate() {
        let yf = y as f64;
        let x0 = cv_round((a[1] * yf + a[2]) * AB_SCALE).wrapping_add(round_delta);
        let y0 = cv_round((a[4] * yf + a[5]) * AB_SCALE).wrapping_add(round_delta);
        let deltas = adelta.iter().zip(&bdelta);
        match (opts.interpolation, tabs) {
            (Interpolation::Linear, Some(t)) => {
                for (out, (&ad, &bd)) in row.iter_mut().zip(deltas) {
                    let xf = x0.wrapping_add(ad) >> (AB_BITS - INTER_BITS);
                    let yf = y0.wrapping_add(bd) >> (AB_BITS - INTER_BITS);
                    let alpha = ((yf & sub_mask) << INTER_BITS | (xf & sub_mask)) as usize;
                    *out =
                        source.bilinear(xf >> INTER_BITS, yf >> INTER_BITS, &t.linear[alpha], cval);
                }
            }
            (Interpolation::Cubic, Some(t)) => {
                for (out, (&ad, &bd)) in row.iter_mut().zip(deltas) {
                    let xf = x0.wrapping_add(ad) >> (AB_BITS - INTER_BITS);
                    let yf = y0.wrapping_add(bd) >> (AB_BITS - INTER_BITS);
                    let alpha = ((yf & sub_mask) << INTER_BITS | (xf & sub_mask)) as usize;
                    *out =
                        source.bicubic(xf >> INTER_BITS, yf >> INTER_BITS, &t.cubic[alpha], cval);
                }
            }
            _ => {
                for (out, (&ad, &bd)) in row.iter_mut().zip(deltas) {
                    let sx = x0.wrapping_add(ad) >> AB_BITS;
                    let sy = y0.wrapping_add(bd) >> AB_BITS;
                    *out = source.nearest(sx, sy, cval);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDENTITY: [[f64; 3]; 2] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    const ALL: [Interpolation; 3] = [
        Interpolation::Nearest,
        Interpolation::Linear,
        Interpolation::Cubic,
    ];

    #[test]
    fn defaults_are_opencv_defaults() {
        let d = WarpOptions::default();
        assert_eq!(d.interpolation, Interpolation::Linear);
        assert_eq!(d.direction, MapDirection::Forward);
        assert_eq!(d.border, Border::Constant(0));
        assert_eq!(
            WarpOptions::new(Interpolation::Cubic).direction,
            MapDirection::Forward
        );
    }

    #[test]
    fn cv_round_is_ties_to_even_with_indefinite_overflow() {
        assert_eq!(cv_round(0.5), 0);
        assert_eq!(cv_round(1.5), 2);
        assert_eq!(cv_round(-2.5), -2);
        assert_eq!(cv_round(2_147_483_647.4), i32::MAX);
        assert_eq!(cv_round(2_147_483_647.5), i32::MIN);
        assert_eq!(cv_round(-2_147_483_648.5), i32::MIN);
        assert_eq!(cv_round(f64::NAN), i32::MIN);
    }

    #[test]
    fn weight_sets_sum_to_one() {
        let t = tables();
        for w in &t.linear {
            assert_eq!(w.iter().map(|&v| i32::from(v)).sum::<i32>(), COEF_SCALE);
        }
        for w in &t.cubic {
            assert_eq!(w.iter().map(|&v| i32::from(v)).sum::<i32>(), COEF_SCALE);
        }
        // The integer position: 1.0 saturates to 32767 and the missing unit goes to the
        // first entry of the adjustment window ((1,1) for linear, (2,2) for cubic).
        assert_eq!(t.linear[0], [32767, 0, 0, 1]);
        let mut cubic0 = [0i16; 16];
        cubic0[5] = 32767;
        cubic0[10] = 1;
        assert_eq!(t.cubic[0], cubic0);
        // Half-way: 0.5·0.5 = 8192 each.
        assert_eq!(t.linear[16 * 32 + 16], [8192; 4]);
    }

    #[test]
    fn cubic_coefficients_at_known_points() {
        assert_eq!(interpolate_cubic(0.0), [0.0, 1.0, 0.0, 0.0]);
        let h = interpolate_cubic(0.5);
        assert_eq!(h, [-0.09375, 0.59375, 0.59375, -0.09375]);
    }

    #[test]
    fn identity_returns_input_for_every_interpolation_and_direction() {
        let img: Vec<u8> = (0..35).map(|i| (i * 53 % 256) as u8).collect();
        let src = GrayView::new(7, 5, &img);
        for interp in ALL {
            for dir in [MapDirection::Forward, MapDirection::Inverse] {
                let opts = WarpOptions::new(interp).direction(dir);
                let out = warp_affine(src, &IDENTITY, (7, 5), &opts).unwrap();
                assert_eq!(out.data(), &img[..], "{interp:?} {dir:?}");
            }
        }
    }

    #[test]
    fn integer_translation_with_nearest() {
        let img: Vec<u8> = (1..=12).collect();
        let src = GrayView::new(4, 3, &img);
        let m = [[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]];
        let fwd = WarpOptions::new(Interpolation::Nearest).border(Border::Constant(99));
        let out = warp_affine(src, &m, (4, 3), &fwd).unwrap();
        // dst(x, y) = src(x - 2, y + 1).
        assert_eq!(out.data(), &[99, 99, 5, 6, 99, 99, 9, 10, 99, 99, 99, 99]);
        let inv = fwd.direction(MapDirection::Inverse);
        let out = warp_affine(src, &m, (4, 3), &inv).unwrap();
        // dst(x, y) = src(x + 2, y - 1).
        assert_eq!(out.data(), &[99, 99, 99, 99, 3, 4, 99, 99, 7, 8, 99, 99]);
    }

    #[test]
    fn half_pixel_shift_with_linear_averages() {
        let src = [0, 100, 200, 50];
        let m = [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]];
        let opts = WarpOptions::new(Interpolation::Linear)
            .direction(MapDirection::Inverse)
            .border(Border::Constant(0));
        let out = warp_affine(GrayView::new(4, 1, &src), &m, (4, 1), &opts).unwrap();
        // The last pixel mixes 50 with the border 0.
        assert_eq!(out.data(), &[50, 150, 125, 25]);
    }

    #[test]
    fn empty_source_gives_border_and_zero_dsize_gives_empty() {
        let opts = WarpOptions::new(Interpolation::Cubic).border(Border::Constant(7));
        let out = warp_affine(GrayView::new(0, 0, &[]), &IDENTITY, (3, 2), &opts).unwrap();
        assert_eq!(out.data(), &[7; 6]);
        let out = warp_affine(GrayView::new(2, 1, &[1, 2]), &IDENTITY, (0, 4), &opts).unwrap();
        assert_eq!((out.width(), out.height()), (0, 4));
    }

    #[test]
    fn errors_carry_data() {
        let src = GrayView::new(1, 1, &[5]);
        let bad = [[1.0, f64::NAN, 0.0], [0.0, 1.0, 0.0]];
        let opts = WarpOptions::default();
        match warp_affine(src, &bad, (1, 1), &opts) {
            Err(ImgprocError::NonFiniteMatrix { row: 0, col: 1, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
        let mut small = [0u8; 3];
        let err = warp_affine_into(src, &IDENTITY, (2, 2), &opts, &mut small).unwrap_err();
        assert_eq!(
            err,
            ImgprocError::BufferSize {
                width: 2,
                height: 2,
                expected: 4,
                actual: 3
            }
        );
        let err = warp_affine(src, &IDENTITY, (usize::MAX, 2), &opts).unwrap_err();
        assert!(matches!(err, ImgprocError::ImageTooLarge { .. }));
    }

    #[test]
    fn extreme_matrices_do_not_panic() {
        let img = [1u8, 2, 3, 4];
        let src = GrayView::new(2, 2, &img);
        for interp in ALL {
            for m in [
                [[1e300, -1e300, 1e300], [1e-300, 0.0, -1e300]],
                [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]],
                [[3e6, 0.0, -5e5], [0.0, -2e6, 7e5]],
            ] {
                for dir in [MapDirection::Forward, MapDirection::Inverse] {
                    let opts = WarpOptions::new(interp).direction(dir);
                    warp_affine(src, &m, (5, 3), &opts).unwrap();
                }
            }
        }
    }
}
