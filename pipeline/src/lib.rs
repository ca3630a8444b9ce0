//! Vigil's one pipeline, which the command line (`vigil run`, `detect`,
//! `tail`, `backfill`) and the Lambda handlers all call: inputs through
//! ingest and the streaming rules into the lake, the scheduled rules over
//! the lake, findings settled, then alerted through the outbox. A change to
//! settling or delivery is made here once.
//!
//! - [`input`]: what a run reads (files, stdin, payloads, S3 objects) and
//!   how each is fed to the ingester.
//! - [`pipeline`]: the [`Pipeline`] and its runs.

#![forbid(unsafe_code)]

pub mod error;
pub mod input;
pub mod object_reader;
pub mod pipeline;

pub use error::PipelineError;
pub use input::{feed, FailedInput, PipelineInput, Progress, ProgressFn};
pub use pipeline::{IngestRun, Pipeline, PipelineConfig, RunReport, SettledHook};
