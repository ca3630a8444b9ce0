//! The built `vigil` binary as a Lambda function, against a local
//! implementation of the Lambda Runtime API (next / response / error /
//! init error): the runtime loop, handler selection, error reporting, and
//! the JSON logs and metrics it prints, in the real process.

#[allow(dead_code)] // the helpers the crash tests share: not all used here
mod common;
#[allow(dead_code)]
#[path = "common/lake_rows.rs"]
mod lake_rows;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the function sent back for one request id.
#[derive(Debug, Clone)]
struct Reply {
    request_id: String,
    /// `response` or `error`.
    kind: &'static str,
    error_type: Option<String>,
    body: Value,
}

#[derive(Default)]
struct Api {
    events: VecDeque<(String, String)>,
    replies: Vec<Reply>,
    init_errors: Vec<(Option<String>, Value)>,
}

type Shared = Arc<Mutex<Api>>;

async fn next(State(api): State<Shared>) -> Response {
    loop {
        let event = api.lock().unwrap().events.pop_front();
        if let Some((id, body)) = event {
            let deadline = chrono::Utc::now().timestamp_millis() + 60_000;
            return (
                [
                    ("Lambda-Runtime-Aws-Request-Id", id.as_str()),
                    ("Lambda-Runtime-Deadline-Ms", &deadline.to_string()),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn",
                        "arn:aws:lambda:us-east-1:111122223333:function:vigil-test",
                    ),
                    (
                        "Lambda-Runtime-Trace-Id",
                        "Root=1-5759e988-bd862e3fe1be46a994272793",
                    ),
                    ("Content-Type", "application/json"),
                ],
                body,
            )
                .into_response();
        }
        // Like Lambda, /next blocks until there is an event.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn json_body(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
}

async fn response(
    State(api): State<Shared>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    api.lock().unwrap().replies.push(Reply {
        request_id: id,
        kind: "response",
        error_type: None,
        body: json_body(&body),
    });
    StatusCode::ACCEPTED
}

async fn error(
    State(api): State<Shared>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    api.lock().unwrap().replies.push(Reply {
        request_id: id,
        kind: "error",
        error_type: headers
            .get("Lambda-Runtime-Function-Error-Type")
            .map(|v| v.to_str().unwrap().to_string()),
        body: json_body(&body),
    });
    StatusCode::ACCEPTED
}

async fn init_error(State(api): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    api.lock().unwrap().init_errors.push((
        headers
            .get("Lambda-Runtime-Function-Error-Type")
            .map(|v| v.to_str().unwrap().to_string()),
        json_body(&body),
    ));
    StatusCode::ACCEPTED
}

