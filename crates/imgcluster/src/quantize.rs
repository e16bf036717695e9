//! Colour quantization: k-means on the colours of an image, as in OpenCV's colour
//! quantization tutorial.
//!
//! The tutorial reads an image, reshapes it to N×3 `float32` pixels, runs
//! `cv2.kmeans(Z, K, None, (EPS + MAX_ITER, 10, 1.0), 10, KMEANS_RANDOM_CENTERS)`, converts
//! the centers with `np.uint8(center)` and paints every pixel with its center
//! (`center[label.flatten()]`). [`quantize`] does the same with [`crate::kmeans`]:
//!
//! * pixels are clustered in OpenCV's channel order (blue, green, red), so with the default
//!   parameters, OpenCV's default generator state and an image of at most
//!   [`QuantizeParams::max_samples`] pixels, the colours and labels are those of `cv2.kmeans`;
//! * centers become colours by truncation toward zero, as `np.uint8` converts them;
//! * larger images are subsampled for fitting (every `s`-th pixel in row-major order, with
//!   the smallest `s` that keeps at most `max_samples` pixels; no random numbers are drawn),
//!   then every pixel is assigned to its nearest center with the distance k-means uses.
//!
//! The result has at most K distinct colours.
//!
//! # Examples
//! ```
//! use imgcluster::quantize::{quantize, QuantizeParams, RgbImage};
//! use imgcluster::CvRng;
//! // Four reds and four blues, slightly different.
//! let px: Vec<u8> = (0..8u8)
//!     .flat_map(|i| if i < 4 { [200 + i, 0, 0] } else { [0, 0, 200 + i] })
//!     .collect();
//! let img = RgbImage::new(4, 2, px)?;
//! let params = QuantizeParams::new(2).check()?;
//! let q = quantize(&img, &params, &mut CvRng::opencv_default())?;
//! assert_eq!(q.distinct_colors(), 2);
//! assert_eq!(q.image.pixel(0, 0), [201, 0, 0]);
//! # Ok::<(), imgcluster::quantize::QuantizeError>(())
//! ```

use std::io::Cursor;

use crate::dataset::pngio::MAX_DECODED_BYTES;
use crate::kmeans::{self, CheckedKMeansParams, Init, KMeansError, KMeansParams};
use crate::CvRng;

/// Pixels fitted at most, by default: 2^18 = 262 144 (a 512×512 image is fitted whole).
pub const DEFAULT_MAX_SAMPLES: usize = 1 << 18;

/// Why an image could not be decoded or quantized.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QuantizeError {
    /// The JPEG file is damaged or too large.
    #[error("cannot decode the JPEG: {0}")]
    Jpeg(String),
    /// The bytes are neither a PNG nor a JPEG file.
    #[error("not a PNG or JPEG image")]
    NotImage,
    /// The PNG file is damaged or too large.
    #[error("cannot decode the PNG: {0}")]
    Png(String),
    /// Pixel buffer and size disagree, or the image has no pixels.
    #[error("an image of {width}x{height} pixels needs {expected} RGB bytes, got {actual}")]
    BadSize {
        /// Width.
        width: usize,
        /// Height.
        height: usize,
        /// `3 * width * height`.
        expected: usize,
        /// Bytes given.
        actual: usize,
    },
    /// The image has no pixels.
    #[error("the image has no pixels")]
    Empty,
    /// `max_samples` is zero.
    #[error("max_samples must be at least 1")]
    ZeroMaxSamples,
    /// Initial labels cannot be given for quantization.
    #[error("quantization starts from random or k-means++ centers, not from labels")]
    LabelsInit,
    /// The k-means parameters or the fit failed (e.g. more colours than pixels).
    #[error(transparent)]
    KMeans(#[from] KMeansError),
    /// The image is larger than imgcluster decodes, or than the memory there is
    /// ([`check_pixels`](crate::dataset::imageio::check_pixels)).
    #[error("{0}")]
    TooLarge(String),
}

/// An 8-bit RGB image, row-major, three bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

