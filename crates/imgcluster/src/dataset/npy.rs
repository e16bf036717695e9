//! NumPy `.npy` arrays: reading (C order; u8, i8–i64, u16–u64, f32, f64) and writing.
//!
//! Reading checks the header against the payload before allocating anything, so a
//! header claiming a huge shape is refused rather than trusted.

use std::path::Path;

use super::{Dataset, DatasetError, Pixels};

/// The values of a `.npy` array, widened to one of four types.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `u1` values.
    U8(Vec<u8>),
    /// Any other integer type but unsigned 64-bit.
    I64(Vec<i64>),
    /// Unsigned 64-bit integers (`<u8`), which `i64` cannot all hold.
    U64(Vec<u64>),
    /// `f4` values.
    F32(Vec<f32>),
    /// `f8` values.
    F64(Vec<f64>),
}

/// A `.npy` array: its shape and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// The values.
    pub data: NpyData,
}

/// The element type a `.npy` header declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dtype {
    U8,
    Int { size: usize, signed: bool },
    F32,
    F64,
}

impl Dtype {
    /// Bytes per value.
    pub(super) fn size(self) -> usize {
        match self {
            Dtype::U8 => 1,
            Dtype::Int { size, .. } => size,
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

fn bad(msg: impl Into<String>) -> DatasetError {
    DatasetError::Npy(msg.into())
}

/// The value of `key` in a NumPy header dict, as the raw text up to the next top-level comma.
fn header_value<'a>(header: &'a str, key: &str) -> Result<&'a str, DatasetError> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let start = quoted
        .iter()
        .find_map(|q| header.find(q.as_str()).map(|i| i + q.len()))
        .ok_or_else(|| bad(format!("header has no '{key}'")))?;
    let rest = header[start..].trim_start();
    let rest = rest
        .strip_prefix(':')
        .ok_or_else(|| bad(format!("header: no ':' after '{key}'")))?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')').map(|i| i + 1)
    } else {
        rest.find([',', '}'])
    }
    .ok_or_else(|| bad(format!("header: unterminated '{key}'")))?;
    Ok(rest[..end].trim())
}

fn parse_dtype(descr: &str) -> Result<Dtype, DatasetError> {
    let d = descr.trim_matches(['\'', '"']);
    // Split after the first character (which may not be ASCII in a damaged file).
    let (order, code) = d.split_at(d.chars().next().map_or(0, char::len_utf8));
    if order == ">" && !code.ends_with('1') {
        return Err(bad(format!("big-endian dtype '{d}' is not supported")));
    }
    if !matches!(order, "<" | "|" | "=" | ">") {
        return Err(bad(format!("dtype '{d}' is not supported")));
    }
    Ok(match code {
        "u1" | "b1" => Dtype::U8,
        "i1" => Dtype::Int {
            size: 1,
            signed: true,
        },
        "i2" | "i4" | "i8" | "u2" | "u4" | "u8" => Dtype::Int {
            size: code[1..].parse().unwrap_or(8),
            signed: code.starts_with('i'),
        },
        "f4" => Dtype::F32,
        "f8" => Dtype::F64,
        _ => return Err(bad(format!("dtype '{d}' is not supported"))),
    })
}

fn parse_shape(s: &str) -> Result<Vec<usize>, DatasetError> {
    let inner = s
        .strip_prefix('(')
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| bad(format!("shape '{s}' is not a tuple")))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.trim_end_matches('L')
                .parse::<usize>()
                .map_err(|_| bad(format!("shape entry '{p}' is not a size")))
        })
        .collect()
}

/// Parses the header of a `.npy` file: returns (dtype, shape, offset of the payload).
pub(super) fn parse_header(bytes: &[u8]) -> Result<(Dtype, Vec<usize>, usize), DatasetError> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing the \\x93NUMPY magic"));
    }
    let (hlen, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(bad(format!("format version {v} is not supported"))),
    };
    let end = start
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad("truncated header"))?;
    let header = std::str::from_utf8(&bytes[start..end]).map_err(|_| bad("header is not text"))?;
    let dtype = parse_dtype(header_value(header, "descr")?)?;
    if header_value(header, "fortran_order")? != "False" {
        return Err(bad(
            "Fortran-order arrays are not supported (save in C order)",
        ));
    }
    let shape = parse_shape(header_value(header, "shape")?)?;
    Ok((dtype, shape, end))
}

