//! IDX files, the format of MNIST (and Fashion-MNIST, EMNIST, KMNIST): images
//! (`*-images-idx3-ubyte`, magic `0x00000803`) and labels (`*-labels-idx1-ubyte`,
//! magic `0x00000801`), plain or gzipped (`.gz`, recognised by the gzip magic `1f 8b`).
//!
//! The header (magic, then one big-endian u32 size per dimension) is checked against the
//! data before anything is allocated: a plain file must hold exactly the bytes the header
//! claims; a gzipped file is refused if its compressed size could not possibly expand to
//! that many bytes, is decompressed no further than the header claims, and is an error when
//! it ends early or holds more.

use std::io::Read;
use std::path::Path;

use flate2::read::MultiGzDecoder;

use super::{Dataset, DatasetError};

/// The first two bytes of every gzip stream.
pub const GZIP_MAGIC: &[u8] = b"\x1f\x8b";

/// IDX element type code of unsigned bytes, the only type MNIST-style files use.
const TYPE_U8: u8 = 0x08;

/// Deflate cannot expand data by more than about 1032:1; a gzip stream of `n` bytes
/// therefore never holds more than `MAX_RATIO * n` bytes.
pub(crate) const MAX_RATIO: usize = 1032;

/// An IDX array of unsigned bytes: its shape and its values in C order.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// The shape, outermost dimension first (N, then H and W for images).
    pub shape: Vec<usize>,
    /// The values.
    pub data: Vec<u8>,
}

fn bad(msg: impl Into<String>) -> DatasetError {
    DatasetError::Idx(msg.into())
}

/// True when `bytes` start like an IDX file: two zero bytes, a type code, a dimension count.
pub fn looks_like_idx(bytes: &[u8]) -> bool {
    bytes.len() >= 4
        && bytes[0] == 0
        && bytes[1] == 0
        && matches!(bytes[2], 0x08 | 0x09 | 0x0b | 0x0c | 0x0d | 0x0e)
        && bytes[3] >= 1
}

fn type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0b => "short",
        0x0c => "int",
        0x0d => "float",
        0x0e => "double",
        _ => "unknown",
    }
}

/// Checks the 4-byte magic: returns the number of dimensions.
fn check_magic(m: &[u8]) -> Result<usize, DatasetError> {
    if m.len() < 4 || m[0] != 0 || m[1] != 0 {
        return Err(bad(format!(
            "missing the IDX magic (two zero bytes, a type code, a dimension count); found {:02x?}",
            &m[..m.len().min(4)]
        )));
    }
    if m[2] != TYPE_U8 {
        return Err(bad(format!(
            "element type 0x{:02x} ({}) is not supported; only unsigned bytes (0x08)",
            m[2],
            type_name(m[2])
        )));
    }
    if m[3] == 0 {
        return Err(bad("the header declares zero dimensions"));
    }
    Ok(usize::from(m[3]))
}

/// Parses the sizes; returns the shape and the number of data bytes it implies.
fn parse_sizes(raw: &[u8]) -> Result<(Vec<usize>, usize), DatasetError> {
    let shape: Vec<usize> = raw
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let need = shape
        .iter()
        .try_fold(1usize, |a, &s| a.checked_mul(s))
        .ok_or_else(|| {
            bad(format!(
                "the header's shape {} overflows",
                fmt_shape(&shape)
            ))
        })?;
    Ok((shape, need))
}

