//! The pipeline's runs over a local lake with the sample logs: inputs that
//! cannot be read, the outbox of findings a stopped run left, and the grace
//! overlapping runs give each other.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::AlertingConfig;
use vigil_detect::{DetectReport, FindingStatus, Mode, RuleSet};
use vigil_ingest::Lake;
use vigil_pipeline::{IngestRun, Pipeline, PipelineConfig, PipelineInput, RunReport};

/// After the sample logs' last event (2026-11-24T09:53:20Z).
const NOW: i64 = 1_795_514_000_000;
const DAY: i64 = 86_400_000;

/// A pipeline with the built-in rules over `lake`, alerting to a JSON Lines file.
fn pipeline(lake: &Path, alerts: &Path, send_alerts: bool, outbox_grace: Duration) -> Pipeline {
    Pipeline::new(config(lake, alerts, send_alerts, outbox_grace))
}

fn config(lake: &Path, alerts: &Path, send_alerts: bool, outbox_grace: Duration) -> PipelineConfig {
    let mut file = DestinationConfig::new("file", DestinationKind::File);
    file.path = Some(alerts.to_path_buf());
    PipelineConfig {
        lake: Lake::open(lake.to_str().unwrap()).unwrap(),
        rules: RuleSet::builtin().unwrap(),
        alerting: AlertingConfig {
            destinations: vec![file],
            dead_letter: alerts.with_extension("deadletter.jsonl"),
            ..AlertingConfig::default()
        },
        send_alerts,
        outbox_grace,
        on_settled: None,
    }
}

/// The sample logs through `pipeline`, streaming rules only.
async fn ingest_samples(pipeline: &Pipeline) -> RunReport {
    let inputs = vec![PipelineInput::Path(samples())];
    pipeline
        .ingest(inputs, IngestRun::default(), NOW)
        .await
        .unwrap()
}

fn samples() -> PathBuf {
    vigil_test_support::sample_logs("")
}

