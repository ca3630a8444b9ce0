//! The S3 object notifications `ingest-s3` accepts: S3 event notifications
//! directly, wrapped in SQS messages (optionally inside an SNS envelope), and
//! EventBridge `Object Created` events, directly or through SQS.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::sqs::SqsEvent;
use serde::Deserialize;
use serde_json::Value;

/// The part of an S3 event notification that names objects. Parsed leniently
/// (`aws_lambda_events::s3::S3Event` requires fields that forwarders drop).
#[derive(Deserialize)]
struct S3Notification {
    #[serde(rename = "Records")]
    records: Vec<S3Record>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    event_name: Option<String>,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: String,
    e_tag: Option<String>,
    size: Option<i64>,
}

/// One object to ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
    pub size: Option<i64>,
}

impl ObjectRef {
    /// What makes this version of the object unique (its batch key). ETags
    /// come quoted from listings and bare in notifications: quotes are dropped.
    pub fn identity(&self) -> String {
        format!(
            "s3://{}/{}#{}",
            self.bucket,
            self.key,
            self.etag.as_deref().unwrap_or("").trim_matches('"')
        )
    }
}

/// A notification event, resolved to objects.
#[derive(Debug)]
pub enum Notification {
    /// From S3 or EventBridge directly: the invocation succeeds or fails whole.
    Direct(Vec<ObjectRef>),
    /// From SQS: each message succeeds or fails on its own (partial batch
    /// responses); a message that is not a notification fails with a reason.
    Sqs(Vec<SqsMessage>),
}

#[derive(Debug)]
pub struct SqsMessage {
    pub message_id: String,
    pub objects: Result<Vec<ObjectRef>, String>,
}

/// Resolves an `ingest-s3` event to objects.
pub fn parse(payload: &str) -> Result<Notification, String> {
    let value: Value = serde_json::from_str(payload).map_err(|e| format!("not JSON: {e}"))?;
    let is_sqs = value
        .pointer("/Records/0/eventSource")
        .and_then(Value::as_str)
        == Some("aws:sqs");
    if is_sqs {
        let event: SqsEvent =
            serde_json::from_value(value).map_err(|e| format!("SQS event: {e}"))?;
        let messages = event
            .records
            .into_iter()
            .map(|m| SqsMessage {
                message_id: m.message_id.unwrap_or_default(),
                objects: m
                    .body
                    .ok_or_else(|| "SQS message without a body".to_string())
                    .and_then(|body| objects_in(&body)),
            })
            .collect();
        return Ok(Notification::Sqs(messages));
    }
    objects_in(payload).map(Notification::Direct)
}

/// The objects a notification (S3, EventBridge, or either inside SNS) names.
fn objects_in(text: &str) -> Result<Vec<ObjectRef>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let message = value
            .get("Message")
            .and_then(Value::as_str)
            .ok_or("SNS notification without a Message")?;
        return objects_in(message);
    }
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Vec::new());
    }
    if value.get("detail-type").is_some() {
        return eventbridge_objects(value);
    }
    if value.get("Records").is_some() {
        let event: S3Notification =
            serde_json::from_value(value).map_err(|e| format!("S3 event: {e}"))?;
        return Ok(event
            .records
            .into_iter()
            .filter(|r| {
                r.event_name
                    .as_deref()
                    .is_none_or(|n| n.starts_with("ObjectCreated"))
            })
            .map(|r| ObjectRef {
                bucket: r.s3.bucket.name,
                key: decode_key(&r.s3.object.key),
                etag: r.s3.object.e_tag,
                size: r.s3.object.size,
            })
            .collect());
    }
    Err("neither an S3, SNS nor EventBridge notification".into())
}

fn eventbridge_objects(value: Value) -> Result<Vec<ObjectRef>, String> {
    let event: EventBridgeEvent<Value> =
        serde_json::from_value(value).map_err(|e| format!("EventBridge event: {e}"))?;
    if event.source != "aws.s3" || event.detail_type != "Object Created" {
        return Err(format!(
            "EventBridge event {} from {}: not an S3 Object Created event",
            event.detail_type, event.source
        ));
    }
    let text = |pointer: &str| {
        event
            .detail
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok(vec![ObjectRef {
        bucket: text("/bucket/name").ok_or("Object Created without a bucket name")?,
        // EventBridge carries the key as is, not URL-encoded.
        key: text("/object/key").ok_or("Object Created without an object key")?,
        etag: text("/object/etag"),
        size: event.detail.pointer("/object/size").and_then(Value::as_i64),
    }])
}

/// S3 event notifications URL-encode keys, spaces as `+`.
fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(
            vigil_test_support::corpus(
                "aws-lambda-rust-runtime-fixtures/lambda-events/src/fixtures",
            )
            .join(name),
        )
        .unwrap()
    }

    #[test]
    fn s3_event_keys_are_url_decoded() {
        let Notification::Direct(objects) = parse(&fixture("example-s3-event.json")).unwrap()
        else {
            panic!("expected a direct notification")
        };
        assert_eq!(
            objects,
            vec![ObjectRef {
                bucket: "sourcebucket".into(),
                key: "Happy Face.jpg".into(),
                etag: Some("d41d8cd98f00b204e9800998ecf8427e".into()),
                size: Some(1024),
            }]
        );
    }

    #[test]
    fn sqs_messages_resolve_one_by_one() {
        let events = vigil_test_support::corpus(
            "datadog-forwarder-cwlogs-fixtures/aws/logs_monitoring/tests/events",
        );
        for name in ["sqs_s3.json", "sqs_sns_s3.json"] {
            let text = std::fs::read_to_string(events.join(name)).unwrap();
            let Notification::Sqs(messages) = parse(&text).unwrap() else {
                panic!("{name}: expected SQS")
            };
            assert!(!messages.is_empty(), "{name}");
            for m in messages {
                let objects = m.objects.unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(objects.len(), 1, "{name}");
                assert!(!objects[0].bucket.is_empty() && !objects[0].key.is_empty());
            }
        }
    }

    #[test]
    fn a_message_that_is_no_notification_fails_alone() {
        let event = serde_json::json!({"Records": [
            {"messageId": "good", "eventSource": "aws:sqs", "body": fixture("example-s3-event.json")},
            {"messageId": "bad", "eventSource": "aws:sqs", "body": "hello"},
        ]});
        let Notification::Sqs(messages) = parse(&event.to_string()).unwrap() else {
            panic!("expected SQS")
        };
        assert_eq!(messages[0].message_id, "good");
        assert_eq!(messages[0].objects.as_ref().unwrap().len(), 1);
        assert_eq!(messages[1].message_id, "bad");
        assert!(messages[1]
            .objects
            .as_ref()
            .unwrap_err()
            .contains("not JSON"));
    }

    #[test]
    fn eventbridge_object_created_is_accepted_and_other_events_are_not() {
        let event = serde_json::json!({
            "version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2026-11-26T10:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {"bucket": {"name": "trail"},
            "object": {"key": "AWSLogs/1/CloudTrail/x y.json.gz", "size": 10, "etag": "abc"}}
        });
        let Notification::Direct(objects) = parse(&event.to_string()).unwrap() else {
            panic!("expected direct")
        };
        assert_eq!(objects[0].key, "AWSLogs/1/CloudTrail/x y.json.gz");
        assert_eq!(objects[0].etag.as_deref(), Some("abc"));
        let schedule = fixture("example-eventbridge-schedule.json");
        assert!(parse(&schedule)
            .unwrap_err()
            .contains("not an S3 Object Created"));
    }
}
