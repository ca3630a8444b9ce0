//! CloudWatch Logs subscription payloads: the Lambda event
//! `{"awslogs":{"data": base64(gzip(json))}}` and the decoded `DATA_MESSAGE` /
//! `CONTROL_MESSAGE` it carries (also what Firehose writes to S3).
//!
//! The shapes are those of `aws_lambda_events::cloudwatch_logs`, decoded here
//! with our own limits (that crate inflates without a bound) and tolerance
//! (a log event's `message` that is not a string is kept as its JSON text).

use base64::Engine;
use serde::Deserialize;
use serde_json::value::RawValue;

/// `{"awslogs": {"data": "..."}}`
#[derive(Deserialize)]
pub struct LambdaLogsEvent<'a> {
    #[serde(borrow)]
    pub awslogs: AwsLogs<'a>,
}

#[derive(Deserialize)]
pub struct AwsLogs<'a> {
    #[serde(borrow)]
    pub data: std::borrow::Cow<'a, str>,
}

/// A decoded subscription payload.
#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct LogData<'a> {
    #[serde(borrow)]
    pub message_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    pub owner: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    pub log_group: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    pub log_stream: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub subscription_filters: Vec<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    pub log_events: Vec<LogEvent<'a>>,
    /// Firehose and some forwarders add a policy level; kept for completeness.
    #[serde(borrow)]
    pub policy_level: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize, Debug)]
pub struct LogEvent<'a> {
    #[serde(borrow)]
    pub id: Option<&'a RawValue>,
    pub timestamp: Option<i64>,
    #[serde(borrow)]
    pub message: &'a RawValue,
}

impl LogEvent<'_> {
    /// The message's text: a JSON string unescaped, anything else as JSON text.
    pub fn message_text(&self) -> Result<std::borrow::Cow<'_, str>, serde_json::Error> {
        let text = self.message.get();
        if text.starts_with('"') {
            serde_json::from_str(text)
        } else {
            Ok(std::borrow::Cow::Borrowed(text))
        }
    }

    pub fn id_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.id.and_then(crate::parse::raw_text)
    }
}

/// Decodes base64 (standard alphabet, padding optional, whitespace ignored).
pub fn decode_base64(data: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let cleaned: String;
    let data = if data.bytes().any(|c| c.is_ascii_whitespace()) {
        cleaned = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        &cleaned
    } else {
        data
    };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(data)
}
