//! Synthetic AWS logs for scale and for scoring: CloudTrail, API Gateway
//! access logs, Lambda logs and the WAF logs of the API's web ACL, shaped
//! like the real samples, with a daily
//! traffic curve, deterministic for a seed, streamed to disk (memory does not
//! grow with the event count). Labelled attack scenarios are planted at random
//! times and described in `labels.jsonl`, so that [`score`] can measure a
//! lake's findings: recall per scenario, false positives per rule.

#![forbid(unsafe_code)]

pub mod background;
pub mod error;
pub mod firewall;
pub mod generator;
pub mod identity;
pub mod output;
pub mod scenarios;
pub mod score;

pub use error::GenerateError;
pub use generator::{generate, GenerateOptions, GenerateReport};
pub use output::OutputFormat;
pub use scenarios::{Label, ScenarioKind};
pub use score::{score, Score};
