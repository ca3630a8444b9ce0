//! The lake catalog: registers every lake table with DataFusion (local folder or
//! `s3://`), with Hive partition columns, and builds time filters that prune
//! partitions. The hunting CLI and the detection engine both read the lake
//! through it.

#![forbid(unsafe_code)]

pub mod catalog;
// The SQL functions read every event's fields, which attackers write: no
// panic on what they hold.
#[deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
pub mod context_functions;
pub mod dictionary;
pub mod error;
pub mod filter_order;
pub mod first_seen;
#[deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
pub mod functions;
pub mod guard;
pub mod hunts;
pub mod like_on_dictionaries;
pub mod ocsf;
pub mod output;
mod parquet_scan;
pub mod placeholder;
pub mod time_range;

pub use catalog::{
    first_partition_hour, hunting_session, lake_is_empty, last_partition_hour, partition_hours,
    register_lake, register_lake_views, register_table, string_views_of, HUNTING_TABLES,
};
pub use error::QueryError;
pub use functions::register_functions;
pub use time_range::{hour_ranges, TimeRange};
