//! Errors of the detection layer.

use std::path::PathBuf;
use thiserror::Error;

/// A rule file that cannot be used, with where the problem is.
#[derive(Debug, Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct RuleError {
    pub path: PathBuf,
    /// 1-based line in the rule file (1 when the whole file is at fault).
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Error)]
pub enum DetectError {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("{} rule file(s) are invalid:\n{}", .0.len(), .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Rules(Vec<RuleError>),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("rule {rule}: query failed: {source}")]
    Query {
        rule: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },
    #[error("reading the lake: {0}")]
    Lake(#[source] datafusion::error::DataFusionError),
    #[error(transparent)]
    Catalog(#[from] vigil_queries::QueryError),
    #[error(transparent)]
    Ingest(#[from] vigil_ingest::IngestError),
    #[error("state {path}: {reason}")]
    State { path: String, reason: String },
    #[error("{0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A task running part of a detection pass panicked or was cancelled.
    #[error("a detection task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
