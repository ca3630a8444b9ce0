//! The Security Hub destination: against moto's Security Hub (findings
//! imported, updated in place by Id, checked against the ASFF by botocore's
//! validator in `scripts/asff-validate.py`), and against a real HTTP server
//! standing in for Security Hub where moto falls short (it checks no ASFF
//! field and refuses nothing): batches of at most 100, required fields in
//! every finding, partial failures retried or dead-lettered one by one.

mod common;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use common::finding;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::{AlertingConfig, Dispatcher};
use vigil_detect::{Finding, FindingStatus, Severity};
use vigil_test_support::{in_checkout, moto_endpoint};

/// The venv Python with boto3, as `scripts/test.sh` sets it.
const PYTHON_ENV: &str = "VIGIL_TEST_PYTHON";
/// moto's default account.
const ACCOUNT: &str = "123456789012";

fn product_arn() -> String {
    format!("arn:aws:securityhub:us-east-1:{ACCOUNT}:product/{ACCOUNT}/default")
}

fn config(endpoint: &str, dir: &std::path::Path) -> AlertingConfig {
    let mut d = DestinationConfig::new("securityhub", DestinationKind::SecurityHub);
    d.product_arn = Some(product_arn());
    d.endpoint_url = Some(endpoint.to_string());
    d.timeout = Some(Duration::from_secs(5));
    AlertingConfig {
        max_attempts: 3,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        deadline: Duration::from_secs(20),
        dead_letter: dir.join("dead.jsonl"),
        destinations: vec![d],
        ..AlertingConfig::default()
    }
}

/// `n` findings of `rule` whose ids start with `prefix`, in account `ACCOUNT`.
fn findings(prefix: &str, n: usize, rule: &str) -> Vec<Finding> {
    (0..n)
        .map(|i| {
            let mut f = finding(i, rule, Severity::High);
            f.finding_id = format!("{prefix}{i:05}");
            f.entities.account_id = Some(ACCOUNT.into());
            f.tags = vec!["attack.persistence".into(), "attack.t1098.001".into()];
            f
        })
        .collect()
}

fn validate_in_moto(prefix: &str) -> Value {
    let python = std::env::var(PYTHON_ENV)
        .unwrap_or_else(|_| panic!("{PYTHON_ENV} is set by scripts/test.sh"));
    let out = std::process::Command::new(python)
        .arg(in_checkout("scripts/asff-validate.py"))
        .arg(moto_endpoint())
        .arg(prefix)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(out.status.success(), "{summary:#}");
    summary
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT) and boto3 (VIGIL_TEST_PYTHON): run scripts/test.sh"]
async fn findings_are_imported_and_updated_in_place_in_moto() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = format!("vigil-test-{}-", std::process::id());
    let dispatcher = Dispatcher::new(&config(&moto_endpoint(), dir.path()))
        .await
        .unwrap();
    let mut batch = findings(&prefix, 150, "iam_admin_policy_attached");
    let report = dispatcher.deliver(&batch).await.unwrap();
    assert_eq!(
        report.destinations["securityhub"].delivered, 150,
        "{report:?}"
    );
    let summary = validate_in_moto(&prefix);
    assert_eq!(summary["findings"], 150, "{summary:#}");

    // More events for the same findings: the same Ids, updated, no duplicates.
    for f in &mut batch {
        f.status = FindingStatus::Updated;
        f.event_count = 7;
        f.last_seen += 60_000;
        f.detected_at += 60_000;
    }
    let report = dispatcher.deliver(&batch).await.unwrap();
    assert_eq!(
        report.destinations["securityhub"].delivered, 150,
        "{report:?}"
    );
    assert_eq!(report.suppressed, 150);
    let summary = validate_in_moto(&prefix);
    assert_eq!(summary["findings"], 150, "{summary:#}");
    let counts = summary["event_counts"].as_object().unwrap();
    assert!(counts.values().all(|c| c == "7"), "{summary:#}");
}

