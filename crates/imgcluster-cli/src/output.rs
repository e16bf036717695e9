//! Writing output files: all of a run's outputs, or none.
//!
//! A run queues its outputs ([`Outputs`]) and commits them at the end: every file is
//! written to a temporary file beside its target first; only when all of them (and any
//! special file such as `/dev/null`) are written are they renamed into place. An error or
//! a signal (SIGINT, SIGTERM, SIGHUP) before that removes every temporary file and every
//! folder the commit created, so no output — not even the first of several — is left.
//! A replaced file keeps its permissions, a symbolic link is written through (its target
//! replaced, the link kept), and the same file named by two outputs is refused.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use imgcluster::collective::Collective;

/// Temporary files and created folders of a commit in progress; a signal removes them
/// before exiting.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes what a commit in progress has made (files, then folders, newest first).
fn remove_in_flight() {
    if let Ok(paths) = IN_FLIGHT.lock() {
        for p in paths.iter().rev() {
            if p.is_dir() {
                let _ = std::fs::remove_dir(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

fn track(path: &Path, on: bool) {
    if let Ok(mut paths) = IN_FLIGHT.lock() {
        if on {
            paths.push(path.to_path_buf());
        } else {
            paths.retain(|p| p != path);
        }
    }
}

/// Makes SIGINT (Ctrl-C), SIGTERM and SIGHUP remove any temporary file or folder of a
/// commit in progress, say so on standard error and exit with 128 + the signal number,
/// as shells report a process ended by that signal.
#[cfg(unix)]
pub fn install_interrupt_cleanup() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
        return;
    };
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            remove_in_flight();
            let name = match sig {
                SIGTERM => "SIGTERM",
                SIGHUP => "SIGHUP",
                _ => "SIGINT",
            };
            let _ = writeln!(std::io::stderr(), "imgcluster: interrupted ({name})");
            std::process::exit(128 + sig);
        }
    });
}

/// The message a `SIGBUS` prints: set once, before a file is memory-mapped.
#[cfg(unix)]
static SIGBUS_MESSAGE: std::sync::OnceLock<Box<[u8]>> = std::sync::OnceLock::new();

/// Makes a `SIGBUS` — what reading a memory-mapped file past its end raises once another
/// process has truncated it — print an error naming `path` and exit with status 1, instead
/// of ending the process with no word. The handler only writes the message prepared here and
/// exits (both async-signal-safe); no output has been committed while samples are read.
#[cfg(unix)]
pub fn report_sigbus_as_changed_file(path: &std::path::Path) {
    let msg = format!(
        "imgcluster: error: --data {}: the file was truncated or changed while it was \
         memory-mapped (it must not change during a --mmap run)\n",
        path.display()
    );
    if SIGBUS_MESSAGE
        .set(msg.into_bytes().into_boxed_slice())
        .is_err()
    {
        return;
    }
    extern "C" fn on_sigbus(_: libc::c_int) {
        // Several threads may fault at once: one message.
        static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if SAID.swap(true, std::sync::atomic::Ordering::SeqCst) {
            // SAFETY: as below.
            unsafe { libc::_exit(1) };
        }
        if let Some(m) = SIGBUS_MESSAGE.get() {
            // SAFETY: write(2) of a buffer that lives for the whole process.
            let _ = unsafe { libc::write(2, m.as_ptr().cast(), m.len()) };
        }
        // SAFETY: _exit is async-signal-safe and ends the process at once.
        unsafe { libc::_exit(1) };
    }
    // SAFETY: a zeroed sigaction is valid; the handler above is async-signal-safe and never
    // returns, so the faulting read is never resumed.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
    }
}

/// Elsewhere a truncated map cannot be reported: nothing to install.
#[cfg(not(unix))]
pub fn report_sigbus_as_changed_file(_path: &std::path::Path) {}

/// Makes Ctrl-C remove any temporary file or folder of a commit in progress and exit
/// with 130.
#[cfg(not(unix))]
pub fn install_interrupt_cleanup() {
    let _ = ctrlc::set_handler(|| {
        remove_in_flight();
        let _ = writeln!(std::io::stderr(), "imgcluster: interrupted");
        std::process::exit(130);
    });
}

/// A set of files to write together: nothing is written until [`Outputs::commit`].
#[derive(Default)]
pub struct Outputs {
    files: Vec<(PathBuf, Vec<u8>)>,
}

/// A special file (a device such as `/dev/null` or `/dev/full`): written in place, as it
/// cannot be replaced by a rename.
fn is_special(path: &Path) -> bool {
    path.exists() && !path.is_file() && !path.is_dir()
}

