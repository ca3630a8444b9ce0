//! Vigil under AWS Lambda: the three handlers one `vigil` binary runs as its
//! `bootstrap` (CloudWatch Logs subscriptions, S3 object notifications,
//! scheduled detection), and the commands that wire AWS to them.
//!
//! A handler is a plain async function over a [`Pipeline`] and the event's
//! JSON, so tests call it directly; [`runtime::run`] is the Lambda loop that
//! calls it for each event.

pub mod aws;
pub mod backfill;
pub mod error;
pub mod handlers;
pub mod metrics;
pub mod notifications;
pub mod object_reader;
pub mod pipeline;
pub mod runtime;
pub mod settings;
pub mod subscribe;
pub mod tail;

pub use error::ServerlessError;
pub use handlers::Handler;
pub use pipeline::{InvocationInput, InvocationReport, Pipeline};
pub use settings::Settings;
