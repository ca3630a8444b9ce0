//! The engine over a real Parquet lake: checkpoints, catch-up, sliding windows,
//! duplicate deliveries, suppression, the findings table and partition pruning.

use datafusion::prelude::SessionContext;
use std::path::Path;
use vigil_detect::engine::{ModeFilter, Source};
use vigil_detect::reads::Job;
use vigil_detect::{DetectReport, Detector, FindingStatus, Rule, RuleSet};
use vigil_ingest::{Family, IngestOptions, Ingester, Lake, SourceId};
use vigil_queries::TimeRange;
use vigil_test_support::{create_moto_bucket, in_checkout};

const MIN: i64 = 60_000;
/// 2026-11-24T09:00:00Z
const T0: i64 = 1_795_510_800_000;

fn lake() -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    (dir, lake)
}

fn write(lake: &Lake, family: Family, name: &str, records: &[String]) {
    let options = IngestOptions {
        format: Some(family),
        ..IngestOptions::default()
    };
    let mut ingester = Ingester::new(options, lake.writer().unwrap());
    ingester
        .ingest_bytes(records.join("\n").as_bytes(), SourceId::new(name, name))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert_eq!(report.dead_lettered_total(), 0);
}

fn unauthorized(ip: &str, at_ms: i64, id: &str) -> String {
    format!(
        r#"{{"requestId":"{id}","ip":"{ip}","requestTimeEpoch":{at_ms},"httpMethod":"POST","resourcePath":"/login","path":"/prod/login?user=bob&password=hunter2","status":"401","apiId":"api1","stage":"prod"}}"#
    )
}

fn rules(ids: &[&str]) -> RuleSet {
    let mut set = RuleSet::builtin().unwrap();
    set.select(&ids.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .unwrap();
    set
}

/// 25 failures from 09:08:00 to 09:11:36: they straddle the 09:10 boundary.
fn straddling_burst() -> Vec<String> {
    (0..25)
        .map(|i| unauthorized("203.0.113.66", T0 + 8 * MIN + i * 9_000, &format!("r{i}")))
        .collect()
}

#[tokio::test]
async fn a_burst_straddling_two_runs_fires_once_and_checkpoints_resume() {
    let (_dir, lake) = lake();
    write(&lake, Family::ApiGateway, "burst", &straddling_burst());
    let detector = Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone());
    let mut all = Vec::new();
    // The scheduler runs every 5 minutes (the rule's lag is 2 minutes).
    for minute in [12, 17, 22, 27] {
        let mut report = DetectReport::default();
        let found = detector.due(T0 + minute * MIN, &mut report).await.unwrap();
        assert_eq!(report.windows_skipped, 0);
        all.extend(found);
    }
    let new: Vec<_> = all
        .iter()
        .filter(|f| f.status == FindingStatus::New)
        .collect();
    assert_eq!(new.len(), 1, "{all:#?}");
    assert_eq!(new[0].event_count, 25);
    assert_eq!(new[0].entities.src_ip.as_deref(), Some("203.0.113.66"));
    // The window ending 09:10 saw only part of the burst: the finding came from a later, overlapping window.
    assert!(new[0].window_start < T0 + 10 * MIN && new[0].window_end > T0 + 11 * MIN);
    // Samples (read by event id after the rule ran) keep the request but not
    // the password in its query string.
    assert_eq!(new[0].samples.len(), 3, "{:?}", new[0].samples);
    assert!(
        new[0]
            .samples
            .iter()
            .all(|s| !s.contains("hunter2") && s.contains("/prod/login")),
        "{:?}",
        new[0].samples
    );
    // Nothing is due again until the next 5-minute boundary.
    let mut report = DetectReport::default();
    assert!(detector
        .due(T0 + 28 * MIN, &mut report)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(report.evaluations, 0);
}

#[tokio::test]
async fn a_skipped_run_is_caught_up_and_a_crash_before_the_checkpoint_counts_nothing_twice() {
    let (dir, lake) = lake();
    let detector = Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone());
    // First run at 09:07: nothing yet.
    let mut report = DetectReport::default();
    assert!(detector
        .due(T0 + 7 * MIN, &mut report)
        .await
        .unwrap()
        .is_empty());
    write(&lake, Family::ApiGateway, "burst", &straddling_burst());
    // The runs at 09:12 and 09:17 never happen; the one at 09:22 catches up.
    let mut report = DetectReport::default();
    let found = detector.due(T0 + 22 * MIN, &mut report).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status, FindingStatus::New);
    assert_eq!(
        report.evaluations, 3,
        "windows ending 09:10, 09:15 and 09:20"
    );
    // A crash after the findings were settled but before the checkpoint moved:
    // put the old checkpoint back and run again.
    let checkpoint = dir
        .path()
        .join("_state/checkpoints/apigw_auth_failure_burst.json");
    std::fs::write(
        &checkpoint,
        format!(r#"{{"last_window_end": {}}}"#, T0 + 5 * MIN),
    )
    .unwrap();
    let mut report = DetectReport::default();
    let again = detector.due(T0 + 22 * MIN, &mut report).await.unwrap();
    assert!(
        again.is_empty(),
        "re-run windows must not re-alert: {again:#?}"
    );
    assert!(report.unchanged >= 1);
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert_eq!(saved["last_window_end"], T0 + 20 * MIN);
}

