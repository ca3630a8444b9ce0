//! The errors of Vigil's serverless handlers and wiring commands.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerlessError {
    /// A setting the function needs is missing or invalid.
    #[error("setting {name}: {message}")]
    Setting { name: &'static str, message: String },
    /// The event is not of a shape this handler accepts.
    #[error("{handler}: unexpected event: {message}")]
    Event {
        handler: &'static str,
        message: String,
    },
    #[error("unknown handler {0:?} (expected ingest-cloudwatch, ingest-s3, detect-scheduled or compact-lake)")]
    UnknownHandler(String),
    #[error(transparent)]
    Ingest(#[from] vigil_ingest::IngestError),
    #[error(transparent)]
    Detect(#[from] vigil_detect::DetectError),
    #[error(transparent)]
    Alert(#[from] vigil_alerting::AlertError),
    #[error("reading s3://{bucket}/{key}: {source}")]
    Object {
        bucket: String,
        key: String,
        source: object_store::Error,
    },
    #[error("{operation}: {message}")]
    Aws {
        operation: &'static str,
        message: String,
    },
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    Runtime(String),
}