fn alerted(alerts: &Path) -> usize {
    std::fs::read_to_string(alerts)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

fn ran_scheduled_rules(pipeline: &Pipeline, report: &DetectReport) -> bool {
    let rules = pipeline.detector().rules();
    let scheduled: Vec<&str> = rules
        .iter()
        .filter(|r| matches!(r.mode, Mode::Scheduled(_)))
        .map(|r| r.id.as_str())
        .collect();
    assert!(!scheduled.is_empty());
    report
        .rule_time
        .keys()
        .any(|id| scheduled.contains(&id.as_str()))
}

fn outbox_groups(lake: &Path) -> usize {
    std::fs::read_dir(lake.join("_state/outbox"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_input_that_cannot_be_read_is_listed_and_the_others_go_through() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, alerts) = (dir.path().join("lake"), dir.path().join("alerts.jsonl"));
    let pipeline = pipeline(&lake, &alerts, true, Duration::ZERO);
    let inputs = vec![
        PipelineInput::Path(dir.path().join("no-such-file.json")),
        PipelineInput::Path(samples()),
    ];
    let run = IngestRun {
        scheduled_over_span: true,
        ..IngestRun::default()
    };
    let report = pipeline.ingest(inputs, run, NOW).await.unwrap();

    assert_eq!(report.failed_inputs.len(), 1, "{:?}", report.failed_inputs);
    let failed = &report.failed_inputs[0];
    assert_eq!(failed.index, 0);
    assert!(failed.name.ends_with("no-such-file.json"), "{failed:?}");
    assert!(
        failed.error.contains("cannot read") && failed.error.contains("No such file"),
        "{failed:?}"
    );
    assert!(report.ingest.reconciles());
    assert!(report.ingest.parsed_total() > 0);
    assert!(!report.findings.is_empty());
    // The scheduled rules ran over the span ingested, beside the streaming ones.
    assert!(ran_scheduled_rules(&pipeline, &report.detect));
    let new = report
        .findings
        .iter()
        .filter(|f| f.status == FindingStatus::New)
        .count();
    assert_eq!(alerted(&alerts), new);
    assert_eq!(report.delivery.delivered(), new);
    assert_eq!(
        outbox_groups(&lake),
        0,
        "delivered findings leave the outbox"
    );
}

#[tokio::test]
async fn findings_a_stopped_run_left_are_delivered_by_the_next_run_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, alerts) = (dir.path().join("lake"), dir.path().join("alerts.jsonl"));
    // A run that settled its findings and stopped before alerting: what the
    // outbox holds then.
    let stopped = pipeline(&lake, &alerts, true, Duration::ZERO);
    let detector = stopped.detector().clone();
    let mut report = DetectReport::default();
    let mut ingester =
        vigil_ingest::Ingester::new(Default::default(), stopped.lake().writer().unwrap());
    ingester.ingest_path(&samples()).unwrap();
    ingester.finish().unwrap();
    let span = vigil_queries::TimeRange::new(NOW - 2 * DAY, NOW);
    let candidates = detector
        .over_range(
            span,
            vigil_detect::engine::Source::Lake,
            vigil_detect::engine::ModeFilter::All,
            &mut report,
        )
        .await
        .unwrap();
    let settled = detector.settle(candidates, NOW, &mut report).await.unwrap();
    assert!(!settled.is_empty());
    assert_eq!(outbox_groups(&lake), 1);
    assert_eq!(alerted(&alerts), 0);

    // A Lambda-like run (runs overlap) leaves a young group to its run...
    let overlapping = pipeline(&lake, &alerts, true, Duration::from_secs(16 * 60));
    let report = overlapping.detect_due(NOW).await.unwrap();
    assert_eq!(report.delivery.delivered(), 0);
    assert_eq!(outbox_groups(&lake), 1);

    // ...a command-line run (one at a time) delivers it, once.
    let next = pipeline(&lake, &alerts, true, Duration::ZERO);
    let report = next.detect_due(NOW).await.unwrap();
    let new = settled
        .iter()
        .filter(|f| f.status == FindingStatus::New)
        .count();
    assert!(new > 0);
    assert_eq!(report.delivery.delivered(), new);
    assert_eq!(alerted(&alerts), new);
    assert_eq!(outbox_groups(&lake), 0);
    next.detect_due(NOW).await.unwrap();
    assert_eq!(alerted(&alerts), new, "delivered once");
}

#[tokio::test]
async fn without_alerts_findings_are_recorded_and_nothing_waits_to_be_sent() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, alerts) = (dir.path().join("lake"), dir.path().join("alerts.jsonl"));
    let pipeline = pipeline(&lake, &alerts, false, Duration::ZERO);
    let report = ingest_samples(&pipeline).await;
    assert!(!report.findings.is_empty());
    assert!(!ran_scheduled_rules(&pipeline, &report.detect));
    assert_eq!(report.delivery.delivered(), 0);
    assert_eq!(alerted(&alerts), 0);
    assert_eq!(outbox_groups(&lake), 0);
}

#[tokio::test]
async fn a_run_shows_its_settled_findings_before_it_alerts_them() {
    let dir = tempfile::tempdir().unwrap();
    let (lake, alerts) = (dir.path().join("lake"), dir.path().join("alerts.jsonl"));
    // What the hook saw: the findings settled, and the alerts sent by then.
    let seen = Arc::new(Mutex::new(None));
    let (hook_seen, hook_alerts) = (seen.clone(), alerts.clone());
    let mut config = config(&lake, &alerts, true, Duration::ZERO);
    config.on_settled = Some(Box::new(move |report| {
        *hook_seen.lock().unwrap() = Some((report.findings.len(), alerted(&hook_alerts)));
    }));
    let report = ingest_samples(&Pipeline::new(config)).await;
    assert!(!report.findings.is_empty());
    assert_eq!(*seen.lock().unwrap(), Some((report.findings.len(), 0)));
    assert!(alerted(&alerts) > 0);
}
