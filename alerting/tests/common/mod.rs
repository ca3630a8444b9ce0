//! A real webhook receiver for the tests (axum on 127.0.0.1:0) that verifies
//! signatures, deduplicates by idempotency key, and injects faults on demand.
#![allow(dead_code)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigil_alerting::signature::{verify, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use vigil_detect::finding::Entities;
use vigil_detect::{Finding, FindingStatus, Severity};

/// What the receiver does with requests for a finding, by its rule id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    /// 500 for the first N attempts.
    ServerError(u32),
    /// 429 with `Retry-After: 1` on the first attempt.
    TooMany,
    /// Answer after this long on the first attempt (past the client timeout).
    Slow(Duration),
    /// 200 with a body that breaks off on the first attempt.
    CloseMidResponse,
    /// 400 always.
    BadRequest,
    /// 500 always.
    AlwaysFailing,
}

#[derive(Default)]
pub struct Received {
    /// Every request with a valid signature: (finding id, when).
    pub requests: Vec<(String, Instant)>,
    /// Requests per finding id.
    pub attempts: std::collections::HashMap<String, u32>,
    /// Findings processed (200 sent), once each whatever the retries.
    pub processed: BTreeSet<String>,
    pub bad_signatures: usize,
    pub bodies: Vec<serde_json::Value>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Received>>,
    pub faults: Arc<Mutex<BTreeMap<String, Fault>>>,
}

impl Receiver {
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn attempts_for(&self, finding_id: &str) -> usize {
        self.received
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|(id, _)| id == finding_id)
            .count()
    }

    pub fn heal(&self) {
        self.faults.lock().unwrap().clear();
    }
}

#[derive(Clone)]
struct AppState {
    secret: Vec<u8>,
    received: Arc<Mutex<Received>>,
    faults: Arc<Mutex<BTreeMap<String, Fault>>>,
}

async fn hook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let now = chrono::Utc::now().timestamp();
    if verify(
        &state.secret,
        &header(TIMESTAMP_HEADER),
        &body,
        &header(SIGNATURE_HEADER),
        now,
        300,
    )
    .is_err()
    {
        state.received.lock().unwrap().bad_signatures += 1;
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body(Body::empty())
            .unwrap();
    }
    let id = header(IDEMPOTENCY_HEADER);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let rule = json["finding"]["rule_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let attempt = {
        let mut r = state.received.lock().unwrap();
        r.requests.push((id.clone(), Instant::now()));
        let n = r.attempts.entry(id.clone()).or_default();
        *n += 1;
        *n
    };
    let fault = state
        .faults
        .lock()
        .unwrap()
        .get(&rule)
        .copied()
        .unwrap_or(Fault::None);
    let status = |s: StatusCode| Response::builder().status(s).body(Body::empty()).unwrap();
    match fault {
        Fault::ServerError(n) if attempt <= n => return status(StatusCode::INTERNAL_SERVER_ERROR),
        Fault::TooMany if attempt == 1 => {
            return Response::builder()
                .status(StatusCode::TOO_MANY_REQUESTS)
                .header("Retry-After", "1")
                .body(Body::empty())
                .unwrap()
        }
        Fault::Slow(d) if attempt == 1 => tokio::time::sleep(d).await,
        Fault::CloseMidResponse if attempt == 1 => {
            let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
                Ok("{\"ok\":"),
                Err(std::io::Error::other("connection closed")),
            ];
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-length", "100")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .unwrap();
        }
        Fault::BadRequest => return status(StatusCode::BAD_REQUEST),
        Fault::AlwaysFailing => return status(StatusCode::INTERNAL_SERVER_ERROR),
        _ => {}
    }
    let mut r = state.received.lock().unwrap();
    // Idempotency: a retried delivery of a finding already processed is acknowledged, not processed again.
    if r.processed.insert(id) {
        r.bodies.push(json);
    }
    status(StatusCode::OK)
}

/// A Slack incoming webhook: keeps the JSON it is sent.
async fn slack(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let json: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(j) => j,
        Err(_) => {
            return Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body(Body::empty())
                .unwrap()
        }
    };
    state.received.lock().unwrap().bodies.push(json);
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::from("ok"))
        .unwrap()
}

pub async fn start(secret: &str, faults: &[(&str, Fault)]) -> Receiver {
    let received = Arc::new(Mutex::new(Received::default()));
    let faults = Arc::new(Mutex::new(
        faults.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
    ));
    let state = AppState {
        secret: secret.as_bytes().to_vec(),
        received: received.clone(),
        faults: faults.clone(),
    };
    let app = Router::new()
        .route("/hook", post(hook))
        .route("/slack", post(slack))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver {
        addr,
        received,
        faults,
    }
}

/// A finding of `rule` (the receiver picks its fault by rule id).
pub fn finding(n: usize, rule: &str, severity: Severity) -> Finding {
    Finding {
        finding_id: format!("{n:032x}"),
        rule_id: rule.to_string(),
        title: format!("finding {n} of {rule}"),
        severity,
        status: FindingStatus::New,
        first_seen: 1_795_510_800_000 + n as i64,
        last_seen: 1_795_510_800_000 + n as i64,
        event_count: 1,
        dedup_key: format!("k{n}"),
        entities: Entities {
            actor: Some("arn:aws:iam::111122223333:user/bob".into()),
            src_ip: Some("203.0.113.66".into()),
            account_id: Some("111122223333".into()),
            region: Some("us-east-1".into()),
            resource: Some("acme-invoices".into()),
        },
        tags: vec!["attack.t1530".into()],
        window_start: 1_795_510_800_000,
        window_end: 1_795_511_400_000,
        fields: Default::default(),
        samples: vec!["{\"eventName\":\"PutBucketPolicy\"}".into()],
        detected_at: 1_795_511_400_000,
        context: Default::default(),
    }
}