/// Serves the Runtime API on 127.0.0.1 from a thread of its own.
fn start_api(events: Vec<(String, String)>) -> (SocketAddr, Shared) {
    let api: Shared = Arc::new(Mutex::new(Api {
        events: events.into(),
        ..Api::default()
    }));
    let state = api.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = Router::new()
                .route("/2018-06-01/runtime/invocation/next", get(next))
                .route(
                    "/2018-06-01/runtime/invocation/{id}/response",
                    post(response),
                )
                .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
                .route("/2018-06-01/runtime/init/error", post(init_error))
                .with_state(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    (rx.recv().unwrap(), api)
}

fn function(addr: SocketAddr, handler: &str, lake: &Path) -> Child {
    function_with(addr, handler, lake, None)
}

/// The function, with `VIGIL_CONFIG` naming `config` when given.
fn function_with(addr: SocketAddr, handler: &str, lake: &Path, config: Option<&Path>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("_HANDLER", handler)
        .env("AWS_LAMBDA_FUNCTION_NAME", "vigil-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("VIGIL_LAKE", lake)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(config) = config {
        cmd.env("VIGIL_CONFIG", config);
    }
    // An S3 lake on moto: its endpoint and the test credentials.
    for name in [
        vigil_ingest::lake::S3_ENDPOINT_ENV,
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ] {
        if let Ok(value) = std::env::var(name) {
            cmd.env(name, value);
        }
    }
    cmd.spawn().unwrap()
}

/// Starts the function with `events` queued and returns once it answered
/// them all (or stopped): its replies and output.
fn run_function(
    handler: &str,
    events: Vec<(String, String)>,
    lake: &Path,
    config: Option<&Path>,
) -> (Vec<Reply>, String, String) {
    let n = events.len();
    let (addr, api) = start_api(events);
    collect(function_with(addr, handler, lake, config), &api, n)
}

/// Waits for `n` replies (or the process to end), then stops the function
/// and returns the replies and its output. The bound only keeps a broken
/// build from hanging the suite.
fn collect(mut child: Child, api: &Shared, n: usize) -> (Vec<Reply>, String, String) {
    let started = Instant::now();
    while api.lock().unwrap().replies.len() < n
        && api.lock().unwrap().init_errors.is_empty()
        && started.elapsed() < Duration::from_secs(120)
        && child.try_wait().unwrap().is_none()
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let replies = api.lock().unwrap().replies.clone();
    (
        replies,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A subscription event of API Gateway access-log lines, a millisecond apart.
fn subscription_event(lines: &[&str]) -> String {
    let events: Vec<(i64, String)> = lines
        .iter()
        .enumerate()
        .map(|(i, m)| (1_795_510_800_000 + i as i64, m.to_string()))
        .collect();
    vigil_test_support::subscription_event("/aws/apigateway/access-logs/prod", "s-1", &events)
}

const SQLMAP: &str = r#"{"requestId":"rq-1","ip":"203.0.113.66","requestTimeEpoch":1795510800000,"httpMethod":"GET","resourcePath":"/orders","path":"/prod/orders","status":"200","userAgent":"sqlmap/1.7.2#stable (https://sqlmap.org)","apiId":"a1","stage":"prod"}"#;
const PLAIN: &str = r#"{"requestId":"rq-2","ip":"198.51.100.7","requestTimeEpoch":1795510801000,"httpMethod":"GET","resourcePath":"/orders","path":"/prod/orders","status":"200","userAgent":"curl/8.5.0","apiId":"a1","stage":"prod"}"#;

#[test]
fn the_binary_runs_the_runtime_loop_and_reports_each_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let events = vec![
        ("req-ok".to_string(), subscription_event(&[SQLMAP, PLAIN])),
        ("req-bad".to_string(), r#"{"Records": []}"#.to_string()),
        ("req-after".to_string(), subscription_event(&[PLAIN])),
    ];
    let (addr, api) = start_api(events);
    let child = function(addr, "ingest-cloudwatch", &dir.path().join("lake"));
    let (replies, stdout, stderr) = collect(child, &api, 3);
    assert_eq!(replies.len(), 3, "stdout:\n{stdout}\nstderr:\n{stderr}");

    let ok = &replies[0];
    assert_eq!((ok.request_id.as_str(), ok.kind), ("req-ok", "response"));
    assert_eq!(ok.body["records"], 2);
    assert_eq!(ok.body["parsed"], 2);
    assert_eq!(ok.body["alerts"], 1, "{:?}", ok.body);

    let bad = &replies[1];
    assert_eq!((bad.request_id.as_str(), bad.kind), ("req-bad", "error"));
    assert_eq!(bad.body["errorType"], "Vigil.BadEvent");
    assert!(bad.body["errorMessage"]
        .as_str()
        .unwrap()
        .contains("subscription event"));
    assert!(bad.error_type.is_some(), "the error-type header is set");

    // The loop goes on after an error.
    assert_eq!(
        (replies[2].request_id.as_str(), replies[2].kind),
        ("req-after", "response")
    );

    // stdout: JSON lines only (logs, the alert, one EMF document per success).
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let emf: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(emf.len(), 2, "{stdout}");
    assert_eq!(emf[0]["requestId"], "req-ok");
    assert_eq!(emf[0]["Handler"], "ingest-cloudwatch");
    assert_eq!(emf[0]["RecordsIn"], 2);
    assert_eq!(emf[0]["Alerts"], 1);
    assert_eq!(emf[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Vigil");
    let failed_log = lines
        .iter()
        .find(|l| l["fields"]["message"] == "invocation failed")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(failed_log["span"]["requestId"], "req-bad", "{failed_log}");
    assert!(
        lines
            .iter()
            .any(|l| l["finding"]["rule_id"] == "apigw_scanner_user_agent"),
        "the alert goes to the log when no destination is set: {stdout}"
    );
}

#[test]
fn the_handler_is_chosen_by_its_name_and_an_unknown_one_is_an_init_error() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, api) = start_api(vec![(
        "req-tick".to_string(),
        r#"{"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.scheduler","account":"111122223333","time":"2026-11-24T09:55:00Z","region":"us-east-1","resources":[],"detail":{}}"#.to_string(),
    )]);
    let child = function(addr, "detect-scheduled", &dir.path().join("lake"));
    let (replies, stdout, _) = collect(child, &api, 1);
    assert_eq!(replies[0].kind, "response", "{stdout}");
    assert_eq!(
        replies[0].body["scheduled_time"],
        "2026-11-24T09:55:00+00:00"
    );
    assert!(replies[0].body["evaluations"].is_number());

    let (addr, api) = start_api(vec![("never".into(), "{}".into())]);
    let child = function(addr, "ingest-everything", &dir.path().join("lake"));
    let (replies, _, _) = collect(child, &api, 1);
    assert!(replies.is_empty());
    let init = api.lock().unwrap().init_errors.clone();
    assert_eq!(init.len(), 1);
    assert_eq!(init[0].0.as_deref(), Some("Vigil.UnknownHandler"));
    assert!(init[0].1["errorMessage"]
        .as_str()
        .unwrap()
        .contains("ingest-everything"));
    // The event was never taken.
    assert_eq!(api.lock().unwrap().events.len(), 1);
}

/// Scanner requests from a few addresses among many ordinary ones: enough
/// work that a kill lands anywhere in an invocation, and findings to alert.
fn busy_event() -> String {
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            let scanner = i % 150 == 0;
            serde_json::json!({
                "requestId": format!("rq-{i:05}"),
                "ip": if scanner { format!("203.0.113.{}", i % 7) } else { format!("198.51.100.{}", i % 200) },
                "requestTimeEpoch": 1_795_510_800_000i64 + i * 100,
                "httpMethod": "GET", "resourcePath": "/orders", "path": format!("/prod/orders/{i}"),
                "status": if i % 13 == 0 { "401" } else { "200" },
                "userAgent": if scanner { "sqlmap/1.7.2#stable (https://sqlmap.org)" } else { "curl/8.5.0" },
                "apiId": "a1", "stage": "prod",
            })
            .to_string()
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    subscription_event(&refs)
}

/// Lambda delivers `event` (`req-1`) again, to a new process of the
/// function; returns every reply so far once it answers.
/// With `warm_up`, the new process handles that event (`req-0`) first, so
/// that the retry comes to a warm container, which has listed the outbox
/// already and checks only for the stopped attempt's groups.
fn deliver_again(
    addr: SocketAddr,
    api: &Shared,
    event: &str,
    warm_up: Option<&str>,
    lake: &lake_rows::TestLake,
    config: &Path,
) -> (Vec<Reply>, String, String) {
    let answered = api.lock().unwrap().replies.len();
    let mut events = api.lock().unwrap();
    if let Some(first) = warm_up {
        events.events.push_back(("req-0".into(), first.to_string()));
    }
    events.events.push_back(("req-1".into(), event.to_string()));
    let delivered = answered + 1 + usize::from(warm_up.is_some());
    drop(events);
    let child = function_with(
        addr,
        "ingest-cloudwatch",
        Path::new(&lake.location),
        Some(config),
    );
    collect(child, api, delivered)
}

/// Lambda delivers an event at least once: an invocation killed (SIGKILL)
/// at a random moment, its event then delivered again to a new process,
/// leaves the lake and the alerts as one uninterrupted invocation does. So
/// does an event delivered twice after it succeeded. The moments come from
/// a seed printed (`VIGIL_CRASH_SEED` replays it).
#[tokio::test]
async fn an_invocation_killed_and_retried_leaves_what_one_clean_invocation_leaves() {
    const TRIALS: usize = 12;
    let seed = std::env::var("VIGIL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    eprintln!("VIGIL_CRASH_SEED={seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let dir = tempfile::tempdir().unwrap();
    let event = busy_event();

    // One clean invocation, then the same event again (a duplicate delivery).
    let clean = lake_rows::TestLake::new(lake_rows::Store::Local, "clean").await;
    let clean_alerts = dir.path().join("alerts-clean.jsonl");
    let config = lake_rows::file_alerts_config(dir.path(), &clean_alerts);
    let (addr, api) = start_api(vec![("req-1".into(), event.clone())]);
    let started = Instant::now();
    let child = function_with(
        addr,
        "ingest-cloudwatch",
        Path::new(&clean.location),
        Some(&config),
    );
    let (replies, _, stderr) = collect(child, &api, 1);
    let full = started.elapsed();
    assert_eq!(replies.len(), 1, "{stderr}");
    assert_eq!(replies[0].kind, "response", "{:?}", replies[0]);
    let expected = clean.rows().await;
    let (expected_alerts, repeats) = lake_rows::alerts_once(&clean_alerts, "clean");
    assert!(!expected_alerts.is_empty(), "the scanner is alerted");
    assert_eq!(repeats, 0);
    let (replies, _, _) = deliver_again(addr, &api, &event, None, &clean, &config);
    assert_eq!(replies[1].kind, "response");
    clean.rows().await.assert_same(&expected, "delivered twice");
    assert_eq!(
        lake_rows::alerts_once(&clean_alerts, "delivered twice"),
        (expected_alerts.clone(), 0)
    );

    // The reference for a retry to a warm container: the other event, then
    // this one, each once (the other has no finding).
    let plain = subscription_event(&[PLAIN]);
    let warm = lake_rows::TestLake::new(lake_rows::Store::Local, "warm").await;
    let warm_alerts = dir.path().join("alerts-warm.jsonl");
    let warm_config = lake_rows::file_alerts_config(dir.path(), &warm_alerts);
    let (replies, _, stderr) = run_function(
        "ingest-cloudwatch",
        vec![
            ("req-0".into(), plain.clone()),
            ("req-1".into(), event.clone()),
        ],
        Path::new(&warm.location),
        Some(&warm_config),
    );
    assert!(replies.iter().all(|r| r.kind == "response"), "{stderr}");
    let expected_warm = warm.rows().await;
    assert!(expected_warm.total() > expected.total());
    assert_eq!(
        lake_rows::alerts_once(&warm_alerts, "warm").0,
        expected_alerts
    );

    let mut killed = 0;
    for trial in 0..TRIALS {
        let lake = lake_rows::TestLake::new(lake_rows::Store::Local, "trial").await;
        let alerts = dir.path().join(format!("alerts-{trial}.jsonl"));
        let config = lake_rows::file_alerts_config(dir.path(), &alerts);
        let (addr, api) = start_api(vec![("req-1".into(), event.clone())]);
        let at = full.mul_f64(rng.f64());
        let mut child = function_with(
            addr,
            "ingest-cloudwatch",
            Path::new(&lake.location),
            Some(&config),
        );
        std::thread::sleep(at);
        child.kill().unwrap();
        child.wait().unwrap();
        let answered = api.lock().unwrap().replies.len();
        killed += usize::from(answered == 0);
        // Lambda retries an invocation that did not answer, and may deliver
        // one that did again.
        // Every other trial, to a warm container that handled another
        // event first.
        let warm_up = (trial % 2 == 1).then_some(plain.as_str());
        let (replies, _, stderr) = deliver_again(addr, &api, &event, warm_up, &lake, &config);
        let when = format!(
            "killed after {at:?}, then retried in a {} container",
            if warm_up.is_some() { "warm" } else { "new" }
        );
        assert_eq!(
            replies.last().map(|r| r.kind),
            Some("response"),
            "{when}: {stderr}"
        );
        let expected = if warm_up.is_some() {
            &expected_warm
        } else {
            &expected
        };
        lake.rows().await.assert_same(expected, &when);
        let (alerted, _) = lake_rows::alerts_once(&alerts, &when);
        assert_eq!(alerted, expected_alerts, "{when}");
    }
    eprintln!("{killed} of {TRIALS} invocations killed before they answered");
}

/// Subscription events of every family from the sample logs, and the busy
/// API with its scanners: the batches of a day of one warm function.
fn sample_events() -> Vec<String> {
    let sample = |rel: &str| std::fs::read_to_string(vigil_test_support::sample_logs(rel)).unwrap();
    let lines_of = |rel: &str| -> Vec<String> { sample(rel).lines().map(str::to_string).collect() };
    let timed = |messages: &[String]| -> Vec<(i64, String)> {
        (messages.iter().enumerate())
            .map(|(i, m)| (1_795_510_800_000 + i as i64, m.clone()))
            .collect()
    };
    let trail = |rel: &str| -> Vec<String> {
        let bytes = std::fs::read(vigil_test_support::sample_logs(rel)).unwrap();
        let text = if rel.ends_with(".gz") {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
                .unwrap();
            text
        } else {
            String::from_utf8(bytes).unwrap()
        };
        let log: Value = serde_json::from_str(&text).unwrap();
        (log["Records"].as_array().unwrap().iter())
            .map(Value::to_string)
            .collect()
    };
    let api = lines_of("apigateway/rest-api-access-prod.ndjson");
    let (api_first, api_rest) = api.split_at(api.len() / 2);
    let group = vigil_test_support::subscription_event;
    vec![
        sample("lambda/cloudwatch-subscription-orders-search.json"),
        group("/aws/apigateway/access-logs/prod", "a", &timed(api_first)),
        group(
            "aws-cloudtrail-logs-111122223333-a1b2",
            "111122223333_CloudTrail_us-east-1",
            &timed(&trail(
                "cloudtrail/111122223333_CloudTrail_us-east-1_20261124T0800Z_a1b2c3d4.json",
            )),
        ),
        sample("waf/cloudwatch-subscription-aws-waf-logs-orders-api.json"),
        busy_event(),
        group(
            "/aws/lambda/payments-charge",
            "2026/11/24/[$LATEST]c0ffee",
            &timed(&lines_of("lambda/payments-charge-json-format.ndjson")),
        ),
        group("/aws/apigateway/access-logs/prod", "b", &timed(api_rest)),
        group(
            "aws-cloudtrail-logs-111122223333-a1b2",
            "111122223333_CloudTrail_us-east-1",
            &timed(&trail(
                "cloudtrail/111122223333_CloudTrail_us-east-1_20261102T1600Z_b0b0ff1c.json",
            )),
        ),
        group(
            "aws-cloudtrail-logs-111122223333-a1b2",
            "111122223333_CloudTrail_us-east-1",
            &timed(&trail(
                "cloudtrail/111122223333_CloudTrail_us-east-1_20261124T0900Z_e5f6a7b8.json.gz",
            )),
        ),
    ]
}

/// A warm container keeps sessions, plans and rule state between
/// invocations; none of it may change what is found. The same events, one
/// cold process each or all through one warm process, leave the same lake
/// (events, dead letters, findings with their counts) and the same alerts.
#[tokio::test]
async fn streaming_rules_find_the_same_in_a_warm_container_as_in_cold_ones() {
    let dir = tempfile::tempdir().unwrap();
    let events: Vec<(String, String)> = (sample_events().into_iter().enumerate())
        .map(|(i, event)| (format!("req-{i}"), event))
        .collect();

    let cold = lake_rows::TestLake::new(lake_rows::Store::Local, "cold").await;
    let cold_alerts = dir.path().join("alerts-cold.jsonl");
    let cold_config = lake_rows::file_alerts_config(dir.path(), &cold_alerts);
    let (addr, api) = start_api(Vec::new());
    for (i, event) in events.iter().enumerate() {
        api.lock().unwrap().events.push_back(event.clone());
        let child = function_with(
            addr,
            "ingest-cloudwatch",
            Path::new(&cold.location),
            Some(&cold_config),
        );
        let (replies, _, stderr) = collect(child, &api, i + 1);
        assert_eq!(replies.len(), i + 1, "{stderr}");
        assert_eq!(replies[i].kind, "response", "{:?}", replies[i]);
    }

    let warm = lake_rows::TestLake::new(lake_rows::Store::Local, "warm").await;
    let warm_alerts = dir.path().join("alerts-warm.jsonl");
    let warm_config = lake_rows::file_alerts_config(dir.path(), &warm_alerts);
    let (replies, _, stderr) = run_function(
        "ingest-cloudwatch",
        events.clone(),
        Path::new(&warm.location),
        Some(&warm_config),
    );
    assert_eq!(replies.len(), events.len(), "{stderr}");
    assert!(replies.iter().all(|r| r.kind == "response"), "{replies:?}");

    let expected = cold.rows().await;
    for table in ["apigateway", "cloudtrail", "lambda", "waf", "findings"] {
        assert!(
            expected.0.get(table).is_some_and(|rows| !rows.is_empty()),
            "the samples fill {table}: {:?}",
            expected.0.keys()
        );
    }
    warm.rows()
        .await
        .assert_same(&expected, "one warm container");
    let (cold_alerted, _) = lake_rows::alerts_once(&cold_alerts, "cold");
    let (warm_alerted, _) = lake_rows::alerts_once(&warm_alerts, "warm");
    assert!(!cold_alerted.is_empty(), "the samples are alerted");
    assert_eq!(warm_alerted, cold_alerted);
}

/// The EMF lines of a function's standard output.
fn emf_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|doc| doc.get("_aws").is_some())
        .collect()
}

/// Each invocation reports the S3 requests it made (they are billed): on
/// an S3 lake on moto at least one PUT per object it wrote and reads of the
/// suppression state; on a local lake none.
#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn an_invocation_reports_the_s3_requests_it_made() {
    let events: Vec<(String, String)> = (sample_events().into_iter().take(5).enumerate())
        .map(|(i, event)| (format!("req-{i}"), event))
        .collect();
    let lake = lake_rows::TestLake::new(lake_rows::Store::Moto, "requests").await;
    let (replies, stdout, stderr) = run_function(
        "ingest-cloudwatch",
        events.clone(),
        Path::new(&lake.location),
        None,
    );
    assert!(replies.iter().all(|r| r.kind == "response"), "{stderr}");
    let docs = emf_lines(&stdout);
    assert_eq!(docs.len(), events.len(), "{stdout}");
    let total = |name: &str| docs.iter().map(|d| d[name].as_u64().unwrap()).sum::<u64>();
    let objects = lake.objects().await.len() as u64;
    assert!(objects > 0);
    assert!(
        total("S3Puts") >= objects,
        "{} PUTs for {objects} objects",
        total("S3Puts")
    );
    assert!(total("S3Gets") + total("S3Heads") > 0, "the state is read");
    for doc in &docs {
        assert!(
            doc["S3Puts"].as_u64().unwrap() > 0,
            "each event writes: {doc}"
        );
    }
    // The outbox is listed by a container's first invocation, then once per
    // grace (16 minutes), not by every invocation.
    for doc in &docs[1..] {
        assert_eq!(doc["S3Lists"], 0, "{doc}");
    }

    let local = tempfile::tempdir().unwrap();
    let (_, stdout, _) = run_function("ingest-cloudwatch", events.clone(), local.path(), None);
    for doc in emf_lines(&stdout) {
        for name in [
            "S3Puts",
            "S3Copies",
            "S3Lists",
            "S3Gets",
            "S3Heads",
            "S3Deletes",
        ] {
            assert_eq!(doc[name], 0, "a local lake makes no S3 request: {doc}");
        }
    }
}
