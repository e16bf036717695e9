//! Bringing images of any size to one size.
//!
//! The rule, used by the image-folder loader and by prediction on image files: each axis is
//! resampled on its own (first rows, then columns, in `f32`), with
//!
//! * **area averaging** when the axis shrinks (or keeps its length): each output pixel is the
//!   mean of the source pixels it covers, weighted by the covered fraction — like OpenCV's
//!   `cv2.resize(..., interpolation=cv2.INTER_AREA)`; for whole-number factors it is exactly
//!   the mean of each block, rounded half up;
//! * **bilinear interpolation** when the axis grows: output pixel `i` samples the source at
//!   `(i + 0.5) * src / dst - 0.5` (pixel centres aligned), clamped to the edge pixels — like
//!   `cv2.INTER_LINEAR`.
//!
//! The result is rounded to the nearest integer (halves up). It matches OpenCV exactly for
//! same-size copies and whole-number area factors; elsewhere it may differ from OpenCV's
//! fixed-point arithmetic by one grey level.

use crate::image::{GrayImage, GrayView};

/// One output pixel along an axis: the first source index and the weights from there on.
struct Taps {
    start: usize,
    weights: Vec<f32>,
}

/// The resampling of one axis from `src` to `dst` pixels (both at least 1).
fn axis_taps(src: usize, dst: usize) -> Vec<Taps> {
    let scale = src as f64 / dst as f64;
    (0..dst)
        .map(|i| {
            if dst <= src {
                let (lo, hi) = (i as f64 * scale, (i + 1) as f64 * scale);
                let start = lo.floor() as usize;
                let end = (hi.ceil() as usize).min(src);
                let weights = (start..end)
                    .map(|j| {
                        let covered = hi.min((j + 1) as f64) - lo.max(j as f64);
                        (covered.max(0.0) / scale) as f32
                    })
                    .collect();
                Taps { start, weights }
            } else {
                let x = ((i as f64 + 0.5) * scale - 0.5).max(0.0);
                let j = x.floor() as usize;
                if j + 1 >= src {
                    Taps {
                        start: src - 1,
                        weights: vec![1.0],
                    }
                } else {
                    let f = (x - j as f64) as f32;
                    Taps {
                        start: j,
                        weights: vec![1.0 - f, f],
                    }
                }
            }
        })
        .collect()
}

/// Resizes an 8-bit gray image to `width × height` by the rule of this module (area averaging
/// on shrinking axes, bilinear on growing ones). A same-size resize returns a copy.
///
/// # Panics
/// Panics if `width` or `height` is zero, or the image is empty.
///
/// # Examples
/// ```
/// use imgcluster::GrayImage;
/// use imgcluster::dataset::resize::resize;
/// // 2x2 blocks are averaged when halving.
/// let img = GrayImage::from_vec(4, 2, vec![0, 10, 20, 20, 10, 21, 20, 20]);
/// assert_eq!(resize(img.view(), 2, 1).data(), &[10, 20]);
/// // Enlarging interpolates between pixel centres and repeats the edges.
/// let img = GrayImage::from_vec(2, 1, vec![0, 100]);
/// assert_eq!(resize(img.view(), 4, 1).data(), &[0, 25, 75, 100]);
/// ```
pub fn resize(img: GrayView<'_>, width: usize, height: usize) -> GrayImage {
    assert!(width > 0 && height > 0, "resize: empty target size");
    let (sw, sh) = (img.width(), img.height());
    assert!(sw > 0 && sh > 0, "resize: empty image");
    if (sw, sh) == (width, height) {
        return img.to_owned();
    }
    let src = img.data();
    let cols = axis_taps(sw, width);
    let rows = axis_taps(sh, height);
    // Horizontal pass: sh rows of `width` values.
    let mut tmp = vec![0f32; sh * width];
    for (y, out) in tmp.chunks_exact_mut(width).enumerate() {
        let row = &src[y * sw..(y + 1) * sw];
        for (o, t) in out.iter_mut().zip(&cols) {
            *o = t
                .weights
                .iter()
                .zip(&row[t.start..])
                .map(|(&w, &p)| w * f32::from(p))
                .sum();
        }
    }
    // Vertical pass.
    let mut out = vec![0u8; width * height];
    for (t, dst) in rows.iter().zip(out.chunks_exact_mut(width)) {
        for (x, d) in dst.iter_mut().enumerate() {
            let v: f32 = t
                .weights
                .iter()
                .enumerate()
                .map(|(k, &w)| w * tmp[(t.start + k) * width + x])
                .sum();
            *d = (v + 0.5).floor().clamp(0.0, 255.0) as u8;
        }
    }
    GrayImage::from_vec(width, height, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_size_is_a_copy() {
        let img = GrayImage::from_vec(3, 2, vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(resize(img.view(), 3, 2), img);
    }

    #[test]
    fn whole_factor_area_is_block_mean_rounded_half_up() {
        // Blocks of 2x2 with sums 2 (mean 0.5 -> 1) and 1 (0.25 -> 0).
        let img = GrayImage::from_vec(4, 2, vec![1, 0, 1, 0, 1, 0, 0, 0]);
        assert_eq!(resize(img.view(), 2, 1).data(), &[1, 0]);
        let img = GrayImage::from_vec(3, 3, (0..9).map(|v| v * 10).collect());
        assert_eq!(resize(img.view(), 1, 1).data(), &[40]);
    }

    #[test]
    fn fractional_area_weights_cover_the_source_once() {
        // 3 -> 2: weights (1, 0.5) and (0.5, 1), normalised by 1.5.
        let img = GrayImage::from_vec(3, 1, vec![0, 90, 180]);
        assert_eq!(resize(img.view(), 2, 1).data(), &[30, 150]);
        let flat = GrayImage::from_vec(7, 5, vec![200; 35]);
        assert!(resize(flat.view(), 3, 2).data().iter().all(|&v| v == 200));
    }

    #[test]
    fn enlarging_is_bilinear_with_clamped_edges() {
        let img = GrayImage::from_vec(1, 2, vec![0, 200]);
        assert_eq!(resize(img.view(), 1, 4).data(), &[0, 50, 150, 200]);
        let one = GrayImage::from_vec(1, 1, vec![77]);
        assert_eq!(resize(one.view(), 3, 2).data(), &[77; 6]);
    }

    #[test]
    fn mixed_axes() {
        // Width shrinks 4 -> 2 (area), height grows 1 -> 2 (bilinear, edges repeated).
        let img = GrayImage::from_vec(4, 1, vec![0, 20, 40, 60]);
        assert_eq!(resize(img.view(), 2, 2).data(), &[10, 50, 10, 50]);
    }
}
