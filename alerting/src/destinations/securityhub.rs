//! AWS Security Hub: findings in ASFF through `BatchImportFindings`, at most
//! 100 a request; a finding already imported is updated in place (same `Id`).
//! Findings the service refuses are reported one by one, so that the
//! dispatcher retries or dead-letters only those.

use vigil_detect::Finding;

use super::aws_sdk::{classify, sdk_config};
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
    /// The SDK configured for the region of the product ARN.
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
        let sdk = sdk_config(config, Some(product.region.clone())).await;
        Ok(SecurityHub {
            product,
            client: aws_sdk_securityhub::Client::new(&sdk),
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
        let response = request.send().await.map_err(|e| classify(e, &RETRYABLE))?;
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

/// Security Hub errors worth another attempt.
const RETRYABLE: [&str; 6] = [
    "LimitExceeded",
    "Throttling",
    "TooManyRequests",
    "InternalException",
    "InternalFailure",
    "ServiceUnavailable",
];
