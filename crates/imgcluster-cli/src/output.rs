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
            let mut builder = tempfile::Builder::new();
            builder.prefix(".imgcluster-").suffix(".part");
            let mut tmp = builder.tempfile_in(dir).with_context(|| {
                format!(
                    "writing {}: cannot create a file in {}",
                    path.display(),
                    dir.display()
                )
            })?;
            track(tmp.path(), true);
            let permissions = match std::fs::metadata(&target) {
                Ok(m) if m.is_file() => Some(m.permissions()),
                _ => default_permissions(),
            };
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
