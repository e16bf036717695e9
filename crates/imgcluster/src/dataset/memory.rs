//! Memory estimates: refuse a data set the machine cannot hold before reading it.
//!
//! A memory-mapped data set ([`MappedNpy`](super::MappedNpy)) is not read into memory, so
//! [`check_mapped`] counts only what clustering allocates per sample.
//!
//! The estimate is read from the file's header alone (the shape of a `.npy` or IDX array, the
//! size of a PNG), so a header that claims a huge array is refused without allocating it.
//! It counts the file's bytes (read whole), the decoded values, and the 32-bit float copy that
//! clustering works on.

use super::{idx, npy, DatasetError, Format};

/// What loading and clustering a data set will need, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Number of values (samples × values per sample).
    pub values: u64,
    /// Bytes the whole run needs: file + decoded values + their f32 copy.
    pub bytes: u64,
}

/// Which limit a [`Budget`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MemoryLimit {
    /// The memory the operating system says is available (`MemAvailable`).
    Available,
    /// The process's address-space limit (`ulimit -v`, `RLIMIT_AS`), less what the process
    /// already holds.
    AddressSpace,
}

impl std::fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MemoryLimit::Available => "available",
            MemoryLimit::AddressSpace => "left under the address-space limit (ulimit -v)",
        })
    }
}

/// The memory a new allocation may take: the smaller of what the machine has available
/// and what the process's address-space limit leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Bytes.
    pub bytes: u64,
    /// Which limit they come from.
    pub limit: MemoryLimit,
}

/// `n` bytes for a person: `512 bytes`, `3.4 MiB`, `12.0 GiB`.
///
/// # Examples
/// ```
/// use imgcluster::dataset::memory::show_bytes;
/// assert_eq!(show_bytes(512), "512 bytes");
/// assert_eq!(show_bytes(3 << 20), "3.0 MiB");
/// assert_eq!(show_bytes(3 << 30), "3.0 GiB");
/// ```
pub fn show_bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    match n {
        0..=1023 => format!("{n} bytes"),
        1024..=0xFFFFF => format!("{:.1} KiB", n as f64 / 1024.0),
        0x100000..=0x3FFF_FFFF => format!("{:.1} MiB", n as f64 / MIB),
        _ => format!("{:.1} GiB", n as f64 / (MIB * 1024.0)),
    }
}

/// Memory the operating system says is available (`MemAvailable` of `/proc/meminfo`), or `None`
/// where that is not known.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// What the address-space limit (`RLIMIT_AS`) leaves this process: the limit less the
/// process's current virtual size (`VmSize` of `/proc/self/status`) and less an eighth of the
/// limit kept in reserve. `None` without a limit.
pub fn address_space_headroom() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut r = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes one `rlimit` through the valid, exclusive pointer.
        if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut r) } != 0
            || r.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
        let limit = r.rlim_cur as u64;
        let used = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmSize:"))?.to_string();
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .map_or(0, |kib| kib.saturating_mul(1024));
        // The process grows on its own (thread stacks, allocator arenas) between this check
        // and the allocation it guards: keep an eighth of the limit in reserve.
        Some(limit.saturating_sub(used).saturating_sub(limit / 8))
    }
    #[cfg(not(unix))]
    None
}

/// A zeroed buffer of `n` bytes, allocated fallibly: an allocation the system refuses (under
/// `ulimit -v`, say) is [`DatasetError::TooLarge`] naming `what`, not an abort.
///
/// # Errors
/// [`DatasetError::TooLarge`] when the allocation fails.
pub fn try_zeroed(n: usize, what: impl FnOnce() -> String) -> Result<Vec<u8>, DatasetError> {
    let mut v = try_with_capacity(n, what)?;
    v.resize(n, 0);
    Ok(v)
}

/// An empty vector with room for `n` elements, allocated fallibly as [`try_zeroed`] is.
///
/// # Errors
/// [`DatasetError::TooLarge`] when the allocation fails.
pub fn try_with_capacity<T>(
    n: usize,
    what: impl FnOnce() -> String,
) -> Result<Vec<T>, DatasetError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        refused(
            what(),
            (n as u64).saturating_mul(std::mem::size_of::<T>() as u64),
        )
    })?;
    Ok(v)
}

