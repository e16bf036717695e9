//! Feature pipelines (placeholder).

/// Errors of feature pipelines.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeaturesError {
    /// Placeholder.
    #[error("placeholder")]
    Placeholder,
}
