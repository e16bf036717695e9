//! PNG encoding of 8-bit RGB and grayscale buffers into bytes.
//!
//! The output depends only on the pixels: no time stamps or text chunks are written,
//! and the encoder settings are fixed, so equal images give equal bytes.

use super::error::ReportError;

/// Encodes `width` × `height` row-major RGB pixels (`3 * width * height` bytes) as PNG.
///
/// # Errors
/// [`ReportError::ZeroSize`] for an empty image, [`ReportError::LengthMismatch`] if
/// `rgb` has the wrong length, [`ReportError::TooLarge`] if a side does not fit the
/// PNG format, [`ReportError::Encode`] if the encoder fails.
///
/// # Examples
/// ```
/// let bytes = imgcluster::report::encode_rgb8(2, 1, &[255, 0, 0, 0, 0, 255])?;
/// assert_eq!(&bytes[1..4], b"PNG");
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn encode_rgb8(width: usize, height: usize, rgb: &[u8]) -> Result<Vec<u8>, ReportError> {
    encode(width, height, rgb, ::png::ColorType::Rgb, 3, "rgb")
}

/// Encodes `width` × `height` row-major 8-bit gray pixels as a grayscale PNG.
///
/// # Errors
/// As [`encode_rgb8`], with `gray` holding `width * height` bytes.
///
/// # Examples
/// ```
/// use imgcluster::GrayImage;
/// let img = GrayImage::from_vec(2, 2, vec![0, 64, 128, 255]);
/// let bytes = imgcluster::report::encode_gray8(img.width(), img.height(), img.data())?;
/// assert_eq!(&bytes[1..4], b"PNG");
/// # Ok::<(), imgcluster::report::ReportError>(())
/// ```
pub fn encode_gray8(width: usize, height: usize, gray: &[u8]) -> Result<Vec<u8>, ReportError> {
    encode(width, height, gray, ::png::ColorType::Grayscale, 1, "gray")
}

fn encode(
    width: usize,
    height: usize,
    pixels: &[u8],
    color: ::png::ColorType,
    channels: usize,
    what: &'static str,
) -> Result<Vec<u8>, ReportError> {
    if width == 0 {
        return Err(ReportError::ZeroSize { what: "png width" });
    }
    if height == 0 {
        return Err(ReportError::ZeroSize { what: "png height" });
    }
    let too_large = || ReportError::TooLarge {
        width,
        height,
        max_pixels: super::canvas::MAX_PIXELS,
    };
    let expected = width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        .ok_or_else(too_large)?;
    if pixels.len() != expected {
        return Err(ReportError::LengthMismatch {
            what,
            expected,
            actual: pixels.len(),
        });
    }
    // The PNG format limits each side to 2^31 - 1.
    let side = |n: usize| u32::try_from(n).ok().filter(|&v| v <= i32::MAX as u32);
    let (w, h) = match (side(width), side(height)) {
        (Some(w), Some(h)) => (w, h),
        _ => return Err(too_large()),
    };
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, w, h);
    encoder.set_color(color);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_compression(::png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (::png::OutputInfo, Vec<u8>) {
        let mut reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn rgb_and_gray_round_trip() {
        let rgb: Vec<u8> = (0..3 * 5 * 3).map(|i| (i * 7) as u8).collect();
        let (info, back) = decode(&encode_rgb8(5, 3, &rgb).unwrap());
        assert_eq!((info.width, info.height), (5, 3));
        assert_eq!(info.color_type, ::png::ColorType::Rgb);
        assert_eq!(back, rgb);

        let gray: Vec<u8> = (0..12).map(|i| (i * 20) as u8).collect();
        let (info, back) = decode(&encode_gray8(4, 3, &gray).unwrap());
        assert_eq!(info.color_type, ::png::ColorType::Grayscale);
        assert_eq!(back, gray);
    }

    #[test]
    fn bad_sizes_are_errors() {
        assert!(matches!(
            encode_rgb8(0, 1, &[]),
            Err(ReportError::ZeroSize { .. })
        ));
        assert!(matches!(
            encode_gray8(2, 2, &[0; 3]),
            Err(ReportError::LengthMismatch {
                expected: 4,
                actual: 3,
                ..
            })
        ));
        assert!(matches!(
            encode_gray8(usize::MAX, 2, &[]),
            Err(ReportError::TooLarge { .. })
        ));
        assert!(matches!(
            encode_gray8(1 << 31, 1, &[]),
            Err(ReportError::LengthMismatch { .. })
        ));
    }
}