#[tokio::test]
async fn catch_up_is_bounded() {
    let (_dir, lake) = lake();
    let mut detector = Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake);
    detector.max_catch_up = 4;
    let mut report = DetectReport::default();
    detector.due(T0, &mut report).await.unwrap();
    let mut report = DetectReport::default();
    detector.due(T0 + 60 * MIN, &mut report).await.unwrap();
    assert_eq!(report.evaluations, 4);
    assert_eq!(report.windows_skipped, 8);
}

fn stop_logging(id: &str, minute: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(T0 + minute * MIN)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{t}","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accountId":"111122223333","userName":"bob"}},"requestParameters":{{"name":"main"}},"eventID":"{id}","recipientAccountId":"111122223333"}}"#
    )
}

fn console_failure(id: &str, user: &str, second: i64) -> String {
    let t = chrono::DateTime::from_timestamp_millis(T0 + second * 1000)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ");
    format!(
        r#"{{"eventVersion":"1.09","eventTime":"{t}","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9","userIdentity":{{"type":"IAMUser","accountId":"111122223333","userName":"{user}"}},"responseElements":{{"ConsoleLogin":"Failure"}},"errorMessage":"Failed authentication","eventID":"{id}","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}}"#
    )
}

#[tokio::test]
async fn duplicate_deliveries_never_inflate_a_count_or_fire_a_rule() {
    let (_dir, lake) = lake();
    // Four distinct failures (threshold 5), each delivered three times in three objects.
    let records: Vec<String> = (0..4)
        .map(|i| console_failure(&format!("e{i}"), "alice", i * 30))
        .collect();
    for copy in ["a", "b", "c"] {
        write(&lake, Family::CloudTrail, &format!("copy-{copy}"), &records);
    }
    let detector = Detector::for_lake(
        rules(&[
            "console_login_failures_by_ip",
            "console_login_failures_by_user",
        ]),
        lake.clone(),
    );
    let mut report = DetectReport::default();
    let range = TimeRange::new(T0 - 60 * MIN, T0 + 60 * MIN);
    let candidates = detector
        .over_range(range, Source::Lake, ModeFilter::All, &mut report)
        .await
        .unwrap();
    // Every copy is in the lake; each rule sees each event once.
    assert_eq!(report.rows_read, 4);
    assert_eq!(report.repeated_deliveries, 8);
    assert!(candidates.is_empty(), "{candidates:#?}");
    // One more distinct event crosses the threshold: the count is 5, not 15.
    write(
        &lake,
        Family::CloudTrail,
        "fifth",
        &[console_failure("e4", "alice", 150)],
    );
    let candidates = detector
        .over_range(range, Source::Lake, ModeFilter::All, &mut report)
        .await
        .unwrap();
    let findings = detector.settle(candidates, T0, &mut report).await.unwrap();
    assert_eq!(findings.len(), 2);
    assert!(findings.iter().all(|f| f.event_count == 5), "{findings:#?}");
}

