//! The context's errors.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ContextError {
    #[error("reading {location}: {reason}")]
    Read { location: String, reason: String },
    #[error("{location}: {reason}")]
    Format { location: String, reason: String },
    #[error("[context] of {path}: {reason}")]
    Config { path: String, reason: String },
}
