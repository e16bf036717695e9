//! (report: placeholder, filled in by its module work.)

/// Errors of this module.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// Placeholder.
    #[error("placeholder")]
    Placeholder,
}