#[tokio::test]
async fn suppression_updates_within_the_period_and_opens_a_new_finding_after_it() {
    let (_dir, lake) = lake();
    let detector = Detector::for_lake(rules(&["cloudtrail_logging_tampered"]), lake.clone());
    let mut report = DetectReport::default();
    let run = |records: Vec<String>, name: &'static str| {
        write(&lake, Family::CloudTrail, name, &records);
    };
    run(vec![stop_logging("s1", 0)], "first");
    let c = detector
        .over_range(
            TimeRange::new(T0, T0 + 60 * MIN),
            Source::Lake,
            ModeFilter::Streaming,
            &mut report,
        )
        .await
        .unwrap();
    let first = detector.settle(c, T0, &mut report).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].status, FindingStatus::New);
    // Twenty minutes later, the same actor on the same trail: an update, not a new alert.
    run(vec![stop_logging("s2", 20)], "second");
    let c = detector
        .over_range(
            TimeRange::new(T0 + 15 * MIN, T0 + 60 * MIN),
            Source::Lake,
            ModeFilter::Streaming,
            &mut report,
        )
        .await
        .unwrap();
    let second = detector.settle(c, T0, &mut report).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].status, FindingStatus::Updated);
    assert_eq!(second[0].finding_id, first[0].finding_id);
    assert_eq!(second[0].event_count, 2);
    assert_eq!(second[0].first_seen, T0);
    assert_eq!(second[0].last_seen, T0 + 20 * MIN);
    // Three hours later the dedup period (1h) is long over: a new finding.
    run(vec![stop_logging("s3", 200)], "third");
    let c = detector
        .over_range(
            TimeRange::new(T0 + 190 * MIN, T0 + 240 * MIN),
            Source::Lake,
            ModeFilter::Streaming,
            &mut report,
        )
        .await
        .unwrap();
    let third = detector.settle(c, T0, &mut report).await.unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].status, FindingStatus::New);
    assert_ne!(third[0].finding_id, first[0].finding_id);

    // Every version landed in the findings table, readable with SQL.
    let ctx = SessionContext::new();
    vigil_queries::register_lake(&ctx, &lake).unwrap();
    let batches = ctx
        .sql("SELECT finding_id, status, event_count FROM findings ORDER BY detected_at, event_time, event_count")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 3);
    let text = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(
        text.contains("updated") && text.contains(&first[0].finding_id),
        "{text}"
    );
}

#[tokio::test]
async fn scheduled_rules_never_read_the_raw_column_of_a_window() {
    let rules = RuleSet::builtin().unwrap();
    let scheduled: Vec<&Rule> = rules
        .rules
        .iter()
        .filter(|r| r.schedule().is_some())
        .collect();
    assert!(scheduled.len() >= 10);
    let jobs: Vec<_> = scheduled
        .iter()
        .map(|r| Job {
            rule: r,
            window: TimeRange::new(T0, T0 + 10 * MIN),
            read: TimeRange::new(T0, T0 + 10 * MIN),
        })
        .collect();
    let reads = vigil_detect::reads::lake_reads(&jobs).await.unwrap();
    for (table, read) in &reads {
        assert!(
            !read.columns.iter().any(|c| c == "raw"),
            "{table:?} window reads raw: {:?}",
            read.columns
        );
    }
}

#[tokio::test]
async fn replaying_events_older_than_the_open_findings_does_not_alert_again() {
    let (_dir, lake) = lake();
    let detector = Detector::for_lake(rules(&["cloudtrail_logging_tampered"]), lake.clone());
    let mut report = DetectReport::default();
    let streaming = |range: TimeRange| {
        let detector = detector.clone();
        async move {
            let mut report = DetectReport::default();
            detector
                .over_range(range, Source::Lake, ModeFilter::Streaming, &mut report)
                .await
                .unwrap()
        }
    };
    write(&lake, Family::CloudTrail, "old", &[stop_logging("old", 0)]);
    let old_range = TimeRange::new(T0, T0 + 60 * MIN);
    let first = detector
        .settle(streaming(old_range).await, T0, &mut report)
        .await
        .unwrap();
    assert_eq!(first[0].status, FindingStatus::New);
    // Much newer activity: the old finding is closed for good and pruned...
    write(
        &lake,
        Family::CloudTrail,
        "new",
        &[stop_logging("new", 3 * 24 * 60)],
    );
    let newer = detector
        .settle(
            streaming(TimeRange::new(
                T0 + 3 * 24 * 60 * MIN,
                T0 + 3 * 24 * 60 * MIN + 60 * MIN,
            ))
            .await,
            T0,
            &mut report,
        )
        .await
        .unwrap();
    assert_eq!(newer[0].status, FindingStatus::New);
    // ...yet the old events coming again (a retried delivery, a backfill)
    // are recognised: no new finding, no second alert.
    let replay = detector
        .settle(streaming(old_range).await, T0, &mut report)
        .await
        .unwrap();
    assert!(replay.is_empty(), "{replay:#?}");
}

