//! The errors of the AWS edge: the Lambda handlers and the commands that wire AWS.

use thiserror::Error;

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
    /// An AWS API call failed.
    #[error("{operation}: {message}")]
    Api {
        operation: &'static str,
        message: String,
    },
    #[error("{0}")]
    State(String),
    #[error("{0}")]
    Runtime(String),
}

impl From<vigil_pipeline::PipelineError> for AwsError {
    fn from(error: vigil_pipeline::PipelineError) -> AwsError {
        use vigil_pipeline::PipelineError;
        match error {
            PipelineError::Ingest(e) => AwsError::Ingest(e),
            PipelineError::Detect(e) => AwsError::Detect(e),
            PipelineError::Alert(e) => AwsError::Alert(e),
            PipelineError::Object {
                bucket,
                key,
                source,
            } => AwsError::Object {
                bucket,
                key,
                source,
            },
            PipelineError::Runtime(message) => AwsError::Runtime(message),
        }
    }
}