/// What the stand-in Security Hub saw.
#[derive(Default)]
struct Hub {
    /// Findings per request, in order.
    batch_sizes: Vec<usize>,
    /// Attempts per finding Id.
    attempts: BTreeMap<String, usize>,
    /// Findings imported, by Id.
    imported: BTreeMap<String, Value>,
    /// Findings missing a field ASFF requires, with the field.
    missing: Vec<(String, &'static str)>,
}

/// The members `BatchImportFindings` requires of each finding.
const REQUIRED: [&str; 12] = [
    "AwsAccountId",
    "CreatedAt",
    "Description",
    "GeneratorId",
    "Id",
    "ProductArn",
    "Resources",
    "SchemaVersion",
    "Title",
    "Types",
    "UpdatedAt",
    "Severity",
];

/// `BatchImportFindings`: findings of rule `throttled` fail once with a
/// retryable error, findings of rule `refused` always as invalid input.
async fn import(
    State(hub): State<Arc<Mutex<Hub>>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let mut hub = hub.lock().unwrap();
    let findings = body["Findings"].as_array().cloned().unwrap_or_default();
    hub.batch_sizes.push(findings.len());
    let mut failed = Vec::new();
    for f in findings {
        let id = f["Id"].as_str().unwrap_or_default().to_string();
        for field in REQUIRED {
            if f.get(field).is_none_or(Value::is_null) {
                hub.missing.push((id.clone(), field));
            }
        }
        let attempt = {
            let n = hub.attempts.entry(id.clone()).or_default();
            *n += 1;
            *n
        };
        let rule = f["ProductFields"]["vigil/rule_id"]
            .as_str()
            .unwrap_or_default();
        match (rule, attempt) {
            ("throttled", 1) => failed.push(json!({"Id": id, "ErrorCode": "LimitExceededException", "ErrorMessage": "slow down"})),
            ("refused", _) => failed.push(json!({"Id": id, "ErrorCode": "InvalidInput", "ErrorMessage": "no"})),
            _ => {
                hub.imported.insert(id, f);
            }
        }
    }
    let success = hub.batch_sizes.last().copied().unwrap_or(0) - failed.len();
    let answer =
        json!({"FailedCount": failed.len(), "SuccessCount": success, "FailedFindings": failed});
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

#[tokio::test]
async fn batches_required_fields_and_partial_failures_against_a_stand_in() {
    // The SDK signs its requests: any credentials do for the stand-in.
    std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    let hub = Arc::new(Mutex::new(Hub::default()));
    let app = Router::new()
        .route("/findings/import", post(import))
        .with_state(hub.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let dispatcher = Dispatcher::new(&config(&url, dir.path())).await.unwrap();
    let mut all = findings("ok-", 230, "iam_admin_policy_attached");
    all.extend(findings("throttled-", 5, "throttled"));
    all.extend(findings("refused-", 3, "refused"));
    let report = dispatcher.deliver(&all).await.unwrap();

    let counts = &report.destinations["securityhub"];
    assert!(report.reconciles(), "{report:?}");
    assert_eq!(counts.routed, 238);
    assert_eq!(counts.delivered, 235, "{report:?}");
    assert_eq!(counts.dead_lettered, 3, "{report:?}");
    let dead = dispatcher.dead_letter().read().await.unwrap();
    let mut dead_ids: Vec<_> = dead.iter().map(|d| d.finding.finding_id.clone()).collect();
    dead_ids.sort();
    assert_eq!(
        dead_ids,
        ["refused-00000", "refused-00001", "refused-00002"]
    );
    assert!(
        dead.iter().all(|d| d.error.contains("InvalidInput")),
        "{dead:?}"
    );

    let hub = hub.lock().unwrap();
    assert!(hub.missing.is_empty(), "{:?}", hub.missing);
    assert!(
        hub.batch_sizes.iter().all(|&n| (1..=100).contains(&n)),
        "{:?}",
        hub.batch_sizes
    );
    // 238 findings in three first batches, then the 5 throttled ones again
    // (the refused ones are not retried: invalid input will not change).
    assert_eq!(
        hub.batch_sizes[..3].iter().sum::<usize>(),
        238,
        "{:?}",
        hub.batch_sizes
    );
    assert_eq!(hub.imported.len(), 235);
    assert!(
        hub.attempts
            .iter()
            .all(|(id, &n)| match id.split('-').next() {
                Some("ok") => n == 1,
                Some("throttled") => n == 2,
                _ => n == 1,
            }),
        "{:?}",
        hub.attempts
    );
    let f = &hub.imported["ok-00001"];
    assert_eq!(f["SchemaVersion"], "2018-10-08");
    assert_eq!(f["ProductArn"], product_arn());
    assert_eq!(f["Severity"]["Label"], "HIGH");
    assert_eq!(f["Resources"][0]["Type"], "Other");
    assert_eq!(f["Network"]["SourceIpV4"], "203.0.113.66");
    let types: Vec<&str> = f["Types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "TTPs/Persistence",
            "TTPs/Persistence/T1098.001 - Additional Cloud Credentials"
        ]
    );
}