/// The file a write to `path` replaces: `path`, or the target of the symbolic link it is
/// (which may not exist yet).
fn write_through(path: &Path) -> Result<PathBuf> {
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link(path) {
        return Ok(path.to_path_buf());
    }
    if let Ok(target) = std::fs::canonicalize(path) {
        return Ok(target);
    }
    // A link to a file not made yet: its target, relative to the link's folder.
    let target = std::fs::read_link(path)
        .with_context(|| format!("writing {}: cannot read the link", path.display()))?;
    let target = parent_dir(path).join(target);
    if is_link(&target) {
        bail!(
            "writing {}: a symbolic link to a link that leads nowhere",
            path.display()
        );
    }
    Ok(target)
}

/// The same file under two names: compared by canonical folder and file name.
fn identity(path: &Path) -> PathBuf {
    let dir = parent_dir(path);
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    match path.file_name() {
        Some(name) => dir.join(name),
        None => dir,
    }
}

/// Creates `dir` and its missing ancestors, remembering (and tracking) each one created.
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<()> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
        .collect();
    for d in missing.into_iter().rev() {
        std::fs::create_dir(d)
            .with_context(|| format!("cannot create the folder {}", d.display()))?;
        track(d, true);
        created.push(d.to_path_buf());
    }
    Ok(())
}

impl Outputs {
    /// Queues `bytes` for `path`.
    pub fn add(&mut self, path: impl Into<PathBuf>, bytes: Vec<u8>) {
        self.files.push((path.into(), bytes));
    }

    /// The queued paths.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(p, _)| p.as_path())
    }

    /// Lists the queued paths in the run's JSON report as `outputs`, writes every
    /// file, then prints the report as one line: the report names only files that exist.
    pub fn commit_with_json(self, mut report: serde_json::Value, w: &mut impl Write) -> Result<()> {
        report["outputs"] = self
            .paths()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .into();
        self.commit()?;
        writeln!(w, "{report}")?;
        Ok(())
    }

    /// Writes every queued file, all or none (see the module documentation).
    pub fn commit(self) -> Result<()> {
        let mut seen = HashSet::new();
        for (path, _) in &self.files {
            if !is_special(path) && !seen.insert(identity(&write_through(path)?)) {
                bail!("{} is named by two outputs", path.display());
            }
        }
        let mut created = Vec::new();
        let mut staged: Vec<(tempfile::TempPath, PathBuf)> = Vec::new();
        let written = self.stage(&mut staged, &mut created);
        let result = written.and_then(|()| {
            // Every file is complete: now the renames.
            for (tmp, target) in staged.drain(..) {
                let at = tmp.to_path_buf();
                tmp.persist(&target)
                    .map_err(|e| e.error)
                    .with_context(|| format!("writing {}", target.display()))?;
                track(&at, false);
            }
            Ok(())
        });
        if result.is_err() {
            // Temporary files go with `staged`; the folders this commit made, newest first.
            for (tmp, _) in staged.drain(..) {
                track(&tmp, false);
            }
            for d in created.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        }
        for d in &created {
            track(d, false);
        }
        result
    }

    /// Writes every regular output to a temporary file beside its target, then the special
    /// files in place.
    fn stage(
        &self,
        staged: &mut Vec<(tempfile::TempPath, PathBuf)>,
        created: &mut Vec<PathBuf>,
    ) -> Result<()> {
        for (path, bytes) in &self.files {
            if is_special(path) {
                continue;
            }
            let target = write_through(path)?;
            let dir = parent_dir(&target);
            create_dirs(dir, created).with_context(|| format!("writing {}", path.display()))?;
            let (mut tmp, permissions) = temp_beside(path, &target)?;
            let written = tmp
                .write_all(bytes)
                .and_then(|()| tmp.as_file().sync_all())
                .and_then(|()| match permissions {
                    Some(p) => tmp.as_file().set_permissions(p),
                    None => Ok(()),
                });
            let tmp = tmp.into_temp_path();
            if let Err(e) = written {
                track(&tmp, false);
                return Err(e).with_context(|| format!("writing {}", path.display()));
            }
            staged.push((tmp, target));
        }
        for (path, bytes) in &self.files {
            if is_special(path) {
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("writing {}", path.display()))?;
                f.write_all(bytes)
                    .and_then(|_| f.flush())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
        Ok(())
    }
}

/// A new temporary file (tracked for the signal cleanup) in the folder of `target`, the file
/// that writing `path` replaces, and the permissions it must get: the target's, or a new
/// file's.
fn temp_beside(
    path: &Path,
    target: &Path,
) -> Result<(tempfile::NamedTempFile, Option<std::fs::Permissions>)> {
    let dir = parent_dir(target);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".imgcluster-").suffix(".part");
    let tmp = builder.tempfile_in(dir).with_context(|| {
        format!(
            "writing {}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    track(tmp.path(), true);
    let permissions = match std::fs::metadata(target) {
        Ok(m) if m.is_file() => Some(m.permissions()),
        _ => default_permissions(),
    };
    Ok((tmp, permissions))
}

/// The permissions of a new file: rw for everyone, less the process umask (as `open(2)`).
#[cfg(unix)]
fn default_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o666 & !umask()))
}

