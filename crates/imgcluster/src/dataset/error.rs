use std::path::PathBuf;

/// Errors raised while reading or shaping a data set.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The PNG could not be decoded.
    #[error("not a valid PNG image: {0}")]
    Png(String),
    /// The `.npy` file is malformed or of an unsupported kind.
    #[error("not a supported .npy array: {0}")]
    Npy(String),
    /// The image is not a whole number of cells.
    #[error("a {width}x{height} image is not a whole number of {cell}x{cell} cells")]
    NotDivisible {
        /// Image width in pixels.
        width: usize,
        /// Image height in pixels.
        height: usize,
        /// Cell side in pixels.
        cell: usize,
    },
    /// The rows of cells cannot be split into equal bands, one per class.
    #[error("{rows} rows of cells cannot be split into {classes} equal class bands")]
    UnevenClasses {
        /// Rows of cells in the grid.
        rows: usize,
        /// Number of classes asked for.
        classes: usize,
    },
    /// A parameter is out of range.
    #[error("invalid {name}: {reason}")]
    InvalidParameter {
        /// The parameter.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// A floating-point sample holds NaN or infinity.
    #[error("sample {row}, feature {col} is not a finite number")]
    NonFinite {
        /// Sample index.
        row: usize,
        /// Feature index.
        col: usize,
    },
    /// The labels do not match the samples.
    #[error("{labels} labels for {samples} samples")]
    LabelCount {
        /// Number of labels.
        labels: usize,
        /// Number of samples.
        samples: usize,
    },
    /// A label is negative or not an integer.
    #[error("label {index} is {value}, expected a non-negative integer class")]
    BadLabel {
        /// Position of the label.
        index: usize,
        /// The label's value as text.
        value: String,
    },
    /// A label value that does not fit in 32 bits.
    #[error("label {index} is {value}; label values must be below 2^32 = 4294967296")]
    LabelTooLarge {
        /// Position of the label.
        index: usize,
        /// Its value.
        value: u64,
    },
    /// A 64-bit float that is finite but beyond the range of the 32-bit floats k-means works in.
    #[error(
        "sample {row}, feature {col} is {value:e}, beyond the range of the 32-bit floats k-means works in (about ±3.4e38)"
    )]
    OutOfF32Range {
        /// Sample index.
        row: usize,
        /// Feature index.
        col: usize,
        /// The value.
        value: f64,
    },
    /// The data set holds no samples.
    #[error("the data set is empty")]
    Empty,
    /// The data set needs more memory than the machine has available.
    #[error(
        "{what} needs about {} of memory, but only {} is {limit}",
        super::memory::show_bytes(*.needed),
        super::memory::show_bytes(*.available)
    )]
    TooLarge {
        /// What needs the memory, e.g. `loading and clustering 1200000000 values`.
        what: String,
        /// Bytes needed.
        needed: u64,
        /// Bytes the limit leaves.
        available: u64,
        /// Which limit: the machine's available memory or the process's address space.
        limit: super::memory::MemoryLimit,
    },
    /// An image whose header states more pixels than imgcluster decodes
    /// ([`MAX_PIXELS`](super::imageio::MAX_PIXELS)).
    #[error(
        "the image is {width}x{height} pixels, more than the {} pixels imgcluster decodes (a decompression bomb?)",
        super::imageio::MAX_PIXELS
    )]
    TooManyPixels {
        /// Width in pixels, from the header.
        width: usize,
        /// Height in pixels, from the header.
        height: usize,
    },
    /// The operation needs 8-bit images but the data are feature vectors.
    #[error("this needs 8-bit images (N x H x W u8); the data are {0}")]
    NotImages(String),
    /// The JPEG could not be decoded.
    #[error("not a valid JPEG image: {0}")]
    Jpeg(String),
    /// The IDX file (MNIST's format) is malformed, truncated or of an unsupported kind.
    #[error("not a valid IDX file: {0}")]
    Idx(String),
    /// A CSV file is malformed.
    #[error("line {line}: {reason}")]
    Csv {
        /// Line number in the file, from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A folder is not a data set of class sub-folders.
    #[error("is a folder, but not an image data set: {0}")]
    Folder(String),
    /// The format of a file could not be recognised from its content.
    #[error("not a recognised data set: {0}")]
    Unrecognised(String),
    /// An error in a particular file; the message starts with the file's path.
    #[error("{}: {error}", path.display())]
    InFile {
        /// The file (or folder) at fault.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<DatasetError>,
    },
}

impl DatasetError {
    /// This error, tagged with the file it concerns (errors that already name a file are
    /// returned unchanged).
    pub fn in_file(self, path: &std::path::Path) -> DatasetError {
        match self {
            e @ (DatasetError::Io { .. } | DatasetError::InFile { .. }) => e,
            e => DatasetError::InFile {
                path: path.to_path_buf(),
                error: Box::new(e),
            },
        }
    }

    /// The file this error names ([`DatasetError::InFile`] and [`DatasetError::Io`]), if any.
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            DatasetError::InFile { path, .. } | DatasetError::Io { path, .. } => Some(path),
            _ => None,
        }
    }
}
