//! The console's errors.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ConsoleError {
    #[error(transparent)]
    Query(#[from] vigil_queries::QueryError),
    #[error(transparent)]
    Detect(#[from] vigil_detect::DetectError),
    #[error("query failed: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error("rendering {template}: {source}")]
    Template {
        template: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("the lake holds what the console cannot read: {0}")]
    Lake(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}
