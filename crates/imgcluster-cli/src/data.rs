//! Loading the data set named on the command line.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use imgcluster::dataset::{grid, npy, Dataset};

/// Where the samples come from.
#[derive(Debug, Clone)]
pub struct DataSource {
    /// `--data`: a grid PNG or a `.npy` array; `None` for the embedded digits.
    pub data: Option<PathBuf>,
    /// `--labels`: a `.npy` array of class labels.
    pub labels: Option<PathBuf>,
    /// `--cell`: cell size of a grid PNG.
    pub cell: usize,
    /// `--classes`: number of class bands in a grid PNG.
    pub classes: usize,
}

/// A loaded data set and a human description of where it came from.
pub struct Loaded {
    pub dataset: Dataset,
    pub source: String,
}

enum Format {
    Png,
    Npy,
}

fn sniff(path: &Path, head: &[u8]) -> Result<Format> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok(Format::Png)
    } else if head.starts_with(b"\x93NUMPY") {
        Ok(Format::Npy)
    } else if head.is_empty() {
        bail!("--data {}: the file is empty", path.display())
    } else {
        bail!(
            "--data {}: not a recognised data set (expected a grid PNG or a .npy array)",
            path.display()
        )
    }
}

fn read_file(path: &Path, flag: &str) -> Result<Vec<u8>> {
    if path.is_dir() {
        bail!("{flag} {}: is a folder, expected a file", path.display());
    }
    std::fs::read(path).with_context(|| format!("{flag} {}: cannot read the file", path.display()))
}

/// Loads the samples and labels.
pub fn load(src: &DataSource) -> Result<Loaded> {
    let (mut dataset, source) = match &src.data {
        None => {
            if src.cell != 20 || src.classes != 10 {
                bail!("--cell and --classes apply to a --data grid PNG, not the embedded digits");
            }
            (grid::digits(), "embedded digits.png".to_string())
        }
        Some(path) => {
            let bytes = read_file(path, "--data")?;
            let ds = match sniff(path, &bytes)? {
                Format::Png => {
                    let layout = grid::GridLayout {
                        cell: src.cell,
                        classes: (src.labels.is_none()).then_some(src.classes),
                    };
                    grid::decode_grid(&bytes, layout)
                }
                Format::Npy => npy::parse(&bytes).and_then(|a| a.into_dataset()),
            }
            .with_context(|| format!("--data {}", path.display()))?;
            (ds, path.display().to_string())
        }
    };
    if let Some(path) = &src.labels {
        let bytes = read_file(path, "--labels")?;
        let labels = npy::parse(&bytes)
            .and_then(|a| a.into_labels())
            .with_context(|| format!("--labels {}", path.display()))?;
        dataset = dataset
            .with_labels(labels)
            .with_context(|| format!("--labels {}", path.display()))?;
    }
    Ok(Loaded { dataset, source })
}
