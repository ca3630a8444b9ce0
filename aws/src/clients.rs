//! AWS SDK configuration: the standard credential chain, with an endpoint
//! override for tests (moto on loopback).

use aws_sdk_cloudwatchlogs::error::DisplayErrorContext;

use crate::error::AwsError;

/// The SDK configuration, `endpoint` overriding every service's endpoint.
pub async fn sdk_config(endpoint: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

/// A CloudWatch Logs client.
pub async fn logs_client(endpoint: Option<&str>) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&sdk_config(endpoint).await)
}

/// An SDK error with its whole chain of causes, for messages.
pub(crate) fn aws_error<E: std::error::Error>(operation: &'static str, e: E) -> AwsError {
    AwsError::Api {
        operation,
        message: DisplayErrorContext(e).to_string(),
    }
}
