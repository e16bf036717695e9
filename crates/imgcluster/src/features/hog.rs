//! Histograms of oriented gradients (HOG): a descriptor of the stroke directions in each
//! region of an image.
//!
//! For every pixel the gradient comes from 3×3 Sobel filters (border: reflect-101, as
//! OpenCV's default), its magnitude is the weight and its orientation picks the
//! histogram bins. Each cell of a `rows × cols` grid collects the weighted orientations
//! of its pixels, and the concatenated histograms are normalised as a whole. The options
//! are [`HogOptions`]; [`HogSpec::new`] checks them against an image size once, and
//! [`HogSpec::compute_into`] and [`hog_features`] trust the spec.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::FeaturesError;
use crate::dataset::{Dataset, Pixels};
use crate::threads::Threads;

/// How many cells the image is divided into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cells {
    /// The size-aware rule: `min(6, H / 2)` rows and `min(6, W / 2)` columns of cells
    /// (8×8 images get 4×4 cells, 20×20 and 28×28 images 6×6).
    #[default]
    Auto,
    /// Exactly `rows × cols` cells.
    Fixed {
        /// Cells along the height.
        rows: usize,
        /// Cells along the width.
        cols: usize,
    },
}

/// Which gradient directions are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    /// Directions over the full circle `0..2π`: a dark-to-bright edge and a bright-to-dark
    /// edge of the same line fall in opposite bins.
    #[default]
    Signed,
    /// Directions modulo `π`: the two sides of a stroke fall in the same bin.
    Unsigned,
}

/// How an orientation is assigned to bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binning {
    /// Split between the two nearest bin centres (bin `b` is centred on `(b + 0.5)` bin
    /// widths), with weights falling linearly with the distance; wraps around the circle.
    #[default]
    Linear,
    /// The whole weight to the bin the orientation falls in (`floor(bins · θ / range)`),
    /// as OpenCV's digits sample does.
    Nearest,
}

/// How pixels are pooled into cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Separable tent (bilinear) weights: along a side of `L` pixels with `g` cells, cell
    /// `i` is centred at `(i + 0.5)·L/g` and pixel `p` (centre `p + 0.5`) gets weight
    /// `max(0, 1 − |p + 0.5 − centre| / (L/g))`; the weight of a pixel in a cell is the
    /// product of its row and column weights. Neighbouring cells overlap, so a stroke that
    /// moves by a pixel changes the descriptor smoothly.
    #[default]
    Tent,
    /// Disjoint cells: pixel `p` belongs to cell `min(p·g/L, g − 1)` with weight 1.
    Hard,
}

/// How a descriptor (or another feature vector) is normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalize {
    /// The whole vector: divided by its sum (L1), square-rooted, divided by its Euclidean
    /// norm (L2). Euclidean distances between such vectors follow the Hellinger distance
    /// between the histograms. All-zero vectors stay zero.
    #[default]
    Hellinger,
    /// Each cell's histogram divided by its own sum, then the square root, then the
    /// whole vector divided by its Euclidean norm (OpenCV's digits sample).
    CellHellinger,
    /// The whole vector divided by its Euclidean norm.
    L2,
    /// No normalisation.
    None,
}

/// Unchecked HOG options; [`HogSpec::new`] validates them for an image size.
///
/// # Examples
/// ```
/// use imgcluster::features::{Cells, HogOptions, HogSpec};
///
/// let spec = HogSpec::new(20, 20, &HogOptions::new())?;
/// assert_eq!((spec.cells(), spec.bins(), spec.len()), ((6, 6), 12, 432));
/// // An 8×8 image is upscaled to 16×16 first (see `HogOptions::min_side`).
/// let spec = HogSpec::new(8, 8, &HogOptions::new())?;
/// assert_eq!((spec.upscale(), spec.cells()), (2, (6, 6)));
/// let spec = HogSpec::new(8, 8, &HogOptions::new().min_side(None))?;
/// assert_eq!((spec.upscale(), spec.cells()), (1, (4, 4)));
/// let spec = HogSpec::new(20, 20, &HogOptions::new().cells(Cells::Fixed { rows: 2, cols: 2 }).bins(16))?;
/// assert_eq!(spec.len(), 64);
/// # Ok::<(), imgcluster::features::FeaturesError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HogOptions {
    #[serde(default)]
    min_side: Option<usize>,
    cells: Cells,
    bins: usize,
    orientation: Orientation,
    binning: Binning,
    pooling: Pooling,
    normalize: Normalize,
}

impl Default for HogOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl HogOptions {
    /// The options of the `best` pipeline: images brought to a smaller side of at least
    /// 16 pixels ([`HogOptions::min_side`]), [`Cells::Auto`], 12 bins,
    /// [`Orientation::Signed`], [`Binning::Linear`], [`Pooling::Tent`],
    /// [`Normalize::Hellinger`].
    pub fn new() -> Self {
        Self {
            min_side: Some(DEFAULT_MIN_SIDE),
            cells: Cells::Auto,
            bins: 12,
            orientation: Orientation::Signed,
            binning: Binning::Linear,
            pooling: Pooling::Tent,
            normalize: Normalize::Hellinger,
        }
    }