#[tokio::test]
async fn a_window_read_lists_only_its_hour_partitions() {
    let (_dir, lake) = lake();
    for hour in 0..6 {
        write(
            &lake,
            Family::CloudTrail,
            &format!("h{hour}"),
            &[stop_logging(&format!("e{hour}"), hour * 60 + 5)],
        );
    }
    let ctx = SessionContext::new();
    vigil_queries::register_lake(&ctx, &lake).unwrap();
    let range = TimeRange::new(T0 + 2 * 60 * MIN, T0 + 3 * 60 * MIN);
    let plan = ctx
        .table("cloudtrail")
        .await
        .unwrap()
        .filter(range.filter())
        .unwrap()
        .explain(false, false)
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = arrow::util::pretty::pretty_format_batches(&plan)
        .unwrap()
        .to_string();
    let scanned: Vec<&str> = text.matches("hour=").collect();
    assert!(text.contains("hour=11"), "{text}");
    assert_eq!(
        scanned.len(),
        1,
        "only the 11:00 partition is scanned:\n{text}"
    );
}

#[test]
fn refused_sql_names_the_rule_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let good =
        std::fs::read_to_string(in_checkout("detect/rules/cloudtrail/iam_user_created.toml"))
            .unwrap();
    let start = good.find("sql = '''").unwrap();
    let end = good[start + 9..].find("'''").unwrap() + start + 12;
    let bad = format!(
        "{}sql = '''\nSELECT * FROM cloudtrail;\nDROP TABLE cloudtrail\n'''{}",
        &good[..start],
        &good[end..]
    );
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, &bad).unwrap();
    let err = RuleSet::load_dir(dir.path()).unwrap_err().to_string();
    let sql_line = bad
        .lines()
        .position(|l| l.starts_with("sql = '''"))
        .unwrap()
        + 1;
    let expected = format!("{}:{}:", path.display(), sql_line + 2);
    assert!(err.contains(&expected), "{err} should name {expected}");
    assert!(err.contains("one SELECT"), "{err}");

    let table_fn = good.replace("FROM cloudtrail", "FROM read_parquet('/etc/passwd')");
    let err = Rule::parse(Path::new("tf.toml"), &table_fn)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("tf.toml:") && err.contains("table function"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_columns_and_bad_durations_are_caught_at_load() {
    let good = std::fs::read_to_string(in_checkout(
        "detect/rules/apigateway/apigw_auth_failure_burst.toml",
    ))
    .unwrap();
    let bad_duration = good.replace("window = \"10m\"", "window = \"ten minutes\"");
    let err = Rule::parse(Path::new("d.toml"), &bad_duration)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bad duration window"), "{err}");
    let no_tests = good[..good.find("[[tests]]").unwrap()].to_string();
    assert!(Rule::parse(Path::new("t.toml"), &no_tests)
        .unwrap_err()
        .to_string()
        .contains("needs [[tests]]"));
    let bad_column = good.replace(
        "WHERE status IN (401, 403)",
        "WHERE http_status IN (401, 403)",
    );
    let rule = Rule::parse(Path::new("c.toml"), &bad_column).unwrap();
    let err = RuleSet { rules: vec![rule] }
        .check_plans()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("c.toml") && err.contains("http_status"),
        "{err}"
    );
}

fn ok_request(ip: &str, at_ms: i64, id: &str) -> String {
    format!(
        r#"{{"requestId":"{id}","ip":"{ip}","requestTimeEpoch":{at_ms},"httpMethod":"GET","resourcePath":"/items","path":"/prod/items","status":"200","apiId":"api1","stage":"prod"}}"#
    )
}

