//! Image moments of an 8-bit grayscale image, equal to OpenCV 4.8's `cv::moments(img, false)`.
//!
//! For 8-bit images the OpenCV 4.8 wheels hand `cv::moments` to Intel IPP
//! (`ipp_moments`, `ippiMoments64f_8u_C1R` with `ippAlgHintAccurate`), so the reference
//! values come from IPP, not from OpenCV's own `completeMomentState`. The parts:
//!
//! * **Spatial moments** are sums of integers. They are accumulated as OpenCV does
//!   (32×32 tiles summed in integers, then shifted to the origin in `f64`), which gives
//!   the exact sums whenever they stay below 2^53, as for any 8-bit image up to about
//!   600×600 pixels; IPP returns the same exact sums (checked on
//!   the 5000 digit cells of the fixtures).
//! * **Central moments** use IPP's formulas, found by matching its output bit for bit:
//!   `cx = m10·(1/m00)`, `cy = m01·(1/m00)`, and, with `fma` a fused multiply-add,
//!   `mu20 = fma(-m10, cx, m20)`, `mu11 = fma(-m01, cx, m11)`, `mu02 = fma(-m01, cy, m02)`,
//!   `mu30 = fma(-cx, 3·m20 - 2·(cx·m10), m30)`,
//!   `mu21 = fma(-cx, fma(-2cx, m01, 2·m11), fma(-cy, m20, m21))`, and `mu12`, `mu03` as
//!   the mirror images of `mu21`, `mu30`. (OpenCV's own formulas, e.g.
//!   `mu11 = m11 - m10·cy` without fusing, differ from these in the last bits.)
//! * **Normalised moments** are `nu = mu·m00^-2` (second order) and `nu = mu·m00^-2.5`
//!   (third order), the factors computed in double-double arithmetic and so correctly
//!   rounded. IPP's power function is not always correctly rounded: when `m00^-e` lies
//!   within about 0.002 units in the last place of a rounding boundary, its factor, and
//!   so the `nu` values, can differ from these by one or two units in the last place
//!   (relative 3·10⁻¹⁶).
//!
//! An all-zero (or empty) image has all moments zero, as in OpenCV.

use crate::image::GrayView;

/// Side of the square tiles OpenCV accumulates in integers.
const TILE: usize = 32;

/// The 24 moments of an image, with OpenCV's names and meaning.
///
/// Spatial moments `mij = Σ x^i y^j I(x, y)`, central moments `muij` (about the
/// centroid `(m10/m00, m01/m00)`) and normalised central moments
/// `nuij = muij / m00^(1 + (i + j)/2)`. A black image has all moments zero.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Moments {
    /// Spatial moment m00 (the sum of the pixels).
    pub m00: f64,
    /// Spatial moment m10.
    pub m10: f64,
    /// Spatial moment m01.
    pub m01: f64,
    /// Spatial moment m20.
    pub m20: f64,
    /// Spatial moment m11.
    pub m11: f64,
    /// Spatial moment m02.
    pub m02: f64,
    /// Spatial moment m30.
    pub m30: f64,
    /// Spatial moment m21.
    pub m21: f64,
    /// Spatial moment m12.
    pub m12: f64,
    /// Spatial moment m03.
    pub m03: f64,
    /// Central moment mu20.
    pub mu20: f64,
    /// Central moment mu11.
    pub mu11: f64,
    /// Central moment mu02.
    pub mu02: f64,
    /// Central moment mu30.
    pub mu30: f64,
    /// Central moment mu21.
    pub mu21: f64,
    /// Central moment mu12.
    pub mu12: f64,
    /// Central moment mu03.
    pub mu03: f64,
    /// Normalised central moment nu20.
    pub nu20: f64,
    /// Normalised central moment nu11.
    pub nu11: f64,
    /// Normalised central moment nu02.
    pub nu02: f64,
    /// Normalised central moment nu30.
    pub nu30: f64,
    /// Normalised central moment nu21.
    pub nu21: f64,
    /// Normalised central moment nu12.
    pub nu12: f64,
    /// Normalised central moment nu03.
    pub nu03: f64,
}

