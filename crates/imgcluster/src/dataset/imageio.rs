//! Decoding image files (PNG or JPEG, recognised by their first bytes) to 8-bit gray.

use std::path::Path;

use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

use super::pngio::{self, rgb_to_gray, MAX_DECODED_BYTES};
use super::{memory, DatasetError};
use crate::image::GrayImage;

/// The first bytes of every PNG file.
pub const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
/// The first bytes of every JPEG file (start-of-image marker and the next marker's prefix).
pub const JPEG_MAGIC: &[u8] = b"\xff\xd8\xff";

/// The most pixels an image may have to be decoded: the limit of the Python Imaging Library
/// (Pillow) for a decompression bomb, `2 × 89,478,485`. A header that claims more is refused
/// before anything is allocated.
pub const MAX_PIXELS: u64 = 178_956_970;

/// Refuses to decode a `width × height` image of `channels` bytes per pixel (as decoded)
/// when it has more than [`MAX_PIXELS`] pixels or its decoded bytes, with the gray copy,
/// exceed the memory budget ([`memory::budget`]).
///
/// # Errors
/// [`DatasetError::TooManyPixels`] or [`DatasetError::TooLarge`].
pub fn check_pixels(width: usize, height: usize, channels: usize) -> Result<(), DatasetError> {
    let pixels = (width as u64).saturating_mul(height as u64);
    if pixels > MAX_PIXELS {
        return Err(DatasetError::TooManyPixels { width, height });
    }
    memory::ensure(pixels.saturating_mul(channels as u64 + 1), || {
        format!("decoding a {width}x{height} image")
    })
}

/// The `(width, height)` an image file's header states, from its first bytes: a PNG's
/// `IHDR`, or a JPEG's frame header when it lies within `head`. `None` otherwise.
///
/// # Examples
/// ```
/// use imgcluster::dataset::imageio::image_size;
/// use imgcluster::report::encode_gray8;
/// assert_eq!(image_size(&encode_gray8(3, 2, &[0; 6])?), Some((3, 2)));
/// assert_eq!(image_size(b"not an image"), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn image_size(head: &[u8]) -> Option<(usize, usize)> {
    match image_kind(head)? {
        ImageKind::Png => {
            if head.len() < 24 || &head[12..16] != b"IHDR" {
                return None;
            }
            let be =
                |i: usize| u32::from_be_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
            Some((be(16) as usize, be(20) as usize))
        }
        ImageKind::Jpeg => {
            let mut decoder = JpegDecoder::new(ZCursor::new(head));
            decoder.decode_headers().ok()?;
            let info = decoder.info()?;
            Some((usize::from(info.width), usize::from(info.height)))
        }
    }
}

/// Bytes per pixel the decoders produce for the image whose first bytes are `head`: a PNG's
/// samples (times 2 at 16 bits) by its header's colour type, 3 for a JPEG (decoded to RGB).
fn decoded_channels(head: &[u8]) -> usize {
    match image_kind(head) {
        Some(ImageKind::Png) if head.len() >= 26 => {
            let samples = match head[25] {
                2 => 3,
                4 => 2,
                6 => 4,
                _ => 1,
            };
            samples * if head[24] == 16 { 2 } else { 1 }
        }
        Some(ImageKind::Jpeg) => 3,
        _ => 1,
    }
}

/// An image file format recognised by [`image_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    /// PNG.
    Png,
    /// JPEG (JFIF or Exif).
    Jpeg,
}

/// The image format of `bytes`, from their first bytes, or `None`.
///
/// # Examples
/// ```
/// use imgcluster::dataset::imageio::{image_kind, ImageKind};
/// assert_eq!(image_kind(b"\xff\xd8\xff\xe0..."), Some(ImageKind::Jpeg));
/// assert_eq!(image_kind(b"GIF89a"), None);
/// ```
pub fn image_kind(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(PNG_MAGIC) {
        Some(ImageKind::Png)
    } else if bytes.starts_with(JPEG_MAGIC) {
        Some(ImageKind::Jpeg)
    } else {
        None
    }
}

