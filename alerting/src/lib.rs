//! Vigil's alerting: new findings fan out to destinations (SNS, signed
//! webhooks, Slack, JSON Lines files, stdout, Security Hub) chosen by routing rules, with
//! bounded concurrency, one retry policy (exponential backoff, full jitter,
//! deadline) and a delivery dead-letter that `vigil alerts redrive` re-sends.
//!
//! Every routed (finding, destination) pair ends in exactly one of delivered
//! or dead-lettered; [`DeliveryReport`] counts both.

#![forbid(unsafe_code)]

pub mod asff;
pub mod config;
pub mod deadletter;
pub mod destinations;
pub mod dispatch;
pub mod error;
pub mod ocsf;
pub mod payload;
pub mod retry;
pub mod secret;
pub mod signature;

pub use config::{AlertingConfig, DestinationConfig, VigilConfig};
pub use dispatch::{DeliveryReport, Dispatcher};
pub use error::AlertError;
pub use payload::{finding_json, PAYLOAD_SCHEMA};
