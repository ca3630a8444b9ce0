//! One module per command.

pub mod ingest;