/// Decodes a JPEG to 8-bit RGB (any JPEG colour space: gray, YCbCr, CMYK): returns
/// `(width, height, pixels)` with three bytes per pixel, row-major.
///
/// # Errors
/// [`DatasetError::Jpeg`] when the bytes are not a valid JPEG, are cut short (no end-of-image
/// marker after the last scan), claim more pixels than their size can hold, or decode to
/// more than [`MAX_DECODED_BYTES`]; [`DatasetError::TooManyPixels`] or
/// [`DatasetError::TooLarge`] as [`check_pixels`] says.
pub fn decode_jpeg_rgb(bytes: &[u8]) -> Result<(usize, usize, Vec<u8>), DatasetError> {
    let err = |e: zune_jpeg::errors::DecodeErrors| DatasetError::Jpeg(format!("{e:?}"));
    let options = DecoderOptions::default().jpeg_set_out_colorspace(ColorSpace::RGB);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    decoder.decode_headers().map_err(err)?;
    if let Some(info) = decoder.info() {
        check_pixels(usize::from(info.width), usize::from(info.height), 3)?;
    }
    let size = decoder
        .output_buffer_size()
        .ok_or_else(|| DatasetError::Jpeg("image too large".into()))?;
    if size > MAX_DECODED_BYTES {
        return Err(DatasetError::Jpeg(format!(
            "decoded image would take {size} bytes"
        )));
    }
    let info = decoder
        .info()
        .ok_or_else(|| DatasetError::Jpeg("no image header".into()))?;
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    // Every 8×8 block of the image takes at least one bit of entropy-coded data: a file
    // too small for its size is refused before anything is allocated.
    let blocks = w.div_ceil(8).saturating_mul(h.div_ceil(8));
    if blocks / 8 > bytes.len() {
        return Err(DatasetError::Jpeg(format!(
            "the header says {w}x{h} pixels, more than a {}-byte JPEG can hold",
            bytes.len()
        )));
    }
    if !has_end_of_image(bytes) {
        return Err(DatasetError::Jpeg(
            "the file ends before its end-of-image marker (truncated)".into(),
        ));
    }
    let mut rgb = memory::try_zeroed(size, || format!("decoding a {w}x{h} image"))?;
    decoder.decode_into(&mut rgb).map_err(err)?;
    if rgb.len() != w * h * 3 {
        return Err(DatasetError::Jpeg(format!(
            "decoder returned {} bytes for {w}x{h} RGB",
            rgb.len()
        )));
    }
    Ok((w, h, rgb))
}

/// Whether the JPEG's end-of-image marker (`FF D9`) follows its last start-of-scan marker
/// (`FF DA`): entropy-coded data never holds `FF` followed by a marker byte, so a file cut
/// anywhere in or after its last scan has none.
fn has_end_of_image(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .is_some_and(|sos| bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// Decodes a JPEG to 8-bit gray: [`decode_jpeg_rgb`] converted with OpenCV's weights
/// ([`rgb_to_gray`]), so that a colour image gives the same gray as a PNG of the same colours.
/// A gray JPEG keeps its values exactly.
///
/// # Errors
/// As [`decode_jpeg_rgb`].
pub fn decode_jpeg_gray(bytes: &[u8]) -> Result<GrayImage, DatasetError> {
    let (w, h, rgb) = decode_jpeg_rgb(bytes)?;
    let mut gray = memory::try_with_capacity(w * h, || format!("decoding a {w}x{h} image"))?;
    gray.extend(rgb.chunks_exact(3).map(|p| rgb_to_gray(p[0], p[1], p[2])));
    Ok(GrayImage::from_vec(w, h, gray))
}

/// Decodes a PNG or a JPEG (recognised by its first bytes) to 8-bit gray: colour converted
/// with OpenCV's weights ([`rgb_to_gray`]), alpha ignored, 16-bit samples keep their high byte.
///
/// # Errors
/// [`DatasetError::Png`] or [`DatasetError::Jpeg`] for an invalid image,
/// [`DatasetError::Unrecognised`] for bytes that are neither.
///
/// # Examples
/// ```
/// use imgcluster::dataset::imageio::decode_gray;
/// use imgcluster::report::encode_gray8;
/// let png = encode_gray8(2, 1, &[7, 9])?;
/// assert_eq!(decode_gray(&png)?.data(), &[7, 9]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_gray(bytes: &[u8]) -> Result<GrayImage, DatasetError> {
    match image_kind(bytes) {
        Some(ImageKind::Png) => pngio::decode_gray(bytes),
        Some(ImageKind::Jpeg) => decode_jpeg_gray(bytes),
        None => Err(DatasetError::Unrecognised(
            "not a PNG or JPEG image".to_string(),
        )),
    }
}

/// Reads an image file (once: a pipe works too) and decodes it with [`decode_gray`]. What is
/// not a PNG or JPEG, or whose header states more pixels than [`check_pixels`] allows, is
/// refused from its first bytes, before the rest is read.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, else as [`decode_gray`], tagged with
/// the path ([`DatasetError::InFile`]).
pub fn read_gray(path: &Path) -> Result<GrayImage, DatasetError> {
    let input = super::input::Input::open(path)?;
    // Cheap checks first: what is not an image, or is too large to decode, is not read.
    if image_kind(input.head()).is_none() {
        return Err(decode_gray(input.head()).unwrap_err().in_file(path));
    }
    if let Some((w, h)) = image_size(input.head()) {
        check_pixels(w, h, decoded_channels(input.head())).map_err(|e| e.in_file(path))?;
    }
    let bytes = input.read_all(u64::MAX)?;
    decode_gray(&bytes).map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_broken_images_are_errors() {
        assert!(matches!(
            decode_gray(b"hello"),
            Err(DatasetError::Unrecognised(_))
        ));
        assert!(matches!(
            decode_gray(b"\xff\xd8\xff\xe0\x00\x10JFIF"),
            Err(DatasetError::Jpeg(_))
        ));
        assert!(matches!(
            decode_gray(b"\x89PNG\r\n\x1a\nxx"),
            Err(DatasetError::Png(_))
        ));
    }
}
