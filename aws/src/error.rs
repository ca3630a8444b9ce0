//! The errors of the AWS edge: the Lambda handlers and the commands that wire AWS.

use thiserror::Error;
use vigil_pipeline::PipelineError;

#[derive(Debug, Error)]
pub enum AwsError {
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
    /// Ingest, detection or alerting failed (the pipeline's errors).
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// An AWS API call failed.
    #[error("{operation}: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
    #[error("{0}")]
    State(String),
    /// `[context]`'s files did not load.
    #[error("loading [context]: {0}")]
    Context(#[from] vigil_context::ContextError),
    #[error("{0}")]
    Runtime(String),
}

impl From<vigil_ingest::IngestError> for AwsError {
    fn from(error: vigil_ingest::IngestError) -> AwsError {
        AwsError::Pipeline(error.into())
    }
}

impl From<vigil_detect::DetectError> for AwsError {
    fn from(error: vigil_detect::DetectError) -> AwsError {
        AwsError::Pipeline(error.into())
    }
}

impl From<vigil_alerting::AlertError> for AwsError {
    fn from(error: vigil_alerting::AlertError) -> AwsError {
        AwsError::Pipeline(error.into())
    }
}
