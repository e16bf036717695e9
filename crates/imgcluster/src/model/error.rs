use std::path::{Path, PathBuf};

use crate::dataset::DatasetError;
use crate::features::FeaturesError;
use crate::metrics::MetricsError;

/// Errors of reading, checking or applying a [`FittedPipeline`](super::FittedPipeline).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model file could not be read.
    #[error("cannot read model {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The text is not JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// The JSON is not an imgcluster model.
    #[error("not an imgcluster model: {0}")]
    NotAModel(String),
    /// The model is of a format version this library does not read.
    #[error("the model has format version {found}; this imgcluster reads versions 1 and 2")]
    Version {
        /// The version found.
        found: u64,
    },
    /// A model of the right version whose content is missing, malformed or inconsistent.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// An error in a particular model file.
    #[error("{}", in_file_message(path, error))]
    InFile {
        /// The model file.
        path: PathBuf,
        /// What is wrong with it.
        error: Box<ModelError>,
    },
    /// The data given to the model do not fit it (another number of values per sample,
    /// another image size, …).
    #[error("{0}")]
    Input(String),
    /// The model's preprocessing failed on the data.
    #[error(transparent)]
    Features(#[from] FeaturesError),
    /// A data set could not be built.
    #[error(transparent)]
    Dataset(#[from] DatasetError),
    /// The training clusters could not be scored against the labels.
    #[error(transparent)]
    Metrics(#[from] MetricsError),
}

fn in_file_message(path: &Path, error: &ModelError) -> String {
    match error {
        ModelError::Version { found } => format!(
            "model {} has format version {found}; this imgcluster reads versions 1 and 2",
            path.display()
        ),
        e => format!("model {}: {e}", path.display()),
    }
}

impl ModelError {
    pub(crate) fn in_file(self, path: &Path) -> ModelError {
        match self {
            e @ (ModelError::Io { .. } | ModelError::InFile { .. }) => e,
            e => ModelError::InFile {
                path: path.to_path_buf(),
                error: Box::new(e),
            },
        }
    }
}
