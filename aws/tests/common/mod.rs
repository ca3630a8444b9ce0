//! Helpers shared by the serverless tests: payloads as AWS sends them, a
//! lake's contents read back with DataFusion, and settings for a test lake.
#![allow(dead_code)]

use std::path::Path;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::AlertingConfig;
use vigil_aws::Settings;
use vigil_ingest::Lake;

pub use vigil_test_support::{checkout as repo, corpus, subscription_event};

/// Settings for a test: alerts appended to `alerts` (JSON lines).
pub fn settings(lake: &str, alerts: &Path) -> Settings {
    let mut file = DestinationConfig::new("file", DestinationKind::File);
    file.path = Some(alerts.to_path_buf());
    let alerting = AlertingConfig {
        destinations: vec![file],
        dead_letter: alerts.with_extension("dead.jsonl"),
        ..AlertingConfig::default()
    };
    Settings::new(lake.to_string(), Vec::new(), alerting)
}

/// The alerts in a JSON Lines file (none when it does not exist).
pub fn alerts_in(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A query's rows as JSON objects.
pub async fn query(lake: &Lake, sql: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let ctx = vigil_queries::hunting_session(lake, None).await.unwrap();
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    vigil_queries::output::rows(&batches).unwrap()
}

/// A query that returns one number.
pub async fn count(lake: &Lake, sql: &str) -> i64 {
    let rows = query(lake, sql).await;
    rows[0].values().next().unwrap().as_i64().unwrap()
}

/// Every object under the lake (path and size), sorted.
pub async fn objects(lake: &Lake) -> Vec<(String, u64)> {
    use futures::TryStreamExt;
    let mut list: Vec<(String, u64)> = lake
        .store()
        .list(None)
        .map_ok(|m| (m.location.to_string(), m.size))
        .try_collect()
        .await
        .unwrap();
    list.retain(|(p, _)| !p.contains("_state/") && !p.contains("_alerts/"));
    list.sort();
    list
}