#[cfg(not(unix))]
fn default_permissions() -> Option<std::fs::Permissions> {
    None
}

/// Checks up front that `dir` is a folder or can be created (its nearest existing
/// ancestor is a writable folder), so a long run does not fail only at the end. Nothing is
/// created: the folder is made when the outputs are committed.
pub fn prepare_dir(dir: &Path, flag: &str) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!("{flag} {}: exists and is not a folder", dir.display());
    }
    let existing = dir
        .ancestors()
        .find(|a| a.as_os_str().is_empty() || a.exists())
        .map(|a| {
            if a.as_os_str().is_empty() {
                Path::new(".")
            } else {
                a
            }
        })
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        bail!(
            "{flag} {}: cannot create the folder: {} is not a folder",
            dir.display(),
            existing.display()
        );
    }
    tempfile::Builder::new()
        .prefix(".imgcluster-probe")
        .tempfile_in(existing)
        .with_context(|| {
            if existing == dir {
                format!("{flag} {}: the folder is not writable", dir.display())
            } else {
                format!(
                    "{flag} {}: cannot create the folder: {} is not writable",
                    dir.display(),
                    existing.display()
                )
            }
        })?;
    Ok(())
}

/// Checks up front that a file can be created at `path` (its folder exists and is writable).
pub fn prepare_file(path: &Path, flag: &str) -> Result<()> {
    if path.is_dir() {
        bail!(
            "{flag} {}: is a folder, expected a file name",
            path.display()
        );
    }
    if is_special(path) {
        // A device such as /dev/null: written in place, so it only has to open.
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("{flag} {}: cannot open for writing", path.display()))?;
        return Ok(());
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        bail!(
            "{flag} {}: the folder {} does not exist",
            path.display(),
            dir.display()
        );
    }
    tempfile::Builder::new()
        .prefix(".imgcluster-probe")
        .tempfile_in(dir)
        .with_context(|| format!("{flag} {}: the folder is not writable", path.display()))?;
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut one = Outputs::default();
    one.add(path, bytes.to_vec());
    one.commit()
}

/// Every rank's outcome of a local step, agreed through `comm`: this rank's own error
/// (named with its rank), or the first failed rank's message, or the value when no rank
/// failed. Every rank returns `Ok` or every rank returns an error, so none waits for ever.
#[cfg_attr(not(any(feature = "mpi", test)), allow(dead_code))]
pub fn agree<T>(comm: &dyn Collective, local: Result<T>) -> Result<T> {
    let msg = match &local {
        Ok(_) => Vec::new(),
        Err(e) => format!("{e:#}").into_bytes(),
    };
    let all = comm.allgather(&msg);
    let rank = comm.rank();
    let value = local.with_context(|| format!("rank {rank}"))?;
    match all.iter().enumerate().find(|(_, m)| !m.is_empty()) {
        Some((r, m)) => bail!("rank {r} failed: {}", String::from_utf8_lossy(m)),
        None => Ok(value),
    }
}

/// Writes one file from the parts of every rank of a distributed run, all or nothing, as
/// [`Outputs::commit`] writes one process's files: rank 0 creates a temporary file beside
/// `path` holding `head` and sized to `len` bytes; every rank writes its `part` at `offset`
/// (a positioned write: no rank waits for another) and syncs it; once every rank has
/// written, rank 0 renames the file over `path`. If any rank fails, the temporary file is
/// removed and `path` is left as it was. Every rank returns the same outcome.
#[cfg_attr(not(any(feature = "mpi", test)), allow(dead_code))]
pub fn write_parts(
    comm: &dyn Collective,
    path: &Path,
    head: &[u8],
    len: u64,
    offset: u64,
    part: &[u8],
) -> Result<()> {
    let writing = || format!("writing {}", path.display());
    let made = match comm.rank() {
        0 => stage_sized(path, head, len).map(Some),
        _ => Ok(None),
    };
    let staged = agree(comm, made)?;
    let name = staged
        .as_ref()
        .map(|s| path_bytes(&s.tmp))
        .unwrap_or_default();
    let tmp = bytes_path(&comm.allgather(&name)[0]);
    let written = (|| -> Result<()> {
        let end = offset.checked_add(part.len() as u64).filter(|&e| e <= len);
        if end.is_none() {
            bail!(
                "a part of {} bytes at {offset} ends past the file's {len} bytes",
                part.len()
            );
        }
        let f = std::fs::OpenOptions::new().write(true).open(&tmp)?;
        write_at(&f, part, offset)?;
        f.sync_data()?;
        Ok(())
    })()
    .with_context(writing);
    let written = agree(comm, written);
    let renamed = match staged {
        Some(s) => s.finish(written.is_ok()).with_context(writing),
        None => Ok(()),
    };
    written?;
    agree(comm, renamed)
}