    /// The HOG of OpenCV's digits sample: 2×2 cells, 16 signed bins, [`Binning::Nearest`],
    /// [`Pooling::Hard`], [`Normalize::CellHellinger`].
    pub fn opencv_sample() -> Self {
        Self {
            min_side: None,
            cells: Cells::Fixed { rows: 2, cols: 2 },
            bins: 16,
            orientation: Orientation::Signed,
            binning: Binning::Nearest,
            pooling: Pooling::Hard,
            normalize: Normalize::CellHellinger,
        }
    }

    /// Sets the smallest side the gradients are taken at: an image whose smaller side `s`
    /// is under `m` pixels is first upscaled by the whole factor `⌈m / s⌉` along both axes
    /// with cubic interpolation ([`upscale_cubic`]); `None` (or `Some(0)`) takes the
    /// gradients at the given size.
    ///
    /// Why: the 3×3 Sobel filters see a stroke of a small image as one or two pixels of
    /// gradient, so the orientation of a curve is sampled too coarsely to tell its shape;
    /// at 16 pixels a stroke spans several filter positions. Cubic rather than linear
    /// interpolation keeps the curvature between samples, so the upscaled strokes bend
    /// smoothly instead of along the pixel grid. A whole factor keeps every source pixel
    /// on the output grid's period, the same for every image size.
    pub fn min_side(mut self, min_side: Option<usize>) -> Self {
        self.min_side = min_side;
        self
    }

    /// The smallest side the gradients are taken at ([`HogOptions::min_side`]).
    pub fn get_min_side(&self) -> Option<usize> {
        self.min_side
    }

    /// Sets the cell grid.
    pub fn cells(mut self, cells: Cells) -> Self {
        self.cells = cells;
        self
    }

    /// Sets the number of orientation bins (at least 1).
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// Sets signed or unsigned orientations.
    pub fn orientation(mut self, orientation: Orientation) -> Self {
        self.orientation = orientation;
        self
    }

    /// Sets how orientations are assigned to bins.
    pub fn binning(mut self, binning: Binning) -> Self {
        self.binning = binning;
        self
    }

    /// Sets how pixels are pooled into cells.
    pub fn pooling(mut self, pooling: Pooling) -> Self {
        self.pooling = pooling;
        self
    }

    /// Sets the normalisation of the descriptor.
    pub fn normalize(mut self, normalize: Normalize) -> Self {
        self.normalize = normalize;
        self
    }

    /// The checks of [`HogSpec::new`] that do not depend on the image size.
    pub(crate) fn check_shape_free(&self) -> Result<(), FeaturesError> {
        if self.bins == 0 {
            return Err(FeaturesError::InvalidParam {
                name: "bins",
                reason: "at least one orientation bin is needed".into(),
            });
        }
        if let Cells::Fixed { rows, cols } = self.cells
            && (rows == 0 || cols == 0)
        {
            return Err(FeaturesError::InvalidParam {
                name: "cells",
                reason: format!("{rows}x{cols} cells"),
            });
        }
        Ok(())
    }
}

/// The smallest side of the gradients in [`HogOptions::new`].
pub const DEFAULT_MIN_SIDE: usize = 16;

/// The upscale factor for a `height × width` image so that its smaller side reaches
/// `min_side`: `⌈min_side / min(height, width)⌉`, at least 1.
fn upscale_factor(height: usize, width: usize, min_side: Option<usize>) -> usize {
    let side = height.min(width).max(1);
    match min_side {
        Some(m) if m > side => m.div_ceil(side),
        _ => 1,
    }
}

