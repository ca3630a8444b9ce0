//! Errors of the alerting layer.

use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AlertError {
    #[error("{path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("destination {destination}: {message}")]
    Destination {
        destination: String,
        message: String,
    },
    #[error("secret for {destination}: {message}")]
    Secret {
        destination: String,
        message: String,
    },
    #[error("dead-letter {path}: {source}")]
    DeadLetter {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("no destination named {0}")]
    UnknownDestination(String),
}