/// The number of values and the bytes per value a `.npy` header declares, from the first
/// bytes of the file; `None` when they are not a valid header.
pub fn header_shape(head: &[u8]) -> Option<(u64, u64)> {
    let (dtype, shape, _) = parse_header(head).ok()?;
    let count = shape
        .iter()
        .try_fold(1u64, |a, &s| a.checked_mul(s as u64))?;
    Some((count, dtype.size() as u64))
}

/// The length a `.npy` file whose first bytes are `head` must have, from its header, for
/// reading a stream no further ([`Input::read_all`](super::input::Input::read_all));
/// `u64::MAX` when the header lies beyond `head`.
///
/// # Errors
/// [`DatasetError::Npy`] when `head` does not start with the `.npy` magic or its header is
/// invalid: the cheap check, made before the rest is read.
pub fn stream_bound(head: &[u8]) -> Result<u64, DatasetError> {
    match parse_header(head) {
        Ok((dtype, shape, offset)) => Ok(shape
            .iter()
            .try_fold(dtype.size() as u64, |a, &s| a.checked_mul(s as u64))
            .and_then(|n| n.checked_add(offset as u64))
            .unwrap_or(u64::MAX)),
        Err(e) => {
            // A header longer than the head: read on, and let the parser judge it whole.
            let end = match head.get(6) {
                Some(1) if head.len() >= 10 => {
                    10 + usize::from(u16::from_le_bytes([head[8], head[9]]))
                }
                Some(2 | 3) if head.len() >= 12 => {
                    12 + u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize
                }
                _ => 0,
            };
            if head.starts_with(b"\x93NUMPY")
                && end > head.len()
                && head.len() >= super::input::HEAD_BYTES
            {
                Ok(u64::MAX)
            } else {
                Err(e)
            }
        }
    }
}

/// Parses a whole `.npy` file held in memory.
///
/// # Errors
/// [`DatasetError::Npy`] for a bad magic, header, dtype, or a payload whose length does not
/// match the header's shape (checked before any allocation).
///
/// # Examples
/// ```
/// use imgcluster::dataset::npy::{self, NpyData};
/// let bytes = npy::encode_u8(&[2, 2], &[1, 2, 3, 4]);
/// let arr = npy::parse(&bytes)?;
/// assert_eq!(arr.shape, vec![2, 2]);
/// assert_eq!(arr.data, NpyData::U8(vec![1, 2, 3, 4]));
/// # Ok::<(), imgcluster::dataset::DatasetError>(())
/// ```
pub fn parse(bytes: &[u8]) -> Result<NpyArray, DatasetError> {
    let (dtype, shape, offset) = parse_header(bytes)?;
    let count = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| bad(format!("shape {shape:?} overflows")))?;
    let payload = &bytes[offset..];
    let need = count
        .checked_mul(dtype.size())
        .ok_or_else(|| bad(format!("shape {shape:?} overflows")))?;
    if payload.len() != need {
        return Err(bad(format!(
            "header says {shape:?} ({need} bytes of data) but the file holds {} bytes",
            payload.len()
        )));
    }
    let data = match dtype {
        Dtype::U8 => NpyData::U8(payload.to_vec()),
        Dtype::F32 => NpyData::F32(
            payload
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        Dtype::F64 => NpyData::F64(
            payload
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        ),
        Dtype::Int {
            size: 8,
            signed: false,
        } => NpyData::U64(
            payload
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        ),
        Dtype::Int { size, signed } => NpyData::I64(
            payload
                .chunks_exact(size)
                .map(|c| {
                    let mut b = [0u8; 8];
                    b[..size].copy_from_slice(c);
                    if signed && c[size - 1] & 0x80 != 0 {
                        b[size..].fill(0xff);
                    }
                    i64::from_le_bytes(b)
                })
                .collect(),
        ),
    };
    Ok(NpyArray { shape, data })
}

/// Reads and parses a `.npy` file, once (a pipe works too); what does not start with a valid
/// header is refused before the rest is read.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, else as [`parse`].
pub fn read(path: &Path) -> Result<NpyArray, DatasetError> {
    let input = super::input::Input::open(path)?;
    let max = stream_bound(input.head())?;
    parse(&input.read_all(max)?)
}

