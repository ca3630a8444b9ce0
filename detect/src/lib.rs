//! Vigil's detection layer: rules are TOML files holding one read-only SQL
//! SELECT, metadata and their own tests. The engine runs streaming rules over
//! each ingested batch and scheduled rules over sliding windows of the lake,
//! with per-rule checkpoints, and turns result rows into deduplicated,
//! suppressed [`Finding`]s.
//!
//! The result contract of a rule's SQL (see `docs/RULES.md`): either one row
//! per matching event (with `event_time`, and ideally `event_id` and `raw`), or
//! one row per finding (with `event_count`, `first_seen`, `last_seen`, and an
//! optional `samples` list). Entity columns `actor`, `src_ip`, `account_id`,
//! `region` and `resource` are picked up by name.

#![forbid(unsafe_code)]

pub mod attack;
pub mod baseline;
pub mod builtin;
pub mod coverage;
pub mod dedup;
pub mod engine;
pub mod error;
pub mod evaluate;
pub mod feed;
pub mod finding;
pub mod guard;
pub mod prepared;
pub mod reads;
pub mod redact;
pub mod rule;
pub mod samples;
pub mod scan_table;
pub mod sigma;
pub mod state;
pub mod streaming;
pub mod suppress;
pub mod tables;
pub mod template;
pub mod testing;
pub mod unique_count;
pub mod window;

pub use engine::{DetectReport, Detector, StreamingCost};
pub use error::{DetectError, RuleError};
pub use finding::{Finding, FindingStatus, Severity};
pub use rule::{Mode, Rule, RuleSet, RuleSources};
pub use streaming::{streaming_pass, StreamingPass, StreamingResults, StreamingSink};
pub use tables::Tables;
pub use testing::{run_rule_tests, TestOutcome};
pub use vigil_sigma::Placeholders;
