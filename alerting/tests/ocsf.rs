//! Findings as OCSF Detection Findings: every finding the sample story
//! raises valid against the OCSF 1.1.0 schema (the oracle:
//! `scripts/ocsf-validate.py`), and `format = "ocsf"` on a signed webhook
//! and a file, through a real HTTP server.

mod common;

use common::{finding, start};
use std::time::Duration;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::ocsf::detection_finding;
use vigil_alerting::{AlertingConfig, Dispatcher};
use vigil_detect::testing::detect_in_memory;
use vigil_detect::{RuleSet, Severity, Tables};
use vigil_ingest::{IngestOptions, Ingester, MemorySink};
use vigil_test_support::{in_checkout, sample_logs};

/// The venv Python with ocsf-json-schema and jsonschema, as `scripts/test.sh` sets it.
const PYTHON_ENV: &str = "VIGIL_TEST_PYTHON";

async fn story_findings() -> Vec<vigil_detect::Finding> {
    let sink = MemorySink::default();
    let mut ingester =
        Ingester::new(IngestOptions::default(), sink.clone()).with_ingest_time(1_764_000_000_000);
    ingester.ingest_path(&sample_logs("")).unwrap();
    assert!(ingester.finish().unwrap().reconciles());
    let tables = Tables::from_batches(sink.batches()).unwrap();
    detect_in_memory(RuleSet::builtin().unwrap(), &tables)
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs ocsf-json-schema in a venv (VIGIL_TEST_PYTHON): run scripts/test.sh"]
async fn every_story_finding_is_a_valid_detection_finding() {
    let python = std::env::var(PYTHON_ENV)
        .unwrap_or_else(|_| panic!("{PYTHON_ENV} is set by scripts/test.sh"));
    let findings = story_findings().await;
    assert!(findings.len() > 20, "{} findings", findings.len());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("findings.ndjson");
    let mut lines = String::new();
    for f in &findings {
        lines.push_str(&serde_json::to_string(&detection_finding(f)).unwrap());
        lines.push('\n');
    }
    std::fs::write(&path, lines).unwrap();
    let result = std::process::Command::new(python)
        .arg(in_checkout("scripts/ocsf-validate.py"))
        .arg(&path)
        .output()
        .unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&result.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&result.stderr)));
    assert!(result.status.success(), "{summary:#}");
    assert_eq!(summary["per_class"]["2004"], findings.len());
}

#[tokio::test]
async fn a_detection_finding_carries_the_rule_attack_and_evidence() {
    let findings = story_findings().await;
    // The story's admin grant: persistence / privilege escalation, T1098.
    let f = findings
        .iter()
        .find(|f| f.tags.iter().any(|t| t == "attack.t1098"))
        .expect("a finding tagged T1098");
    let event = detection_finding(f);
    assert_eq!(event["class_uid"], 2004);
    assert_eq!(event["type_uid"], 200401);
    assert_eq!(event["finding_info"]["uid"], f.finding_id.as_str());
    assert_eq!(event["finding_info"]["analytic"]["uid"], f.rule_id.as_str());
    assert_eq!(event["finding_info"]["first_seen_time"], f.first_seen);
    let attacks = event["finding_info"]["attacks"].as_array().unwrap();
    let t1098 = attacks
        .iter()
        .find(|a| a["technique"]["uid"] == "T1098")
        .expect("T1098 in attacks");
    assert_eq!(t1098["technique"]["name"], "Account Manipulation");
    assert!(t1098["tactic"]["name"].is_string());
    // Evidence: the redacted samples, parsed.
    let evidences = event["evidences"].as_array().unwrap();
    assert_eq!(evidences.len(), f.samples.len());
    assert!(evidences[0]["data"].is_object());
    assert_eq!(event["count"], f.event_count);
    // Severity as OCSF numbers it.
    let expected = match f.severity {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    };
    assert_eq!(event["severity_id"], expected);
}

#[tokio::test]
async fn ocsf_destinations_send_detection_findings_signed() {
    const SECRET: &str = "ocsf-webhook-secret";
    std::env::set_var("VIGIL_TEST_OCSF_SECRET", SECRET);
    let receiver = start(SECRET, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut hook = DestinationConfig::new("soc-ocsf", DestinationKind::Webhook);
    hook.url = Some(receiver.url());
    hook.secret_env = Some("VIGIL_TEST_OCSF_SECRET".into());
    hook.format = Some("ocsf".into());
    hook.timeout = Some(Duration::from_secs(2));
    let mut file = DestinationConfig::new("ocsf-file", DestinationKind::File);
    file.path = Some(dir.path().join("ocsf.jsonl"));
    file.format = Some("ocsf".into());
    let config = AlertingConfig {
        dead_letter: dir.path().join("dead.jsonl"),
        destinations: vec![hook, file],
        ..AlertingConfig::default()
    };
    config.validate(std::path::Path::new("vigil.toml")).unwrap();
    let dispatcher = Dispatcher::new(&config).await.unwrap();
    let findings: Vec<_> = (0..3).map(|i| finding(i, "ok", Severity::High)).collect();
    let report = dispatcher.deliver(&findings).await.unwrap();
    assert!(report.reconciles(), "{report:?}");
    assert_eq!(report.destinations["soc-ocsf"].delivered, 3);
    {
        let received = receiver.received.lock().unwrap();
        assert_eq!(received.bad_signatures, 0);
        assert_eq!(received.bodies.len(), 3);
        for (body, f) in received.bodies.iter().zip(&findings) {
            assert_eq!(body["class_uid"], 2004);
            assert_eq!(body["finding_info"]["uid"], f.finding_id.as_str());
            assert!(body.get("schema").is_none());
        }
    }
    let lines = std::fs::read_to_string(dir.path().join("ocsf.jsonl")).unwrap();
    let events: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e["class_name"] == "Detection Finding"));
}

#[test]
fn formats_are_refused_where_a_destination_does_not_take_them() {
    let mut slack = DestinationConfig::new("chat", DestinationKind::Slack);
    slack.url_env = Some("SLACK_URL".into());
    slack.format = Some("ocsf".into());
    let mut file = DestinationConfig::new("f", DestinationKind::File);
    file.path = Some("x.jsonl".into());
    file.format = Some("xml".into());
    for d in [slack, file] {
        let config = AlertingConfig {
            destinations: vec![d],
            ..AlertingConfig::default()
        };
        let err = config
            .validate(std::path::Path::new("vigil.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not take format"), "{err}");
    }
}
