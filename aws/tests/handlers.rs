//! The handlers called through their public functions with real payloads, on
//! a local lake (the S3 lake and AWS destinations are in `aws.rs`).

mod common;

use common::*;
use vigil_aws::{AwsError, Handler};
use vigil_ingest::{IngestOptions, Ingester, Lake};

const NOW: i64 = 1_795_514_000_000; // 2026-11-24T09:53:20Z

/// API Gateway access-log lines from the sample, plus one request from sqlmap.
fn access_log_events() -> Vec<(i64, String)> {
    let sample =
        std::fs::read_to_string(repo().join("sample-logs/apigateway/rest-api-access-prod.ndjson"))
            .unwrap();
    let mut events: Vec<(i64, String)> = sample
        .lines()
        .take(40)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["requestTimeEpoch"].as_i64().unwrap(), l.to_string())
        })
        .collect();
    events.push((
        1_795_510_800_000,
        r#"{"requestId":"rq-sqlmap-1","ip":"203.0.113.66","requestTimeEpoch":1795510800000,"httpMethod":"GET","resourcePath":"/orders","path":"/prod/orders","status":"200","protocol":"HTTP/1.1","responseLength":"120","responseLatency":"40","userAgent":"sqlmap/1.7.2#stable (https://sqlmap.org)","apiId":"a1b2c3d4e5","stage":"prod"}"#.to_string(),
    ));
    events
}

#[tokio::test]
async fn a_subscription_event_lands_in_the_lake_and_its_retry_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let alerts = dir.path().join("alerts.jsonl");
    let pipeline = settings(lake_dir.to_str().unwrap(), &alerts)
        .open_pipeline()
        .unwrap();
    let events = access_log_events();
    let payload = subscription_event("/aws/apigateway/access-logs/prod", "stream-1", &events);

    let (response, outcome) = Handler::IngestCloudwatch
        .handle(&pipeline, &payload, NOW)
        .await
        .unwrap();
    assert_eq!(response["records"], events.len());
    assert_eq!(response["parsed"], events.len());
    assert_eq!(response["dead_lettered"], 0);
    assert!(outcome.ingest.reconciles());
    let lake = pipeline.lake();
    assert_eq!(
        count(lake, "SELECT count(*) FROM apigateway").await,
        events.len() as i64
    );
    let sqlmap = query(
        lake,
        "SELECT src_ip, user_agent, source_ref FROM apigateway WHERE event_id = 'rq-sqlmap-1'",
    )
    .await;
    assert_eq!(sqlmap[0]["src_ip"], "203.0.113.66");
    assert_eq!(
        sqlmap[0]["source_ref"],
        "/aws/apigateway/access-logs/prod/stream-1"
    );
    let sent = alerts_in(&alerts);
    assert!(
        sent.iter()
            .any(|a| a["finding"]["rule_id"] == "apigw_scanner_user_agent"),
        "{sent:?}"
    );
    assert_eq!(sent.len(), outcome.delivery.delivered());
    assert_eq!(response["alerts"], sent.len());
    let before = objects(lake).await;

    // Lambda retries the same event: same objects, same rows, no new alert.
    let (again, _) = Handler::IngestCloudwatch
        .handle(&pipeline, &payload, NOW + 60_000)
        .await
        .unwrap();
    assert_eq!(again["alerts"], 0);
    assert_eq!(objects(lake).await, before);
    assert_eq!(
        count(lake, "SELECT count(*) FROM apigateway").await,
        events.len() as i64
    );
    assert_eq!(alerts_in(&alerts).len(), sent.len());
}

