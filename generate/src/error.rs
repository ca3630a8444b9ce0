//! The generator's and the scorer's errors.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GenerateError {
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("reading {path}: {message}")]
    Read { path: String, message: String },
    #[error("{0}")]
    Options(String),
    #[error("querying the lake: {0}")]
    Query(String),
}
