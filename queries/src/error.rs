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
}
