//! Envelopes and Lambda logs from the corpus (`testdata/corpus/`): subscription payloads
//! (gzip, zlib, Kinesis, Firehose), control messages, digests, REPORT lines.

mod common;
use common::*;
use vigil_ingest::Table;

#[test]
fn subscription_event_decodes_like_aws_lambda_events_does() {
    let path = corpus("aws-lambda-rust-runtime-fixtures/lambda-events/src/fixtures/example-cloudwatch_logs-event.json");
    // The reference decoding, by the crate the Lambda runtime uses.
    let text = std::fs::read_to_string(&path).unwrap();
    let oracle: aws_lambda_events::cloudwatch_logs::LogsEvent =
        serde_json::from_str(&text).unwrap();
    let data = &oracle.aws_logs.data;
    let (report, batches) = ingest(&[path]);
    assert_eq!(report.records_read as usize, data.log_events.len());
    assert_eq!(report.dead_lettered_total(), 0);
    let raws = non_null(&batches, Table::Lambda, "raw");
    let expected: Vec<String> = data.log_events.iter().map(|e| e.message.clone()).collect();
    assert_eq!(raws, expected);
    let refs = non_null(&batches, Table::Lambda, "source_ref");
    assert!(refs
        .iter()
        .all(|r| *r == format!("{}/{}", data.log_group, data.log_stream)));
}

#[test]
fn powertools_gzip_zlib_and_kinesis_payloads() {
    let dir = corpus("powertools-python-cwlogs-events/tests/events");
    let (report, _) = ingest(&[dir.join("cloudWatchLogEvent.json")]);
    assert!(
        report.records_read > 0 && report.dead_lettered_total() == 0,
        "{report:#?}"
    );

    // base64 + zlib (not gzip), with a policy level.
    let (report, _) = ingest(&[dir.join("cloudWatchLogEventWithPolicyLevel.json")]);
    assert!(
        report.records_read > 0 && report.dead_lettered_total() == 0,
        "{report:#?}"
    );

    // Two Kinesis records, each a gzip DATA_MESSAGE from a Lambda log group.
    let (report, batches) = ingest(&[dir.join("kinesisStreamCloudWatchLogsEvent.json")]);
    assert_eq!(report.dead_lettered_total(), 0);
    let types = non_null(&batches, Table::Lambda, "record_type");
    for t in ["start", "end", "report"] {
        assert!(types.iter().any(|x| x == t), "{t} missing from {types:?}");
    }
    assert!(
        f64s(&batches, Table::Lambda, "init_duration_ms")
            .iter()
            .flatten()
            .count()
            >= 1
    );
    assert!(!non_null(&batches, Table::Lambda, "xray_trace_id").is_empty());
    assert!(non_null(&batches, Table::Lambda, "function_name")
        .iter()
        .all(|f| !f.is_empty()));
}

#[test]
fn otel_control_messages_digests_and_concatenated_payloads() {
    let dir = corpus("otel-contrib-awslogs-testdata");
    let find = |name: &str| -> std::path::PathBuf {
        fn walk(d: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
            for e in std::fs::read_dir(d).ok()? {
                let p = e.ok()?.path();
                if p.is_dir() {
                    if let Some(found) = walk(&p, name) {
                        return Some(found);
                    }
                } else if p.file_name().is_some_and(|n| n == name) {
                    return Some(p);
                }
            }
            None
        }
        walk(&dir, name).unwrap_or_else(|| panic!("{name} not in corpus"))
    };
    let (report, _) = ingest(&[find("valid_cloudwatch_log_control.json")]);
    assert_eq!(report.skipped.get("control_message"), Some(&1));
    assert_eq!(report.parsed_total() + report.dead_lettered_total(), 0);

    let (report, _) = ingest(&[find("cloudtrail_digest.json")]);
    assert_eq!(report.skipped.get("cloudtrail_digest"), Some(&1));
    assert_eq!(report.records_read, 1);

    // Two payloads back to back in one file, as Firehose writes them.
    let (report, batches) = ingest(&[find("multiple_json_objects.json")]);
    let refs: std::collections::HashSet<String> =
        non_null(&batches, Table::DeadLetter, "source_ref")
            .into_iter()
            .collect();
    assert_eq!(refs.len(), 2, "both payloads decoded: {refs:?}");
    // Their messages are plain text in groups that name no family: dead-lettered, not lost.
    assert_eq!(
        report.dead_lettered.get("unrecognized_format"),
        Some(&report.records_read)
    );

    let (report, batches) = ingest(&[find("cloudtrail_log_cw.json")]);
    assert_eq!(report.parsed.get(&Table::CloudTrail), Some(&1));
    assert_eq!(
        non_null(&batches, Table::CloudTrail, "event_category"),
        vec!["Data".to_string()]
    );
}

