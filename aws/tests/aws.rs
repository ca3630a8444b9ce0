//! The S3 handler, `subscribe`, `tail` and `backfill` against moto's server on
//! 127.0.0.1 (S3, SNS, SQS, CloudWatch Logs, and Lambda/IAM for the
//! subscription's destination), started by scripts/test.sh.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::watch;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::AlertingConfig;
use vigil_aws::backfill::{backfill, BackfillOptions};
use vigil_aws::subscribe::{subscribe, Action, SubscribeOptions};
use vigil_aws::tail::{tail, TailOptions, TailReport};
use vigil_aws::{Handler, Pipeline, Settings};
use vigil_queries::TimeRange;
use vigil_test_support::TopicQueue;

fn endpoint() -> String {
    let e = vigil_test_support::moto_endpoint();
    // Lakes and buckets opened by object_store go to moto too.
    std::env::set_var(vigil_ingest::lake::S3_ENDPOINT_ENV, &e);
    e
}

fn unique(name: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// The SDK pointed at moto (and, through `endpoint`, lakes too).
async fn sdk() -> aws_config::SdkConfig {
    endpoint();
    vigil_test_support::moto_sdk_config().await
}

/// A bucket in moto (and, through `endpoint`, lakes pointed at moto).
async fn create_bucket(bucket: &str) {
    vigil_test_support::create_moto_bucket(bucket).await;
    endpoint();
}

/// moto's S3 REST API: `PUT /bucket/key` (returns the ETag).
async fn put_object(bucket: &str, key: &str, bytes: Vec<u8>) -> String {
    let r = reqwest::Client::new()
        .put(format!("{}/{bucket}/{key}", endpoint()))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{r:?}");
    r.headers()["etag"]
        .to_str()
        .unwrap()
        .trim_matches('"')
        .to_string()
}

/// An SNS topic whose messages land in an SQS queue: the alerts, read back.
struct AlertQueue {
    topic_arn: String,
    queue_url: String,
    sqs: aws_sdk_sqs::Client,
}

impl AlertQueue {
    async fn new() -> AlertQueue {
        let config = sdk().await;
        let sqs = aws_sdk_sqs::Client::new(&config);
        let TopicQueue {
            topic_arn,
            queue_url,
        } = TopicQueue::create(&config, &unique("vigil-alerts")).await;
        AlertQueue {
            topic_arn,
            queue_url,
            sqs,
        }
    }

    fn settings(&self, lake: &str) -> Settings {
        let mut sns = DestinationConfig::new("sns", DestinationKind::Sns);
        sns.topic_arn = Some(self.topic_arn.clone());
        sns.endpoint_url = Some(endpoint());
        let alerting = AlertingConfig {
            destinations: vec![sns],
            dead_letter: std::env::temp_dir().join(unique("vigil-dead")),
            ..AlertingConfig::default()
        };
        Settings::new(lake.to_string(), Vec::new(), alerting)
    }

    /// Every alert in the queue now (taken off it).
    async fn drain(&self) -> Vec<Value> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return out;
            }
            for m in messages {
                out.push(serde_json::from_str(m.body().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

fn s3_event(bucket: &str, key: &str, etag: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-24T09:05:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:cloudtrail"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "vigil",
               "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
               "object": {"key": key, "size": 1, "eTag": etag}}
    }]})
}

fn sqs_message(id: &str, body: String) -> Value {
    json!({"messageId": id, "receiptHandle": "x", "body": body, "attributes": {},
           "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
           "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:vigil-trail", "awsRegion": "us-east-1"})
}

const SAMPLE_TRAIL: &str = "111122223333_CloudTrail_us-east-1_20261124T0900Z_e5f6a7b8.json.gz";
const INVICTUS_TRAIL: &str =
    "218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json";