impl NpyArray {
    /// Turns an N×D or N×H×W array into a [`Dataset`] (u8 stays u8; f32 and f64 become f32;
    /// other integers must fit in u8).
    ///
    /// # Errors
    /// [`DatasetError::Npy`] for another number of dimensions or an integer outside 0..=255,
    /// [`DatasetError::NonFinite`] for NaN or infinity, [`DatasetError::Empty`] for no samples.
    pub fn into_dataset(self) -> Result<Dataset, DatasetError> {
        let (n, dims, shape) = match self.shape[..] {
            [n, d] => (n, d, None),
            [n, h, w] => (
                n,
                h.checked_mul(w)
                    .ok_or_else(|| bad(format!("shape {:?} overflows", self.shape)))?,
                Some((h, w)),
            ),
            _ => {
                return Err(bad(format!(
                    "expected an N x D or N x H x W array, got shape {:?}",
                    self.shape
                )))
            }
        };
        let pixels = match self.data {
            NpyData::U8(v) => Pixels::U8(v),
            NpyData::F32(v) => Pixels::F32(v),
            NpyData::F64(v) => {
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(DatasetError::NonFinite {
                        row: i / dims.max(1),
                        col: i % dims.max(1),
                    });
                }
                if let Some(i) = v.iter().position(|&x| !(x as f32).is_finite()) {
                    return Err(DatasetError::OutOfF32Range {
                        row: i / dims.max(1),
                        col: i % dims.max(1),
                        value: v[i],
                    });
                }
                Pixels::F32(v.into_iter().map(|x| x as f32).collect())
            }
            NpyData::U64(v) => {
                if let Some(x) = v.iter().find(|&&x| x > 255) {
                    return Err(bad(format!(
                        "integer pixel value {x} does not fit in 0..=255"
                    )));
                }
                Pixels::U8(v.into_iter().map(|x| x as u8).collect())
            }
            NpyData::I64(v) => {
                if let Some(x) = v.iter().find(|x| !(0..=255).contains(*x)) {
                    return Err(bad(format!(
                        "integer pixel value {x} does not fit in 0..=255"
                    )));
                }
                Pixels::U8(v.into_iter().map(|x| x as u8).collect())
            }
        };
        match (pixels, shape) {
            (Pixels::U8(v), Some((h, w))) => Dataset::from_images(n, h, w, v),
            (pixels, shape) => Dataset::from_features(n, dims, shape, pixels),
        }
    }

    /// Reads the array as class labels: a 1-D (or N×1) array of non-negative integers
    /// (floats must be whole numbers).
    ///
    /// # Errors
    /// [`DatasetError::Npy`] for another shape, [`DatasetError::BadLabel`] for a negative,
    /// fractional or too large value.
    pub fn into_labels(self) -> Result<Vec<u32>, DatasetError> {
        match self.shape[..] {
            [_] | [_, 1] => {}
            _ => {
                return Err(bad(format!(
                    "labels must be a 1-D array, got shape {:?}",
                    self.shape
                )))
            }
        }
        let as_label = |index: usize, x: f64| -> Result<u32, DatasetError> {
            if x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) {
                Ok(x as u32)
            } else if x >= 0.0 && x.fract() == 0.0 && x < 1.8e19 {
                Err(DatasetError::LabelTooLarge {
                    index,
                    value: x as u64,
                })
            } else {
                Err(DatasetError::BadLabel {
                    index,
                    value: x.to_string(),
                })
            }
        };
        match self.data {
            NpyData::U8(v) => Ok(v.into_iter().map(u32::from).collect()),
            NpyData::I64(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| match u32::try_from(x) {
                    Ok(l) => Ok(l),
                    Err(_) if x > 0 => Err(DatasetError::LabelTooLarge {
                        index: i,
                        value: x.unsigned_abs(),
                    }),
                    Err(_) => Err(DatasetError::BadLabel {
                        index: i,
                        value: x.to_string(),
                    }),
                })
                .collect(),
            NpyData::U64(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| {
                    u32::try_from(x).map_err(|_| DatasetError::LabelTooLarge { index: i, value: x })
                })
                .collect(),
            NpyData::F32(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| as_label(i, f64::from(x)))
                .collect(),
            NpyData::F64(v) => v
                .into_iter()
                .enumerate()
                .map(|(i, x)| as_label(i, x))
                .collect(),
        }
    }
}