/// Keys' cubic kernel with `a = −0.75`, OpenCV's `INTER_CUBIC`.
fn cubic_weights(t: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let w0 = ((A * (t + 1.0) - 5.0 * A) * (t + 1.0) + 8.0 * A) * (t + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
    let w2 = ((A + 2.0) * (1.0 - t) - (A + 3.0)) * (1.0 - t) * (1.0 - t) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

/// Upscales one axis of `len` samples by the whole factor `f`: output `o` samples the
/// source at `(o + 0.5) / f − 0.5` (pixel centres aligned, as `cv2.resize`), with
/// [`cubic_weights`] over four source samples, the edge sample repeated beyond the border.
fn upscale_axis(src: &[f32], stride: usize, len: usize, f: usize, out: &mut [f32], ostride: usize) {
    for o in 0..len * f {
        let x = (o as f32 + 0.5) / f as f32 - 0.5;
        let i0 = x.floor();
        let w = cubic_weights(x - i0);
        let i0 = i0 as isize;
        let mut acc = 0.0f32;
        for (t, wt) in w.iter().enumerate() {
            let i = (i0 - 1 + t as isize).clamp(0, len as isize - 1) as usize;
            acc += wt * src[i * stride];
        }
        out[o * ostride] = acc;
    }
}

/// The `height × width` image `img` upscaled by the whole factor `f` along both axes with
/// cubic interpolation (Keys, `a = −0.75`, as OpenCV's `INTER_CUBIC`; pixel centres
/// aligned; edge pixels repeated): `height·f × width·f` values in `f32`, not rounded.
///
/// # Panics
/// Panics if `img` does not hold `height × width` values or `f == 0`.
///
/// # Examples
/// A constant image stays constant; a whole factor of 1 copies.
/// ```
/// use imgcluster::features::upscale_cubic;
///
/// let up = upscale_cubic(&[7u8; 4], 2, 2, 3);
/// assert_eq!(up.len(), 36);
/// assert!(up.iter().all(|v| (v - 7.0).abs() < 1e-5));
/// assert_eq!(upscale_cubic(&[1u8, 2, 3, 4], 2, 2, 1), [1.0, 2.0, 3.0, 4.0]);
/// ```
pub fn upscale_cubic<P: Copy + Into<f32>>(
    img: &[P],
    height: usize,
    width: usize,
    f: usize,
) -> Vec<f32> {
    assert_eq!(img.len(), height * width, "image of {height}x{width}");
    assert!(f > 0, "upscale factor 0");
    let src: Vec<f32> = img.iter().map(|&v| v.into()).collect();
    if f == 1 {
        return src;
    }
    let (h2, w2) = (height * f, width * f);
    // Rows first (each source row widened), then columns.
    let mut wide = vec![0.0f32; height * w2];
    for y in 0..height {
        upscale_axis(&src[y * width..], 1, width, f, &mut wide[y * w2..], 1);
    }
    let mut out = vec![0.0f32; h2 * w2];
    for x in 0..w2 {
        upscale_axis(&wide[x..], w2, height, f, &mut out[x..], w2);
    }
    out
}

/// The cells one pixel row (or column) contributes to, with their weights.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Taps {
    len: usize,
    cell: [usize; 3],
    weight: [f32; 3],
}

impl Taps {
    fn iter(&self) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.cell[..self.len]
            .iter()
            .copied()
            .zip(self.weight[..self.len].iter().copied())
    }
}

/// Pooling taps of each of the `len` pixels along one side with `cells` cells.
fn taps(len: usize, cells: usize, pooling: Pooling) -> Vec<Taps> {
    (0..len)
        .map(|p| {
            let mut t = Taps::default();
            match pooling {
                Pooling::Hard => {
                    t.len = 1;
                    t.cell[0] = (p * cells / len).min(cells - 1);
                    t.weight[0] = 1.0;
                }
                Pooling::Tent => {
                    let width = len as f64 / cells as f64;
                    let centre = p as f64 + 0.5;
                    for c in 0..cells {
                        let w = 1.0 - (centre - (c as f64 + 0.5) * width).abs() / width;
                        // A tent of half-width one cell overlaps at most three cells
                        // (two unless the pixel sits exactly on a cell centre).
                        if w > 0.0 && t.len < 3 {
                            t.cell[t.len] = c;
                            t.weight[t.len] = w as f32;
                            t.len += 1;
                        }
                    }
                }
            }
            t
        })
        .collect()
}

/// HOG options checked for one image size; [`HogSpec::compute_into`] and [`hog_features`]
/// use it.
///
/// The descriptor has `rows · cols · bins` values, cell by cell in row-major cell order,
/// bin by bin within a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct HogSpec {
    height: usize,
    width: usize,
    /// Whole upscale factor before the gradients (1: none).
    factor: usize,
    rows: usize,
    cols: usize,
    bins: usize,
    orientation: Orientation,
    binning: Binning,
    normalize: Normalize,
    row_taps: Vec<Taps>,
    col_taps: Vec<Taps>,
}

impl HogSpec {
    /// Checks `opts` for `height × width` images and resolves [`Cells::Auto`].
    ///
    /// # Errors
    /// [`FeaturesError::ImageTooSmall`] for images smaller than 2×2 (the gradient needs a
    /// neighbour on each side), [`FeaturesError::InvalidParam`] for zero bins or a cell
    /// grid with zero cells or more cells than pixels along a side.
    pub fn new(height: usize, width: usize, opts: &HogOptions) -> Result<Self, FeaturesError> {
        if height < 2 || width < 2 {
            return Err(FeaturesError::ImageTooSmall {
                stage: "HOG",
                height,
                width,
                min: 2,
            });
        }
        opts.check_shape_free()?;
        let factor = upscale_factor(height, width, opts.min_side);
        let (gh, gw) = (height * factor, width * factor);
        let (rows, cols) = match opts.cells {
            Cells::Auto => ((gh / 2).min(6), (gw / 2).min(6)),
            Cells::Fixed { rows, cols } => (rows, cols),
        };
        if rows == 0 || cols == 0 || rows > gh || cols > gw {
            return Err(FeaturesError::InvalidParam {
                name: "cells",
                reason: format!("{rows}x{cols} cells do not fit {gh}x{gw} images"),
            });
        }
        Ok(Self {
            height,
            width,
            factor,
            rows,
            cols,
            bins: opts.bins,
            orientation: opts.orientation,
            binning: opts.binning,
            normalize: opts.normalize,
            row_taps: taps(gh, rows, opts.pooling),
            col_taps: taps(gw, cols, opts.pooling),
        })
    }

    /// Values per descriptor: `rows · cols · bins`.
    pub fn len(&self) -> usize {
        self.rows * self.cols * self.bins
    }

