//! The Lambda runtime loop: one handler per function, chosen by `_HANDLER`,
//! with the pipeline built on the first event and kept for the next ones.

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::Value;
use std::time::Instant;
use tokio::sync::OnceCell;

use crate::error::AwsError;
use crate::handlers::Handler;
use crate::metrics;
use crate::settings::Settings;
use vigil_pipeline::{Pipeline, PipelineError};

/// Set by the Lambda service: the Runtime API's `host:port`.
pub const RUNTIME_API_ENV: &str = "AWS_LAMBDA_RUNTIME_API";

/// True when this process runs as a Lambda function.
pub fn in_lambda() -> bool {
    std::env::var_os(RUNTIME_API_ENV).is_some()
}

/// The `errorType` Lambda shows for an error.
fn error_type(error: &AwsError) -> &'static str {
    match error {
        AwsError::Setting { .. } => "Vigil.Setting",
        AwsError::Event { .. } => "Vigil.BadEvent",
        AwsError::UnknownHandler(_) => "Vigil.UnknownHandler",
        AwsError::Pipeline(PipelineError::Ingest(_) | PipelineError::Object { .. }) => {
            "Vigil.Ingest"
        }
        AwsError::Pipeline(PipelineError::Detect(_)) | AwsError::State(_) => "Vigil.Detect",
        AwsError::Pipeline(PipelineError::Alert(_)) => "Vigil.Alert",
        AwsError::Pipeline(PipelineError::Runtime(_)) => "Vigil.Runtime",
        AwsError::Api { .. } | AwsError::Runtime(_) => "Vigil.Runtime",
        AwsError::Context(_) => "Vigil.Context",
    }
}

impl From<AwsError> for Diagnostic {
    fn from(error: AwsError) -> Diagnostic {
        Diagnostic {
            error_type: error_type(&error).to_string(),
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
    let api = std::env::var(RUNTIME_API_ENV).unwrap_or_default();
    // What can be wrong before the first event is reported as an init error.
    let (handler, settings) = match init() {
        Ok(ok) => ok,
        Err(e) => {
            report_init_error(&api, &e).await;
            return Err(e.to_string().into());
        }
    };
    tracing::info!(handler = handler.name(), "vigil Lambda runtime starting");
    let settings = &settings;
    let pipeline: OnceCell<Pipeline> = OnceCell::new();
    let pipeline = &pipeline;
    let context = tokio::sync::Mutex::new(None);
    let context = &context;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            // An invocation's S3 requests include its context check's.
            let requests_before = vigil_ingest::s3_requests();
            if handler.uses_context() {
                refresh_context(settings, context).await?;
            }
            invoke(handler, settings, pipeline, event, requests_before).await
        },
    ))
    .await
}

/// The handler and the settings: environment reads only, no I/O.
fn init() -> Result<(Handler, Settings), AwsError> {
    let handler = std::env::var("_HANDLER").unwrap_or_default().parse()?;
    Ok((handler, Settings::from_env()?))
}

/// `POST /runtime/init/error`, so Lambda shows why the function cannot start.
async fn report_init_error(api: &str, error: &AwsError) {
    let error_type = error_type(error);
    let body = serde_json::json!({
        "errorType": error_type,
        "errorMessage": error.to_string(),
    });
    let sent = reqwest::Client::new()
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header("Lambda-Runtime-Function-Error-Type", error_type)
        .body(body.to_string())
        .send()
        .await;
    if let Err(e) = sent {
        tracing::error!(error = %e, "could not report the init error");
    }
}

/// Loads `[context]` on a container's first event (an error fails the
/// event: findings without their context would be wrong, not just poorer),
/// then checks its files for changes at most every `reload_every`; a set that
/// no longer loads leaves the one in force.
async fn refresh_context(
    settings: &Settings,
    reloader: &tokio::sync::Mutex<Option<vigil_context::reload::Reloader>>,
) -> Result<(), AwsError> {
    if settings.context.is_empty() {
        return Ok(());
    }
    let mut reloader = reloader.lock().await;
    match reloader.as_mut() {
        None => {
            let (started, loaded) =
                vigil_context::reload::Reloader::start(settings.context.clone()).await?;
            loaded.report.log("loaded");
            *reloader = Some(started);
        }
        Some(r) => r.refresh().await,
    }
    Ok(())
}

async fn invoke(
    handler: Handler,
    settings: &Settings,
    pipeline: &OnceCell<Pipeline>,
    event: LambdaEvent<Box<RawValue>>,
    requests_before: vigil_ingest::S3Requests,
) -> Result<Value, AwsError> {
    let started = Instant::now();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let pipeline = pipeline
        .get_or_try_init(|| async { settings.open_pipeline() })
        .await?;
    let result = handler.handle(pipeline, event.payload.get(), now_ms).await;
    match &result {
        Ok((_, outcome)) => {
            let requests = vigil_ingest::s3_requests().since(&requests_before);
            let doc = metrics::emf(
                handler.name(),
                &event.context.request_id,
                outcome,
                &requests,
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
                s3_put_class = requests.put_class(),
                s3_get_class = requests.get_class(),
                ms = started.elapsed().as_millis() as u64,
                "invocation done"
            );
        }
        Err(e) => tracing::error!(error = %e, "invocation failed"),
    }
    result.map(|(response, _)| response)
}
