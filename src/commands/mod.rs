//! One module per command.

pub mod alerts;
pub mod backfill;
pub mod compact;
pub mod detect;
pub mod generate;
pub mod ingest;
pub mod pipeline;
pub mod query;
pub mod rules;
pub mod run;
pub mod sigma;
pub mod subscribe;
pub mod tail;