/// Rank 0's temporary file of [`write_parts`] and the folders made for it.
struct Sized {
    tmp: tempfile::TempPath,
    target: PathBuf,
    created: Vec<PathBuf>,
}

impl Sized {
    /// Renames the file over its target when `keep`, else removes it and the folders made.
    fn finish(self, keep: bool) -> Result<()> {
        let at = self.tmp.to_path_buf();
        let result = if keep {
            self.tmp
                .persist(&self.target)
                .map_err(|e| anyhow::Error::from(e.error))
        } else {
            drop(self.tmp);
            Ok(())
        };
        track(&at, false);
        if !keep || result.is_err() {
            for d in self.created.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        }
        for d in &self.created {
            track(d, false);
        }
        result
    }
}

/// A temporary file beside `path`'s target with `head` and `len` bytes in all.
fn stage_sized(path: &Path, head: &[u8], len: u64) -> Result<Sized> {
    if is_special(path) {
        bail!(
            "writing {}: a distributed run writes through a temporary file and a rename, which \
             a special file cannot take",
            path.display()
        );
    }
    let target = write_through(path)?;
    let mut created = Vec::new();
    let made = create_dirs(parent_dir(&target), &mut created)
        .and_then(|()| temp_beside(path, &target))
        .and_then(|(mut tmp, permissions)| {
            tmp.write_all(head)
                .and_then(|()| tmp.as_file().set_len(len))
                .and_then(|()| match permissions {
                    Some(p) => tmp.as_file().set_permissions(p),
                    None => Ok(()),
                })
                .with_context(|| format!("writing {}", path.display()))?;
            Ok(tmp.into_temp_path())
        });
    match made {
        Ok(tmp) => Ok(Sized {
            tmp,
            target,
            created,
        }),
        Err(e) => {
            for d in created.iter().rev() {
                let _ = std::fs::remove_dir(d);
                track(d, false);
            }
            Err(e)
        }
    }
}

#[cfg(unix)]
fn write_at(f: &std::fs::File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(f, bytes, offset)
}

#[cfg(not(unix))]
fn write_at(mut f: &std::fs::File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom};
    f.seek(SeekFrom::Start(offset))?;
    f.write_all(bytes)
}

#[cfg(unix)]
fn path_bytes(p: &Path) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
}

#[cfg(unix)]
fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b))
}

#[cfg(not(unix))]
fn path_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(unix))]
fn bytes_path(b: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(b).into_owned())
}

/// The process umask (read without changing it, from /proc; 0o022 when unknown).
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgcluster::collective::ThreadRank;

    /// `write_parts` on 3 thread ranks, rank `r` writing `[r; 2 + r]` after the 4-byte head;
    /// `skew` moves rank 1's part past the end. Returns every rank's outcome.
    fn three_ranks(path: &Path, skew: u64) -> Vec<Result<()>> {
        let ranks = ThreadRank::group(3);
        std::thread::scope(|s| {
            let all: Vec<_> = ranks
                .iter()
                .map(|comm| {
                    s.spawn(move || {
                        let r = comm.rank();
                        let offset = [4, 6, 9][r] + if r == 1 { skew } else { 0 };
                        write_parts(comm, path, b"HEAD", 13, offset, &vec![r as u8; 2 + r])
                    })
                })
                .collect();
            all.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".part"))
            .collect()
    }

    #[test]
    fn ranks_write_one_file_in_place_of_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/labels.npy");
        for r in three_ranks(&path, 0) {
            r.unwrap();
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"HEAD\0\0\x01\x01\x01\x02\x02\x02\x02"
        );
        assert!(leftovers(&dir.path().join("sub")).is_empty());
    }

    #[test]
    fn a_failed_rank_leaves_the_target_as_it_was_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.npy");
        std::fs::write(&path, b"before").unwrap();
        let outcomes = three_ranks(&path, 100);
        let errors: Vec<String> = outcomes
            .into_iter()
            .map(|r| format!("{:#}", r.unwrap_err()))
            .collect();
        assert!(errors[1].starts_with("rank 1: writing "), "{}", errors[1]);
        assert!(
            errors[1].contains("ends past the file's 13 bytes"),
            "{}",
            errors[1]
        );
        for e in [&errors[0], &errors[2]] {
            assert!(e.starts_with("rank 1 failed: writing "), "{e}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), b"before");
        assert!(leftovers(dir.path()).is_empty());
        // A folder made for the output goes too.
        let new = dir.path().join("new/labels.npy");
        assert!(three_ranks(&new, 100).iter().all(Result::is_err));
        assert!(!dir.path().join("new").exists());
    }
}