/// Puts the two trail files in `bucket`; returns their keys, ETags and record counts.
async fn trail_objects(bucket: &str) -> Vec<(String, String, usize)> {
    let sample = std::fs::read(repo().join("sample-logs/cloudtrail").join(SAMPLE_TRAIL)).unwrap();
    let invictus =
        std::fs::read(corpus("invictus-ir-aws-dataset/CloudTrail").join(INVICTUS_TRAIL)).unwrap();
    let records = |bytes: &[u8]| {
        let text = if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut out = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(bytes), &mut out)
                .unwrap();
            out
        } else {
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        serde_json::from_str::<Value>(&text).unwrap()["Records"]
            .as_array()
            .unwrap()
            .len()
    };
    let mut out = Vec::new();
    for (key, bytes) in [
        (
            format!("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/24/{SAMPLE_TRAIL}"),
            sample,
        ),
        (
            format!("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/{INVICTUS_TRAIL}"),
            invictus,
        ),
    ] {
        let n = records(&bytes);
        let etag = put_object(bucket, &key, bytes).await;
        out.push((key, etag, n));
    }
    out
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn s3_notifications_from_sqs_stream_trails_into_an_s3_lake_and_alert_once() {
    let trail = unique("vigil-trail");
    let lake_bucket = unique("vigil-lake");
    create_bucket(&trail).await;
    create_bucket(&lake_bucket).await;
    let objects = trail_objects(&trail).await;
    let alerts = AlertQueue::new().await;
    let pipeline = alerts
        .settings(&format!("s3://{lake_bucket}/lake"))
        .open_pipeline()
        .unwrap();

    // One plain S3 notification, one inside an SNS envelope, one naming an
    // object that does not exist.
    let sns_wrapped = json!({"Type": "Notification", "MessageId": "n-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail",
        "Message": s3_event(&trail, &objects[1].0, &objects[1].1).to_string()});
    let event = json!({"Records": [
        sqs_message("m-sample", s3_event(&trail, &objects[0].0, &objects[0].1).to_string()),
        sqs_message("m-invictus", sns_wrapped.to_string()),
        sqs_message("m-missing", s3_event(&trail, "AWSLogs/1/CloudTrail/nope.json.gz", "0").to_string()),
    ]})
    .to_string();

    let (response, outcome) = Handler::IngestS3
        .handle(&pipeline, &event, 1_795_514_000_000)
        .await
        .unwrap();
    assert_eq!(
        response["batchItemFailures"],
        json!([{"itemIdentifier": "m-missing"}])
    );
    let total: usize = objects.iter().map(|(_, _, n)| n).sum();
    assert_eq!(outcome.ingest.records_read as usize, total);
    let lake = pipeline.lake();
    let in_lake = count(lake, "SELECT count(*) FROM cloudtrail").await
        + count(lake, "SELECT count(*) FROM deadletter").await;
    assert_eq!(in_lake as usize, total);
    let stop = query(
        lake,
        "SELECT source_ref FROM cloudtrail WHERE event_name = 'StopLogging'",
    )
    .await;
    assert_eq!(
        stop[0]["source_ref"],
        format!("s3://{trail}/{}", objects[0].0)
    );

    let sent = alerts.drain().await;
    assert_eq!(sent.len(), outcome.delivery.delivered());
    assert!(
        sent.iter()
            .any(|a| a["finding"]["rule_id"] == "cloudtrail_logging_tampered"),
        "{sent:?}"
    );
    let before = common::objects(lake).await;

    // SQS redelivers the batch: the same objects are rewritten, nothing is re-sent.
    let (again, _) = Handler::IngestS3
        .handle(&pipeline, &event, 1_795_514_060_000)
        .await
        .unwrap();
    assert_eq!(again["alerts"], 0, "{:?}", alerts.drain().await);
    assert_eq!(common::objects(lake).await, before);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(alerts.drain().await.is_empty());

    // A direct S3 notification of a missing object fails the invocation (Lambda retries it).
    let missing = s3_event(&trail, "AWSLogs/1/CloudTrail/gone.json.gz", "0").to_string();
    let err = Handler::IngestS3
        .handle(&pipeline, &missing, 1_795_514_000_000)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("gone.json.gz"), "{err}");
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn backfill_replays_the_range_resumes_and_matches_what_notifications_wrote() {
    let trail = unique("vigil-backfill-trail");
    let lake_bucket = unique("vigil-backfill-lake");
    create_bucket(&trail).await;
    create_bucket(&lake_bucket).await;
    let objects = trail_objects(&trail).await;
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let lake = format!("s3://{lake_bucket}/lake");
    let pipeline = settings(&lake, &alerts).open_pipeline().unwrap();
    // Only the sample trail's day is in range.
    let options = BackfillOptions {
        source: format!("s3://{trail}/AWSLogs/"),
        range: TimeRange::new(1_795_478_400_000, 1_795_564_800_000), // 2026-11-24
        objects_per_batch: 1,
    };
    let mut seen = Vec::new();
    let report = backfill(&pipeline, &options, |r| seen.push(r.clone()))
        .await
        .unwrap();
    assert_eq!(report.objects_in_range, 1);
    assert_eq!(report.objects_done, 1);
    assert_eq!(report.records as usize, objects[0].2);
    assert!(report.findings > 0);
    assert!(seen.len() >= 2, "progress is reported: {seen:?}");
    assert_eq!(
        count(pipeline.lake(), "SELECT count(*) FROM cloudtrail").await as usize,
        objects[0].2
    );
    let written = common::objects(pipeline.lake()).await;

    // A second run resumes after what is done: nothing is read again.
    let again = backfill(&pipeline, &options, |_| {}).await.unwrap();
    assert_eq!((again.objects_resumed, again.objects_done), (1, 0));

    // The notification path keys objects the same way: no duplicate rows.
    let event = s3_event(&trail, &objects[0].0, &objects[0].1).to_string();
    Handler::IngestS3
        .handle(&pipeline, &event, 1_795_514_000_000)
        .await
        .unwrap();
    assert_eq!(common::objects(pipeline.lake()).await, written);
}