impl RgbImage {
    /// An image from its pixels (`3 * width * height` bytes: red, green, blue, row by row).
    ///
    /// # Errors
    /// [`QuantizeError::Empty`] for a zero side, [`QuantizeError::BadSize`] when `data` has
    /// another length.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self, QuantizeError> {
        if width == 0 || height == 0 {
            return Err(QuantizeError::Empty);
        }
        let expected = width.saturating_mul(height).saturating_mul(3);
        if data.len() != expected {
            return Err(QuantizeError::BadSize {
                width,
                height,
                expected,
                actual: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The pixels, `3 * width * height` bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixel at column `x`, row `y`.
    ///
    /// # Panics
    /// Panics if `(x, y)` is outside the image.
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        assert!(x < self.width && y < self.height, "pixel out of range");
        let i = 3 * (y * self.width + x);
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// The number of distinct colours.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::quantize::RgbImage;
    /// let img = RgbImage::new(3, 1, vec![1, 2, 3, 1, 2, 3, 0, 0, 0])?;
    /// assert_eq!(img.distinct_colors(), 2);
    /// # Ok::<(), imgcluster::quantize::QuantizeError>(())
    /// ```
    pub fn distinct_colors(&self) -> usize {
        let mut seen = vec![0u64; (1 << 24) / 64];
        let mut n = 0;
        for p in self.data.chunks_exact(3) {
            let v = (usize::from(p[0]) << 16) | (usize::from(p[1]) << 8) | usize::from(p[2]);
            let (word, bit) = (v / 64, 1u64 << (v % 64));
            if seen[word] & bit == 0 {
                seen[word] |= bit;
                n += 1;
            }
        }
        n
    }
}

/// Decodes a PNG of any colour type and bit depth, or a JPEG, to 8-bit RGB, as `cv2.imread`
/// reads it in colour: palettes and low bit depths are expanded, gray is repeated in the three
/// channels, 16-bit samples keep their high byte, and alpha is dropped.
///
/// # Errors
/// [`QuantizeError::NotImage`] for anything that is neither a PNG nor a JPEG,
/// [`QuantizeError::Png`] / [`QuantizeError::Jpeg`] for a damaged file or one that would
/// decode to more than [`MAX_DECODED_BYTES`].
///
/// # Examples
/// ```
/// use imgcluster::quantize::decode_rgb;
/// use imgcluster::report::encode_gray8;
/// let img = decode_rgb(&encode_gray8(2, 1, &[7, 9])?)?;
/// assert_eq!(img.data(), &[7, 7, 7, 9, 9, 9]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_rgb(bytes: &[u8]) -> Result<RgbImage, QuantizeError> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        let (w, h, rgb) = crate::dataset::imageio::decode_jpeg_rgb(bytes).map_err(|e| match e {
            e @ (crate::dataset::DatasetError::TooManyPixels { .. }
            | crate::dataset::DatasetError::TooLarge { .. }) => {
                QuantizeError::TooLarge(e.to_string())
            }
            e => QuantizeError::Jpeg(e.to_string()),
        })?;
        return RgbImage::new(w, h, rgb);
    }
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(QuantizeError::NotImage);
    }
    let err = |e: png::DecodingError| QuantizeError::Png(e.to_string());
    let mut decoder = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: MAX_DECODED_BYTES,
        },
    );
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(err)?;
    {
        let info = reader.info();
        let channels = crate::dataset::pngio::bytes_per_pixel(info);
        // The decoded samples, the RGB copy (3 bytes a pixel) and the gray ones counted.
        crate::dataset::imageio::check_pixels(
            info.width as usize,
            info.height as usize,
            channels + 3,
        )
        .map_err(|e| QuantizeError::TooLarge(e.to_string()))?;
        crate::dataset::pngio::check_compressed(info, bytes.len()).map_err(QuantizeError::Png)?;
    }
    let size = reader
        .output_buffer_size()
        .filter(|&s| s <= MAX_DECODED_BYTES)
        .ok_or_else(|| QuantizeError::Png("the image is too large".into()))?;
    let too_large = |e: crate::dataset::DatasetError| QuantizeError::TooLarge(e.to_string());
    let what = || {
        format!(
            "decoding a {}x{} image",
            reader.info().width,
            reader.info().height
        )
    };
    let mut buf = crate::dataset::memory::try_zeroed(size, what).map_err(too_large)?;
    let info = reader.next_frame(&mut buf).map_err(err)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    let mut out = crate::dataset::memory::try_with_capacity(w * h * 3, || {
        format!("decoding a {w}x{h} image")
    })
    .map_err(too_large)?;
    for row in buf.chunks(info.line_size).take(h) {
        for px in row[..w * channels].chunks_exact(channels) {
            match px.len() {
                1 | 2 => out.extend_from_slice(&[px[0]; 3]),
                _ => out.extend_from_slice(&px[..3]),
            }
        }
    }
    RgbImage::new(w, h, out)
}