#[tokio::test]
async fn a_scheduled_pass_reads_only_the_rows_its_rules_filter_on() {
    let (_dir, lake) = lake();
    let mut records = straddling_burst();
    records.extend(
        (0..500).map(|i| ok_request("198.51.100.7", T0 + 5 * MIN + i * 1_000, &format!("ok{i}"))),
    );
    write(&lake, Family::ApiGateway, "mixed", &records);
    let mut report = DetectReport::default();
    let detector = Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone());
    let found = detector.due(T0 + 17 * MIN, &mut report).await.unwrap();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].event_count, 25);
    // The rule counts 401/403s: the 500 successful requests are never read.
    assert!(report.rows_read <= 25, "read {} rows", report.rows_read);

    // A traffic-spike rule counts every request (its baseline too): with it
    // in the pass, the successful requests are read as well.
    // The API's first request two hours earlier gives the spike rule the
    // history it needs (min_history) to run at all.
    let (_dir2, lake2) = self::lake();
    let mut with_history = records.clone();
    with_history.push(ok_request("198.51.100.8", T0 - 120 * MIN, "early"));
    write(&lake2, Family::ApiGateway, "mixed", &with_history);
    let set = rules(&["apigw_auth_failure_burst", "apigw_route_traffic_spike"]);
    let mut report = DetectReport::default();
    let found = Detector::for_lake(set.clone(), lake2)
        .due(T0 + 17 * MIN, &mut report)
        .await
        .unwrap();
    assert!(found
        .iter()
        .any(|f| f.rule_id == "apigw_auth_failure_burst" && f.event_count == 25));
    assert!(report.rows_read > 25, "read {} rows", report.rows_read);

    // A baseline's filter on time alone keeps every row of its read range:
    // the table is read without a row filter.
    let spike = set
        .rules
        .iter()
        .find(|r| r.id == "apigw_route_traffic_spike")
        .unwrap();
    let window = TimeRange::new(T0 + 15 * MIN, T0 + 20 * MIN);
    let spike_job = Job {
        rule: spike,
        window,
        read: TimeRange::new(T0 - 45 * MIN, T0 + 20 * MIN),
    };
    let api = vigil_ingest::Table::ApiGateway;
    let reads = vigil_detect::reads::lake_reads(&[spike_job]).await.unwrap();
    assert!(reads[&api].rows.is_none(), "{:?}", reads[&api].rows);
    assert_eq!(reads[&api].span, spike_job.read);

    // Catching up on many windows of a rule whose filter names the window:
    // its ranges are read whole, not through an OR of a filter per window.
    let text = std::fs::read_to_string(in_checkout(
        "detect/rules/apigateway/apigw_auth_failure_burst.toml",
    ))
    .unwrap();
    let per_window = text.replace(
        "WHERE status IN (401, 403)",
        "WHERE status IN (401, 403) AND event_time >= ${window_start}",
    );
    assert_ne!(per_window, text);
    let rule = Rule::parse(Path::new("w.toml"), &per_window).unwrap();
    let windows = |n: i64| -> Vec<Job> {
        (0..n)
            .map(|i| {
                let window = TimeRange::new(T0 + i * 5 * MIN, T0 + (i + 1) * 5 * MIN);
                Job {
                    rule: &rule,
                    window,
                    read: window,
                }
            })
            .collect()
    };
    let few = vigil_detect::reads::lake_reads(&windows(2)).await.unwrap();
    assert!(few[&api].rows.is_some());
    let many = vigil_detect::reads::lake_reads(&windows(12)).await.unwrap();
    assert!(many[&api].rows.is_none());
    assert_eq!(many[&api].span, TimeRange::new(T0, T0 + 60 * MIN));
    assert_eq!(many[&api].columns, few[&api].columns);
}

/// The failed-auth burst rule, and a copy (`auth_burst_self_join`) that
/// finds the same burst through a semi-join of the table with itself.
fn burst_rules_one_scanning_twice() -> RuleSet {
    let text = std::fs::read_to_string(in_checkout(
        "detect/rules/apigateway/apigw_auth_failure_burst.toml",
    ))
    .unwrap();
    let twice = text
        .replace(
            r#"id = "apigw_auth_failure_burst""#,
            r#"id = "auth_burst_self_join""#,
        )
        .replace(
            "WHERE status IN (401, 403)",
            "WHERE status IN (401, 403) AND event_id IN (SELECT event_id FROM apigateway)",
        );
    assert!(twice.contains("auth_burst_self_join") && twice.contains("IN (SELECT"));
    let mut set = rules(&["apigw_auth_failure_burst"]);
    set.rules
        .push(Rule::parse(Path::new("twice.toml"), &twice).unwrap());
    set
}