/// moto accepts a Lambda subscription only once the function exists there:
/// an IAM role and a function (never invoked) through moto's REST APIs.
async fn create_function(name: &str) -> String {
    let client = reqwest::Client::new();
    let role = unique("vigil-role");
    let auth = |service: &str| {
        format!("AWS4-HMAC-SHA256 Credential=testing/20261126/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0")
    };
    let r = client
        .post(format!("{}/", endpoint()))
        .header("authorization", auth("iam"))
        .form(&[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", role.as_str()),
            ("AssumeRolePolicyDocument", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    // A zip holding one file named `bootstrap`.
    const ZIP: &str = "UEsDBBQAAAAAAMBQel2DFtyMAQAAAAEAAAAJAAAAYm9vdHN0cmFweFBLAQIUAxQAAAAAAMBQel2DFtyMAQAAAAEAAAAJAAAAAAAAAAAAAACAAQAAAABib290c3RyYXBQSwUGAAAAAAEAAQA3AAAAKAAAAAAA";
    let r = client
        .post(format!("{}/2015-03-31/functions", endpoint()))
        .header("authorization", auth("lambda"))
        .header("content-type", "application/json")
        .body(
            json!({"FunctionName": name, "Runtime": "provided.al2023",
                "Role": format!("arn:aws:iam::123456789012:role/{role}"),
                "Handler": "ingest-cloudwatch", "Code": {"ZipFile": ZIP}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    body["FunctionArn"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_string()
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn subscribe_is_idempotent_paginates_and_skips_what_it_must() {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk().await);
    let function = unique("vigil-ingest");
    let arn = create_function(&function).await;
    let prefix = format!("/vigil-test/{}/", unique("app"));
    // More groups than one DescribeLogGroups page (50).
    let mut groups: Vec<String> = (0..53).map(|i| format!("{prefix}svc-{i:02}")).collect();
    let own = format!("/aws/lambda/{function}");
    for g in groups.iter().chain([&own]) {
        logs.create_log_group()
            .log_group_name(g)
            .send()
            .await
            .unwrap();
    }
    // A group that already has two other filters.
    let full = &groups[0];
    for name in ["other-1", "other-2"] {
        logs.put_subscription_filter()
            .log_group_name(full)
            .filter_name(name)
            .filter_pattern("")
            .destination_arn(&arn)
            .send()
            .await
            .unwrap();
    }
    let mut options = SubscribeOptions {
        log_groups: vec![own.clone()],
        prefix: Some(prefix.clone()),
        destination_arn: arn.clone(),
        role_arn: None,
        filter_name: "vigil".into(),
        filter_pattern: String::new(),
        dry_run: true,
    };

    let planned = subscribe(&logs, &options).await.unwrap();
    assert_eq!(planned.len(), groups.len() + 1);
    let filters = |g: String| {
        let logs = logs.clone();
        async move {
            logs.describe_subscription_filters()
                .log_group_name(g)
                .send()
                .await
                .unwrap()
                .subscription_filters
                .unwrap_or_default()
        }
    };
    assert!(
        filters(groups[1].clone()).await.is_empty(),
        "a dry run changes nothing"
    );

    options.dry_run = false;
    let done = subscribe(&logs, &options).await.unwrap();
    assert_eq!(done, planned);
    let action = |g: &str| {
        done.iter()
            .find(|c| c.log_group == g)
            .unwrap()
            .action
            .clone()
    };
    assert!(matches!(action(&own), Action::Skip(ref why) if why.contains("own log group")));
    assert!(
        matches!(action(full), Action::Skip(ref why) if why.contains("2 subscription filters"))
    );
    groups.remove(0);
    for g in &groups {
        assert_eq!(action(g), Action::Create, "{g}");
        let f = filters(g.clone()).await;
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].destination_arn(), Some(arn.as_str()));
    }

    // Again: unchanged; with another pattern: updated in place.
    let again = subscribe(&logs, &options).await.unwrap();
    assert!(groups.iter().all(|g| again
        .iter()
        .any(|c| &c.log_group == g && c.action == Action::Unchanged)));
    options.filter_pattern = "?ERROR ?REPORT".into();
    let updated = subscribe(&logs, &options).await.unwrap();
    assert!(groups.iter().all(|g| updated
        .iter()
        .any(|c| &c.log_group == g && c.action == Action::Update)));
    let f = filters(groups[0].clone()).await;
    assert_eq!(
        (f.len(), f[0].filter_pattern()),
        (1, Some("?ERROR ?REPORT"))
    );
}

/// Creates a log stream in `group` (the group already made).
async fn create_log_stream(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, stream: &str) {
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
}

/// One `vigil tail` run to its end: no stop signal, no progress callback.
async fn tail_once(
    logs: &aws_sdk_cloudwatchlogs::Client,
    pipeline: &Pipeline,
    options: &TailOptions,
) -> TailReport {
    tail(logs, pipeline, options, watch::channel(false).1, |_| {})
        .await
        .unwrap()
}

/// Puts `(timestamp, message)` events into a log stream.
async fn put_log_events<M: Into<String>>(
    logs: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    stream: &str,
    events: impl IntoIterator<Item = (i64, M)>,
) {
    let events = events
        .into_iter()
        .map(|(t, m)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(t)
                .message(m)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn tail_ingests_a_log_group_and_resumes_from_its_cursor() {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk().await);
    let group = format!("/aws/lambda/{}", unique("orders"));
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    let stream = "2026/11/24/[$LATEST]abc";
    create_log_stream(&logs, &group, stream).await;
    let now = chrono::Utc::now().timestamp_millis() - 60_000;
    let put = |events: Vec<(i64, &'static str)>| put_log_events(&logs, &group, stream, events);
    put(vec![
        (now, "START RequestId: 11111111-1111-1111-1111-111111111111 Version: $LATEST"),
        (now + 5, "END RequestId: 11111111-1111-1111-1111-111111111111"),
        (now + 5, "REPORT RequestId: 11111111-1111-1111-1111-111111111111\tDuration: 12.5 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.jsonl");
    let pipeline = settings(dir.path().join("lake").to_str().unwrap(), &alerts)
        .open_pipeline()
        .unwrap();
    let options = TailOptions {
        log_group: group.clone(),
        filter_pattern: None,
        start_ms: Some(now - 1_000),
        follow: false,
        poll_interval: Duration::from_millis(10),
        late: Duration::from_secs(60),
    };
    let first = tail_once(&logs, &pipeline, &options).await;
    assert_eq!((first.events, first.parsed, first.dead_lettered), (3, 3, 0));
    let lake = pipeline.lake();
    let rows = query(
        lake,
        "SELECT function_name, record_type, duration_ms FROM lambda ORDER BY record_type",
    )
    .await;
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter()
            .all(|r| r["function_name"] == group.trim_start_matches("/aws/lambda/")),
        "{rows:?}"
    );
    assert!(rows.iter().any(|r| r["duration_ms"] == 12.5), "{rows:?}");

    // Nothing new: nothing ingested. Then one more event (at the cursor's
    // own millisecond, too): only it is taken.
    let idle = tail_once(&logs, &pipeline, &options).await;
    assert_eq!(idle.events, 0);
    put(vec![(
        now + 5,
        "2026-11-24T09:00:00.000Z\t22222222-2222-2222-2222-222222222222\tERROR\tboom",
    )])
    .await;
    let next = tail_once(&logs, &pipeline, &options).await;
    assert_eq!(next.events, 1);
    assert_eq!(count(lake, "SELECT count(*) FROM lambda").await, 4);

    // Following, with an hour between polls: a stop (Ctrl-C in `vigil tail`)
    // sent after the first batch ends the run without waiting for the poll.
    put(vec![(
        now + 10,
        "2026-11-24T09:00:01.000Z\t22222222-2222-2222-2222-222222222222\tERROR\tboom again",
    )])
    .await;
    let following = TailOptions {
        follow: true,
        poll_interval: Duration::from_secs(3600),
        ..options.clone()
    };
    let (stop, stopped) = watch::channel(false);
    let followed = tokio::time::timeout(
        Duration::from_secs(60),
        tail(&logs, &pipeline, &following, stopped, |_| {
            let _ = stop.send(true);
        }),
    )
    .await
    .expect("a stopped tail returns at once")
    .unwrap();
    assert_eq!((followed.events, followed.batches), (1, 1));
    assert_eq!(count(lake, "SELECT count(*) FROM lambda").await, 5);

    // Another instance's stream delivers an event stamped before the newest
    // one taken: the next run, looking a minute back, takes it, and only it.
    let other = "2026/11/24/[$LATEST]def";
    create_log_stream(&logs, &group, other).await;
    let late_line = "2026-11-24T09:00:02.000Z\t33333333-3333-3333-3333-333333333333\tERROR\tlate";
    put_log_events(&logs, &group, other, [(now + 2, late_line)]).await;
    let late = tail_once(&logs, &pipeline, &options).await;
    assert_eq!(late.events, 1);
    assert_eq!(count(lake, "SELECT count(*) FROM lambda").await, 6);
    let again = tail_once(&logs, &pipeline, &options).await;
    assert_eq!(again.events, 0);

    // With no look-back, a late event is not read (the limit `late` sets).
    let too_late =
        "2026-11-24T09:00:03.000Z\t44444444-4444-4444-4444-444444444444\tERROR\ttoo late";
    put_log_events(&logs, &group, other, [(now + 3, too_late)]).await;
    let strict = TailOptions {
        late: Duration::ZERO,
        ..options.clone()
    };
    let none = tail_once(&logs, &pipeline, &strict).await;
    assert_eq!(none.events, 0);
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn tail_takes_a_backlog_in_batches_each_event_once() {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk().await);
    let group = format!("/aws/lambda/{}", unique("backlog"));
    let stream = "2026/11/24/[$LATEST]bulk";
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .unwrap();
    create_log_stream(&logs, &group, stream).await;
    // 25,000 application lines, ten per millisecond: three batches.
    let start = chrono::Utc::now().timestamp_millis() - 3_600_000;
    let line = "2026-11-24T09:00:00.000Z\t55555555-5555-5555-5555-555555555555\tINFO\tline";
    for chunk in (0..25_000i64).collect::<Vec<_>>().chunks(5_000) {
        let events = chunk
            .iter()
            .map(|i| (start + i / 10, format!("{line} {i}")));
        put_log_events(&logs, &group, stream, events).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let pipeline = settings(
        dir.path().join("lake").to_str().unwrap(),
        &dir.path().join("alerts.jsonl"),
    )
    .open_pipeline()
    .unwrap();
    let options = TailOptions {
        log_group: group,
        filter_pattern: None,
        start_ms: Some(start),
        follow: false,
        poll_interval: Duration::from_millis(10),
        late: Duration::from_secs(120),
    };
    let mut batches = Vec::new();
    let report = tail(&logs, &pipeline, &options, watch::channel(false).1, |r| {
        batches.push(r.events)
    })
    .await
    .unwrap();
    assert_eq!((report.events, report.parsed), (25_000, 25_000));
    assert!(batches.len() >= 3, "{batches:?}");
    let lake = pipeline.lake();
    let distinct = "SELECT count(DISTINCT message) FROM lambda WHERE message LIKE 'line %'";
    assert_eq!(count(lake, distinct).await, 25_000);
    assert_eq!(count(lake, "SELECT count(*) FROM lambda").await, 25_000);
    // All of it is within the look-back of the newest: a second run reads it
    // again and takes none of it.
    let again = tail_once(&logs, &pipeline, &options).await;
    assert_eq!(again.events, 0);
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn subscription_and_scheduled_handlers_on_an_s3_lake_alert_through_sns() {
    let lake_bucket = unique("vigil-cw-lake");
    create_bucket(&lake_bucket).await;
    let alerts = AlertQueue::new().await;
    let pipeline = alerts
        .settings(&format!("s3://{lake_bucket}/lake"))
        .open_pipeline()
        .unwrap();
    // 30 failed logins from one address, 09:03 to 09:07:21, and one sqlmap request.
    let t0 = 1_795_510_800_000i64; // 2026-11-24T09:00:00Z
    let mut events: Vec<(i64, String)> = (0..30)
        .map(|i| {
            let at = t0 + 180_000 + i * 9_000;
            (at, format!(r#"{{"requestId":"fail-{i}","ip":"203.0.113.99","requestTimeEpoch":{at},"httpMethod":"POST","resourcePath":"/login","path":"/prod/login","status":"401","userAgent":"curl/8.5.0","apiId":"a1","stage":"prod"}}"#))
        })
        .collect();
    events.push((t0, r#"{"requestId":"scan-1","ip":"203.0.113.99","requestTimeEpoch":1795510800000,"httpMethod":"GET","resourcePath":"/","path":"/prod/","status":"404","userAgent":"Nuclei - Open-source project (github.com/projectdiscovery/nuclei)","apiId":"a1","stage":"prod"}"#.to_string()));
    let payload = subscription_event("/aws/apigateway/access-logs/prod", "s-1", &events);

    let (response, _) = Handler::IngestCloudwatch
        .handle(&pipeline, &payload, t0 + 600_000)
        .await
        .unwrap();
    assert_eq!(response["parsed"], 31);
    let keys: Vec<String> = common::objects(pipeline.lake())
        .await
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert!(
        keys.iter().any(
            |k| k.starts_with("lake/apigateway/date=2026-11-24/hour=09/")
                && k.ends_with(".parquet")
        ),
        "{keys:?}"
    );
    let streamed = alerts.drain().await;
    assert_eq!(streamed.len(), 1, "{streamed:?}");
    assert_eq!(
        streamed[0]["finding"]["rule_id"],
        "apigw_scanner_user_agent"
    );

    // The scheduler: a first tick sets the checkpoints, the next catches up.
    for (time, expect) in [
        ("2026-11-24T08:55:00Z", 0usize),
        ("2026-11-24T09:20:00Z", 1),
    ] {
        let event = json!({"time": time}).to_string();
        let (response, outcome) = Handler::DetectScheduled
            .handle(&pipeline, &event, t0 + 1_200_000)
            .await
            .unwrap();
        let bursts = outcome
            .findings
            .iter()
            .filter(|f| f.rule_id == "apigw_auth_failure_burst")
            .count();
        assert_eq!(bursts, expect, "{time}: {response}");
    }
    let sent = alerts.drain().await;
    let burst = sent
        .iter()
        .find(|a| a["finding"]["rule_id"] == "apigw_auth_failure_burst")
        .unwrap_or_else(|| panic!("{sent:?}"));
    assert_eq!(burst["finding"]["entities"]["src_ip"], "203.0.113.99");
    let state: Vec<(String, u64)> = {
        use futures::TryStreamExt;
        pipeline
            .lake()
            .store()
            .list(Some(&"lake/_state/checkpoints".into()))
            .map_ok(|m| (m.location.to_string(), m.size))
            .try_collect()
            .await
            .unwrap()
    };
    assert!(
        state
            .iter()
            .any(|(k, _)| k.ends_with("apigw_auth_failure_burst.json")),
        "{state:?}"
    );
}