fn fmt_shape(shape: &[usize]) -> String {
    shape
        .iter()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// Parses an IDX file held in memory, plain or gzipped.
///
/// # Errors
/// [`DatasetError::Idx`] for a bad magic, an unsupported element type, a header whose sizes
/// do not match the data (checked before allocating), a truncated or corrupt gzip stream, or
/// data beyond what the header claims.
///
/// # Examples
/// ```
/// use imgcluster::dataset::idx;
/// let bytes = idx::encode(&[2, 1, 2], &[1, 2, 3, 4]);
/// let arr = idx::parse(&bytes)?;
/// assert_eq!(arr.shape, vec![2, 1, 2]);
/// assert_eq!(arr.into_dataset()?.image(1).unwrap().data(), &[3, 4]);
/// # Ok::<(), imgcluster::dataset::DatasetError>(())
/// ```
pub fn parse(bytes: &[u8]) -> Result<IdxArray, DatasetError> {
    if bytes.starts_with(GZIP_MAGIC) {
        return parse_gzip(bytes);
    }
    let ndims = check_magic(bytes)?;
    let header_len = 4 + 4 * ndims;
    if bytes.len() < header_len {
        return Err(bad(format!(
            "truncated header: {ndims} dimensions need {header_len} bytes, the file has {}",
            bytes.len()
        )));
    }
    let (shape, need) = parse_sizes(&bytes[4..header_len])?;
    let payload = &bytes[header_len..];
    if payload.len() != need {
        return Err(bad(format!(
            "the header says {} ({need} bytes of data) but the file holds {} bytes{}",
            fmt_shape(&shape),
            payload.len(),
            if payload.len() < need {
                " (truncated?)"
            } else {
                ""
            }
        )));
    }
    Ok(IdxArray {
        shape,
        data: payload.to_vec(),
    })
}

/// The length a plain IDX file whose first bytes are `head` must have, from its header, for
/// reading a stream no further ([`Input::read_all`](super::input::Input::read_all));
/// `u64::MAX` for a gzip file (a stream is then bounded by the memory budget).
///
/// # Errors
/// [`DatasetError::Idx`] when `head` is neither gzip nor an IDX header: the cheap check,
/// made before the rest is read.
pub fn stream_bound(head: &[u8]) -> Result<u64, DatasetError> {
    if head.starts_with(GZIP_MAGIC) {
        return Ok(u64::MAX);
    }
    let ndims = check_magic(head)?;
    let header_len = 4 + 4 * ndims as u64;
    Ok(header_values(head)
        .and_then(|v| v.checked_add(header_len))
        .unwrap_or(u64::MAX))
}

/// The number of values an IDX header declares (plain, or the start of a gzip stream), from
/// the first bytes of the file; `None` when they are not a valid header.
pub fn header_values(head: &[u8]) -> Option<u64> {
    let mut header = [0u8; 4 + 4 * 255];
    let len = if head.starts_with(GZIP_MAGIC) {
        let mut z = MultiGzDecoder::new(head);
        let mut got = 0;
        while got < header.len() {
            match z.read(&mut header[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        got
    } else {
        let n = head.len().min(header.len());
        header[..n].copy_from_slice(&head[..n]);
        n
    };
    let ndims = check_magic(&header[..len.min(4)]).ok()?;
    let dims = header
        .get(4..4 + 4 * ndims)
        .filter(|_| len >= 4 + 4 * ndims)?;
    dims.chunks_exact(4).try_fold(1u64, |a, c| {
        a.checked_mul(u64::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
    })
}

fn parse_gzip(bytes: &[u8]) -> Result<IdxArray, DatasetError> {
    let gz_err = |e: std::io::Error, what: &str| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => {
            bad(format!("the gzip stream ends {what} (truncated)"))
        }
        _ => bad(format!("corrupt gzip stream: {e}")),
    };
    // Every member of the stream, as `cat a.gz b.gz` or some tools write it; bytes after
    // the last member that are not another member are an error.
    let mut z = MultiGzDecoder::new(bytes);
    let mut magic = [0u8; 4];
    z.read_exact(&mut magic)
        .map_err(|e| gz_err(e, "inside the IDX header"))?;
    let ndims = check_magic(&magic)?;
    let mut raw = vec![0u8; 4 * ndims];
    z.read_exact(&mut raw)
        .map_err(|e| gz_err(e, "inside the IDX header"))?;
    let (shape, need) = parse_sizes(&raw)?;
    let possible = bytes.len().saturating_mul(MAX_RATIO);
    if need > possible {
        return Err(bad(format!(
            "the header says {} ({need} bytes of data), more than a {}-byte gzip file can hold",
            fmt_shape(&shape),
            bytes.len()
        )));
    }
    // Grow with the data actually decompressed, never past one byte more than claimed.
    let mut data = Vec::new();
    (&mut z)
        .take(need as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| gz_err(e, "early"))?;
    if data.len() == need {
        // The end of the stream: nothing but the end of the last member may follow.
        let mut rest = [0u8; 1];
        match z.read(&mut rest) {
            Ok(0) => {}
            Ok(_) => data.push(rest[0]),
            Err(e) => {
                return Err(bad(format!(
                    "bytes after the gzip stream that are not another gzip member: {e}"
                )))
            }
        }
    }
    if data.len() != need {
        return Err(bad(format!(
            "the header says {} ({need} bytes of data) but the gzip stream holds {}",
            fmt_shape(&shape),
            if data.len() < need {
                format!("only {} (truncated?)", data.len())
            } else {
                "more".to_string()
            }
        )));
    }
    Ok(IdxArray { shape, data })
}

/// Reads and parses an IDX file, plain or gzipped.
///
/// # Errors
/// [`DatasetError::Io`] when the file cannot be read, else as [`parse`], tagged with the path.
pub fn read(path: &Path) -> Result<IdxArray, DatasetError> {
    let input = super::input::Input::open(path)?;
    let max = stream_bound(input.head()).map_err(|e| e.in_file(path))?;
    parse(&input.read_all(max)?).map_err(|e| e.in_file(path))
}

impl IdxArray {
    /// Turns an N×H×W array into N images of H×W, or an N×D array into N vectors of D u8.
    ///
    /// # Errors
    /// [`DatasetError::Idx`] for another number of dimensions, [`DatasetError::Empty`] for
    /// no samples.
    pub fn into_dataset(self) -> Result<Dataset, DatasetError> {
        match self.shape[..] {
            [n, h, w] => Dataset::from_images(n, h, w, self.data),
            [n, d] => Dataset::from_features(n, d, None, super::Pixels::U8(self.data)),
            _ => Err(bad(format!(
                "expected images (3 dimensions, idx3) or vectors (2), got {} dimension{}",
                self.shape.len(),
                if self.shape.len() == 1 {
                    " (a labels file?)"
                } else {
                    "s"
                }
            ))),
        }
    }

    /// Reads the array as class labels (one dimension, idx1).
    ///
    /// # Errors
    /// [`DatasetError::Idx`] for another number of dimensions.
    pub fn into_labels(self) -> Result<Vec<u32>, DatasetError> {
        if self.shape.len() != 1 {
            return Err(bad(format!(
                "labels must have 1 dimension (idx1), got {} ({})",
                self.shape.len(),
                fmt_shape(&self.shape)
            )));
        }
        Ok(self.data.into_iter().map(u32::from).collect())
    }
}

/// Encodes unsigned bytes as an IDX file (uncompressed).
///
/// # Panics
/// Panics if the shape does not multiply to `values.len()`, has no or more than 255
/// dimensions, or a dimension exceeds `u32::MAX`.
pub fn encode(shape: &[usize], values: &[u8]) -> Vec<u8> {
    assert_eq!(shape.iter().product::<usize>(), values.len());
    assert!(!shape.is_empty() && shape.len() <= 255);
    let mut out = vec![0, 0, TYPE_U8, shape.len() as u8];
    for &s in shape {
        out.extend_from_slice(&u32::try_from(s).expect("dimension fits u32").to_be_bytes());
    }
    out.extend_from_slice(values);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    /// A file of two gzip members (as `cat a.gz b.gz` writes) reads as their
    /// concatenation; bytes after the last member that are not a member are refused.
    #[test]
    fn multi_member_gzip_and_trailing_garbage() {
        let plain = encode(&[3, 2], &[1, 2, 3, 4, 5, 6]);
        let (a, b) = plain.split_at(7);
        let two = [gzip(a), gzip(b)].concat();
        let arr = parse(&two).unwrap();
        assert_eq!((arr.shape, arr.data), (vec![3, 2], vec![1, 2, 3, 4, 5, 6]));
        for garbage in [&b"garbage!"[..], &[0u8; 16][..]] {
            let bad = [gzip(&plain), garbage.to_vec()].concat();
            let e = parse(&bad).unwrap_err().to_string();
            assert!(e.contains("gzip"), "{e}");
        }
        assert_eq!(header_values(&two), Some(6));
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn msg(r: Result<IdxArray, DatasetError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn plain_and_gzip_round_trip() {
        let b = encode(&[3, 2, 2], &(0..12).collect::<Vec<u8>>());
        assert_eq!(parse(&b).unwrap(), parse(&gzip(&b)).unwrap());
        let labels = parse(&gzip(&encode(&[3], &[7, 0, 9])))
            .unwrap()
            .into_labels()
            .unwrap();
        assert_eq!(labels, vec![7, 0, 9]);
    }

    #[test]
    fn huge_headers_are_refused_before_allocating() {
        // 4e9 x 250 x 250 images, in a 16-byte plain file and in a small gzip.
        let mut b = vec![0, 0, 8, 3];
        for s in [4_000_000_000u32, 250, 250] {
            b.extend_from_slice(&s.to_be_bytes());
        }
        assert!(msg(parse(&b)).contains("4000000000x250x250"));
        assert!(msg(parse(&gzip(&b))).contains("more than a"));
        // A shape whose byte count overflows usize.
        let mut b = vec![0, 0, 8, 4];
        for _ in 0..4 {
            b.extend_from_slice(&u32::MAX.to_be_bytes());
        }
        assert!(msg(parse(&b)).contains("overflows"));
    }

    #[test]
    fn truncation_is_an_error() {
        let b = encode(&[4, 3, 3], &[5; 36]);
        assert!(msg(parse(&b[..b.len() - 1])).contains("truncated"));
        assert!(msg(parse(&b[..10])).contains("truncated header"));
        let gz = gzip(&b);
        for cut in [gz.len() - 1, gz.len() / 2, 12] {
            let e = msg(parse(&gz[..cut]));
            assert!(
                e.contains("truncated") || e.contains("corrupt"),
                "{cut}: {e}"
            );
        }
        // A complete gzip stream whose content is shorter than the header says.
        assert!(msg(parse(&gzip(&b[..b.len() - 3]))).contains("only 33"));
        // And one that holds more.
        let mut long = b.clone();
        long.push(0);
        assert!(msg(parse(&gzip(&long))).contains("holds more"));
        assert!(msg(parse(&long)).contains("holds 37 bytes"));
    }

    #[test]
    fn bad_magic_and_types_are_errors() {
        assert!(msg(parse(b"\x01\x00\x08\x03....")).contains("magic"));
        assert!(msg(parse(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0])).contains("float"));
        assert!(msg(parse(&[0, 0, 8, 0])).contains("zero dimensions"));
        assert!(msg(parse(&gzip(b"not idx at all"))).contains("magic"));
    }

    #[test]
    fn shapes_map_to_datasets_and_labels() {
        let v = parse(&encode(&[2, 3], &[0; 6]))
            .unwrap()
            .into_dataset()
            .unwrap();
        assert_eq!((v.len(), v.dims(), v.image_shape()), (2, 3, None));
        assert!(parse(&encode(&[2], &[0; 2]))
            .unwrap()
            .into_dataset()
            .is_err());
        assert!(parse(&encode(&[2, 1], &[0; 2]))
            .unwrap()
            .into_labels()
            .is_err());
        assert!(looks_like_idx(&encode(&[1], &[0])));
        assert!(!looks_like_idx(b"\x00\x00\x08"));
    }
}
