//! Reading an input file once, within the memory there is: regular files, pipes
//! (`--data <(gunzip -c x.csv.gz)`), named FIFOs and devices alike.
//!
//! An [`Input`] is opened once and its first bytes ([`Input::head`]) are read at once, so that
//! a format can be recognised and its header checked before the rest is read; the rest is
//! then read from the same open file ([`Input::read_all`]). Nothing is read twice, so a pipe
//! loses no byte. A regular file's length is checked against the memory budget before it is
//! read; a stream is read until its end, but never past the budget or the caller's bound, so
//! `/dev/zero` is an error, not an endless read.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::memory;
use super::DatasetError;

/// Bytes read at once from the start of an input ([`Input::head`]).
pub const HEAD_BYTES: usize = 4096;

/// An input file opened for one read: its first bytes, and the rest on demand.
#[derive(Debug)]
pub struct Input {
    path: PathBuf,
    file: File,
    head: Vec<u8>,
    len: Option<u64>,
}

fn io_err(path: &Path, source: std::io::Error) -> DatasetError {
    DatasetError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The error for an input that does not fit: [`memory::refused`], tagged with the path.
fn out_of_memory(path: &Path, needed: u64) -> DatasetError {
    memory::refused("reading the file".to_string(), needed).in_file(path)
}

/// Reads into `buf` until it is full or the reader ends; returns the bytes read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

impl Input {
    /// Opens `path` and reads its first [`HEAD_BYTES`] bytes (fewer if it is shorter). A named
    /// FIFO waits for a writer, as `cat` does.
    ///
    /// # Errors
    /// [`DatasetError::Io`] when it cannot be opened or read; [`DatasetError::Unrecognised`]
    /// (tagged with the path) for a folder.
    pub fn open(path: &Path) -> Result<Input, DatasetError> {
        if path.is_dir() {
            return Err(DatasetError::Unrecognised(
                "is a folder; only the folder format reads folders".to_string(),
            )
            .in_file(path));
        }
        let mut file = File::open(path).map_err(|e| io_err(path, e))?;
        let meta = file.metadata().map_err(|e| io_err(path, e))?;
        let len = meta.is_file().then_some(meta.len());
        let want = len.map_or(HEAD_BYTES, |l| l.min(HEAD_BYTES as u64) as usize);
        let mut head = vec![0u8; want];
        let got = fill(&mut file, &mut head).map_err(|e| io_err(path, e))?;
        head.truncate(got);
        Ok(Input {
            path: path.to_path_buf(),
            file,
            head,
            len,
        })
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its first bytes: all of it when it is shorter than [`HEAD_BYTES`].
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Its length, for a regular file; `None` for a pipe, FIFO or device, whose length is
    /// known only once read.
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// Whether it holds no byte at all.
    pub fn is_empty(&self) -> bool {
        self.head.is_empty()
    }

    /// Whether the head is all of it (the input ended within [`HEAD_BYTES`]).
    fn head_is_all(&self) -> bool {
        match self.len {
            Some(len) => len <= self.head.len() as u64,
            None => self.head.len() < HEAD_BYTES,
        }
    }

    /// Reads the whole input: the head and the rest. A regular file is read whole, once its
    /// length has been checked against the memory budget ([`memory::budget`]). A stream is
    /// read to its end, but never past `max + 1` bytes nor past the budget: a caller that
    /// knows the size from a header passes it as `max`, and its parser then sees one byte too
    /// many instead of reading an endless stream.
    ///
    /// # Errors
    /// [`DatasetError::TooLarge`] when a regular file is larger than the budget (checked
    /// before reading) or a stream grows past it; [`DatasetError::Io`] when reading fails.
    /// Each is tagged with the path.
    pub fn read_all(mut self, max: u64) -> Result<Vec<u8>, DatasetError> {
        let path = self.path.clone();
        if self.head_is_all() {
            return Ok(self.head);
        }
        let mut data = std::mem::take(&mut self.head);
        let limit = match self.len {
            Some(len) => {
                memory::ensure(len, || "reading the file".to_string())
                    .map_err(|e| e.in_file(&path))?;
                let extra = usize::try_from(len)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(data.len());
                data.try_reserve_exact(extra)
                    .map_err(|_| out_of_memory(&path, len))?;
                // A file that grows while it is read is read to its new end, within the budget.
                u64::MAX
            }
            None => max.saturating_add(1),
        };
        let budget = memory::budget().map_or(u64::MAX, |b| b.bytes);
        let mut chunk = vec![0u8; 1 << 16];
        while (data.len() as u64) < limit {
            let want = (limit - data.len() as u64).min(chunk.len() as u64) as usize;
            let n = match self.file.read(&mut chunk[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(&path, e)),
            };
            let total = data.len() as u64 + n as u64;
            if (self.len.is_none() && total > budget) || data.try_reserve(n).is_err() {
                return Err(out_of_memory(&path, total));
            }
            data.extend_from_slice(&chunk[..n]);
        }
        Ok(data)
    }
}

/// Reads a whole file with [`Input`]: once, a stream to at most `max + 1` bytes, all within
/// the memory budget.
///
/// # Errors
/// As [`Input::open`] and [`Input::read_all`].
pub fn read(path: &Path, max: u64) -> Result<Vec<u8>, DatasetError> {
    Input::open(path)?.read_all(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let p =
            std::env::temp_dir().join(format!("imgcluster-input-{name}-{}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_file_is_read_whole_with_its_head() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let p = temp("whole", &bytes);
        let input = Input::open(&p).unwrap();
        assert_eq!(input.head(), &bytes[..HEAD_BYTES]);
        assert_eq!(input.len(), Some(10_000));
        assert_eq!(input.read_all(u64::MAX).unwrap(), bytes);
        let small = temp("small", b"abc");
        let input = Input::open(&small).unwrap();
        assert_eq!(input.head(), b"abc");
        assert_eq!(input.read_all(3).unwrap(), b"abc");
        // A regular file is read whole whatever the caller expects: its parser says more.
        assert_eq!(read(&p, 10).unwrap().len(), 10_000);
        std::fs::remove_file(p).unwrap();
        std::fs::remove_file(small).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_is_read_once_and_an_endless_device_is_bounded() {
        use std::io::Write;
        use std::process::{Command, Stdio};
        // A pipe: the bytes after the head are not lost.
        let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let to_write = bytes.clone();
        let writer = std::thread::spawn(move || stdin.write_all(&to_write).unwrap());
        let stdout = child.stdout.take().unwrap();
        use std::os::fd::AsRawFd;
        let fd_path = PathBuf::from(format!("/dev/fd/{}", stdout.as_raw_fd()));
        let input = Input::open(&fd_path).unwrap();
        assert_eq!(input.len(), None);
        assert_eq!(input.head(), &bytes[..HEAD_BYTES]);
        assert_eq!(input.read_all(u64::MAX).unwrap(), bytes);
        writer.join().unwrap();
        child.wait().unwrap();
        drop(stdout);
        // /dev/zero never ends: the caller's bound stops it, one byte past.
        let zeros = read(Path::new("/dev/zero"), 100_000).unwrap();
        assert_eq!(zeros.len(), 100_001);
        assert!(zeros.iter().all(|&b| b == 0));
    }
}
