//! The Lambda runtime loop: one handler per function, chosen by `_HANDLER`,
//! with the pipeline built on the first event and kept for the next ones.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;
use std::time::Instant;
use tokio::sync::OnceCell;

use crate::error::ServerlessError;
use crate::handlers::Handler;
use crate::metrics;
use crate::pipeline::Pipeline;
use crate::settings::Settings;

/// Set by the Lambda service: the Runtime API's `host:port`.
pub const RUNTIME_API_ENV: &str = "AWS_LAMBDA_RUNTIME_API";

/// True when this process runs as a Lambda function.
pub fn in_lambda() -> bool {
    std::env::var_os(RUNTIME_API_ENV).is_some()
}

impl From<ServerlessError> for Diagnostic {
    fn from(error: ServerlessError) -> Diagnostic {
        let kind = match &error {
            ServerlessError::Setting { .. } => "Setting",
            ServerlessError::Event { .. } => "BadEvent",
            ServerlessError::UnknownHandler(_) => "UnknownHandler",
            ServerlessError::Ingest(_) | ServerlessError::Object { .. } => "Ingest",
            ServerlessError::Detect(_) | ServerlessError::State(_) => "Detect",
            ServerlessError::Alert(_) => "Alert",
            ServerlessError::Aws { .. } | ServerlessError::Runtime(_) => "Runtime",
        };
        Diagnostic {
            error_type: format!("Vigil.{kind}"),
            error_message: error.to_string(),
        }
    }
}

/// Runs the runtime loop until the Lambda service stops the process. Nothing
/// is built before the first event: not the AWS clients, not the rules.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    for required in [
        RUNTIME_API_ENV,
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
    ] {
        if std::env::var_os(required).is_none() {
            return Err(format!("{required} is not set: not running under Lambda").into());
        }
    }
    let handler: Handler = std::env::var("_HANDLER")
        .unwrap_or_default()
        .parse()
        .map_err(|e: ServerlessError| e.to_string())?;
    tracing::info!(handler = handler.name(), "vigil Lambda runtime starting");
    let pipeline: OnceCell<Pipeline> = OnceCell::new();
    let pipeline = &pipeline;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Box<RawValue>>| async move {
        invoke(handler, pipeline, event).await
    }))
    .await
}

async fn invoke(
    handler: Handler,
    pipeline: &OnceCell<Pipeline>,
    event: LambdaEvent<Box<RawValue>>,
) -> Result<Value, ServerlessError> {
    let started = Instant::now();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let pipeline = pipeline
        .get_or_try_init(|| async { Pipeline::new(Settings::from_env()?) })
        .await?;
    let result = handler.handle(pipeline, event.payload.get(), now_ms).await;
    match &result {
        Ok((_, outcome)) => {
            let doc = metrics::emf(
                handler.name(),
                &event.context.request_id,
                outcome,
                started.elapsed(),
                now_ms,
            );
            // EMF documents must be whole lines of their own on stdout.
            println!("{doc}");
            tracing::info!(
                records = outcome.ingest.records_read,
                dead_lettered = outcome.ingest.dead_lettered_total(),
                findings = outcome.findings.len(),
                alerts = outcome.delivery.delivered(),
                ms = started.elapsed().as_millis() as u64,
                "invocation done"
            );
        }
        Err(e) => tracing::error!(error = %e, "invocation failed"),
    }
    result.map(|(response, _)| response)
}
