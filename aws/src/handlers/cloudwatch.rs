//! `ingest-cloudwatch`: a CloudWatch Logs subscription event into the lake.

use serde_json::Value;
use sha2::{Digest, Sha256};
use vigil_ingest::decode::subscription::LambdaLogsEvent;
use vigil_ingest::SourceId;

use crate::error::AwsError;
use vigil_pipeline::{IngestRun, Pipeline, PipelineInput, RunReport};

/// Ingests one `{"awslogs":{"data":...}}` event. Its batch key is the digest
/// of the payload, so a retried delivery rewrites the same lake objects. A
/// payload that does not decode is dead-lettered (retrying cannot help); an
/// event of another shape is an error.
pub async fn handle(
    pipeline: &Pipeline,
    payload: &str,
    now_ms: i64,
) -> Result<(Value, RunReport), AwsError> {
    let event: LambdaLogsEvent<'_> =
        serde_json::from_str(payload).map_err(|e| AwsError::Event {
            handler: "ingest-cloudwatch",
            message: format!("not a CloudWatch Logs subscription event: {e}"),
        })?;
    let identity = hex::encode(Sha256::digest(event.awslogs.data.as_bytes()));
    let source = SourceId::new("cloudwatch-subscription", &identity);
    let key: String = identity.chars().take(20).collect();
    let input = PipelineInput::Bytes {
        bytes: payload.as_bytes().to_vec(),
        source,
    };
    let outcome = pipeline
        .ingest(
            vec![input],
            IngestRun {
                // A retried event claims what a stopped attempt left.
                key: Some(key),
                ..IngestRun::default()
            },
            now_ms,
        )
        .await?;
    if let Some(failed) = outcome.failed_inputs.first() {
        return Err(AwsError::Runtime(failed.error.clone()));
    }
    Ok((super::ingest_summary(&outcome), outcome))
}