#[tokio::test]
async fn a_waf_log_group_subscription_lands_in_the_waf_table_and_its_rules_alert() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let pipeline = settings(dir.path().join("lake").to_str().unwrap(), &alerts)
        .open_pipeline()
        .unwrap();
    // The sample's CAPTCHAs, as the aws-waf-logs-* group delivers them.
    let sample = std::fs::read_to_string(
        repo().join("sample-logs/waf/cloudwatch-subscription-aws-waf-logs-orders-api.json"),
    )
    .unwrap();
    let (response, outcome) = Handler::IngestCloudwatch
        .handle(&pipeline, &sample, NOW)
        .await
        .unwrap();
    assert_eq!(response["parsed"], 6, "{response}");
    assert!(outcome.ingest.reconciles());
    let lake = pipeline.lake();
    let rows = query(
        lake,
        "SELECT outcome, terminating_rule_id, captcha_failure_reason, source_ref FROM waf",
    )
    .await;
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r["outcome"] == "challenged"
        && r["captcha_failure_reason"] == "TOKEN_MISSING"
        && r["source_ref"]
            .as_str()
            .unwrap()
            .starts_with("aws-waf-logs-orders-api/")));

    // A rate-based block in the same kind of event: the streaming rule alerts.
    let record = r#"{"timestamp":1795511400000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/orders-api/1","terminatingRuleId":"login-rate-limit","terminatingRuleType":"RATE_BASED","action":"BLOCK","httpSourceName":"APIGW","httpSourceId":"111122223333:a1b2c3d4e5:prod","rateBasedRuleList":[{"rateBasedRuleName":"login-rate-limit","limitKey":"IP"}],"httpRequest":{"clientIp":"203.0.113.66","country":"US","headers":[],"uri":"/login","args":"","httpVersion":"HTTP/1.1","httpMethod":"POST","requestId":"w-rate-1"}}"#;
    let payload = subscription_event(
        "aws-waf-logs-orders-api",
        "us-east-1_orders-api_0",
        &[(1_795_511_400_000, record.to_string())],
    );
    Handler::IngestCloudwatch
        .handle(&pipeline, &payload, NOW)
        .await
        .unwrap();
    let sent = alerts_in(&alerts);
    assert!(
        sent.iter()
            .any(|a| a["finding"]["rule_id"] == "waf_rate_limit_triggered"),
        "{sent:?}"
    );
}

#[tokio::test]
async fn the_runtime_fixture_decodes_and_every_record_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let pipeline = settings(dir.path().join("lake").to_str().unwrap(), &alerts)
        .open_pipeline()
        .unwrap();
    let payload = std::fs::read_to_string(corpus(
        "aws-lambda-rust-runtime-fixtures/lambda-events/src/fixtures/example-cloudwatch_logs-event.json",
    ))
    .unwrap();
    let (response, outcome) = Handler::IngestCloudwatch
        .handle(&pipeline, &payload, NOW)
        .await
        .unwrap();
    assert!(outcome.ingest.records_read > 0);
    assert!(outcome.ingest.reconciles());
    let rows: i64 = outcome.ingest.rows_written.values().sum::<u64>() as i64;
    assert_eq!(
        rows,
        (outcome.ingest.parsed_total() + outcome.ingest.dead_lettered_total()) as i64
    );
    assert_eq!(response["records"], outcome.ingest.records_read);
}