    /// Always false: a descriptor has at least one value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The image size `(height, width)` this spec is for.
    pub fn image_shape(&self) -> (usize, usize) {
        (self.height, self.width)
    }

    /// The whole factor the images are upscaled by before the gradients (1: none).
    pub fn upscale(&self) -> usize {
        self.factor
    }

    /// The cell grid `(rows, cols)`.
    pub fn cells(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Orientation bins per cell.
    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The descriptor of one image (`height × width` values, row-major) into `out`
    /// (`self.len()` values). The pixel values may be on any scale.
    ///
    /// # Errors
    /// [`FeaturesError::Shape`] when `img` or `out` has the wrong length.
    ///
    /// # Examples
    /// A vertical edge: the gradient points along +x (angle 0), which lies between the
    /// last and the first of 12 signed bins, so those two share the weight.
    /// ```
    /// use imgcluster::features::{Cells, HogOptions, HogSpec};
    ///
    /// let img = [0u8, 0, 10, 10].repeat(4);
    /// let opts = HogOptions::new().min_side(None).cells(Cells::Fixed { rows: 1, cols: 1 });
    /// let spec = HogSpec::new(4, 4, &opts)?;
    /// let mut out = vec![0.0; spec.len()];
    /// spec.compute_into(&img, &mut out)?;
    /// let h = std::f32::consts::FRAC_1_SQRT_2;
    /// assert_eq!(out, [h, 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., h]);
    /// # Ok::<(), imgcluster::features::FeaturesError>(())
    /// ```
    pub fn compute_into<P: Copy + Into<f32>>(
        &self,
        img: &[P],
        out: &mut [f32],
    ) -> Result<(), FeaturesError> {
        let (h, w) = (self.height, self.width);
        if img.len() != h * w {
            return Err(FeaturesError::Shape {
                stage: "HOG input",
                len: img.len(),
                dims: h * w,
            });
        }
        if out.len() != self.len() {
            return Err(FeaturesError::Shape {
                stage: "HOG output",
                len: out.len(),
                dims: self.len(),
            });
        }
        out.fill(0.0);
        let up;
        let (img, h, w): (&[f32], usize, usize) = if self.factor > 1 {
            up = upscale_cubic(img, h, w, self.factor);
            (&up, h * self.factor, w * self.factor)
        } else {
            up = img.iter().map(|&v| v.into()).collect::<Vec<f32>>();
            (&up, h, w)
        };
        // The image with a one-pixel reflect-101 border, so the filters need no tests.
        let pw = w + 2;
        let mut pad = vec![0.0f32; pw * (h + 2)];
        for (py, prow) in pad.chunks_exact_mut(pw).enumerate() {
            let src = &img[reflect101(py as isize - 1, h) * w..][..w];
            for (px, v) in prow.iter_mut().enumerate() {
                *v = src[reflect101(px as isize - 1, w)];
            }
        }
        let bins = self.bins;
        let (range, scale) = match self.orientation {
            Orientation::Signed => (std::f32::consts::TAU, bins as f32 / std::f32::consts::TAU),
            Orientation::Unsigned => (std::f32::consts::PI, bins as f32 / std::f32::consts::PI),
        };
        for y in 0..h {
            let (r0, r1, r2) = (
                &pad[y * pw..][..pw],
                &pad[(y + 1) * pw..][..pw],
                &pad[(y + 2) * pw..][..pw],
            );
            for x in 0..w {
                let gx = (r0[x + 2] - r0[x]) + 2.0 * (r1[x + 2] - r1[x]) + (r2[x + 2] - r2[x]);
                let gy = (r2[x] - r0[x]) + 2.0 * (r2[x + 1] - r0[x + 1]) + (r2[x + 2] - r0[x + 2]);
                let mag = (gx * gx + gy * gy).sqrt();
                if mag == 0.0 {
                    continue;
                }
                let mut angle = full_angle(gy, gx);
                if angle >= range {
                    angle -= range;
                }
                let t = angle * scale;
                let ((b0, m0), (b1, m1)) = match self.binning {
                    Binning::Linear => {
                        let u = t - 0.5;
                        let f = u.floor();
                        let w1 = u - f;
                        let b0 = (f as i64).rem_euclid(bins as i64) as usize;
                        ((b0, mag * (1.0 - w1)), ((b0 + 1) % bins, mag * w1))
                    }
                    Binning::Nearest => (((t as usize) % bins, mag), (0, 0.0)),
                };
                for (cy, wy) in self.row_taps[y].iter() {
                    for (cx, wx) in self.col_taps[x].iter() {
                        let wgt = wy * wx;
                        let cell = &mut out[(cy * self.cols + cx) * bins..][..bins];
                        cell[b0] += wgt * m0;
                        if m1 != 0.0 {
                            cell[b1] += wgt * m1;
                        }
                    }
                }
            }
        }
        normalize_in_place(out, bins, self.normalize);
        Ok(())
    }

    /// The descriptor of one image, allocated.
    ///
    /// # Errors
    /// As [`HogSpec::compute_into`].
    pub fn compute<P: Copy + Into<f32>>(&self, img: &[P]) -> Result<Vec<f32>, FeaturesError> {
        let mut out = vec![0.0; self.len()];
        self.compute_into(img, &mut out)?;
        Ok(out)
    }
}

/// Coefficients of `atan(t) ≈ t · Σ_k c_k t^(2k)` on `0 ≤ t ≤ 1` (a minimax fit: error
/// below 4e-8 in exact arithmetic, below 1.4e-7 radians evaluated in `f32`).
const ATAN: [f32; 8] = [
    0.999_999_34,
    -0.333_298_6,
    0.199_465_66,
    -0.139_086_29,
    0.096_421_95,
    -0.055_912_29,
    0.021_862_93,
    -0.004_054_559,
];

/// The direction of `(x, y)` in `[0, 2π]`, for a non-zero vector: octant reduction and the
/// [`ATAN`] polynomial, in plain `f32` arithmetic, so it gives the same bits everywhere
/// (the C library's `atan2f` differs between platforms). Its error, about one unit in the
/// last place of `π/2`, moves no gradient to another bin except at bin borders.
fn full_angle(y: f32, x: f32) -> f32 {
    use std::f32::consts::{FRAC_PI_2, PI, TAU};
    let (ax, ay) = (x.abs(), y.abs());
    let (num, den) = if ay <= ax { (ay, ax) } else { (ax, ay) };
    let t = num / den;
    let u = t * t;
    let mut p = ATAN[7];
    for &c in ATAN[..7].iter().rev() {
        p = p * u + c;
    }
    let mut a = p * t;
    if ay > ax {
        a = FRAC_PI_2 - a;
    }
    if x < 0.0 {
        a = PI - a;
    }
    if y < 0.0 {
        a = TAU - a;
    }
    a
}

/// OpenCV's `BORDER_REFLECT_101` index for `i` in `-1..=n` (`n >= 2`).
fn reflect101(i: isize, n: usize) -> usize {
    if i < 0 {
        (-i) as usize
    } else if i as usize >= n {
        2 * n - 2 - i as usize
    } else {
        i as usize
    }
}

/// Normalises `v` as `how` says; `group` is the length of one cell's histogram (used by
/// [`Normalize::CellHellinger`]).
///
/// # Examples
/// ```
/// use imgcluster::features::{normalize_in_place, Normalize};
///
/// let mut v = [1.0, 0.0, 3.0, 0.0];
/// normalize_in_place(&mut v, 4, Normalize::Hellinger);
/// assert_eq!(v, [0.5, 0.0, 0.75f32.sqrt(), 0.0]);
/// let mut v = [3.0, 4.0];
/// normalize_in_place(&mut v, 2, Normalize::L2);
/// assert_eq!(v, [0.6, 0.8]);
/// ```
pub fn normalize_in_place(v: &mut [f32], group: usize, how: Normalize) {
    fn scale(v: &mut [f32], by: f32) {
        if by > 0.0 {
            v.iter_mut().for_each(|x| *x /= by);
        }
    }
    fn l2(v: &mut [f32]) {
        let n = v.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
        scale(v, n.sqrt() as f32);
    }
    match how {
        Normalize::None => {}
        Normalize::L2 => l2(v),
        Normalize::Hellinger => {
            let s = v.iter().map(|&x| f64::from(x)).sum::<f64>();
            scale(v, s as f32);
            v.iter_mut().for_each(|x| *x = x.max(0.0).sqrt());
            l2(v);
        }
        Normalize::CellHellinger => {
            for cell in v.chunks_mut(group.max(1)) {
                let s = cell.iter().map(|&x| f64::from(x)).sum::<f64>();
                scale(cell, s as f32);
            }
            v.iter_mut().for_each(|x| *x = x.max(0.0).sqrt());
            l2(v);
        }
    }
}

/// Images per parallel task in [`hog_features`].
const IMAGES_PER_TASK: usize = 64;

/// The HOG descriptor of every image of `ds` (N × `spec.len()`, row-major).
///
/// Images are processed independently on `threads`, so the result does not depend on the
/// thread count.
///
/// # Errors
/// [`FeaturesError::Dataset`] when `ds` does not hold images, [`FeaturesError::InvalidParam`]
/// when its images are not of the spec's size.
///
/// # Examples
/// ```
/// use imgcluster::dataset::grid;
/// use imgcluster::features::{hog_features, HogOptions, HogSpec};
/// use imgcluster::Threads;
///
/// let digits = grid::digits();
/// let spec = HogSpec::new(20, 20, &HogOptions::new())?;
/// let f = hog_features(&digits, &spec, Threads::Auto)?;
/// assert_eq!(f.len(), 5000 * 432);
/// # Ok::<(), imgcluster::features::FeaturesError>(())
/// ```
pub fn hog_features(
    ds: &Dataset,
    spec: &HogSpec,
    threads: Threads,
) -> Result<Vec<f32>, FeaturesError> {
    let shape = ds
        .image_shape()
        .ok_or_else(|| crate::dataset::DatasetError::NotImages(ds.describe()))?;
    if shape != spec.image_shape() {
        return Err(FeaturesError::InvalidParam {
            name: "HOG image size",
            reason: format!(
                "the spec is for {}x{} images, the data hold {}x{}",
                spec.height, spec.width, shape.0, shape.1
            ),
        });
    }
    let (d_in, d_out) = (ds.dims(), spec.len());
    let mut out = vec![0.0f32; ds.len() * d_out];
    fn run<P: Copy + Into<f32> + Sync>(
        spec: &HogSpec,
        src: &[P],
        out: &mut [f32],
        d_in: usize,
        d_out: usize,
    ) -> Result<(), FeaturesError> {
        out.par_chunks_mut(d_out * IMAGES_PER_TASK)
            .zip(src.par_chunks(d_in * IMAGES_PER_TASK))
            .try_for_each(|(dst, src)| {
                dst.chunks_mut(d_out)
                    .zip(src.chunks(d_in))
                    .try_for_each(|(o, i)| spec.compute_into(i, o))
            })
    }
    threads.install(|| match ds.pixels() {
        Pixels::U8(v) => run(spec, v, &mut out, d_in, d_out),
        Pixels::F32(v) => run(spec, v, &mut out, d_in, d_out),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The options at the given image size (no upscale), for gradients by hand.
    fn at_size() -> HogOptions {
        HogOptions::new().min_side(None)
    }

    fn one_cell() -> HogOptions {
        at_size()
            .cells(Cells::Fixed { rows: 1, cols: 1 })
            .normalize(Normalize::None)
    }

    #[test]
    fn defaults_are_the_best_pipelines() {
        let o = HogOptions::new();
        assert_eq!(o, HogOptions::default());
        assert_eq!(o.cells, Cells::Auto);
        assert_eq!(o.bins, 12);
        assert_eq!(o.orientation, Orientation::Signed);
        assert_eq!(o.binning, Binning::Linear);
        assert_eq!(o.pooling, Pooling::Tent);
        assert_eq!(o.normalize, Normalize::Hellinger);
        assert_eq!(o.min_side, Some(16));
        let s = HogOptions::opencv_sample();
        assert_eq!(s.min_side, None);
        assert_eq!(s.cells, Cells::Fixed { rows: 2, cols: 2 });
        assert_eq!((s.bins, s.pooling), (16, Pooling::Hard));
    }

    #[test]
    fn auto_cells_follow_the_rule() {
        for (side, want) in [(2, 1), (3, 1), (8, 4), (11, 5), (12, 6), (20, 6), (28, 6)] {
            let s = HogSpec::new(side, side, &at_size()).unwrap();
            assert_eq!((s.upscale(), s.cells()), (1, (want, want)), "{side}");
        }
        let s = HogSpec::new(8, 28, &at_size()).unwrap();
        assert_eq!(s.cells(), (4, 6));
        // Upscaled first: the factor is ⌈16 / smaller side⌉, the cells follow the new size.
        for (side, factor) in [
            (2, 8),
            (3, 6),
            (5, 4),
            (8, 2),
            (11, 2),
            (15, 2),
            (16, 1),
            (20, 1),
        ] {
            let s = HogSpec::new(side, side, &HogOptions::new()).unwrap();
            assert_eq!((s.upscale(), s.cells()), (factor, (6, 6)), "{side}");
        }
        let s = HogSpec::new(8, 28, &HogOptions::new()).unwrap();
        assert_eq!(
            (s.upscale(), s.cells(), s.image_shape()),
            (2, (6, 6), (8, 28))
        );
        let s = HogSpec::new(3, 3, &HogOptions::new().min_side(Some(0))).unwrap();
        assert_eq!((s.upscale(), s.cells()), (1, (1, 1)));
    }

    /// The HOG of a small image is the HOG of its cubic upscale at the size reached.
    #[test]
    fn hog_of_an_upscaled_8x8_image() {
        let img: Vec<u8> = (0..64u32).map(|i| ((i * 53 + 7) % 256) as u8).collect();
        let small = HogSpec::new(8, 8, &HogOptions::new()).unwrap();
        let big = HogSpec::new(16, 16, &at_size()).unwrap();
        assert_eq!(small.len(), big.len());
        let up = upscale_cubic(&img, 8, 8, 2);
        assert_eq!(small.compute(&img).unwrap(), big.compute(&up).unwrap());
        // And it is not the HOG at the given size.
        let plain = HogSpec::new(8, 8, &at_size().cells(Cells::Fixed { rows: 6, cols: 6 }))
            .unwrap()
            .compute(&img)
            .unwrap();
        assert_ne!(small.compute(&img).unwrap(), plain);
    }

    /// Cubic upscaling against `cv2.resize(img.astype(np.float32), None, fx=f, fy=f,
    /// interpolation=cv2.INTER_CUBIC)`: an 8×8 image by 2 and its top-left 5×7 by 3
    /// (values from OpenCV, `tests/fixtures/opencv/make_fixtures.py`).
    #[test]
    fn cubic_upscale_matches_opencv_resize() {
        use crate::dataset::npy::{self, NpyData};
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/opencv");
        let read = |name: &str| {
            npy::read(&dir.join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
        };
        let img = read("upscale_input.npy");
        assert_eq!(img.shape, [8, 8]);
        let NpyData::U8(px) = img.data else {
            panic!("upscale_input.npy is not u8")
        };
        for (name, (h, w), f) in [("upscale_x2.npy", (8, 8), 2), ("upscale_x3.npy", (5, 7), 3)] {
            let want = read(name);
            assert_eq!(want.shape, [h * f, w * f], "{name}");
            let NpyData::F32(want) = want.data else {
                panic!("{name} is not f32")
            };
            let src: Vec<u8> = (0..h).flat_map(|y| px[y * 8..y * 8 + w].to_vec()).collect();
            let got = upscale_cubic(&src, h, w, f);
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 2e-3,
                    "{name} [{i}]: {a} against OpenCV's {b}"
                );
            }
        }
    }

    /// Cubic interpolation keeps constants, and pixel centres are aligned: the upscale
    /// of a mirrored image is the mirrored upscale.
    #[test]
    fn cubic_upscale_keeps_constants_and_mirrors() {
        assert!(upscale_cubic(&[9u8; 12], 3, 4, 5)
            .iter()
            .all(|&v| (v - 9.0).abs() < 1e-4));
        let (h, w, f) = (5, 7, 3);
        let img: Vec<u8> = (0..h * w).map(|i| ((i * 89 + 13) % 256) as u8).collect();
        let mirrored: Vec<u8> = (0..h * w)
            .map(|i| img[i / w * w + (w - 1 - i % w)])
            .collect();
        let (a, b) = (
            upscale_cubic(&img, h, w, f),
            upscale_cubic(&mirrored, h, w, f),
        );
        let wf = w * f;
        for (i, v) in a.iter().enumerate() {
            let m = b[i / wf * wf + (wf - 1 - i % wf)];
            assert!((v - m).abs() < 1e-3, "[{i}]: {v} against {m}");
        }
    }

    #[test]
    fn bad_options_are_rejected() {
        assert!(matches!(
            HogSpec::new(1, 5, &HogOptions::new()),
            Err(FeaturesError::ImageTooSmall { .. })
        ));
        assert!(matches!(
            HogSpec::new(4, 4, &HogOptions::new().bins(0)),
            Err(FeaturesError::InvalidParam { name: "bins", .. })
        ));
        for (rows, cols) in [(0, 1), (1, 0), (5, 1)] {
            let o = at_size().cells(Cells::Fixed { rows, cols });
            assert!(matches!(
                HogSpec::new(4, 4, &o),
                Err(FeaturesError::InvalidParam { name: "cells", .. })
            ));
        }
        let spec = HogSpec::new(4, 4, &HogOptions::new()).unwrap();
        assert!(spec.compute(&[0u8; 15]).is_err());
        assert!(spec.compute_into(&[0u8; 16], &mut [0.0; 3]).is_err());
    }

    /// Tent weights by hand: 4 pixels, 2 cells → centres 1 and 3, half-width 2.
    #[test]
    fn tent_taps_by_hand() {
        let t = taps(4, 2, Pooling::Tent);
        let got: Vec<Vec<(usize, f32)>> = t.iter().map(|t| t.iter().collect()).collect();
        assert_eq!(
            got,
            vec![
                vec![(0, 0.75)],
                vec![(0, 0.75), (1, 0.25)],
                vec![(0, 0.25), (1, 0.75)],
                vec![(1, 0.75)],
            ]
        );
        // One cell over 4 pixels: centre 2, half-width 4.
        let t = taps(4, 1, Pooling::Tent);
        let w: Vec<f32> = t.iter().map(|t| t.weight[0]).collect();
        assert_eq!(w, [0.625, 0.875, 0.875, 0.625]);
        let t = taps(5, 2, Pooling::Hard);
        let c: Vec<usize> = t.iter().map(|t| t.cell[0]).collect();
        assert_eq!(c, [0, 0, 0, 1, 1]); // p·2/5 = 0, 0, 0, 1, 1
    }

    /// A vertical edge (columns 0, 0, 10, 10): Sobel gx = 4·10 = 40 at columns 1 and 2,
    /// 0 at the reflected borders, gy = 0. Angle 0 sits half-way between bin 11 and bin 0.
    /// One tent cell: row weights sum to 3, column weights at x = 1, 2 are 0.875, so each
    /// of the two bins gets 3 · 2 · 0.875 · 40 / 2 = 105.
    #[test]
    fn vertical_edge_by_hand() {
        let img = [0u8, 0, 10, 10].repeat(4);
        let spec = HogSpec::new(4, 4, &one_cell()).unwrap();
        let f = spec.compute(&img).unwrap();
        let mut want = [0.0f32; 12];
        want[0] = 105.0;
        want[11] = 105.0;
        assert_eq!(f, want);
    }

    /// A horizontal edge (rows 0, 0, 10, 10): gy = 40, angle π/2 = 3 bin widths, which is
    /// the border between bins 2 and 3. Unsigned, it is 6 of 12 bin widths of π: bins 5, 6.
    /// The reversed edge points the other way (angle 3π/2): bins 8 and 9 when signed, the
    /// same bins 5 and 6 when unsigned. (The f32 angle is within an ulp of the border.)
    #[test]
    fn horizontal_edges_signed_and_unsigned() {
        let mut img = vec![0u8; 8];
        img.extend([10u8; 8]);
        let rev: Vec<u8> = img.iter().map(|&v| 10 - v).collect();
        let spec = HogSpec::new(4, 4, &one_cell()).unwrap();
        let uns = HogSpec::new(4, 4, &one_cell().orientation(Orientation::Unsigned)).unwrap();
        let check = |f: Vec<f32>, bins: [usize; 2]| {
            for (b, &v) in f.iter().enumerate() {
                let want = if bins.contains(&b) { 105.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-3, "bin {b}: {v} (want {want})");
            }
        };
        check(spec.compute(&img).unwrap(), [2, 3]);
        check(spec.compute(&rev).unwrap(), [8, 9]);
        check(uns.compute(&img).unwrap(), [5, 6]);
        check(uns.compute(&rev).unwrap(), [5, 6]);
    }

    /// Nearest binning puts angle π/2 (3.0 bin widths of 12) wholly in bin 3; hard pooling
    /// with 2×2 cells on a 4×4 image sends rows 1 (gy = 40 at x = 0..4) to the top cells
    /// and row 2 to the bottom cells: each cell gets 2 pixels of 40.
    #[test]
    fn nearest_binning_and_hard_cells() {
        let mut img = vec![0u8; 8];
        img.extend([10u8; 8]);
        let o = at_size()
            .cells(Cells::Fixed { rows: 2, cols: 2 })
            .binning(Binning::Nearest)
            .pooling(Pooling::Hard)
            .normalize(Normalize::None);
        let f = HogSpec::new(4, 4, &o).unwrap().compute(&img).unwrap();
        for cell in 0..4 {
            let mut want = [0.0f32; 12];
            want[3] = 80.0;
            assert_eq!(f[cell * 12..][..12], want, "cell {cell}");
        }
    }

    /// A diagonal step (bright where x + y >= 4 on a 4×4 image). At (y, x) = (1, 2) the 3×3
    /// neighbourhood is [0 0 0; 0 0 10; 0 10 10], so gx = 2·10 + 10 = 30 = gy: the angle is
    /// π/4 = 1.5 bin widths, bin 1's centre, and that pixel adds all its weight to bin 1.
    /// No gradient of this image leaves the first quadrant, i.e. bins 11, 0, 1, 2, 3.
    #[test]
    fn diagonal_gradient_lands_on_a_bin_centre() {
        let img: Vec<u8> = (0..16)
            .map(|i| if i % 4 + i / 4 >= 4 { 10 } else { 0 })
            .collect();
        let spec = HogSpec::new(4, 4, &one_cell()).unwrap();
        let f = spec.compute(&img).unwrap();
        let top = (0..12).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap();
        assert_eq!(top, 1, "{f:?}");
        assert!(f[4..11].iter().all(|&v| v == 0.0), "{f:?}");
    }

    #[test]
    fn full_angle_matches_atan2() {
        let mut worst = 0.0f64;
        for i in 0..2000 {
            let a = i as f64 * std::f64::consts::TAU / 2000.0 + 1e-3;
            for r in [1e-3, 1.0, 4080.0] {
                let (x, y) = ((r * a.cos()) as f32, (r * a.sin()) as f32);
                let want = f64::from(y)
                    .atan2(f64::from(x))
                    .rem_euclid(std::f64::consts::TAU);
                worst = worst.max((f64::from(full_angle(y, x)) - want).abs());
            }
        }
        assert!(worst < 1e-6, "{worst}");
        assert_eq!(full_angle(0.0, 1.0), 0.0);
        assert_eq!(full_angle(1.0, 0.0), std::f32::consts::FRAC_PI_2);
        assert_eq!(full_angle(0.0, -1.0), std::f32::consts::PI);
    }

    #[test]
    fn normalisations() {
        let mut v = [1.0f32, 3.0, 0.0, 0.0];
        normalize_in_place(&mut v, 2, Normalize::CellHellinger);
        let (a, b) = (0.25f32.sqrt(), 0.75f32.sqrt());
        let n = (a * a + b * b).sqrt();
        assert_eq!(v, [a / n, b / n, 0.0, 0.0]);
        let mut z = [0.0f32; 4];
        for how in [
            Normalize::Hellinger,
            Normalize::CellHellinger,
            Normalize::L2,
            Normalize::None,
        ] {
            normalize_in_place(&mut z, 2, how);
            assert_eq!(z, [0.0; 4]);
        }
    }

    #[test]
    fn blank_image_gives_zeros_and_scale_does_not_matter() {
        let spec = HogSpec::new(6, 6, &at_size()).unwrap();
        assert!(spec.compute(&[7u8; 36]).unwrap().iter().all(|&v| v == 0.0));
        let img: Vec<u8> = (0..36u32).map(|i| ((i * 37) % 101) as u8).collect();
        let scaled: Vec<f32> = img.iter().map(|&v| f32::from(v) / 255.0).collect();
        let a = spec.compute(&img).unwrap();
        let b = spec.compute(&scaled).unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-6, "{x} {y}");
        }
    }
}
