//! (metrics: placeholder, filled in by its module work.)

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// Placeholder.
    #[error("placeholder")]
    Placeholder,
}