#[tokio::test]
async fn a_payload_that_does_not_decode_is_dead_lettered_and_another_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let pipeline = settings(dir.path().join("lake").to_str().unwrap(), &alerts)
        .open_pipeline()
        .unwrap();
    let (response, _) = Handler::IngestCloudwatch
        .handle(
            &pipeline,
            r#"{"awslogs":{"data":"not base64 at all!"}}"#,
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(response["dead_lettered"], 1);
    let reasons = query(pipeline.lake(), "SELECT reason FROM deadletter").await;
    assert_eq!(reasons.len(), 1);
    assert!(
        reasons[0]["reason"].as_str().unwrap().contains("base64"),
        "{reasons:?}"
    );

    let err = Handler::IngestCloudwatch
        .handle(&pipeline, r#"{"Records":[]}"#, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, AwsError::Event { .. }), "{err}");
    let diagnostic: lambda_runtime::Diagnostic = err.into();
    assert_eq!(diagnostic.error_type, "Vigil.BadEvent");
}

fn sample_lake(dir: &std::path::Path) -> Lake {
    let lake = Lake::open(dir.join("lake").to_str().unwrap()).unwrap();
    let mut ingester = Ingester::new(IngestOptions::default(), lake.writer().unwrap());
    ingester.ingest_path(&repo().join("sample-logs")).unwrap();
    ingester.finish().unwrap();
    lake
}

#[tokio::test]
async fn scheduled_detection_runs_what_is_due_once_per_scheduled_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let lake = tokio::task::spawn_blocking(move || sample_lake(&d))
        .await
        .unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let pipeline = settings(lake.location(), &alerts).open_pipeline().unwrap();
    // The first run only sets the checkpoints (its windows precede the story)...
    let (_, first) = Handler::DetectScheduled
        .handle(&pipeline, r#"{"time": "2026-11-24T07:55:00Z"}"#, NOW)
        .await
        .unwrap();
    assert!(first.findings.is_empty(), "{:?}", first.findings);
    // ...the next catches up every window since (EventBridge Scheduler with
    // the template's input: the scheduled time).
    let event = r#"{"time": "2026-11-24T09:55:00Z"}"#;
    let (response, outcome) = Handler::DetectScheduled
        .handle(&pipeline, event, NOW)
        .await
        .unwrap();
    assert!(outcome.detect.evaluations > 0);
    let rules: Vec<&str> = outcome
        .findings
        .iter()
        .map(|f| f.rule_id.as_str())
        .collect();
    for expected in [
        "apigw_auth_failure_burst",
        "console_login_failures_by_ip",
        "password_spray",
        "apigw_route_traffic_spike",
        "lambda_error_spike",
    ] {
        assert!(rules.contains(&expected), "{expected} not in {rules:?}");
    }
    assert_eq!(response["alerts"], alerts_in(&alerts).len());
    assert_eq!(response["scheduled_time"], "2026-11-24T09:55:00+00:00");
    let in_table = count(&lake, "SELECT count(DISTINCT finding_id) FROM findings").await;
    assert_eq!(in_table, outcome.findings.len() as i64);

    // The same scheduled time again (a retry): nothing is due any more.
    let (again, second) = Handler::DetectScheduled
        .handle(&pipeline, event, NOW)
        .await
        .unwrap();
    assert_eq!(second.detect.evaluations, 0);
    assert_eq!(again["findings"], 0);
    assert_eq!(alerts_in(&alerts).len(), outcome.delivery.delivered());

    // The EventBridge fixture's `time` is read the same way; a bad one is refused.
    let bad = Handler::DetectScheduled
        .handle(&pipeline, r#"{"time": "yesterday"}"#, NOW)
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("yesterday"), "{bad}");
}

#[tokio::test]
async fn lake_compaction_merges_the_settled_hours_of_the_last_day_and_a_half() {
    let dir = tempfile::tempdir().unwrap();
    let lake = sample_lake(dir.path());
    let pipeline = settings(lake.location(), &dir.path().join("a.jsonl"))
        .open_pipeline()
        .unwrap();
    let files = || async { objects(&lake).await.len() };
    let before = files().await;
    // The story is on 2026-11-24 between 08:00 and 10:00: two days later it
    // is past the look-back, and nothing is touched.
    let (late, _) = Handler::CompactLake
        .handle(&pipeline, r#"{"time": "2026-11-26T12:00:00Z"}"#, NOW)
        .await
        .unwrap();
    assert_eq!(late["hours"], 0, "{late}");
    assert_eq!(files().await, before);

    let (response, outcome) = Handler::CompactLake
        .handle(&pipeline, r#"{"time": "2026-11-24T12:00:00Z"}"#, NOW)
        .await
        .unwrap();
    let (merged, written) = (
        response["files_merged"].as_u64().unwrap(),
        response["files_written"].as_u64().unwrap(),
    );
    assert!(merged > written && written > 0, "{response}");
    assert_eq!(response["skipped"], serde_json::json!([]));
    assert!(outcome.findings.is_empty());
    assert!(files().await < before);
    // A retry of the same event finds nothing more to merge.
    let (again, _) = Handler::CompactLake
        .handle(&pipeline, r#"{"time": "2026-11-24T12:00:00Z"}"#, NOW)
        .await
        .unwrap();
    assert_eq!(again["hours"], 0, "{again}");
}

#[test]
fn handlers_are_chosen_by_name() {
    for h in Handler::ALL {
        assert_eq!(h.name().parse::<Handler>().unwrap(), h);
    }
    let err = "ingest".parse::<Handler>().unwrap_err();
    assert!(err.to_string().contains("ingest-cloudwatch"), "{err}");
}