fn encode(descr: &str, shape: &[usize], payload: &[u8]) -> Vec<u8> {
    let shape_s = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_s}, }}");
    // Pad so that magic + version + length + header + newline is a multiple of 64.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + payload.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// Encodes a u8 array as `.npy` bytes (version 1.0, C order).
///
/// # Panics
/// Panics if the shape does not multiply to `values.len()`.
pub fn encode_u8(shape: &[usize], values: &[u8]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), values.len());
    encode("|u1", shape, values)
}

/// Encodes an i32 array as `.npy` bytes (version 1.0, C order), e.g. labels as OpenCV returns them.
///
/// # Panics
/// Panics if the shape does not multiply to `values.len()`.
pub fn encode_i32(shape: &[usize], values: &[i32]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), values.len());
    let payload: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    encode("<i4", shape, &payload)
}

/// The header of an i32 array of `shape` (what [`encode_i32`] puts before the values), for
/// writers that put the values in place themselves (one part each, at its offset).
///
/// # Examples
/// ```
/// use imgcluster::dataset::npy;
/// let full = npy::encode_i32(&[2], &[7, 8]);
/// assert_eq!(npy::header_i32(&[2]), full[..full.len() - 8]);
/// ```
pub fn header_i32(shape: &[usize]) -> Vec<u8> {
    encode("<i4", shape, &[])
}

/// Encodes an f32 array as `.npy` bytes (version 1.0, C order), e.g. k-means centers.
///
/// # Panics
/// Panics if the shape does not multiply to `values.len()`.
pub fn encode_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), values.len());
    let payload: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    encode("<f4", shape, &payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let b = encode_i32(&[3], &[-1, 0, 7]);
        assert_eq!(b.len() % 64, 12);
        let a = parse(&b).unwrap();
        assert_eq!(a.shape, vec![3]);
        assert_eq!(a.data, NpyData::I64(vec![-1, 0, 7]));
        let f = parse(&encode_f32(&[1, 2], &[1.5, -2.0])).unwrap();
        assert_eq!(f.data, NpyData::F32(vec![1.5, -2.0]));
    }

    #[test]
    fn header_is_64_byte_aligned() {
        assert_eq!((encode_u8(&[2, 2], &[0; 4]).len() - 4) % 64, 0);
    }

    #[test]
    fn refuses_huge_shape_without_allocating() {
        let b = encode("|u1", &[9_999_999_999_999], &[0]);
        let e = parse(&b).unwrap_err().to_string();
        assert!(e.contains("header says"), "{e}");
    }

    #[test]
    fn refuses_overflowing_shape() {
        let b = encode("|u1", &[99_999_999_999; 3], &[0]);
        assert!(parse(&b).unwrap_err().to_string().contains("overflow"));
    }

    #[test]
    fn empty_array_with_huge_images_is_an_error() {
        let b = encode("|u1", &[0, usize::MAX / 2, 3], &[]);
        assert!(parse(&b).unwrap().into_dataset().is_err());
    }

    #[test]
    fn non_ascii_dtype_is_an_error() {
        let b = encode("\u{e9}u1", &[1], &[0]);
        assert!(parse(&b).is_err());
    }

    #[test]
    fn refuses_bad_magic_and_truncation() {
        assert!(parse(b"hello").is_err());
        let b = encode_u8(&[4], &[1, 2, 3, 4]);
        assert!(parse(&b[..b.len() - 1]).is_err());
        assert!(parse(&b[..20]).is_err());
    }

    #[test]
    fn labels_reject_negative_and_fractional() {
        let neg = parse(&encode_i32(&[2], &[0, -3])).unwrap();
        assert!(matches!(
            neg.into_labels(),
            Err(DatasetError::BadLabel { index: 1, .. })
        ));
        let frac = parse(&encode_f32(&[1], &[0.5])).unwrap();
        assert!(frac.into_labels().is_err());
    }

    #[test]
    fn datasets_from_arrays() {
        let imgs = parse(&encode_u8(&[2, 1, 2], &[1, 2, 3, 4])).unwrap();
        let ds = imgs.into_dataset().unwrap();
        assert_eq!(ds.image_shape(), Some((1, 2)));
        let nan = parse(&encode_f32(&[1, 2], &[0.0, f32::NAN])).unwrap();
        assert!(matches!(
            nan.into_dataset(),
            Err(DatasetError::NonFinite { row: 0, col: 1 })
        ));
    }
}
