//! Memory-mapped `.npy` arrays: samples read in place from the file, for data larger than RAM.
//!
//! [`npy::read`](super::npy::read) copies a whole array into memory, which caps a data set at
//! the machine's memory. [`MappedNpy`] maps the file instead and hands out its payload as a
//! borrowed slice ([`MappedNpy::values`]): k-means, which only takes slices, runs over it
//! directly, and the operating system pages the data in and out as the passes stream
//! through it. Only what the clustering allocates per sample (labels, bounds, norms) must fit
//! in memory; [`open_mapped`] checks that ([`memory::check_mapped`](super::memory::check_mapped))
//! instead of the size of the file.
//!
//! A map shares the file with every other process: **the file must not be written to or
//! truncated while it is mapped**. A write would change memory behind a shared Rust reference
//! (undefined behaviour) and a truncation ends the process with `SIGBUS` on Unix when a page
//! past the new end is touched. That is why [`open_mapped`] is an `unsafe fn` whose caller
//! promises it (as with `memmap2::Mmap::map`, NumPy's `mmap_mode='r'` and ripgrep's
//! `--mmap`); the `imgcluster` binary documents the promise for `--mmap` and turns a `SIGBUS`
//! into an error message naming the file.
//!
//! Only arrays whose bytes already are the samples can be mapped: u8 or little-endian f32,
//! C order, N×D or N×H×W. Other types need a conversion, hence a copy; read them with
//! [`open`](super::open). The payload of an f32 array must also be 4-byte aligned in the file,
//! which NumPy's 64-byte header padding guarantees.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use memmap2::{Mmap, MmapOptions};

use super::npy::{self, Dtype};
use super::{memory, DatasetError};

/// The samples of a [`MappedNpy`], borrowed from the mapping.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MappedValues<'a> {
    /// 8-bit values (`|u1`).
    U8(&'a [u8]),
    /// 32-bit floats (`<f4`).
    F32(&'a [f32]),
}

/// A `.npy` array of u8 or f32 samples mapped into memory, not read.
///
/// # Examples
/// ```
/// use imgcluster::dataset::{npy, open_mapped, MappedValues};
/// let dir = std::env::temp_dir().join(format!("imgcluster-doc-mapped-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("x.npy");
/// std::fs::write(&path, npy::encode_u8(&[2, 1, 2], &[1, 2, 3, 4]))?;
/// // SAFETY: the file is this example's own; nothing else writes it while it is mapped.
/// let mapped = unsafe { open_mapped(&path) }?;
/// assert_eq!((mapped.len(), mapped.dims(), mapped.image_shape()), (2, 2, Some((1, 2))));
/// assert_eq!(mapped.values(), MappedValues::U8(&[1, 2, 3, 4]));
/// assert_eq!(mapped.describe(), "2 images of 1x2 u8, memory-mapped");
/// drop(mapped);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MappedNpy {
    map: Mmap,
    /// Where the samples start in the map, and how many bytes they take (the header's).
    offset: usize,
    bytes: usize,
    dtype: Dtype,
    n: usize,
    dims: usize,
    shape: Option<(usize, usize)>,
    path: PathBuf,
    /// Global index of the first mapped row, and the rows of the whole array.
    first: usize,
    total: usize,
}

/// Bytes read to parse the header (NumPy headers are a few hundred bytes; version 2 allows
/// longer ones, which [`npy`] refuses beyond this too).
const HEADER_BYTES: u64 = 1 << 16;

fn bad(msg: impl Into<String>) -> DatasetError {
    DatasetError::Npy(msg.into())
}

/// Maps the `.npy` array at `path` (u8 or f32, N×D or N×H×W, C order) without reading it.
///
/// The memory check counts only what clustering the samples allocates per sample
/// ([`memory::check_mapped`]); the file itself may be larger than the memory. The samples are
/// exactly the bytes the header promises, after the header: a file of another length is
/// refused.
///
/// # Safety
/// The file must not be written to or truncated, by this or any other process, while the
/// returned value (or a slice borrowed from it) lives: the map is shared with the file, so a
/// write changes memory behind a shared reference, and on Unix a truncation ends the process
/// with `SIGBUS` as soon as a page past the new end is read.
///
/// # Errors
/// Every error is tagged with the path ([`DatasetError::InFile`]): [`DatasetError::Io`] when
/// the file cannot be opened or mapped; [`DatasetError::InvalidParameter`] for a pipe,
/// FIFO or device; [`DatasetError::Npy`] for a bad header, another dtype or number of
/// dimensions, a payload that does not match the header or is not aligned for f32;
/// [`DatasetError::Empty`] for no samples; [`DatasetError::TooLarge`] when even the
/// per-sample state does not fit in the available memory.
pub unsafe fn open_mapped(path: &Path) -> Result<MappedNpy, DatasetError> {
    // SAFETY: the caller upholds the contract above.
    unsafe { MappedNpy::open(path, None) }.map_err(|e| e.in_file(path))
}

