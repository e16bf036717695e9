//! Writing output files: whole or not at all.
//!
//! Every file is written to a temporary file in its destination folder and renamed into
//! place only once it is complete, so an error or an interrupt never leaves a half-written
//! file under the final name.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};

/// Temporary files being written right now; an interrupt removes them before exiting.
static IN_FLIGHT: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT), as shells report it.
pub const INTERRUPTED: i32 = 130;

/// Makes Ctrl-C (and SIGTERM) remove any half-written temporary file and exit with
/// [`INTERRUPTED`]. Final files are only ever created by a rename, so none is left half-written.
pub fn install_interrupt_cleanup() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(paths) = IN_FLIGHT.lock() {
            for p in paths.iter() {
                let _ = std::fs::remove_file(p);
            }
        }
        let _ = writeln!(std::io::stderr(), "imgcluster: interrupted");
        std::process::exit(INTERRUPTED);
    });
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

/// A set of files to write together: nothing is written until [`Outputs::commit`].
#[derive(Default)]
pub struct Outputs {
    files: Vec<(PathBuf, Vec<u8>)>,
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

    /// Writes every queued file atomically, in order.
    pub fn commit(self) -> Result<()> {
        for (path, bytes) in &self.files {
            write_atomic(path, bytes)?;
        }
        Ok(())
    }
}

/// Checks up front that `dir` exists as a folder or can be created, and that files can be
/// created in it, so a long run does not fail only at the end.
pub fn prepare_dir(dir: &Path, flag: &str) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!("{flag} {}: exists and is not a folder", dir.display());
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("{flag} {}: cannot create the folder", dir.display()))?;
    tempfile::Builder::new()
        .prefix(".imgcluster-probe")
        .tempfile_in(dir)
        .with_context(|| format!("{flag} {}: the folder is not writable", dir.display()))?;
    Ok(())
}

/// Checks up front that a file can be created at `path` (its folder exists and is writable).
pub fn prepare_file(path: &Path, flag: &str) -> Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "{flag} {}: is a folder, expected a file name",
            path.display()
        );
    }
    if path.exists() && !path.is_file() {
        // A device such as /dev/null: written in place, so it only has to open.
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("{flag} {}: cannot open for writing", path.display()))?;
        return Ok(());
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        anyhow::bail!(
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
    // Special files such as /dev/null or /dev/full cannot be replaced by a rename:
    // write to them directly.
    if path.exists() && !path.is_file() && !path.is_dir() {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("writing {}", path.display()))?;
        f.write_all(bytes)
            .and_then(|_| f.flush())
            .with_context(|| format!("writing {}", path.display()))?;
        return Ok(());
    }
    let dir = parent_dir(path);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".imgcluster-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like a file created with open(2): rw for everyone, less the process umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666 & !umask()));
    }
    let mut tmp = builder.tempfile_in(dir).with_context(|| {
        format!(
            "writing {}: cannot create a file in {}",
            path.display(),
            dir.display()
        )
    })?;
    let tmp_path = tmp.path().to_path_buf();
    track(&tmp_path, true);
    let result = tmp
        .write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(anyhow::Error::from)
        .and_then(|()| tmp.persist(path).map_err(|e| e.error.into()))
        .with_context(|| format!("writing {}", path.display()));
    track(&tmp_path, false);
    result.map(|_| ())
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