impl Moments {
    /// The 24 values in OpenCV's order: m00, m10, m01, m20, m11, m02, m30, m21, m12, m03,
    /// mu20, mu11, mu02, mu30, mu21, mu12, mu03, nu20, nu11, nu02, nu30, nu21, nu12, nu03.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::imgproc::moments;
    /// use imgcluster::GrayView;
    ///
    /// let m = moments(GrayView::new(2, 1, &[0, 3]));
    /// assert_eq!(m.to_array()[..3], [3.0, 3.0, 0.0]);
    /// ```
    pub fn to_array(&self) -> [f64; 24] {
        [
            self.m00, self.m10, self.m01, self.m20, self.m11, self.m02, self.m30, self.m21,
            self.m12, self.m03, self.mu20, self.mu11, self.mu02, self.mu30, self.mu21, self.mu12,
            self.mu03, self.nu20, self.nu11, self.nu02, self.nu30, self.nu21, self.nu12, self.nu03,
        ]
    }
}

/// The moments of a grayscale image whose pixel values are the weights (OpenCV's
/// `cv::moments(img, binaryImage = false)`).
///
/// An empty or black image gives all-zero moments, as in OpenCV.
///
/// The values are those of the OpenCV 4.8 wheels, which pass 8-bit images to Intel IPP:
/// spatial moments are the exact sums (for sums below 2^53), central moments follow IPP's
/// fused multiply-add formulas bit for bit, and normalised moments multiply by correctly
/// rounded powers of `m00`, where IPP's own power function can differ by a unit in the
/// last place in rare near-tie cases (relative difference about 3·10⁻¹⁶).
///
/// # Examples
/// Two pixels, 1 at (0, 0) and 3 at (2, 2):
/// ```
/// use imgcluster::imgproc::moments;
/// use imgcluster::GrayView;
///
/// let img = [1, 0, 0, 0, 0, 0, 0, 0, 3];
/// let m = moments(GrayView::new(3, 3, &img));
/// assert_eq!((m.m00, m.m10, m.m01), (4.0, 6.0, 6.0));
/// assert_eq!((m.mu20, m.mu11, m.mu02), (3.0, 3.0, 3.0));
/// assert_eq!(m.nu30, -3.0 / 32.0);
/// ```
pub fn moments(img: GrayView<'_>) -> Moments {
    let (width, height) = (img.width(), img.height());
    let mut m = Moments::default();
    if width == 0 || height == 0 {
        return m;
    }
    let data = img.data();
    for y in (0..height).step_by(TILE) {
        let th = TILE.min(height - y);
        for x in (0..width).step_by(TILE) {
            let tw = TILE.min(width - x);
            let mom = tile_moments(data, width, x, y, tw, th);
            accumulate_tile(&mut m, &mom, x as f64, y as f64);
        }
    }
    complete_moment_state(&mut m);
    m
}

/// The ten spatial moments of one tile relative to its own corner (`momentsInTile`).
///
/// OpenCV accumulates these in 32-bit integers; for 8-bit pixels and 32×32 tiles every
/// sum stays below 2^31, so 64-bit accumulation gives the same integers.
fn tile_moments(
    data: &[u8],
    stride: usize,
    x0: usize,
    y0: usize,
    tw: usize,
    th: usize,
) -> [f64; 10] {
    let mut mom = [0i64; 10];
    for ty in 0..th {
        let row = &data[(y0 + ty) * stride + x0..][..tw];
        let (mut s0, mut s1, mut s2, mut s3) = (0i64, 0i64, 0i64, 0i64);
        for (tx, &p) in row.iter().enumerate() {
            let p = i64::from(p);
            let tx = tx as i64;
            let xp = tx * p;
            let xxp = xp * tx;
            s0 += p;
            s1 += xp;
            s2 += xxp;
            s3 += xxp * tx;
        }
        let ty = ty as i64;
        let py = ty * s0;
        let sy = ty * ty;
        mom[9] += py * sy; // m03
        mom[8] += s1 * sy; // m12
        mom[7] += s2 * ty; // m21
        mom[6] += s3; // m30
        mom[5] += s0 * sy; // m02
        mom[4] += s1 * ty; // m11
        mom[3] += s2; // m20
        mom[2] += py; // m01
        mom[1] += s1; // m10
        mom[0] += s0; // m00
    }
    mom.map(|v| v as f64)
}

