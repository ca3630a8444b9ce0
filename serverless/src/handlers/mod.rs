//! The three Lambda handlers, chosen by `_HANDLER`.

pub mod cloudwatch;
pub mod s3;
pub mod scheduled;

use serde_json::Value;
use std::str::FromStr;

use crate::error::ServerlessError;
use crate::pipeline::{Outcome, Pipeline};

/// Which handler a function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// CloudWatch Logs subscription events.
    IngestCloudwatch,
    /// S3 object notifications (directly, through SQS or EventBridge).
    IngestS3,
    /// EventBridge Scheduler events: the scheduled rules that are due.
    DetectScheduled,
}

impl Handler {
    pub const ALL: [Handler; 3] = [
        Handler::IngestCloudwatch,
        Handler::IngestS3,
        Handler::DetectScheduled,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Handler::IngestCloudwatch => "ingest-cloudwatch",
            Handler::IngestS3 => "ingest-s3",
            Handler::DetectScheduled => "detect-scheduled",
        }
    }

    /// Handles one event: the response to return, and what was done.
    pub async fn handle(
        self,
        pipeline: &Pipeline,
        payload: &str,
        now_ms: i64,
    ) -> Result<(Value, Outcome), ServerlessError> {
        match self {
            Handler::IngestCloudwatch => cloudwatch::handle(pipeline, payload, now_ms).await,
            Handler::IngestS3 => s3::handle(pipeline, payload, now_ms).await,
            Handler::DetectScheduled => scheduled::handle(pipeline, payload, now_ms).await,
        }
    }
}

impl FromStr for Handler {
    type Err = ServerlessError;

    fn from_str(s: &str) -> Result<Handler, ServerlessError> {
        Handler::ALL
            .into_iter()
            .find(|h| h.name() == s)
            .ok_or_else(|| ServerlessError::UnknownHandler(s.to_string()))
    }
}

/// The summary an ingest handler returns.
fn ingest_summary(outcome: &Outcome) -> Value {
    serde_json::json!({
        "records": outcome.ingest.records_read,
        "parsed": outcome.ingest.parsed_total(),
        "dead_lettered": outcome.ingest.dead_lettered_total(),
        "skipped": outcome.ingest.skipped_total(),
        "findings": outcome.findings.len(),
        "alerts": outcome.delivery.delivered(),
    })
}
