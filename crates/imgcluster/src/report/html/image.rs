//! Embedded PNG images and rows of them.

use std::fmt::Write as _;

use super::writer::Html;
use crate::image::GrayView;
use crate::report::base64;
use crate::report::colormap::{Colormap, ValueRange};
use crate::report::error::ReportError;
use crate::report::png::{encode_gray8, encode_rgb8};

/// Images on one line, with an optional label on its left.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct ImageRow {
    /// The label ("true 4"); its first line is emphasised and line breaks (`\n`) are
    /// kept. Default: none.
    pub label: Option<String>,
    /// The images, left to right (wrapping when the line is full).
    pub images: Vec<Image>,
}

impl ImageRow {
    /// A row of these images without a label.
    pub fn new(images: Vec<Image>) -> Self {
        Self {
            label: None,
            images,
        }
    }

    /// Sets the label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }
}

/// A PNG image to embed, shown at a given size in CSS pixels.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Image {
    /// The PNG file's bytes.
    pub png: Vec<u8>,
    /// Displayed width in CSS pixels (the image shrinks to fit narrow layouts).
    pub width: usize,
    /// Displayed height in CSS pixels.
    pub height: usize,
    /// Text for readers who cannot see the image, also shown as a tooltip. Default: empty.
    pub alt: String,
    /// Text under the image; line breaks (`\n`) are kept. Default: none.
    pub caption: Option<String>,
    /// Upscale with sharp pixels (nearest neighbour) instead of smoothing; right for small
    /// images such as 20×20 digits. Default: false for [`Image::from_png`], true for
    /// [`Image::gray`] and [`Image::colored`].
    pub pixelated: bool,
}

impl Image {
    /// An image from PNG bytes, shown at its own size.
    ///
    /// # Errors
    /// [`ReportError::NotPng`] when `png` does not start with a PNG signature and header.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{encode_gray8, html::Image};
    /// let img = Image::from_png(encode_gray8(3, 2, &[0; 6])?)?;
    /// assert_eq!((img.width, img.height), (3, 2));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn from_png(png: Vec<u8>) -> Result<Self, ReportError> {
        let (width, height) = png_size(&png).ok_or(ReportError::NotPng)?;
        Ok(Self {
            png,
            width,
            height,
            alt: String::new(),
            caption: None,
            pixelated: false,
        })
    }

    /// An 8-bit gray image as it is (0 black, 255 white), shown `scale` times its size
    /// with sharp pixels. The PNG holds the image at its own size, so embedding many small
    /// images stays cheap.
    ///
    /// # Errors
    /// [`ReportError::ZeroSize`] for an empty image or a zero `scale`.
    ///
    /// # Examples
    /// ```
    /// use imgcluster::GrayImage;
    /// use imgcluster::report::html::Image;
    /// let digit = GrayImage::new(20, 20);
    /// let img = Image::gray(digit.view(), 3)?;
    /// assert_eq!((img.width, img.height, img.pixelated), (60, 60, true));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn gray(img: GrayView<'_>, scale: usize) -> Result<Self, ReportError> {
        if scale == 0 {
            return Err(ReportError::ZeroSize { what: "scale" });
        }
        let png = encode_gray8(img.width(), img.height(), img.data())?;
        Ok(Self::scaled(png, img.width(), img.height(), scale))
    }

    /// `width` × `height` values coloured like matplotlib's `imshow` with `colormap` over
    /// `range`, shown `scale` times their size with sharp pixels.
    ///
    /// # Errors
    /// [`ReportError::ZeroSize`] for a zero side or `scale`; [`ReportError::LengthMismatch`]
    /// when `values` does not hold `width * height` values; [`ReportError::NonFinite`];
    /// [`ReportError::InvalidRange`].
    ///
    /// # Examples
    /// ```
    /// use imgcluster::report::{html::Image, Colormap, ValueRange};
    /// let img = Image::colored(&[0.0, 1.0, 2.0, 3.0], 2, 2, Colormap::Viridis, ValueRange::Auto, 10)?;
    /// assert_eq!((img.width, img.height), (20, 20));
    /// # Ok::<(), imgcluster::report::ReportError>(())
    /// ```
    pub fn colored(
        values: &[f32],
        width: usize,
        height: usize,
        colormap: Colormap,
        range: ValueRange,
        scale: usize,
    ) -> Result<Self, ReportError> {
        if scale == 0 {
            return Err(ReportError::ZeroSize { what: "scale" });
        }
        let expected = width.saturating_mul(height);
        if values.len() != expected {
            return Err(ReportError::LengthMismatch {
                what: "values",
                expected,
                actual: values.len(),
            });
        }
        let rgb: Vec<u8> = colormap
            .apply(values, range)?
            .into_iter()
            .flat_map(|c| [c.r, c.g, c.b])
            .collect();
        let png = encode_rgb8(width, height, &rgb)?;
        Ok(Self::scaled(png, width, height, scale))
    }

    fn scaled(png: Vec<u8>, width: usize, height: usize, scale: usize) -> Self {
        Self {
            png,
            width: width.saturating_mul(scale),
            height: height.saturating_mul(scale),
            alt: String::new(),
            caption: None,
            pixelated: true,
        }
    }

    /// Sets the alternative text.
    pub fn alt(mut self, alt: impl Into<String>) -> Self {
        self.alt = alt.into();
        self
    }

    /// Sets the caption.
    pub fn caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// Sets the displayed size in CSS pixels.
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    pub(super) fn render(&self, w: &mut Html) {
        w.raw("<figure>");
        let class = if self.pixelated {
            " class=\"pixelated\""
        } else {
            ""
        };
        let _ = write!(
            w.0,
            "<img{class} width=\"{}\" height=\"{}\" alt=\"",
            self.width, self.height
        );
        w.text(&self.alt);
        if !self.alt.is_empty() {
            w.raw("\" title=\"");
            w.text(&self.alt);
        }
        w.raw("\" src=\"data:image/png;base64,");
        w.raw(&base64::encode(&self.png));
        w.raw("\">");
        if let Some(c) = &self.caption {
            w.raw("<figcaption>");
            w.text(c);
            w.raw("</figcaption>");
        }
        w.raw("</figure>\n");
    }
}
/// Width and height from a PNG's signature and IHDR chunk.
fn png_size(png: &[u8]) -> Option<(usize, usize)> {
    if png.len() < 24 || !png.starts_with(b"\x89PNG\r\n\x1a\n") || &png[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    Some((be(&png[16..20]), be(&png[20..24])))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_pinned() {
        let img = Image::from_png(encode_gray8(1, 1, &[0]).unwrap()).unwrap();
        assert!(!img.pixelated && img.alt.is_empty() && img.caption.is_none());
        assert!(ImageRow::new(vec![img]).label.is_none());
    }

    #[test]
    fn png_size_reads_the_header() {
        let png = encode_rgb8(7, 3, &[0; 63]).unwrap();
        assert_eq!(png_size(&png), Some((7, 3)));
        assert_eq!(png_size(b"GIF89a"), None);
        assert!(matches!(
            Image::from_png(b"\x89PNG".to_vec()),
            Err(ReportError::NotPng)
        ));
    }
}
