//! Typed errors of the ingester.

use std::io;

/// An error that stops the ingestion of a whole input (not one record: a bad
/// record goes to the dead-letter table instead).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}")]
    Open { path: String, source: io::Error },
    #[error("read error in {source_ref}")]
    Read {
        source_ref: String,
        source: io::Error,
    },
    #[error("invalid lake location {location:?}: {reason}")]
    LakeLocation { location: String, reason: String },
    #[error("lake write failed for {path}")]
    LakeWrite {
        path: String,
        source: object_store::Error,
    },
    #[error("lake access failed for {path}")]
    LakeAccess {
        path: String,
        source: object_store::Error,
    },
    #[error("parquet encoding failed: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow error: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("the lake writer stopped: {0}")]
    WriterGone(String),
    #[error("runtime error: {0}")]
    Runtime(String),
}