#[test]
fn datadog_report_lines_match_the_forwarders_approved_metrics() {
    let derived = corpus("datadog-forwarder-cwlogs-fixtures/derived/lambda_report_lines_from_test_enhanced_lambda_metrics_literals.ndjson");
    let approved_dir =
        corpus("datadog-forwarder-cwlogs-fixtures/aws/logs_monitoring/tests/approved_files");
    let approved_for = |name: &str| -> Option<&'static str> {
        Some(match name {
            "standard_report" => "standard_report",
            "cold_start_report" => "cold_start_report",
            "report_with_xray" => "report_with_xray",
            "standard_json_report" => "json_report_log",
            "cold_start_json_report" => "cold_start_json_report_log",
            "timeout_json_report" => "timeout_json_report_log",
            _ => return None,
        })
    };
    let mut checked = 0;
    for line in std::fs::read_to_string(derived).unwrap().lines() {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let name = case["name"].as_str().unwrap();
        let payload = serde_json::json!({
            "messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/lambda/fn",
            "logStream": "s", "subscriptionFilters": [],
            "logEvents": [{"id": "1", "timestamp": 1_700_000_000_000i64, "message": case["message"]}]
        });
        let (report, batches) = ingest_bytes(payload.to_string().as_bytes());
        assert_eq!(report.parsed.get(&Table::Lambda), Some(&1), "{name}");
        let duration = f64s(&batches, Table::Lambda, "duration_ms")[0];
        let Some(file) = approved_for(name) else {
            if name == "malformed_report" {
                assert_eq!(duration, None, "a malformed REPORT has no metrics");
            } else {
                assert!(duration.is_some(), "{name}");
            }
            continue;
        };
        let approved: Vec<serde_json::Value> = serde_json::from_str(
            &std::fs::read_to_string(approved_dir.join(format!(
                "TestEnhancedLambdaMetrics.test_parse_metrics_from_{file}.approved.json"
            )))
            .unwrap(),
        )
        .unwrap();
        for metric in approved {
            let value = metric["value"].as_f64().unwrap();
            let (column, scale) = match metric["name"].as_str().unwrap().rsplit('.').next().unwrap()
            {
                "duration" => ("duration_ms", 1000.0),
                "billed_duration" => ("billed_duration_ms", 1000.0),
                "max_memory_used" => ("max_memory_used_mb", 1.0),
                "init_duration" => ("init_duration_ms", 1000.0),
                "timeouts" => {
                    assert_eq!(
                        non_null(&batches, Table::Lambda, "status"),
                        vec!["timeout".to_string()]
                    );
                    continue;
                }
                _ => continue,
            };
            let got = match column {
                "billed_duration_ms" | "max_memory_used_mb" => {
                    i64s(&batches, Table::Lambda, column)[0].map(|v| v as f64)
                }
                _ => f64s(&batches, Table::Lambda, column)[0],
            };
            let got = got.unwrap_or_else(|| panic!("{name}: {column} missing")) / scale;
            assert!(
                (got - value).abs() < 1e-9,
                "{name}: {column} = {got}, approved {value}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 6);
}

#[test]
fn lambda_fixtures_from_forwarders_parse() {
    // New Relic: an OOM, a timeout, a SAM function, and a message that is a JSON array.
    let dir = corpus("newrelic-log-ingestion-fixtures/test/events");
    let files: Vec<_> = [
        "entry_lambda_oom.json",
        "entry_lambda_timeout.json",
        "entry_lambda_sam.json",
        "invoke_lambda.json",
    ]
    .iter()
    .map(|f| dir.join(f))
    .filter(|p| p.exists())
    .collect();
    assert!(files.len() >= 3, "New Relic fixtures missing");
    let (report, batches) = ingest(&files);
    assert_eq!(
        report.dead_lettered_total(),
        0,
        "{:?}",
        report.dead_lettered
    );
    let types = non_null(&batches, Table::Lambda, "record_type");
    assert!(types.contains(&"timeout".to_string()), "{types:?}");
    assert!(types.contains(&"runtime_error".to_string()), "{types:?}");
    assert!(
        non_null(&batches, Table::Lambda, "error_type").contains(&"Runtime.ExitError".to_string())
    );

    // Datadog: cold start, timeout and invocation snapshots (messages hold a literal `\n`).
    let snaps = corpus(
        "datadog-forwarder-cwlogs-fixtures/aws/logs_monitoring/tools/integration_tests/snapshots",
    );
    let (report, batches) = ingest(&[
        snaps.join("cloudwatch_log_coldstart.json"),
        snaps.join("cloudwatch_log_timeout.json"),
        snaps.join("cloudwatch_log_lambda_invocation.json"),
    ]);
    assert_eq!(
        report.dead_lettered_total(),
        0,
        "{:?}",
        report.dead_lettered
    );
    assert!(f64s(&batches, Table::Lambda, "init_duration_ms")
        .iter()
        .flatten()
        .any(|d| (*d - 120.96).abs() < 1e-9));
    assert!(non_null(&batches, Table::Lambda, "function_name")
        .contains(&"storms-cloudwatch-event".to_string()));
}
