//! Errors of the lake catalog.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum QueryError {
    #[error("cannot register table {table} at {url}: {source}")]
    Register {
        table: String,
        url: String,
        #[source]
        source: datafusion::error::DataFusionError,
    },
    #[error("bad lake URL {url}: {reason}")]
    LakeUrl { url: String, reason: String },
    #[error("{0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("{0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("writing results: {0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Sql(String),
    #[error("query failed: {0}")]
    Query(#[source] datafusion::error::DataFusionError),
    #[error("reading the lake's state {object}: {reason}")]
    State { object: String, reason: String },
    #[error("hunt {name}: {message}")]
    Hunt { name: String, message: String },
}
