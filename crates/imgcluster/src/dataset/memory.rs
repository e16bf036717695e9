//! Memory estimates: refuse a data set the machine cannot hold before reading it.
//!
//! A memory-mapped data set ([`MappedNpy`](super::MappedNpy)) is not read into memory, so
//! [`check_mapped`] counts only what clustering allocates per sample.
//!
//! The estimate is read from the file's header alone (the shape of a `.npy` or IDX array, the
//! size of a PNG), so a header that claims a huge array is refused without allocating it.
//! It counts the file's bytes (read whole), the decoded values, and the 32-bit float copy that
//! clustering works on.

use std::io::Read;
use std::path::Path;

use super::{idx, npy, DatasetError, Format};

/// What loading and clustering a data set will need, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Number of values (samples × values per sample).
    pub values: u64,
    /// Bytes the whole run needs: file + decoded values + their f32 copy.
    pub bytes: u64,
}

/// Memory the operating system says is available (`MemAvailable` of `/proc/meminfo`), or `None`
/// where that is not known.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

fn head(path: &Path, n: usize) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    std::fs::File::open(path)
        .ok()?
        .take(n as u64)
        .read_to_end(&mut buf)
        .ok()?;
    Some(buf)
}

/// Estimates what loading `path` in `format` needs, from its header only. `None` when the
/// format has no header that states a size (folders, CSV) or the header cannot be read (the
/// loader then reports the problem).
pub fn estimate(path: &Path, format: Format) -> Option<MemoryEstimate> {
    let file_len = std::fs::metadata(path).ok()?.len();
    let (values, width) = match format {
        Format::Npy => npy::header_shape(&head(path, 1 << 16)?)?,
        Format::Idx => (idx::header_values(&head(path, 1 << 16)?)?, 1),
        Format::Grid => {
            let h = head(path, 33)?;
            if h.len() < 24 || &h[12..16] != b"IHDR" {
                return None;
            }
            let w = u64::from(u32::from_be_bytes([h[16], h[17], h[18], h[19]]));
            let ht = u64::from(u32::from_be_bytes([h[20], h[21], h[22], h[23]]));
            (w.checked_mul(ht)?, 1)
        }
        _ => return None,
    };
    // An uncompressed array larger than its file is a truncated file: the loader says so.
    let plain: bool = matches!(format, Format::Npy)
        || (matches!(format, Format::Idx) && !head(path, 2)?.starts_with(idx::GZIP_MAGIC));
    if plain && values.saturating_mul(width) > file_len {
        return None;
    }
    // Likewise a gzip stream claiming more than deflate can hold: the loader says so.
    let limit = file_len.saturating_mul(idx::MAX_RATIO as u64);
    if matches!(format, Format::Idx) && !plain && values > limit {
        return None;
    }
    let per_value = width + 4;
    Some(MemoryEstimate {
        values,
        bytes: values.saturating_mul(per_value).saturating_add(file_len),
    })
}

/// Refuses `path` when its estimate exceeds the available memory.
///
/// # Errors
/// [`DatasetError::TooLarge`] with both figures.
pub fn check(path: &Path, format: Format) -> Result<(), DatasetError> {
    let (Some(est), Some(available)) = (estimate(path, format), available_bytes()) else {
        return Ok(());
    };
    if est.bytes > available {
        return Err(DatasetError::TooLarge {
            values: est.values,
            needed: est.bytes,
            available,
        });
    }
    Ok(())
}

/// Refuses a memory-mapped data set of `n` samples (`values` in all) when what clustering
/// it allocates exceeds the available memory. The samples stay in the file and are paged in
/// and out by the operating system, so only the per-sample state counts: labels, bounds and
/// norms of a fast-mode fit (the largest of the k-means engines), twice for the labels the
/// caller keeps.
///
/// # Errors
/// [`DatasetError::TooLarge`] with both figures.
pub fn check_mapped(values: u64, n: usize) -> Result<(), DatasetError> {
    let needed = mapped_bytes(n);
    match available_bytes() {
        Some(available) if needed > available => Err(DatasetError::TooLarge {
            values,
            needed,
            available,
        }),
        _ => Ok(()),
    }
}

/// The bytes [`check_mapped`] counts for `n` samples.
fn mapped_bytes(n: usize) -> u64 {
    crate::kmeans::state_bytes(n).saturating_add((n as u64).saturating_mul(4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes_of_npy_and_idx() {
        let npy = npy::encode_u8(&[3, 2, 2], &[0; 12]);
        assert_eq!(npy::header_shape(&npy), Some((12, 1)));
        let f = npy::encode_f32(&[2, 5], &[0.0; 10]);
        assert_eq!(npy::header_shape(&f), Some((10, 4)));
        let plain = idx::encode(&[4, 3, 2], &[0; 24]);
        assert_eq!(idx::header_values(&plain[..16]), Some(24));
        assert_eq!(idx::header_values(b"\x00\x00\x08"), None);
        assert_eq!(idx::header_values(b"not idx at all"), None);
    }

    #[test]
    fn a_mapped_data_set_counts_its_state_not_its_values() {
        let n = 1_000_000;
        let bytes = mapped_bytes(n);
        assert!(bytes < 784 * n as u64, "{bytes}");
        assert!(bytes >= 40 * n as u64, "{bytes}");
        assert!(check_mapped(784 * n as u64, n).is_ok());
        if available_bytes().is_some() {
            assert!(matches!(
                check_mapped(u64::MAX, usize::MAX / 2),
                Err(DatasetError::TooLarge { .. })
            ));
        }
    }

    #[test]
    fn a_small_file_passes_the_check() {
        let dir = std::env::temp_dir().join(format!("imgcluster-mem-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("small.npy");
        std::fs::write(&path, npy::encode_u8(&[2, 2], &[1, 2, 3, 4])).unwrap();
        let est = estimate(&path, Format::Npy).unwrap();
        assert_eq!(est.values, 4);
        assert!(est.bytes >= 4 * 5);
        assert!(check(&path, Format::Npy).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