#[tokio::test]
async fn the_lake_is_fed_to_the_rules_as_it_is_read_and_a_rule_may_scan_a_table_twice() {
    let (_dir, lake) = lake();
    write(&lake, Family::ApiGateway, "burst", &straddling_burst());
    // 50,000 requests around the burst: several batches of the read (8,192
    // rows each), more than a scan's channel holds.
    let records: Vec<String> = (0..50_000)
        .map(|i| ok_request("198.51.100.7", T0 + 8 * MIN + i * 4, &format!("ok{i}")))
        .collect();
    write(&lake, Family::ApiGateway, "ok", &records);
    let set = burst_rules_one_scanning_twice();
    let detector = Detector::for_lake(set, lake.clone());
    let mut report = DetectReport::default();
    // A plan that reads one scan of a table only after the other (the
    // semi-join builds its side first) must not stall the read: a stall
    // would hang here.
    let found = tokio::time::timeout(
        std::time::Duration::from_secs(300),
        detector.due(T0 + 17 * MIN, &mut report),
    )
    .await
    .expect("the pass stalled")
    .unwrap();
    for rule in ["apigw_auth_failure_burst", "auth_burst_self_join"] {
        let f: Vec<_> = found.iter().filter(|f| f.rule_id == rule).collect();
        assert_eq!(f.len(), 1, "{rule}: {found:#?}");
        assert_eq!(f[0].event_count, 25, "{rule}");
    }
}

#[tokio::test]
async fn a_failed_lake_read_fails_the_pass_instead_of_giving_rules_part_of_a_window() {
    let (dir, lake) = lake();
    write(&lake, Family::ApiGateway, "burst", &straddling_burst());
    let hour = dir.path().join("apigateway/date=2026-11-24/hour=09");
    assert!(hour.is_dir());
    std::fs::write(
        hour.join("zz-truncated.parquet"),
        b"PAR1 not a parquet file",
    )
    .unwrap();
    let detector = Detector::for_lake(burst_rules_one_scanning_twice(), lake);
    let mut report = DetectReport::default();
    let result = detector.due(T0 + 17 * MIN, &mut report).await;
    let err = result.expect_err("a pass over an unreadable file found something");
    assert!(
        err.to_string().contains("zz-truncated") || err.to_string().contains("arquet"),
        "{err}"
    );
}

