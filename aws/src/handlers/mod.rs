//! The Lambda handlers, chosen by `_HANDLER`.

pub mod cloudwatch;
pub mod compact;
pub mod s3;
pub mod scheduled;

use serde_json::Value;
use std::str::FromStr;

use crate::error::AwsError;
use vigil_pipeline::{Pipeline, RunReport};

/// Which handler a function runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handler {
    /// CloudWatch Logs subscription events.
    IngestCloudwatch,
    /// S3 object notifications (directly, through SQS or EventBridge).
    IngestS3,
    /// EventBridge Scheduler events: the scheduled rules that are due.
    DetectScheduled,
    /// EventBridge Scheduler events: the small files of the last hours merged.
    CompactLake,
}

impl Handler {
    pub const ALL: [Handler; 4] = [
        Handler::IngestCloudwatch,
        Handler::IngestS3,
        Handler::DetectScheduled,
        Handler::CompactLake,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Handler::IngestCloudwatch => "ingest-cloudwatch",
            Handler::IngestS3 => "ingest-s3",
            Handler::DetectScheduled => "detect-scheduled",
            Handler::CompactLake => "compact-lake",
        }
    }

    /// Whether the handler runs rules or writes findings, and so loads
    /// `[context]` (compaction only merges files: it neither needs the
    /// context nor has the permission to read it).
    pub fn uses_context(self) -> bool {
        !matches!(self, Handler::CompactLake)
    }

    /// Handles one event: the response to return, and what was done.
    pub async fn handle(
        self,
        pipeline: &Pipeline,
        payload: &str,
        now_ms: i64,
    ) -> Result<(Value, RunReport), AwsError> {
        match self {
            Handler::IngestCloudwatch => cloudwatch::handle(pipeline, payload, now_ms).await,
            Handler::IngestS3 => s3::handle(pipeline, payload, now_ms).await,
            Handler::DetectScheduled => scheduled::handle(pipeline, payload, now_ms).await,
            Handler::CompactLake => compact::handle(pipeline, payload, now_ms).await,
        }
    }
}

impl FromStr for Handler {
    type Err = AwsError;

    fn from_str(s: &str) -> Result<Handler, AwsError> {
        Handler::ALL
            .into_iter()
            .find(|h| h.name() == s)
            .ok_or_else(|| AwsError::UnknownHandler(s.to_string()))
    }
}

/// A short digest of an event's payload: the same event delivered again (a
/// retry) has the same key.
fn event_key(payload: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(payload.as_bytes())[..10])
}

/// The time a scheduled event stands for (Unix ms): its `time`, as
/// EventBridge events and the template's Scheduler input carry it, else
/// `now_ms`. Keying on it makes a retried event repeat the same work.
pub(crate) fn scheduled_time(
    handler: &'static str,
    payload: &str,
    now_ms: i64,
) -> Result<i64, AwsError> {
    let event: Value = serde_json::from_str(payload).map_err(|e| AwsError::Event {
        handler,
        message: format!("not JSON: {e}"),
    })?;
    match event.get("time").and_then(Value::as_str) {
        Some(text) => Ok(chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| AwsError::Event {
                handler,
                message: format!("time {text:?}: {e}"),
            })?
            .timestamp_millis()),
        None => Ok(now_ms),
    }
}

/// The summary an ingest handler returns.
fn ingest_summary(outcome: &RunReport) -> Value {
    serde_json::json!({
        "records": outcome.ingest.records_read,
        "parsed": outcome.ingest.parsed_total(),
        "dead_lettered": outcome.ingest.dead_lettered_total(),
        "skipped": outcome.ingest.skipped_total(),
        "findings": outcome.findings.len(),
        "alerts": outcome.delivery.delivered(),
    })
}
