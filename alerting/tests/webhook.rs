//! Signed webhooks against a real HTTP server with faults injected: nothing
//! lost, nothing delivered twice once acknowledged, retries bounded.

mod common;

use common::{finding, start, Fault};
use std::time::Duration;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::{AlertingConfig, Dispatcher};
use vigil_detect::{FindingStatus, Severity};

const SECRET: &str = "webhook-test-secret";

fn config(url: &str, dead_letter: &std::path::Path) -> AlertingConfig {
    std::env::set_var("VIGIL_TEST_WEBHOOK_SECRET", SECRET);
    let mut d = DestinationConfig::new("soc-webhook", DestinationKind::Webhook);
    d.url = Some(url.to_string());
    d.secret_env = Some("VIGIL_TEST_WEBHOOK_SECRET".into());
    d.timeout = Some(Duration::from_millis(500));
    AlertingConfig {
        max_concurrency: 4,
        max_attempts: 4,
        base_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        deadline: Duration::from_secs(5),
        dead_letter: dead_letter.to_path_buf(),
        destinations: vec![d],
        ..AlertingConfig::default()
    }
}

#[tokio::test]
async fn faults_are_retried_and_nothing_is_lost_or_processed_twice() {
    let receiver = start(
        SECRET,
        &[
            ("r500", Fault::ServerError(2)),
            ("r429", Fault::TooMany),
            ("rslow", Fault::Slow(Duration::from_secs(2))),
            ("rclose", Fault::CloseMidResponse),
            ("r400", Fault::BadRequest),
            ("rdown", Fault::AlwaysFailing),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dead_letter = dir.path().join("dead.jsonl");
    let dispatcher = Dispatcher::new(&config(&receiver.url(), &dead_letter))
        .await
        .unwrap();
    let rules = ["ok", "r500", "r429", "rslow", "rclose", "r400", "rdown"];
    let findings: Vec<_> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| finding(i, r, Severity::High))
        .collect();
    let report = dispatcher.deliver(&findings).await.unwrap();

    // Accounting: every finding ends delivered or dead-lettered.
    let counts = &report.destinations["soc-webhook"];
    assert_eq!(counts.routed, findings.len());
    assert!(report.reconciles(), "{report:?}");
    assert_eq!(counts.delivered, 5, "{report:?}");
    assert_eq!(counts.dead_lettered, 2, "{report:?}");

    {
        let received = receiver.received.lock().unwrap();
        assert_eq!(received.bad_signatures, 0);
        // Delivered means processed by the receiver, once each.
        let processed: Vec<_> = received.processed.iter().cloned().collect();
        let expected: Vec<String> = [0, 1, 2, 3, 4]
            .iter()
            .map(|&i| findings[i].finding_id.clone())
            .collect();
        assert_eq!(processed, expected);
        assert_eq!(received.bodies.len(), 5);
        assert_eq!(received.bodies[0]["schema"], "vigil.finding/v1");
    }
    // A first attempt that succeeded is never repeated.
    assert_eq!(receiver.attempts_for(&findings[0].finding_id), 1);
    // Two 500s, then success: three attempts.
    assert_eq!(receiver.attempts_for(&findings[1].finding_id), 3);
    assert_eq!(receiver.attempts_for(&findings[2].finding_id), 2);
    assert_eq!(receiver.attempts_for(&findings[3].finding_id), 2);
    assert_eq!(receiver.attempts_for(&findings[4].finding_id), 2);
    // 400 is permanent: one attempt. Persistent 500s: bounded by max_attempts.
    assert_eq!(receiver.attempts_for(&findings[5].finding_id), 1);
    assert_eq!(receiver.attempts_for(&findings[6].finding_id), 4);

    // 429 honoured Retry-After: 1.
    let times: Vec<_> = receiver
        .received
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|(id, _)| *id == findings[2].finding_id)
        .map(|(_, t)| *t)
        .collect();
    assert!(
        times[1] - times[0] >= Duration::from_secs(1),
        "{:?}",
        times[1] - times[0]
    );

    // The two failures are in the dead-letter with their errors.
    let dead = dispatcher.dead_letter().read().await.unwrap();
    assert_eq!(dead.len(), 2);
    let by_rule = |r: &str| {
        dead.iter()
            .find(|d| d.finding.rule_id == r)
            .unwrap()
            .clone()
    };
    assert!(
        by_rule("r400").error.contains("400"),
        "{:?}",
        by_rule("r400")
    );
    assert_eq!(by_rule("r400").attempts, 1);
    assert!(by_rule("rdown").error.contains("gave up after 4 attempts"));

    // The receiver is fixed: redrive delivers both and empties the dead-letter.
    receiver.heal();
    let redriven = dispatcher.redrive().await.unwrap();
    assert_eq!(redriven.delivered(), 2, "{redriven:?}");
    assert!(dispatcher.dead_letter().read().await.unwrap().is_empty());
    assert_eq!(receiver.received.lock().unwrap().processed.len(), 7);
}

