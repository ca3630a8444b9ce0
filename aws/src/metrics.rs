//! One CloudWatch Embedded Metric Format line per invocation, so that
//! CloudWatch turns the function's log into metrics without API calls.

use serde_json::{json, Map, Value};
use std::time::Duration;

use vigil_ingest::S3Requests;
use vigil_pipeline::RunReport;

/// The metric namespace.
pub const NAMESPACE: &str = "Vigil";

/// The EMF document for one invocation of `handler`.
pub fn emf(
    handler: &str,
    request_id: &str,
    outcome: &RunReport,
    requests: &S3Requests,
    duration: Duration,
    timestamp_ms: i64,
) -> Value {
    let counts = [
        ("RecordsIn", outcome.ingest.records_read),
        ("RecordsOut", outcome.ingest.parsed_total()),
        ("DeadLettered", outcome.ingest.dead_lettered_total()),
        ("Skipped", outcome.ingest.skipped_total()),
        ("Findings", outcome.findings.len() as u64),
        ("Alerts", outcome.delivery.delivered() as u64),
        (
            "AlertsDeadLettered",
            outcome.delivery.dead_lettered() as u64,
        ),
        ("InputsFailed", outcome.failed_inputs.len() as u64),
        // S3 requests, billed per thousand: PUT, COPY and LIST at one
        // price, GET and HEAD at about a twelfth of it, DELETE free.
        ("S3Puts", requests.put),
        ("S3Copies", requests.copy),
        ("S3Lists", requests.list),
        ("S3Gets", requests.get),
        ("S3Heads", requests.head),
        ("S3Deletes", requests.delete),
    ];
    let mut doc = Map::new();
    let mut definitions: Vec<Value> = counts
        .iter()
        .map(|(name, _)| json!({"Name": name, "Unit": "Count"}))
        .collect();
    definitions.push(json!({"Name": "Bytes", "Unit": "Bytes"}));
    definitions.push(json!({"Name": "Duration", "Unit": "Milliseconds"}));
    doc.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Handler"]],
                "Metrics": definitions,
            }],
        }),
    );
    doc.insert("Handler".into(), json!(handler));
    doc.insert("requestId".into(), json!(request_id));
    for (name, value) in counts {
        doc.insert(name.into(), json!(value));
    }
    doc.insert("Bytes".into(), json!(outcome.ingest.bytes_read));
    doc.insert(
        "Duration".into(),
        json!((duration.as_secs_f64() * 1e3 * 1e3).round() / 1e3),
    );
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value() {
        let mut outcome = RunReport::default();
        outcome.ingest.records_read = 7;
        outcome.ingest.bytes_read = 1234;
        let requests = S3Requests {
            put: 3,
            head: 2,
            ..S3Requests::default()
        };
        let doc = emf(
            "ingest-s3",
            "req-1",
            &outcome,
            &requests,
            Duration::from_millis(12),
            1,
        );
        let declared = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(declared.len(), 16);
        for m in declared {
            let name = m["Name"].as_str().unwrap();
            assert!(doc[name].is_number(), "{name} has no value");
        }
        assert_eq!(doc["RecordsIn"], 7);
        assert_eq!(
            (doc["S3Puts"].as_u64(), doc["S3Heads"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(doc["Bytes"], 1234);
        assert_eq!(doc["Duration"], 12.0);
        assert_eq!(doc["Handler"], "ingest-s3");
        assert_eq!(doc["requestId"], "req-1");
    }
}