/// Maps part `part` of `parts` of the `.npy` array at `path`: rows
/// `[part·N/parts, (part+1)·N/parts)` of its `N`, and nothing else (a process of a
/// distributed fit maps its own rows). [`MappedNpy::len`] is the number of rows mapped,
/// [`MappedNpy::first_row`] and [`MappedNpy::total_rows`] place them in the array.
///
/// # Safety
/// As [`open_mapped`].
///
/// # Errors
/// As [`open_mapped`] (the whole file must have the length its header promises), and
/// [`DatasetError::Empty`] for a part without rows.
///
/// # Examples
/// ```
/// use imgcluster::dataset::{npy, open_mapped_part, MappedValues};
/// let dir = std::env::temp_dir().join(format!("imgcluster-doc-part-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("x.npy");
/// std::fs::write(&path, npy::encode_u8(&[5, 2], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))?;
/// // SAFETY: the file is this example's own; nothing else writes it while it is mapped.
/// let part = unsafe { open_mapped_part(&path, 1, 2) }?;
/// assert_eq!((part.first_row(), part.len(), part.total_rows()), (2, 3, 5));
/// assert_eq!(part.values(), MappedValues::U8(&[4, 5, 6, 7, 8, 9]));
/// drop(part);
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub unsafe fn open_mapped_part(
    path: &Path,
    part: usize,
    parts: usize,
) -> Result<MappedNpy, DatasetError> {
    // SAFETY: the caller upholds the contract of `open_mapped`.
    unsafe { MappedNpy::open(path, Some((part, parts))) }.map_err(|e| e.in_file(path))
}

