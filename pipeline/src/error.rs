//! The errors of a pipeline run.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum PipelineError {
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
    /// The ingest task could not be run or joined.
    #[error("{0}")]
    Runtime(String),
}
