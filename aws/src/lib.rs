//! Vigil's AWS edge: the Lambda handlers one `vigil` binary runs as its
//! `bootstrap` (CloudWatch Logs subscriptions, S3 object notifications,
//! scheduled detection, lake compaction), the runtime loop, the settings a
//! function reads from its environment, and the commands that wire AWS to
//! the pipeline (`subscribe`, `tail`, `backfill`).
//!
//! A handler is a plain async function over a [`Pipeline`] and the event's
//! JSON, so tests call it directly; [`runtime::run`] is the Lambda loop that
//! calls it for each event. The work itself is `vigil-pipeline`'s.

#![forbid(unsafe_code)]

pub mod backfill;
pub mod clients;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod notifications;
pub mod runtime;
pub mod settings;
pub mod subscribe;
pub mod tail;

pub use error::AwsError;
pub use handlers::Handler;
pub use settings::Settings;
pub use vigil_pipeline::{Pipeline, PipelineInput, RunReport};