/// One candidate of the failed-auth burst rule, as a window run yields it.
fn burst_candidate() -> vigil_detect::evaluate::Candidate {
    vigil_detect::evaluate::Candidate {
        rule_id: "apigw_auth_failure_burst".into(),
        dedup_key: "203.0.113.66".into(),
        first_seen: T0 + 8 * MIN,
        last_seen: T0 + 11 * MIN,
        event_count: 25,
        event_ids: Default::default(),
        entities: vigil_detect::finding::Entities {
            src_ip: Some("203.0.113.66".into()),
            ..Default::default()
        },
        fields: Default::default(),
        samples: Vec::new(),
        sample_ids: Vec::new(),
        window: TimeRange::new(T0 + 5 * MIN, T0 + 15 * MIN),
    }
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn detectors_settling_at_once_on_s3_alert_a_finding_once() {
    let bucket = format!("vigil-settle-test-{}", std::process::id());
    let endpoint = create_moto_bucket(&bucket).await;
    std::env::set_var(vigil_ingest::lake::S3_ENDPOINT_ENV, &endpoint);
    let lake = Lake::open(&format!("s3://{bucket}/lake")).unwrap();

    // The state's conditional writes, on S3 itself.
    let state = vigil_detect::state::State::Lake(lake.clone());
    let (_, absent) = state.get_versioned::<u32>("probe.json").await.unwrap();
    assert!(state.put_if("probe.json", &1u32, &absent).await.unwrap());
    assert!(!state.put_if("probe.json", &2u32, &absent).await.unwrap());
    let (_, v1) = state.get_versioned::<u32>("probe.json").await.unwrap();
    assert!(state.put_if("probe.json", &3u32, &v1).await.unwrap());
    assert!(!state.put_if("probe.json", &4u32, &v1).await.unwrap());
    assert_eq!(state.get::<u32>("probe.json").await.unwrap(), Some(3));

    // Two detectors (two ingest functions, say) settle the same candidate at
    // once, over and over: whatever the interleaving, one reports it new and
    // the other folds it into that finding.
    for round in 0..5 {
        let rules = rules(&["apigw_auth_failure_burst"]);
        let (a, b) = (
            Detector::for_lake(rules.clone(), lake.clone()),
            Detector::for_lake(rules, lake.clone()),
        );
        let mut candidate = burst_candidate();
        candidate.dedup_key = format!("203.0.113.{round}");
        let (mut ra, mut rb) = (DetectReport::default(), DetectReport::default());
        let now = T0 + 17 * MIN;
        let (fa, fb) = tokio::join!(
            a.settle(vec![candidate.clone()], now, &mut ra),
            b.settle(vec![candidate], now, &mut rb)
        );
        let (fa, fb) = (fa.unwrap(), fb.unwrap());
        let new = fa
            .iter()
            .chain(&fb)
            .filter(|f| f.status == FindingStatus::New)
            .count();
        assert_eq!(new, 1, "round {round}: {fa:#?} {fb:#?}");
        assert_eq!(ra.new + rb.new, 1);
        assert_eq!(ra.unchanged + rb.unchanged + ra.updated + rb.updated, 1);
    }
}

/// The findings waiting in the outbox, a group per settle.
async fn waiting(detector: &Detector) -> Vec<Vec<vigil_detect::Finding>> {
    let groups = detector.undelivered(None).await.unwrap();
    groups.into_iter().map(|g| g.findings).collect()
}

#[tokio::test]
async fn an_outbox_group_whose_settle_never_committed_is_dropped_not_alerted() {
    let detector = |lake: &Lake| {
        Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone()).with_outbox(true)
    };
    let mut report = DetectReport::default();
    // A settle elsewhere gives the group a settle here would have written
    // before it stopped, its state not yet written.
    let (other_dir, other) = lake();
    let orphan = detector(&other)
        .settle(vec![burst_candidate()], T0 + 17 * MIN, &mut report)
        .await
        .unwrap();
    let (dir, lake) = lake();
    let outbox = dir.path().join("_state/outbox");
    std::fs::create_dir_all(&outbox).unwrap();
    for group in vigil_test_support::files_under(&other_dir.path().join("_state/outbox")) {
        std::fs::copy(&group, outbox.join(group.file_name().unwrap())).unwrap();
    }
    let here = detector(&lake);
    assert!(here.undelivered(None).await.unwrap().is_empty());
    assert!(
        vigil_test_support::files_under(&outbox).is_empty(),
        "the orphan group is deleted"
    );

    // The run that settles the candidate again (later) reports it once.
    let settled = here
        .settle(vec![burst_candidate()], T0 + 19 * MIN, &mut report)
        .await
        .unwrap();
    assert_eq!(settled.len(), 1);
    assert_ne!(settled, orphan, "settled at another time");
    assert_eq!(waiting(&here).await, vec![settled]);
}

/// A lake with an outbox, and a run keyed `event-1` that settled the burst.
struct SettledAttempt {
    _dir: tempfile::TempDir,
    detector: Detector,
    attempt: Detector,
    found: Vec<vigil_detect::Finding>,
}

async fn an_attempt_that_settled() -> SettledAttempt {
    let (dir, lake) = lake();
    let detector =
        Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone()).with_outbox(true);
    let attempt = detector.for_run("event-1", T0);
    let found = attempt
        .settle(
            vec![burst_candidate()],
            T0 + 17 * MIN,
            &mut DetectReport::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    SettledAttempt {
        _dir: dir,
        detector,
        attempt,
        found,
    }
}

#[tokio::test]
async fn a_retry_of_the_same_input_takes_what_its_stopped_attempt_settled_at_once() {
    let SettledAttempt {
        _dir,
        detector,
        attempt,
        found,
    } = an_attempt_that_settled().await;
    let mut report = DetectReport::default();
    // The run that settled it delivers it as settled, not as a backlog;
    // runs that may overlap it leave the group to its run for the grace...
    let long_ago = Some(0);
    assert!(attempt.undelivered(long_ago).await.unwrap().is_empty());
    assert!(detector.undelivered(long_ago).await.unwrap().is_empty());
    assert!(detector
        .for_run("event-2", i64::MAX)
        .undelivered(long_ago)
        .await
        .unwrap()
        .is_empty());
    // ...but a retry of the same input takes it at once, and settles nothing new.
    let retry = detector.for_run("event-1", i64::MAX);
    let backlog = retry.undelivered(long_ago).await.unwrap();
    assert_eq!(backlog.len(), 1);
    assert_eq!(backlog[0].findings, found);
    let again = retry
        .settle(vec![burst_candidate()], T0 + 18 * MIN, &mut report)
        .await
        .unwrap();
    assert!(again.is_empty());
    retry.delivered(&backlog, &again).await.unwrap();
    assert!(waiting(&detector).await.is_empty());
}