impl MappedNpy {
    /// # Safety
    /// As [`open_mapped`].
    unsafe fn open(path: &Path, part: Option<(usize, usize)>) -> Result<Self, DatasetError> {
        let io = |source| DatasetError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(DatasetError::InvalidParameter {
                name: "mmap",
                reason: "only a regular file can be memory-mapped; this is a pipe, FIFO or \
                         device (read it without memory-mapping)"
                    .to_string(),
            });
        }
        let mut head = Vec::new();
        (&file)
            .take(HEADER_BYTES)
            .read_to_end(&mut head)
            .map_err(io)?;
        let (dtype, shape, offset) = npy::parse_header(&head)?;
        if !matches!(dtype, Dtype::U8 | Dtype::F32) {
            return Err(bad(
                "only u8 and f32 arrays can be memory-mapped (other types need a converted copy)",
            ));
        }
        if dtype == Dtype::F32 && cfg!(target_endian = "big") {
            return Err(bad(
                "f32 arrays are little-endian and cannot be mapped on this machine",
            ));
        }
        let (n, dims, image) = match shape[..] {
            [n, d] => (n, Some(d), None),
            [n, h, w] => (n, h.checked_mul(w), Some((h, w))),
            _ => {
                return Err(bad(format!(
                    "expected an N x D or N x H x W array, got shape {shape:?}"
                )))
            }
        };
        let overflow = || bad(format!("shape {shape:?} overflows"));
        let dims = dims.ok_or_else(overflow)?;
        let need = n
            .checked_mul(dims)
            .and_then(|v| v.checked_mul(dtype.size()))
            .ok_or_else(overflow)?;
        if n == 0 || dims == 0 {
            return Err(DatasetError::Empty);
        }
        let total = n;
        let (first, n) = match part {
            Some((p, parts)) => {
                let row = |p: usize| (p as u128 * n as u128 / parts.max(1) as u128) as usize;
                (row(p), row(p + 1) - row(p))
            }
            None => (0, n),
        };
        if n == 0 {
            return Err(DatasetError::Empty);
        }
        memory::check_mapped((n * dims) as u64, n)?;
        let row_bytes = dims * dtype.size();
        let map = if part.is_some() {
            let payload = file
                .metadata()
                .map_err(io)?
                .len()
                .saturating_sub(offset as u64);
            if payload != need as u64 {
                return Err(bad(format!(
                    "header says {shape:?} ({need} bytes of data) but the file holds {payload} bytes"
                )));
            }
            // SAFETY: as below; only this part's bytes are mapped.
            unsafe {
                MmapOptions::new()
                    .offset((offset + first * row_bytes) as u64)
                    .len(n * row_bytes)
                    .map(&file)
            }
            .map_err(io)?
        } else {
            // SAFETY: the map is shared with the file; the caller of `open_mapped` promised
            // that nothing writes to or truncates the file while it is mapped, so the bytes
            // behind the slices handed out stay as they are.
            let map = unsafe { Mmap::map(&file) }.map_err(io)?;
            // The length that counts is the one mapped, read after the map was made.
            let payload = (map.len() as u64).saturating_sub(offset as u64);
            if payload != need as u64 {
                return Err(bad(format!(
                    "header says {shape:?} ({need} bytes of data) but the file holds {payload} bytes"
                )));
            }
            map
        };
        let start = offset + first * row_bytes;
        let (offset, need) = match part {
            Some(_) => (0, n * row_bytes),
            None => (offset, need),
        };
        #[cfg(unix)]
        {
            // k-means streams through the samples in order, pass after pass: let the kernel
            // read ahead. Only a hint; failure changes nothing.
            let _ = map.advise(memmap2::Advice::Sequential);
        }
        let mapped = Self {
            map,
            offset,
            bytes: need,
            dtype,
            n,
            dims,
            shape: image,
            path: path.to_path_buf(),
            first,
            total,
        };
        if dtype == Dtype::F32 && bytemuck::try_cast_slice::<u8, f32>(mapped.payload()).is_err() {
            return Err(bad(format!(
                "the f32 data starts at byte {start}, not a multiple of 4, so it cannot be mapped"
            )));
        }
        Ok(mapped)
    }

    fn payload(&self) -> &[u8] {
        &self.map[self.offset..self.offset + self.bytes]
    }

    /// The samples, `len() × dims()` values row-major, borrowed from the mapping.
    pub fn values(&self) -> MappedValues<'_> {
        match self.dtype {
            Dtype::F32 => MappedValues::F32(
                bytemuck::try_cast_slice(self.payload()).expect("alignment checked at open"),
            ),
            _ => MappedValues::U8(self.payload()),
        }
    }

    /// Number of samples (mapped).
    pub fn len(&self) -> usize {
        self.n
    }

    /// Index in the array of the first sample mapped (0 but for [`open_mapped_part`]).
    pub fn first_row(&self) -> usize {
        self.first
    }

    /// Number of samples of the whole array.
    pub fn total_rows(&self) -> usize {
        self.total
    }

    /// Always false: a mapped array holds at least one sample.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Values per sample.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// `(height, width)` for an N×H×W array.
    pub fn image_shape(&self) -> Option<(usize, usize)> {
        self.shape
    }

    /// The mapped file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A short description such as `60000 images of 28x28 u8, memory-mapped`.
    pub fn describe(&self) -> String {
        let kind = match self.dtype {
            Dtype::F32 => "f32",
            _ => "u8",
        };
        match self.shape {
            Some((h, w)) => format!("{} images of {h}x{w} {kind}, memory-mapped", self.n),
            None => format!("{} vectors of {} {kind}, memory-mapped", self.n, self.dims),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempFile(PathBuf);
    impl TempFile {
        fn new(name: &str, bytes: &[u8]) -> Self {
            let p = std::env::temp_dir().join(format!(
                "imgcluster-mapped-{name}-{}.npy",
                std::process::id()
            ));
            std::fs::write(&p, bytes).unwrap();
            TempFile(p)
        }
    }
    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn maps_u8_and_f32_as_read() {
        let f = TempFile::new(
            "f32",
            &npy::encode_f32(&[2, 3], &[1.0, -2.5, 3.0, 0.0, 7.0, 8.0]),
        );
        // SAFETY: the test's own file, not written while mapped.
        let m = unsafe { open_mapped(&f.0) }.unwrap();
        assert_eq!(
            m.values(),
            MappedValues::F32(&[1.0, -2.5, 3.0, 0.0, 7.0, 8.0])
        );
        assert_eq!((m.len(), m.dims(), m.image_shape()), (2, 3, None));
        assert_eq!(m.describe(), "2 vectors of 3 f32, memory-mapped");
        assert_eq!(m.path(), f.0.as_path());
    }

    #[test]
    fn refuses_what_cannot_be_mapped() {
        let cases: [(&str, Vec<u8>, &str); 4] = [
            ("i32", npy::encode_i32(&[2, 2], &[0; 4]), "only u8 and f32"),
            ("1d", npy::encode_u8(&[4], &[0; 4]), "N x D"),
            (
                "short",
                {
                    let mut b = npy::encode_u8(&[2, 2], &[0; 4]);
                    b.pop();
                    b
                },
                "header says",
            ),
            ("empty", npy::encode_u8(&[0, 2], &[]), "empty"),
        ];
        for (name, bytes, says) in cases {
            let f = TempFile::new(name, &bytes);
            // SAFETY: the test's own file, not written while mapped.
            let e = unsafe { open_mapped(&f.0) }.unwrap_err().to_string();
            assert!(
                e.contains(says) && e.contains(&*f.0.to_string_lossy()),
                "{e}"
            );
        }
    }
}
