//! Why a spec could not be loaded, always with the file and, where it can be
//! found, the line.

use crate::source::{SourceError, SourceLocation};

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{at}: `$ref` {reference:?} does not resolve: {reason}")]
    DanglingRef {
        at: SourceLocation,
        reference: String,
        reason: String,
    },
    #[error(
        "{at}: unsupported `openapi` version {found:?}: understudy reads OpenAPI 3.0.x and 3.1.x"
    )]
    UnsupportedVersion { at: SourceLocation, found: String },
    #[error("{at}: {message}")]
    Invalid { at: SourceLocation, message: String },
}

impl SpecError {
    /// Where the problem is, for diagnostics that show the offending line.
    pub fn location(&self) -> SourceLocation {
        match self {
            SpecError::Source(e) => e.location(),
            SpecError::DanglingRef { at, .. }
            | SpecError::UnsupportedVersion { at, .. }
            | SpecError::Invalid { at, .. } => at.clone(),
        }
    }
}

impl crate::source::reader::Invalid for SpecError {
    fn invalid(at: SourceLocation, message: String) -> Self {
        SpecError::Invalid { at, message }
    }
}
