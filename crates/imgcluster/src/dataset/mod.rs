//! (dataset: placeholder, filled in by its module work.)

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// Placeholder.
    #[error("placeholder")]
    Placeholder,
}