/// [`DatasetError::TooLarge`] for `what`, which needed `needed` bytes that the system refused,
/// with the current [`budget`] (0 bytes available when no limit is known).
pub fn refused(what: String, needed: u64) -> DatasetError {
    let b = budget().unwrap_or(Budget {
        bytes: 0,
        limit: MemoryLimit::Available,
    });
    DatasetError::TooLarge {
        what,
        needed,
        available: b.bytes,
        limit: b.limit,
    }
}

/// The memory a new allocation may take now ([`Budget`]), or `None` where neither limit is
/// known.
pub fn budget() -> Option<Budget> {
    let available = available_bytes().map(|bytes| Budget {
        bytes,
        limit: MemoryLimit::Available,
    });
    let space = address_space_headroom().map(|bytes| Budget {
        bytes,
        limit: MemoryLimit::AddressSpace,
    });
    match (available, space) {
        (Some(a), Some(s)) => Some(if s.bytes < a.bytes { s } else { a }),
        (a, s) => a.or(s),
    }
}

/// Refuses to go on when `needed` bytes exceed the [`budget`]; `what` names the work for the
/// message, e.g. `loading and clustering 1200 values`.
///
/// # Errors
/// [`DatasetError::TooLarge`] with both figures and the limit.
pub fn ensure(needed: u64, what: impl FnOnce() -> String) -> Result<(), DatasetError> {
    match budget() {
        Some(b) if needed > b.bytes => Err(DatasetError::TooLarge {
            what: what(),
            needed,
            available: b.bytes,
            limit: b.limit,
        }),
        _ => Ok(()),
    }
}

/// Estimates what loading a file in `format` needs from its first bytes `head` and its
/// length (`None` for a stream). `None` when the format has no header that states a size
/// (folders, CSV) or the header cannot be read (the loader then reports the problem).
pub fn estimate_head(head: &[u8], file_len: Option<u64>, format: Format) -> Option<MemoryEstimate> {
    let (values, width) = match format {
        Format::Npy => npy::header_shape(head)?,
        Format::Idx => (idx::header_values(head)?, 1),
        Format::Grid => {
            let (w, h) = super::imageio::image_size(head)?;
            ((w as u64).checked_mul(h as u64)?, 1)
        }
        _ => return None,
    };
    let gzip = head.starts_with(idx::GZIP_MAGIC);
    // What the file itself takes once read: its length, or for a stream what the header says.
    let file_bytes = file_len.unwrap_or_else(|| values.saturating_mul(width));
    if let Some(len) = file_len {
        // An uncompressed array larger than its file is a truncated file: the loader says so.
        let plain = matches!(format, Format::Npy) || (matches!(format, Format::Idx) && !gzip);
        if plain && values.saturating_mul(width) > len {
            return None;
        }
        // Likewise a gzip stream claiming more than deflate can hold: the loader says so.
        if matches!(format, Format::Idx)
            && gzip
            && values > len.saturating_mul(idx::MAX_RATIO as u64)
        {
            return None;
        }
    }
    let per_value = width + 4;
    Some(MemoryEstimate {
        values,
        bytes: values.saturating_mul(per_value).saturating_add(file_bytes),
    })
}

/// Refuses a file from its first bytes and length ([`estimate_head`]) when its estimate
/// exceeds the memory budget ([`budget`]).
///
/// # Errors
/// [`DatasetError::TooLarge`] with both figures.
pub fn check_head(head: &[u8], file_len: Option<u64>, format: Format) -> Result<(), DatasetError> {
    match estimate_head(head, file_len, format) {
        Some(est) => ensure(est.bytes, || {
            format!("loading and clustering {} values", est.values)
        }),
        None => Ok(()),
    }
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
    ensure(mapped_bytes(n), || {
        format!("clustering {n} memory-mapped samples ({values} values)")
    })
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
        if budget().is_some() {
            assert!(matches!(
                check_mapped(u64::MAX, usize::MAX / 2),
                Err(DatasetError::TooLarge { .. })
            ));
        }
    }

    #[test]
    fn a_small_file_passes_the_check() {
        let bytes = npy::encode_u8(&[2, 2], &[1, 2, 3, 4]);
        let len = Some(bytes.len() as u64);
        let est = estimate_head(&bytes, len, Format::Npy).unwrap();
        assert_eq!(est.values, 4);
        assert!(est.bytes >= 4 * 5);
        assert!(check_head(&bytes, len, Format::Npy).is_ok());
        // A header claiming more values than the file holds is the loader's to refuse.
        assert_eq!(estimate_head(&bytes, Some(3), Format::Npy), None);
    }
}
