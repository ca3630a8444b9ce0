//! What SNS and Security Hub deliveries share: an SDK configuration whose
//! own retries are off (the dispatcher's policy is the only one), and how an
//! SDK error is classified.

use aws_sdk_sns::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::config::DestinationConfig;
use crate::retry::SendError;

/// Credentials from the standard AWS chain, the destination's timeout per
/// attempt and endpoint override (`endpoint_url`, or `AWS_ENDPOINT_URL`),
/// and `region` when given (else the chain's).
pub async fn sdk_config(
    config: &DestinationConfig,
    region: Option<String>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(config.timeout())
                .build(),
        );
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region));
    }
    if let Some(endpoint) = &config.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// A service error whose code starts with one of `retryable` is worth
/// another attempt, other service errors are not; timeouts, connection
/// failures and unreadable answers are.
pub fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
    retryable: &[&str],
) -> SendError {
    let message = DisplayErrorContext(&e).to_string();
    match &e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            if retryable.iter().any(|c| code.starts_with(c)) {
                SendError::Retryable {
                    message,
                    retry_after: None,
                }
            } else {
                SendError::Permanent { message }
            }
        }
        _ => SendError::Retryable {
            message,
            retry_after: None,
        },
    }
}
