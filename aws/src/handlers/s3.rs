//! `ingest-s3`: CloudTrail (or any log) objects named by S3 notifications,
//! streamed into the lake.

use serde_json::Value;
use vigil_ingest::SourceId;

use crate::error::AwsError;
use crate::notifications::{self, Notification, ObjectRef};
use vigil_pipeline::{IngestRun, Pipeline, PipelineInput, RunReport};

/// Ingests the objects an event names. From SQS, the response lists the
/// messages to retry (`batchItemFailures`: an object that could not be read,
/// a body that is no notification); otherwise any failure fails the
/// invocation, so Lambda retries it.
pub async fn handle(
    pipeline: &Pipeline,
    payload: &str,
    now_ms: i64,
) -> Result<(Value, RunReport), AwsError> {
    // A retried event (the same payload) claims what a stopped attempt left.
    let run = || IngestRun {
        key: Some(super::event_key(payload)),
        ..IngestRun::default()
    };
    let notification = notifications::parse(payload).map_err(|message| AwsError::Event {
        handler: "ingest-s3",
        message,
    })?;
    match notification {
        Notification::Direct(objects) => {
            let inputs = inputs(pipeline, &objects)?;
            let outcome = pipeline.ingest(inputs, run(), now_ms).await?;
            if let Some(failed) = outcome.failed_inputs.first() {
                return Err(AwsError::Runtime(format!(
                    "{} of {} object(s) not ingested; first: {}: {}",
                    outcome.failed_inputs.len(),
                    objects.len(),
                    objects[failed.index].identity(),
                    failed.error
                )));
            }
            Ok((super::ingest_summary(&outcome), outcome))
        }
        Notification::Sqs(messages) => {
            let mut failed: Vec<String> = Vec::new();
            let mut owners = Vec::new();
            let mut objects = Vec::new();
            for m in &messages {
                match &m.objects {
                    Ok(list) => {
                        owners.extend(std::iter::repeat_n(m.message_id.as_str(), list.len()));
                        objects.extend(list.iter().cloned());
                    }
                    Err(reason) => {
                        tracing::warn!(message_id = %m.message_id, %reason, "not an S3 notification");
                        failed.push(m.message_id.clone());
                    }
                }
            }
            let inputs = inputs(pipeline, &objects)?;
            let outcome = pipeline.ingest(inputs, run(), now_ms).await?;
            for input in &outcome.failed_inputs {
                failed.push(owners[input.index].to_string());
            }
            failed.sort_unstable();
            failed.dedup();
            let mut response = super::ingest_summary(&outcome);
            response["batchItemFailures"] = failed
                .iter()
                .map(|id| serde_json::json!({ "itemIdentifier": id }))
                .collect();
            Ok((response, outcome))
        }
    }
}

fn inputs(pipeline: &Pipeline, objects: &[ObjectRef]) -> Result<Vec<PipelineInput>, AwsError> {
    objects
        .iter()
        .map(|o| {
            Ok(PipelineInput::Object {
                store: pipeline.bucket(&o.bucket)?,
                bucket: o.bucket.clone(),
                key: o.key.clone(),
                source: SourceId::new(format!("s3://{}/{}", o.bucket, o.key), &o.identity()),
            })
        })
        .collect()
}