/// Unchecked quantization parameters; [`QuantizeParams::check`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizeParams {
    kmeans: KMeansParams,
    max_samples: usize,
}

impl QuantizeParams {
    /// `k` colours with the parameters of OpenCV's colour quantization tutorial
    /// ([`KMeansParams::new`]: 10 iterations or a center shift of at most 1.0, 10 attempts,
    /// random centers) and at most [`DEFAULT_MAX_SAMPLES`] pixels fitted.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::kmeans::Init;
    /// use imgcluster::quantize::{QuantizeParams, DEFAULT_MAX_SAMPLES};
    /// let p = QuantizeParams::new(8).check()?;
    /// assert_eq!((p.kmeans().k(), p.kmeans().attempts(), p.kmeans().max_iter()), (8, 10, 10));
    /// assert_eq!(p.kmeans().epsilon_sq(), 1.0);
    /// assert_eq!(p.kmeans().init(), &Init::RandomBox);
    /// assert_eq!(p.max_samples(), DEFAULT_MAX_SAMPLES);
    /// # Ok::<(), imgcluster::quantize::QuantizeError>(())
    /// ```
    pub fn new(k: usize) -> Self {
        Self {
            kmeans: KMeansParams::new(k),
            max_samples: DEFAULT_MAX_SAMPLES,
        }
    }

    /// Sets the k-means parameters (the number of clusters is the number of colours).
    pub fn kmeans(mut self, kmeans: KMeansParams) -> Self {
        self.kmeans = kmeans;
        self
    }

    /// Sets the largest number of pixels fitted; larger images are subsampled for fitting.
    pub fn max_samples(mut self, max_samples: usize) -> Self {
        self.max_samples = max_samples;
        self
    }

    /// Validates the parameters.
    ///
    /// # Errors
    /// [`QuantizeError::KMeans`] for invalid k-means parameters,
    /// [`QuantizeError::LabelsInit`] for [`Init::Labels`],
    /// [`QuantizeError::ZeroMaxSamples`] for `max_samples == 0`.
    pub fn check(self) -> Result<CheckedQuantizeParams, QuantizeError> {
        let kmeans = self.kmeans.check()?;
        if matches!(kmeans.init(), Init::Labels { .. }) {
            return Err(QuantizeError::LabelsInit);
        }
        if self.max_samples == 0 {
            return Err(QuantizeError::ZeroMaxSamples);
        }
        Ok(CheckedQuantizeParams {
            kmeans,
            max_samples: self.max_samples,
        })
    }
}

/// Validated quantization parameters, built by [`QuantizeParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedQuantizeParams {
    kmeans: CheckedKMeansParams,
    max_samples: usize,
}

impl CheckedQuantizeParams {
    /// The k-means parameters.
    pub fn kmeans(&self) -> &CheckedKMeansParams {
        &self.kmeans
    }

    /// The largest number of pixels fitted.
    pub fn max_samples(&self) -> usize {
        self.max_samples
    }
}

