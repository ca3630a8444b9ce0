//! Load test on loopback: 10,000 findings to a local signed-webhook receiver
//! (the tests' axum server, verifying every signature) with bounded
//! concurrency. Prints throughput and latency percentiles for BENCHMARKS.md.
//!
//! `cargo bench -p vigil-alerting --bench webhook_load [-- FINDINGS]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::{AlertingConfig, Dispatcher};
use vigil_detect::Severity;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let receiver = common::start("load-secret", &[]).await;
    std::env::set_var("VIGIL_LOAD_SECRET", "load-secret");
    let dir = tempfile::tempdir().unwrap();
    let findings: Vec<_> = (0..n)
        .map(|i| common::finding(i, "load", Severity::High))
        .collect();
    println!(
        "| concurrency | findings | delivered | seconds | alerts/s | p50 ms | p99 ms | max ms |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for concurrency in [1, 16, 64] {
        receiver.received.lock().unwrap().processed.clear();
        let mut d = DestinationConfig::new("hook", DestinationKind::Webhook);
        d.url = Some(receiver.url());
        d.secret_env = Some("VIGIL_LOAD_SECRET".into());
        let config = AlertingConfig {
            max_concurrency: concurrency,
            dead_letter: dir.path().join("dead.jsonl"),
            destinations: vec![d],
            ..AlertingConfig::default()
        };
        let dispatcher = Dispatcher::new(&config).await.unwrap();
        let started = Instant::now();
        let report = dispatcher.deliver(&findings).await.unwrap();
        let took = started.elapsed();
        assert!(report.reconciles());
        assert_eq!(receiver.received.lock().unwrap().bad_signatures, 0);
        let mut lat = report.latencies.clone();
        lat.sort();
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        println!(
            "| {concurrency} | {n} | {} | {:.2} | {:.0} | {} | {} | {} |",
            report.delivered(),
            took.as_secs_f64(),
            report.delivered() as f64 / took.as_secs_f64(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.99)),
            ms(*lat.last().unwrap()),
        );
    }
}