/// Adds the moments of a tile whose corner is at `(x, y)` (OpenCV's formula and order).
fn accumulate_tile(m: &mut Moments, mom: &[f64; 10], x: f64, y: f64) {
    let xm = x * mom[0];
    let ym = y * mom[0];
    m.m00 += mom[0];
    m.m10 += mom[1] + xm;
    m.m01 += mom[2] + ym;
    m.m20 += mom[3] + x * (mom[1] * 2.0 + xm);
    m.m11 += mom[4] + x * (mom[2] + ym) + y * mom[1];
    m.m02 += mom[5] + y * (mom[2] * 2.0 + ym);
    m.m30 += mom[6] + x * (3.0 * mom[3] + x * (3.0 * mom[1] + xm));
    m.m21 += mom[7] + x * (2.0 * (mom[4] + y * mom[1]) + x * (mom[2] + ym)) + y * mom[3];
    m.m12 += mom[8] + y * (2.0 * (mom[4] + x * mom[2]) + y * (mom[1] + xm)) + x * mom[5];
    m.m03 += mom[9] + y * (3.0 * mom[5] + y * (3.0 * mom[2] + ym));
}

/// Central and normalised moments from the spatial ones, with IPP's formulas (see the
/// module documentation).
fn complete_moment_state(m: &mut Moments) {
    if m.m00 == 0.0 {
        // Pixels are non-negative, so m00 = 0 means a black image: every moment is zero.
        return;
    }
    let fma = f64::mul_add;
    let inv_m00 = 1.0 / m.m00;
    let cx = m.m10 * inv_m00;
    let cy = m.m01 * inv_m00;
    m.mu20 = fma(-m.m10, cx, m.m20);
    m.mu11 = fma(-m.m01, cx, m.m11);
    m.mu02 = fma(-m.m01, cy, m.m02);
    m.mu30 = fma(-cx, 3.0 * m.m20 - 2.0 * (cx * m.m10), m.m30);
    m.mu21 = fma(
        -cx,
        fma(-2.0 * cx, m.m01, 2.0 * m.m11),
        fma(-cy, m.m20, m.m21),
    );
    m.mu12 = fma(
        -cy,
        fma(-2.0 * cy, m.m10, 2.0 * m.m11),
        fma(-cx, m.m02, m.m12),
    );
    m.mu03 = fma(-cy, 3.0 * m.m02 - 2.0 * (cy * m.m01), m.m03);

    let s2 = inv_pow_2(m.m00);
    let s3 = inv_pow_2_5(m.m00);
    m.nu20 = m.mu20 * s2;
    m.nu11 = m.mu11 * s2;
    m.nu02 = m.mu02 * s2;
    m.nu30 = m.mu30 * s3;
    m.nu21 = m.mu21 * s3;
    m.nu12 = m.mu12 * s3;
    m.nu03 = m.mu03 * s3;
}

/// `x^-2` for `x > 0`, correctly rounded: `x²` as an exact double-double, then its
/// reciprocal with one correction step (relative error about 2^-100 before rounding).
fn inv_pow_2(x: f64) -> f64 {
    let p_hi = x * x;
    let p_lo = x.mul_add(x, -p_hi);
    recip_double_double(p_hi, p_lo)
}

/// `x^-2.5` for `x > 0`, correctly rounded: `x²·√x` in double-double, then the reciprocal.
fn inv_pow_2_5(x: f64) -> f64 {
    let s_hi = x.sqrt();
    let s_lo = (-s_hi).mul_add(s_hi, x) / (2.0 * s_hi);
    let p_hi = x * x;
    let p_lo = x.mul_add(x, -p_hi);
    let q_hi = p_hi * s_hi;
    let q_lo = p_hi.mul_add(s_hi, -q_hi) + (p_hi * s_lo + p_lo * s_hi);
    recip_double_double(q_hi, q_lo)
}