/// The result of [`quantize`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Quantized {
    /// The image painted with the palette.
    pub image: RgbImage,
    /// One RGB colour per cluster (two clusters may truncate to the same colour).
    pub palette: Vec<[u8; 3]>,
    /// Cluster of every pixel, row-major.
    pub labels: Vec<u32>,
    /// Pixels used for fitting (all of them unless subsampled).
    pub fitted: usize,
    /// Compactness of the fit on the fitted pixels (in 0..255 colour units squared).
    pub compactness: f64,
    /// Iterations of the best attempt.
    pub iterations: usize,
}

impl Quantized {
    /// Distinct colours of the result (at most K).
    pub fn distinct_colors(&self) -> usize {
        self.image.distinct_colors()
    }
}

/// The stride that keeps at most `max` of `n` samples: `ceil(n / max)`.
fn stride(n: usize, max: usize) -> usize {
    n.div_ceil(max).max(1)
}

/// Quantizes `img` to `params.kmeans().k()` colours with k-means on its pixel colours.
///
/// See the [module documentation](self) for what is done exactly.
///
/// # Errors
/// [`QuantizeError::KMeans`] from fitting, e.g. [`KMeansError::TooFewSamples`] when the
/// image (or its subsample) has fewer pixels than colours asked for.
pub fn quantize(
    img: &RgbImage,
    params: &CheckedQuantizeParams,
    rng: &mut CvRng,
) -> Result<Quantized, QuantizeError> {
    let n = img.width * img.height;
    // Blue, green, red, as cv2.imread gives them.
    let bgr = |p: &[u8]| [f32::from(p[2]), f32::from(p[1]), f32::from(p[0])];
    let s = stride(n, params.max_samples);
    let samples: Vec<f32> = img.data.chunks_exact(3).step_by(s).flat_map(bgr).collect();
    let fitted = samples.len() / 3;
    let fit = kmeans::fit(&params.kmeans, &samples, 3, rng)?;
    let labels = if s == 1 {
        fit.labels.clone()
    } else {
        let all: Vec<f32> = img.data.chunks_exact(3).flat_map(bgr).collect();
        fit.predict(&all, params.kmeans.threads())?.0
    };
    // np.uint8(center): truncation toward zero (`as` also saturates, for safety).
    let palette: Vec<[u8; 3]> = fit
        .centers
        .chunks_exact(3)
        .map(|c| [c[2] as u8, c[1] as u8, c[0] as u8])
        .collect();
    let data = labels.iter().flat_map(|&l| palette[l as usize]).collect();
    Ok(Quantized {
        image: RgbImage::new(img.width, img.height, data)?,
        palette,
        labels,
        fitted,
        compactness: fit.compactness,
        iterations: fit.iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{encode_gray8, encode_rgb8};

    #[test]
    fn stride_keeps_at_most_max() {
        assert_eq!(stride(10, 10), 1);
        assert_eq!(stride(11, 10), 2);
        assert_eq!(stride(1 << 20, 1 << 18), 4);
        for (n, max) in [(1000usize, 7), (999, 1000), (12345, 100)] {
            assert!(n.div_ceil(stride(n, max)) <= max);
        }
    }

    #[test]
    fn decodes_every_colour_type() {
        let rgb = encode_rgb8(2, 1, &[1, 2, 3, 4, 5, 6]).unwrap();
        assert_eq!(decode_rgb(&rgb).unwrap().data(), &[1, 2, 3, 4, 5, 6]);
        let gray = encode_gray8(1, 1, &[9]).unwrap();
        assert_eq!(decode_rgb(&gray).unwrap().data(), &[9, 9, 9]);

        let mut rgba = Vec::new();
        let mut e = png::Encoder::new(&mut rgba, 1, 1);
        e.set_color(png::ColorType::Rgba);
        e.write_header()
            .unwrap()
            .write_image_data(&[10, 20, 30, 0])
            .unwrap();
        assert_eq!(decode_rgb(&rgba).unwrap().data(), &[10, 20, 30]);

        let mut pal = Vec::new();
        let mut e = png::Encoder::new(&mut pal, 2, 1);
        e.set_color(png::ColorType::Indexed);
        e.set_depth(png::BitDepth::Eight);
        e.set_palette(vec![255, 0, 0, 0, 0, 255]);
        e.write_header().unwrap().write_image_data(&[1, 0]).unwrap();
        assert_eq!(decode_rgb(&pal).unwrap().data(), &[0, 0, 255, 255, 0, 0]);

        let mut g16 = Vec::new();
        let mut e = png::Encoder::new(&mut g16, 1, 1);
        e.set_color(png::ColorType::Grayscale);
        e.set_depth(png::BitDepth::Sixteen);
        e.write_header()
            .unwrap()
            .write_image_data(&[0xab, 0xcd])
            .unwrap();
        assert_eq!(decode_rgb(&g16).unwrap().data(), &[0xab; 3]);
    }

    #[test]
    fn rejects_other_formats() {
        assert!(matches!(
            decode_rgb(&[0xff, 0xd8, 0xff, 0xe0]),
            Err(QuantizeError::Jpeg(_))
        ));
        assert_eq!(decode_rgb(b"GIF89a"), Err(QuantizeError::NotImage));
        let png = encode_gray8(8, 8, &[0; 64]).unwrap();
        assert!(matches!(
            decode_rgb(&png[..png.len() / 2]),
            Err(QuantizeError::Png(_))
        ));
    }

    #[test]
    fn bad_parameters() {
        assert_eq!(
            QuantizeParams::new(0).check(),
            Err(QuantizeError::KMeans(KMeansError::ZeroClusters))
        );
        assert_eq!(
            QuantizeParams::new(2).max_samples(0).check(),
            Err(QuantizeError::ZeroMaxSamples)
        );
        assert_eq!(
            QuantizeParams::new(2)
                .kmeans(KMeansParams::new(2).init(Init::labels(vec![0, 1])))
                .check(),
            Err(QuantizeError::LabelsInit)
        );
        let img = RgbImage::new(1, 1, vec![0; 3]).unwrap();
        let p = QuantizeParams::new(2).check().unwrap();
        assert_eq!(
            quantize(&img, &p, &mut CvRng::opencv_default()),
            Err(QuantizeError::KMeans(KMeansError::TooFewSamples {
                n: 1,
                k: 2
            }))
        );
    }

    /// A smooth 64×48 gradient with 3072 distinct colours.
    fn gradient() -> RgbImage {
        let (w, h) = (64, 48);
        let data = (0..w * h)
            .flat_map(|i| {
                let (x, y) = (i % w, i / w);
                [(x * 4) as u8, (y * 5) as u8, ((x + y) * 2) as u8]
            })
            .collect();
        RgbImage::new(w, h, data).unwrap()
    }

    #[test]
    fn at_most_k_colours_and_every_pixel_nearest() {
        let img = gradient();
        for (k, max) in [(1, DEFAULT_MAX_SAMPLES), (5, DEFAULT_MAX_SAMPLES), (8, 500)] {
            let p = QuantizeParams::new(k).max_samples(max).check().unwrap();
            let q = quantize(&img, &p, &mut CvRng::from_set_rng_seed(3)).unwrap();
            assert!(q.distinct_colors() <= k, "k={k}");
            assert_eq!(q.palette.len(), k);
            assert_eq!(
                q.fitted,
                (img.width * img.height).div_ceil(stride(3072, max))
            );
            for (l, p) in q.labels.iter().zip(q.image.data().chunks_exact(3)) {
                assert_eq!(&q.palette[*l as usize][..], p);
            }
        }
    }

    #[test]
    fn same_seed_same_image() {
        let img = gradient();
        let p = QuantizeParams::new(6).check().unwrap();
        let a = quantize(&img, &p, &mut CvRng::from_set_rng_seed(5)).unwrap();
        let b = quantize(&img, &p, &mut CvRng::from_set_rng_seed(5)).unwrap();
        assert_eq!(a, b);
    }
}
