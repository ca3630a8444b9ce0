//! AWS Security Hub: findings in ASFF through `BatchImportFindings`, at most
//! 100 a request; a finding already imported is updated in place (same `Id`).
//! Findings the service refuses are reported one by one, so that the
//! dispatcher retries or dead-letters only those.

use aws_sdk_securityhub::error::{ProvideErrorMetadata, SdkError};
use vigil_detect::Finding;

use crate::asff::{self, Product};
use crate::config::DestinationConfig;
use crate::error::AlertError;
use crate::retry::SendError;

/// The most findings `BatchImportFindings` takes at once.
pub const BATCH_SIZE: usize = 100;

#[derive(Debug)]
pub struct SecurityHub {
    product: Product,
    client: aws_sdk_securityhub::Client,
}

impl SecurityHub {
    /// Credentials from the standard AWS chain, the region of the product
    /// ARN; `endpoint_url` overrides the endpoint. The SDK's own retries
    /// are off: the dispatcher's policy is the only one.
    pub async fn new(config: &DestinationConfig) -> Result<SecurityHub, AlertError> {
        let err = |message: String| AlertError::Destination {
            destination: config.name.clone(),
            message,
        };
        let arn = config
            .product_arn
            .as_deref()
            .ok_or_else(|| err("needs product_arn".into()))?;
        let product = Product::from_arn(arn).map_err(err)?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(product.region.clone()))
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(config.timeout())
                    .build(),
            );
        if let Some(endpoint) = &config.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        Ok(SecurityHub {
            product,
            client: aws_sdk_securityhub::Client::new(&loader.load().await),
        })
    }

    /// Imports `findings` (at most [`BATCH_SIZE`]): for each, `None` when
    /// imported, else why not; `Err` when the whole request failed.
    pub async fn send_batch(
        &self,
        findings: &[&Finding],
    ) -> Result<Vec<Option<SendError>>, SendError> {
        let mut outcomes: Vec<Option<SendError>> = vec![None; findings.len()];
        let mut request = self.client.batch_import_findings();
        for f in findings {
            request = request.findings(asff::finding(f, &self.product));
        }
        let response = request.send().await.map_err(classify)?;
        for failed in response.failed_findings() {
            let Some(i) = findings
                .iter()
                .position(|f| Some(f.finding_id.as_str()) == failed.id())
            else {
                continue;
            };
            let code = failed.error_code().unwrap_or_default();
            let message = format!(
                "Security Hub refused the finding: {code}: {}",
                failed.error_message().unwrap_or_default()
            );
            // Refusals of the finding itself will not change; the rest
            // (throttling, internal errors) may.
            outcomes[i] = Some(
                if ["InvalidInput", "AccessDenied", "InvalidAccess"].contains(&code) {
                    SendError::Permanent { message }
                } else {
                    SendError::Retryable {
                        message,
                        retry_after: None,
                    }
                },
            );
        }
        Ok(outcomes)
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> SendError {
    let message = aws_sdk_securityhub::error::DisplayErrorContext(&e).to_string();
    match &e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or_default();
            let retryable = [
                "LimitExceeded",
                "Throttling",
                "TooManyRequests",
                "InternalException",
                "InternalFailure",
                "ServiceUnavailable",
            ]
            .iter()
            .any(|c| code.starts_with(c));
            if retryable {
                SendError::Retryable {
                    message,
                    retry_after: None,
                }
            } else {
                SendError::Permanent { message }
            }
        }
        // Timeouts, connection failures, unreadable answers: try again.
        _ => SendError::Retryable {
            message,
            retry_after: None,
        },
    }
}
