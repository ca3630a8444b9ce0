//! Vigil's ingester: decodes AWS log envelopes, parses each log family into
//! typed Arrow batches, and writes them to a partitioned Parquet lake.
//!
//! The flow is `input → decode (envelopes) → parse (one module per family) →
//! builders (Arrow) → sink (the lake)`. Records that cannot be parsed go to the
//! `deadletter` table with a reason, so that the counts in [`IngestReport`]
//! always reconcile: `records_read = parsed + dead_lettered + skipped`.
//!
//! ```no_run
//! # fn main() -> Result<(), vigil_ingest::IngestError> {
//! use vigil_ingest::{Ingester, IngestOptions, Lake};
//! let lake = Lake::open("./vigil-lake")?;
//! let mut ingester = Ingester::new(IngestOptions::default(), lake.writer()?);
//! ingester.ingest_path("sample-logs/cloudtrail/console-login-burst.json".as_ref())?;
//! let report = ingester.finish()?;
//! assert!(report.reconciles());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
// Every byte this crate reads may be an attacker's: no unwrap or expect on
// what input decides (a panic would lose the rest of a batch).
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod batch;
pub mod compact;
pub mod deadletter;
// The modules that read input bytes index nothing they have not bounded:
// an index out of range would be a panic an attacker chose.
#[deny(clippy::indexing_slicing)]
pub mod decode;
pub mod error;
#[deny(clippy::indexing_slicing)]
pub mod family;
pub mod ingester;
pub mod lake;
pub mod limits;
#[deny(clippy::indexing_slicing)]
pub mod parse;
pub mod report;
pub mod schema;

pub use batch::{BatchSink, MemorySink, SinkStats, TableBatch};
pub use error::IngestError;
pub use family::{Family, Table};
pub use ingester::{IngestOptions, Ingester, SourceId};
pub use lake::{s3_requests, s3_store, Lake, LakeWriter, S3Requests, HOUR_MS};
pub use limits::Limits;
pub use report::IngestReport;