#[tokio::test]
async fn connection_refused_is_dead_lettered_within_the_deadline() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(
        &format!("http://127.0.0.1:{port}/hook"),
        &dir.path().join("dead.jsonl"),
    );
    // Backoff would need far longer than the deadline: the deadline stops it.
    cfg.max_attempts = 50;
    cfg.base_backoff = Duration::from_millis(300);
    cfg.max_backoff = Duration::from_secs(1);
    cfg.deadline = Duration::from_secs(2);
    let dispatcher = Dispatcher::new(&cfg).await.unwrap();
    let report = dispatcher
        .deliver(&[finding(1, "x", Severity::High)])
        .await
        .unwrap();
    let counts = &report.destinations["soc-webhook"];
    assert_eq!((counts.delivered, counts.dead_lettered), (0, 1));
    assert!(
        counts.attempts < 50,
        "attempts are bounded by the deadline: {}",
        counts.attempts
    );
    let dead = dispatcher.dead_letter().read().await.unwrap();
    assert!(
        dead[0].error.contains("connection refused") && dead[0].error.contains("deadline"),
        "{}",
        dead[0].error
    );
}

#[tokio::test]
async fn routing_and_suppressed_updates() {
    let receiver = start(SECRET, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&receiver.url(), &dir.path().join("dead.jsonl"));
    cfg.destinations[0].min_severity = Some(Severity::Medium);
    cfg.destinations[0].exclude_rules = vec!["noisy".into()];
    let dispatcher = Dispatcher::new(&cfg).await.unwrap();
    let mut updated = finding(3, "rule", Severity::High);
    updated.status = FindingStatus::Updated;
    let findings = vec![
        finding(0, "rule", Severity::High),
        finding(1, "rule", Severity::Low),
        finding(2, "noisy", Severity::Critical),
        updated,
    ];
    let report = dispatcher.deliver(&findings).await.unwrap();
    assert_eq!(report.suppressed, 1);
    assert_eq!(report.destinations["soc-webhook"].routed, 1);
    let processed: Vec<_> = receiver
        .received
        .lock()
        .unwrap()
        .processed
        .iter()
        .cloned()
        .collect();
    assert_eq!(processed, vec![findings[0].finding_id.clone()]);
}

#[tokio::test]
async fn a_wrong_secret_is_a_permanent_failure_and_plain_http_elsewhere_is_refused() {
    let receiver = start("another-secret", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let dispatcher = Dispatcher::new(&config(&receiver.url(), &dir.path().join("dead.jsonl")))
        .await
        .unwrap();
    let report = dispatcher
        .deliver(&[finding(0, "r", Severity::High)])
        .await
        .unwrap();
    assert_eq!(report.dead_lettered(), 1);
    assert_eq!(receiver.received.lock().unwrap().bad_signatures, 1);

    let err = Dispatcher::new(&config(
        "http://hooks.example.com/x",
        &dir.path().join("d.jsonl"),
    ))
    .await
    .unwrap_err();
    assert!(err.to_string().contains("plain HTTP is refused"), "{err}");
}

#[tokio::test]
async fn slack_gets_a_block_kit_message_from_a_secret_url() {
    let receiver = start(SECRET, &[]).await;
    std::env::set_var(
        "VIGIL_TEST_SLACK_URL",
        format!("http://{}/slack", receiver.addr),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut d = DestinationConfig::new("slack", DestinationKind::Slack);
    d.url_env = Some("VIGIL_TEST_SLACK_URL".into());
    let cfg = AlertingConfig {
        dead_letter: dir.path().join("dead.jsonl"),
        destinations: vec![d],
        ..AlertingConfig::default()
    };
    let dispatcher = Dispatcher::new(&cfg).await.unwrap();
    assert!(
        !format!("{dispatcher:?}").contains("/slack"),
        "the Slack URL is a secret"
    );
    let f = finding(0, "s3_bucket_policy_changed", Severity::High);
    let report = dispatcher.deliver(std::slice::from_ref(&f)).await.unwrap();
    assert_eq!(report.delivered(), 1);
    let body = receiver.received.lock().unwrap().bodies[0].clone();
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(blocks[0]["text"]["text"]
        .as_str()
        .unwrap()
        .starts_with("[HIGH] "));
    let text = body.to_string();
    for needle in [
        "s3_bucket_policy_changed",
        "203.0.113.66",
        "acme-invoices",
        "vigil hunt run ip_activity --param ip='203.0.113.66'",
        &f.finding_id,
    ] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
}
