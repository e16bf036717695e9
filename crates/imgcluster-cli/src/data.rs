//! Loading the data set named on the command line: flags → [`OpenOptions`], errors → the flag.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Result};
use imgcluster::dataset::csv::LabelColumn;
use imgcluster::dataset::grid::{self, GridLayout};
use imgcluster::dataset::input::Input;
use imgcluster::dataset::{self, open_labels_for, Dataset, DatasetError, Format, OpenOptions};
use imgcluster::Threads;

use crate::args::{DataArgs, FormatArg, Hw};

/// Where the samples come from.
#[derive(Debug, Clone)]
pub struct DataSource {
    /// `--data`: any supported data set; `None` for the embedded digits.
    pub data: Option<PathBuf>,
    /// `--labels`: a `.npy` array or IDX file of class labels.
    pub labels: Option<PathBuf>,
    /// `--cell`: cell size of a grid PNG.
    pub cell: usize,
    /// `--classes`: number of class bands in a grid PNG.
    pub classes: usize,
    /// `--format`.
    pub format: Format,
    /// `--size`: (height, width) of the images of a folder data set.
    pub size: Option<(usize, usize)>,
    /// `--label-column` of a CSV file.
    pub label_column: Option<LabelColumn>,
    /// `--shape`: (height, width) of the images in the rows of a CSV file.
    pub shape: Option<(usize, usize)>,
    /// Threads for decoding the images of a folder.
    pub threads: Threads,
}

impl DataSource {
    pub fn from_args(a: &DataArgs) -> Self {
        let hw = |s: Option<Hw>| s.map(|s| (s.height, s.width));
        DataSource {
            data: a.data.clone(),
            labels: a.labels.clone(),
            cell: a.cell as usize,
            classes: a.classes as usize,
            format: match a.format {
                FormatArg::Auto => Format::Auto,
                FormatArg::Grid => Format::Grid,
                FormatArg::Npy => Format::Npy,
                FormatArg::Idx => Format::Idx,
                FormatArg::Folder => Format::Folder,
                FormatArg::Csv => Format::Csv,
            },
            size: hw(a.size),
            label_column: a.label_column.as_deref().map(|c| match c {
                "first" => LabelColumn::First,
                "last" => LabelColumn::Last,
                "none" => LabelColumn::None,
                name => LabelColumn::Name(name.to_string()),
            }),
            shape: hw(a.shape),
            threads: Threads::Auto,
        }
    }
}

/// A loaded data set and a human description of where it came from.
pub struct Loaded {
    pub dataset: Dataset,
    pub source: String,
}

/// A library error as `FLAG PATH: what is wrong`, naming the file at fault only when it is
/// another one (an image inside a folder).
pub fn flag_error(flag: &str, path: &Path, e: DatasetError) -> anyhow::Error {
    match e {
        DatasetError::InFile { path: p, error } if p == path => {
            anyhow!("{flag} {}: {error}", path.display())
        }
        DatasetError::Io { path: p, source } if p == path => {
            anyhow!("{flag} {}: cannot read: {source}", path.display())
        }
        e => anyhow!("{flag} {}: {e}", path.display()),
    }
}

/// Options that apply to one format only must not be given for another.
fn check_options(src: &DataSource, format: Format, path: &Path) -> Result<()> {
    let given = [
        (
            src.cell != 20 || src.classes != 10,
            "--cell and --classes are",
            Format::Grid,
        ),
        (src.size.is_some(), "--size is", Format::Folder),
        (src.label_column.is_some(), "--label-column is", Format::Csv),
    ];
    for (set, flags, applies_to) in given {
        if set && format != applies_to {
            bail!(
                "{flags} only for {} data sets; --data {} is {}",
                applies_to.name(),
                path.display(),
                format.name()
            );
        }
    }
    if src.shape.is_some() && !matches!(format, Format::Csv | Format::Npy | Format::Idx) {
        bail!(
            "--shape is only for CSV, .npy and IDX data sets; --data {} is {}",
            path.display(),
            format.name()
        );
    }
    Ok(())
}

/// Loads the samples and labels.
pub fn load(src: &DataSource) -> Result<Loaded> {
    let Some(path) = &src.data else {
        if src.cell != 20 || src.classes != 10 {
            bail!("--cell and --classes apply to a --data grid PNG, not the embedded digits");
        }
        if src.format != Format::Auto
            || src.size.is_some()
            || src.label_column.is_some()
            || src.shape.is_some()
        {
            bail!("--format, --size, --label-column and --shape apply to --data, not the embedded digits");
        }
        let mut dataset = grid::digits();
        if let Some(lp) = &src.labels {
            dataset = open_labels_for(lp, dataset.len())
                .and_then(|l| dataset.with_labels(l))
                .map(Dataset::with_dense_labels)
                .map_err(|e| flag_error("--labels", lp, e))?;
        }
        return Ok(Loaded {
            dataset,
            source: "embedded digits.png".to_string(),
        });
    };
    // A pipe can be read once: its first bytes tell the format, the same open file the rest.
    let data_err = |e| flag_error("--data", path, e);
    let input = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => None,
        _ => Some(Input::open(path).map_err(data_err)?),
    };
    let format = match (src.format, &input) {
        (Format::Auto, Some(input)) => dataset::sniff_input(input).map_err(data_err)?,
        (Format::Auto, None) => Format::Folder,
        (f, _) => f,
    };
    check_options(src, format, path)?;
    if let (Format::Csv, Some(input)) = (format, &input)
        && let Some(note) = dataset::csv::header_notice(input.head())
    {
        eprintln!("imgcluster: note: --data {}: {note}", path.display());
    }
    let mut opts = OpenOptions::new()
        .format(format)
        .grid(GridLayout {
            cell: src.cell,
            classes: Some(src.classes),
        })
        .size(src.size)
        .shape(src.shape)
        .threads(src.threads);
    if let Some(c) = &src.label_column {
        opts = opts.label_column(c.clone());
    }
    if let Some(lp) = &src.labels {
        opts = opts.labels(lp);
    }
    let dataset = match input {
        Some(input) => dataset::open_input(input, &opts),
        None => dataset::open(path, &opts),
    }
    .map_err(|e| match &src.labels {
        Some(lp) if e.file() == Some(lp.as_path()) => flag_error("--labels", lp, e),
        _ => flag_error("--data", path, e),
    })?;
    Ok(Loaded {
        dataset,
        source: path.display().to_string(),
    })
}