#[tokio::test]
async fn a_settled_group_puts_its_findings_back_in_the_lake_if_a_stop_kept_them_out() {
    let (dir, lake) = lake();
    let detector =
        Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone()).with_outbox(true);
    let mut report = DetectReport::default();
    let found = detector
        .settle(vec![burst_candidate()], T0 + 17 * MIN, &mut report)
        .await
        .unwrap();
    let findings_dir = dir.path().join("findings");
    let written = vigil_test_support::files_under(&findings_dir);
    assert_eq!(written.len(), 1);
    // As if the process had stopped after the state, before the lake write.
    std::fs::remove_file(&written[0]).unwrap();
    assert_eq!(waiting(&detector).await, vec![found]);
    assert_eq!(vigil_test_support::files_under(&findings_dir), written);
}

#[tokio::test]
async fn settled_findings_wait_in_the_outbox_until_delivered() {
    let (_dir, lake) = lake();
    let detector =
        || Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake.clone()).with_outbox(true);
    let mut report = DetectReport::default();
    let found = detector()
        .settle(vec![burst_candidate()], T0 + 17 * MIN, &mut report)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // The process stopped before alerting: the next one finds them waiting,
    // though settling the same candidate again reports nothing.
    let next = detector();
    assert_eq!(waiting(&next).await, vec![found.clone()]);
    // A run that may overlap the settling one asks only for older groups.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!(next
        .undelivered(Some(now_ms - 600_000))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        next.undelivered(Some(now_ms + 60_000)).await.unwrap().len(),
        1
    );
    let again = next
        .settle(vec![burst_candidate()], T0 + 18 * MIN, &mut report)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:#?}");
    next.delivered(&[], &found).await.unwrap();
    assert!(next.undelivered(None).await.unwrap().is_empty());

    // Without an outbox (no alerts), nothing waits.
    let (_dir2, lake2) = self::lake();
    let plain = Detector::for_lake(rules(&["apigw_auth_failure_burst"]), lake2);
    let found = plain
        .settle(vec![burst_candidate()], T0 + 17 * MIN, &mut report)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(plain.undelivered(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_retry_finds_its_stopped_attempts_groups_in_the_state_its_settle_reads() {
    let SettledAttempt {
        _dir,
        detector,
        attempt,
        found,
    } = an_attempt_that_settled().await;
    let mut report = DetectReport::default();
    // Its own group is no earlier attempt's.
    assert!(attempt.earlier_attempt().await.unwrap().is_empty());
    // A retry that has not settled read nothing; once it has, it takes the
    // group without listing the outbox, and settles nothing new.
    let retry = detector.for_run("event-1", T0 + MIN);
    assert!(retry.earlier_attempt().await.unwrap().is_empty());
    let again = retry
        .settle(vec![burst_candidate()], T0 + 18 * MIN, &mut report)
        .await
        .unwrap();
    assert!(again.is_empty());
    let backlog = retry.earlier_attempt().await.unwrap();
    assert_eq!(backlog.len(), 1);
    assert_eq!(backlog[0].findings, found);
    // Another input's run takes nothing of it.
    let other = detector.for_run("event-2", T0 + MIN);
    other
        .settle(vec![burst_candidate()], T0 + 18 * MIN, &mut report)
        .await
        .unwrap();
    assert!(other.earlier_attempt().await.unwrap().is_empty());
    // Once delivered, a further retry finds the group gone.
    retry.delivered(&backlog, &again).await.unwrap();
    let third = detector.for_run("event-1", T0 + 2 * MIN);
    third
        .settle(vec![burst_candidate()], T0 + 19 * MIN, &mut report)
        .await
        .unwrap();
    assert!(third.earlier_attempt().await.unwrap().is_empty());
}
