//! `detect-scheduled`: the scheduled rules that are due, on a timer.

use chrono::DateTime;
use serde_json::Value;

use crate::error::AwsError;
use crate::handlers::scheduled_time;
use vigil_pipeline::{Pipeline, RunReport};

/// Runs the rules due at the event's scheduled time (`time`, as EventBridge
/// events and the template's Scheduler input carry it), else at `now_ms`.
/// Keying on the scheduled time makes a retried event a no-op: the
/// checkpoints have already moved past it.
pub async fn handle(
    pipeline: &Pipeline,
    payload: &str,
    now_ms: i64,
) -> Result<(Value, RunReport), AwsError> {
    let at = scheduled_time("detect-scheduled", payload, now_ms)?;
    let outcome = pipeline.detect_due(at).await?.alerted()?;
    let summary = serde_json::json!({
        "scheduled_time": DateTime::from_timestamp_millis(at).map(|t| t.to_rfc3339()),
        "evaluations": outcome.detect.evaluations,
        "windows_skipped": outcome.detect.windows_skipped,
        "findings": outcome.findings.len(),
        "alerts": outcome.delivery.delivered(),
    });
    Ok((summary, outcome))
}
