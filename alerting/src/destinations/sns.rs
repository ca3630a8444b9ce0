//! Amazon SNS: the finding JSON published to a topic, with message attributes
//! for subscription filter policies, and group/deduplication ids on FIFO topics.

use aws_sdk_sns::types::MessageAttributeValue;
use vigil_detect::Finding;

use super::aws_sdk::{classify, sdk_config};
use crate::config::DestinationConfig;
use crate::error::AlertError;
use crate::retry::SendError;

#[derive(Debug)]
pub struct Sns {
    topic_arn: String,
    client: aws_sdk_sns::Client,
}

impl Sns {
    /// Credentials and region from the standard AWS chain; `endpoint_url`
    /// (or `AWS_ENDPOINT_URL`) overrides the endpoint. The SDK's own retries
    /// are off: the dispatcher's policy is the only one.
    pub async fn new(config: &DestinationConfig) -> Result<Sns, AlertError> {
        let topic_arn = config
            .topic_arn
            .clone()
            .ok_or_else(|| AlertError::Destination {
                destination: config.name.clone(),
                message: "needs topic_arn".into(),
            })?;
        Ok(Sns {
            topic_arn,
            client: aws_sdk_sns::Client::new(&sdk_config(config, None).await),
        })
    }

    pub async fn send(&self, f: &Finding, body: &[u8]) -> Result<(), SendError> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
        };
        let attrs = [
            ("severity", f.severity.as_str()),
            ("rule_id", f.rule_id.as_str()),
            ("finding_id", f.finding_id.as_str()),
        ];
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(String::from_utf8_lossy(body))
            .subject(subject(f));
        for (k, v) in attrs {
            let value = attr(v).map_err(|e| SendError::Permanent {
                message: e.to_string(),
            })?;
            request = request.message_attributes(k, value);
        }
        if self.topic_arn.ends_with(".fifo") {
            request = request
                .message_group_id(&f.rule_id)
                .message_deduplication_id(&f.finding_id);
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(classify(e, &RETRYABLE)),
        }
    }
}

/// SNS subjects are ASCII, at most 100 characters, one line.
fn subject(f: &Finding) -> String {
    let s: String = format!("[{}] {}", f.severity, f.title)
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect();
    s.chars().take(100).collect()
}

/// SNS errors worth another attempt.
const RETRYABLE: [&str; 7] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "KMSThrottling",
];