/// `1 / (hi + lo)` rounded to `f64`.
fn recip_double_double(hi: f64, lo: f64) -> f64 {
    let r = 1.0 / hi;
    let e = (-r).mul_add(hi, 1.0) - r * lo;
    r + r * e
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 3×3 image with a vertical bar at x = 1 (values 1, 2, 1), moments by hand:
    /// m00 = 4, m10 = 4, m01 = 0·1 + 1·2 + 2·1 = 4, m02 = 0 + 2 + 4 = 6, m03 = 0 + 2 + 8 = 10;
    /// centroid (1, 1); only mu02 = Σ (y-1)² p = 1 + 1 = 2 is non-zero.
    #[test]
    fn vertical_bar_by_hand() {
        let img = [0, 1, 0, 0, 2, 0, 0, 1, 0];
        let m = moments(GrayView::new(3, 3, &img));
        let spatial = [4.0, 4.0, 4.0, 4.0, 4.0, 6.0, 4.0, 4.0, 6.0, 10.0];
        assert_eq!(m.to_array()[..10], spatial);
        assert_eq!(m.to_array()[10..17], [0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(m.nu02, 2.0 / 16.0);
    }

    /// Two corner pixels (1 at (0,0), 3 at (2,2)): centroid (1.5, 1.5), every second
    /// central moment is 1·1.5² + 3·0.5² = 3, every third one 1·(-1.5)³ + 3·0.5³ = -3.
    #[test]
    fn two_corners_by_hand() {
        let img = [1, 0, 0, 0, 0, 0, 0, 0, 3];
        let m = moments(GrayView::new(3, 3, &img));
        assert_eq!(
            m.to_array()[..10],
            [4.0, 6.0, 6.0, 12.0, 12.0, 12.0, 24.0, 24.0, 24.0, 24.0]
        );
        assert_eq!(
            m.to_array()[10..17],
            [3.0, 3.0, 3.0, -3.0, -3.0, -3.0, -3.0]
        );
        assert_eq!([m.nu20, m.nu11, m.nu02], [3.0 / 16.0; 3]);
        assert_eq!([m.nu30, m.nu21, m.nu12, m.nu03], [-3.0 / 32.0; 4]);
    }

    #[test]
    fn normalising_powers_are_correctly_rounded() {
        assert_eq!(inv_pow_2(4.0), 0.0625);
        assert_eq!(inv_pow_2_5(4.0), 0.03125);
        assert_eq!(inv_pow_2_5(1.0), 1.0);
        // 1/x² is correctly rounded by a plain division while x² is exact.
        for x in [3.0, 7361.0, 16320.0, 101_999.0] {
            assert_eq!(inv_pow_2(x), 1.0 / (x * x), "{x}");
            let p = x.powf(-2.5);
            let ulps = (inv_pow_2_5(x).to_bits() as i64 - p.to_bits() as i64).abs();
            assert!(ulps <= 1, "{x}: {ulps} ulp from powf");
        }
    }

    #[test]
    fn empty_and_black_images_give_zeros() {
        assert_eq!(moments(GrayView::new(0, 5, &[])), Moments::default());
        assert_eq!(moments(GrayView::new(4, 4, &[0; 16])), Moments::default());
    }

    /// Images larger than one tile: the tiled sums equal a direct double sum (all values
    /// here are integers far below 2^53, so both are exact).
    #[test]
    fn tiles_match_direct_sums() {
        let (w, h) = (70, 45);
        let img: Vec<u8> = (0..w * h).map(|i| ((i * 37 + i / 7) % 256) as u8).collect();
        let m = moments(GrayView::new(w, h, &img));
        let mut direct = [0.0f64; 10];
        for y in 0..h {
            for x in 0..w {
                let p = f64::from(img[y * w + x]);
                let (xf, yf) = (x as f64, y as f64);
                let terms = [
                    1.0,
                    xf,
                    yf,
                    xf * xf,
                    xf * yf,
                    yf * yf,
                    xf * xf * xf,
                    xf * xf * yf,
                    xf * yf * yf,
                    yf * yf * yf,
                ];
                for (d, t) in direct.iter_mut().zip(terms) {
                    *d += t * p;
                }
            }
        }
        assert_eq!(m.to_array()[..10], direct);
    }
}
