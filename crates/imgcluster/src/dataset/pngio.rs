//! Decoding PNG files to 8-bit gray.

use std::io::Cursor;

use super::DatasetError;
use crate::image::GrayImage;

/// Largest decoded image accepted, in bytes (guards against headers claiming huge sizes).
pub const MAX_DECODED_BYTES: usize = 1 << 30;

/// Luma of an RGB pixel with OpenCV's fixed-point `RGB2GRAY` weights
/// (0.299, 0.587, 0.114 scaled by 2^14, rounded).
///
/// # Examples
/// ```
/// use imgcluster::dataset::pngio::rgb_to_gray;
/// assert_eq!(rgb_to_gray(255, 255, 255), 255);
/// assert_eq!(rgb_to_gray(255, 0, 0), 76);
/// ```
pub fn rgb_to_gray(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 4899 + u32::from(g) * 9617 + u32::from(b) * 1868 + (1 << 13)) >> 14) as u8
}

/// The most bytes deflate can expand one byte to (a stream of zeros: 258 bytes per 2-bit
/// code, about 1032 to 1), with a margin.
const MAX_DEFLATE_RATIO: usize = 1100;

/// Bytes a pixel of `info`'s image takes once decoded with `EXPAND | STRIP_16`: one per
/// sample, two per sample at 16 bits before stripping.
pub(crate) fn bytes_per_pixel(info: &png::Info<'_>) -> usize {
    let samples = info.color_type.samples();
    if info.bit_depth == png::BitDepth::Sixteen {
        2 * samples
    } else {
        samples
    }
}

/// Refuses a PNG whose header states more image data than its `file_len` bytes can hold once
/// inflated: the decoder would otherwise allocate what the header claims before finding the
/// data missing.
///
/// # Errors
/// A message saying what the header claims.
pub(crate) fn check_compressed(info: &png::Info<'_>, file_len: usize) -> Result<(), String> {
    let raw = info.raw_bytes();
    if raw
        > file_len
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(1 << 12)
    {
        return Err(format!(
            "the header says {}x{} pixels ({raw} bytes of image data), more than a {file_len}-byte \
             PNG can hold",
            info.width, info.height
        ));
    }
    Ok(())
}

/// Decodes a PNG of any colour type and bit depth to 8-bit gray.
///
/// Palette and low bit depths are expanded, 16-bit samples keep their high byte, colour is
/// converted with [`rgb_to_gray`], and alpha is ignored.
///
/// # Errors
/// [`DatasetError::Png`] when the bytes are not a valid PNG or decode to more than
/// [`MAX_DECODED_BYTES`]; [`DatasetError::TooManyPixels`] or [`DatasetError::TooLarge`] as
/// [`check_pixels`](super::imageio::check_pixels) says, before decoding.
pub fn decode_gray(bytes: &[u8]) -> Result<GrayImage, DatasetError> {
    let err = |e: png::DecodingError| DatasetError::Png(e.to_string());
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
        super::imageio::check_pixels(
            info.width as usize,
            info.height as usize,
            bytes_per_pixel(info),
        )?;
    }
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| DatasetError::Png("image too large".into()))?;
    if size > MAX_DECODED_BYTES {
        return Err(DatasetError::Png(format!(
            "decoded image would take {size} bytes"
        )));
    }
    let what = || {
        format!(
            "decoding a {}x{} image",
            reader.info().width,
            reader.info().height
        )
    };
    let mut buf = super::memory::try_zeroed(size, what)?;
    let info = reader.next_frame(&mut buf).map_err(err)?;
    let (w, h) = (info.width as usize, info.height as usize);
    let stride = info.line_size;
    let channels = info.color_type.samples();
    let mut out = super::memory::try_with_capacity(w * h, || format!("decoding a {w}x{h} image"))?;
    for row in buf.chunks(stride).take(h) {
        for px in row[..w * channels].chunks_exact(channels) {
            out.push(match px.len() {
                1 | 2 => px[0],
                _ => rgb_to_gray(px[0], px[1], px[2]),
            });
        }
    }
    Ok(GrayImage::from_vec(w, h, out))
}
