//! SNS and Secrets Manager against moto's server on 127.0.0.1 (started by scripts/test.sh).

mod common;

use common::{finding, start};
use std::time::Duration;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::{AlertingConfig, Dispatcher};
use vigil_detect::Severity;
use vigil_test_support::{moto_endpoint, moto_sdk_config as sdk_config, TopicQueue};

fn alerting(destination: DestinationConfig, dir: &std::path::Path) -> AlertingConfig {
    AlertingConfig {
        max_attempts: 2,
        base_backoff: Duration::from_millis(20),
        deadline: Duration::from_secs(10),
        dead_letter: dir.join("dead.jsonl"),
        destinations: vec![destination],
        ..AlertingConfig::default()
    }
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn sns_publishes_findings_with_attributes_to_a_subscribed_queue() {
    let config = sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = format!("vigil-findings-{}", std::process::id());
    let TopicQueue {
        topic_arn: topic,
        queue_url,
    } = TopicQueue::create(&config, &name).await;

    let dir = tempfile::tempdir().unwrap();
    let mut d = DestinationConfig::new("sns", DestinationKind::Sns);
    d.topic_arn = Some(topic.clone());
    d.endpoint_url = Some(moto_endpoint());
    let dispatcher = Dispatcher::new(&alerting(d, dir.path())).await.unwrap();
    let findings: Vec<_> = (0..3)
        .map(|i| finding(i, "s3_bucket_policy_changed", Severity::High))
        .collect();
    let report = dispatcher.deliver(&findings).await.unwrap();
    assert_eq!(
        report.delivered(),
        3,
        "{report:?} {:?}",
        dispatcher.dead_letter().read().await
    );

    let mut bodies = Vec::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap();
        bodies.extend(out.messages.unwrap_or_default());
        if bodies.len() >= 3 {
            break;
        }
    }
    assert_eq!(bodies.len(), 3);
    for m in &bodies {
        let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
        assert_eq!(body["schema"], "vigil.finding/v1");
        let id = body["finding"]["finding_id"].as_str().unwrap();
        let attrs = m.message_attributes().unwrap();
        assert_eq!(attrs["finding_id"].string_value(), Some(id));
        assert_eq!(attrs["severity"].string_value(), Some("high"));
        assert_eq!(
            attrs["rule_id"].string_value(),
            Some("s3_bucket_policy_changed")
        );
    }
    let mut ids: Vec<String> = bodies
        .iter()
        .map(|m| {
            serde_json::from_str::<serde_json::Value>(m.body().unwrap()).unwrap()["finding"]
                ["finding_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        findings
            .iter()
            .map(|f| f.finding_id.clone())
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn fifo_topics_get_group_and_deduplication_ids() {
    let config = sdk_config().await;
    let sns = aws_sdk_sns::Client::new(&config);
    let topic = sns
        .create_topic()
        .name(format!("vigil-{}.fifo", std::process::id()))
        .attributes("FifoTopic", "true")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut d = DestinationConfig::new("sns-fifo", DestinationKind::Sns);
    d.topic_arn = Some(topic);
    d.endpoint_url = Some(moto_endpoint());
    let dispatcher = Dispatcher::new(&alerting(d, dir.path())).await.unwrap();
    // A FIFO topic refuses a publish without MessageGroupId: delivery proves it is set.
    let report = dispatcher
        .deliver(&[finding(9, "root_account_usage", Severity::High)])
        .await
        .unwrap();
    assert_eq!(
        report.delivered(),
        1,
        "{:?}",
        dispatcher.dead_letter().read().await
    );
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn a_webhook_secret_from_secrets_manager_signs_the_request() {
    let config = sdk_config().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("vigil/webhook-{}", std::process::id());
    secrets
        .create_secret()
        .name(&name)
        .secret_string("from-secrets-manager")
        .send()
        .await
        .unwrap();
    let receiver = start("from-secrets-manager", &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut d = DestinationConfig::new("hook", DestinationKind::Webhook);
    d.url = Some(receiver.url());
    d.secret_id = Some(name);
    d.endpoint_url = Some(moto_endpoint());
    let dispatcher = Dispatcher::new(&alerting(d, dir.path())).await.unwrap();
    // The secret never shows in the destination's debug output.
    assert!(!format!("{dispatcher:?}").contains("from-secrets-manager"));
    let report = dispatcher
        .deliver(&[finding(1, "r", Severity::High)])
        .await
        .unwrap();
    assert_eq!(report.delivered(), 1);
    assert_eq!(receiver.received.lock().unwrap().bad_signatures, 0);
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn failed_deliveries_can_wait_in_an_sqs_queue_and_be_redriven() {
    let config = sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("vigil-dead-{}", std::process::id()))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let receiver = start("sqs-secret", &[("flaky", common::Fault::AlwaysFailing)]).await;
    std::env::set_var("VIGIL_TEST_SQS_SECRET", "sqs-secret");
    let dir = tempfile::tempdir().unwrap();
    let mut d = DestinationConfig::new("hook", DestinationKind::Webhook);
    d.url = Some(receiver.url());
    d.secret_env = Some("VIGIL_TEST_SQS_SECRET".into());
    let mut cfg = alerting(d, dir.path());
    cfg.dead_letter_queue_url = Some(queue_url.clone());
    cfg.dead_letter_endpoint_url = Some(moto_endpoint());
    let dispatcher = Dispatcher::new(&cfg).await.unwrap();
    let findings: Vec<_> = (0..3)
        .map(|i| finding(i, "flaky", Severity::High))
        .collect();
    let report = dispatcher.deliver(&findings).await.unwrap();
    assert_eq!(report.dead_lettered(), 3);
    assert!(
        !dir.path().join("dead.jsonl").exists(),
        "the queue replaces the file"
    );
    assert_eq!(dispatcher.dead_letter().read().await.unwrap().len(), 3);

    // Still failing: redrive keeps all three in the queue.
    let again = dispatcher.redrive().await.unwrap();
    assert_eq!(again.dead_lettered(), 3);
    assert_eq!(dispatcher.dead_letter().read().await.unwrap().len(), 3);
    // Healed: redrive delivers them and empties the queue.
    receiver.heal();
    let healed = dispatcher.redrive().await.unwrap();
    assert_eq!(healed.delivered(), 3, "{healed:?}");
    assert!(dispatcher.dead_letter().read().await.unwrap().is_empty());
    assert_eq!(receiver.received.lock().unwrap().processed.len(), 3);
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn sns_with_format_ocsf_publishes_detection_findings() {
    let config = sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = format!("vigil-ocsf-{}", std::process::id());
    let TopicQueue {
        topic_arn: topic,
        queue_url,
    } = TopicQueue::create(&config, &name).await;
    let dir = tempfile::tempdir().unwrap();
    let mut d = DestinationConfig::new("sns-ocsf", DestinationKind::Sns);
    d.topic_arn = Some(topic);
    d.endpoint_url = Some(moto_endpoint());
    d.format = Some("ocsf".into());
    let dispatcher = Dispatcher::new(&alerting(d, dir.path())).await.unwrap();
    let findings: Vec<_> = (0..2)
        .map(|i| finding(i, "s3_bucket_policy_changed", Severity::High))
        .collect();
    let report = dispatcher.deliver(&findings).await.unwrap();
    assert_eq!(report.delivered(), 2, "{report:?}");
    let mut ids = Vec::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in out.messages.unwrap_or_default() {
            let body: serde_json::Value = serde_json::from_str(m.body().unwrap()).unwrap();
            assert_eq!(body["class_uid"], 2004, "{body}");
            ids.push(body["finding_info"]["uid"].as_str().unwrap().to_string());
        }
        if ids.len() >= 2 {
            break;
        }
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            findings[0].finding_id.clone(),
            findings[1].finding_id.clone()
        ]
    );
}
