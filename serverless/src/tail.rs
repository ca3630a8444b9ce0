//! `vigil tail`: pulls a log group's events with FilterLogEvents and runs them
//! through the pipeline, for running Vigil without Lambda. The cursor lives in
//! `<lake>/_state/tail/`, so a restart resumes where the last batch ended.

use aws_sdk_cloudwatchlogs::Client;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::sync::watch;
use vigil_detect::state::State;
use vigil_ingest::SourceId;

use crate::aws::aws_error;
use crate::error::ServerlessError;
use crate::pipeline::{Input, Pipeline};

/// Events per pipeline run: bounds memory on a busy log group.
const EVENTS_PER_BATCH: usize = 10_000;

#[derive(Debug, Clone)]
pub struct TailOptions {
    pub log_group: String,
    pub filter_pattern: Option<String>,
    /// Where to start when there is no cursor yet (Unix ms); default: now.
    pub start_ms: Option<i64>,
    /// Keep polling; otherwise stop once caught up.
    pub follow: bool,
    pub poll_interval: Duration,
}

/// Where the last run stopped: events at `timestamp_ms` may still arrive, so
/// the next run starts there and skips the ids already taken.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    timestamp_ms: i64,
    ids_at_timestamp: BTreeSet<String>,
}

/// Totals over a tail run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TailReport {
    pub events: u64,
    pub batches: u64,
    pub parsed: u64,
    pub dead_lettered: u64,
    pub findings: u64,
    pub alerts: u64,
}

/// Pulls and ingests until caught up (or, with `follow`, until `stop` turns
/// true), calling `progress` after each batch. A stop never interrupts a batch
/// being ingested; a batch still being gathered is left to the next run (the
/// cursor has not passed it).
pub async fn tail(
    client: &Client,
    pipeline: &Pipeline,
    options: &TailOptions,
    mut stop: watch::Receiver<bool>,
    mut progress: impl FnMut(&TailReport),
) -> Result<TailReport, ServerlessError> {
    let state = State::Lake(pipeline.lake().clone());
    let cursor_name = format!("tail/{}.json", cursor_file(&options.log_group));
    let mut cursor: Cursor = match state.get(&cursor_name).await? {
        Some(c) => c,
        None => Cursor {
            timestamp_ms: options
                .start_ms
                .unwrap_or_else(|| chrono::Utc::now().timestamp_millis()),
            ..Cursor::default()
        },
    };
    let mut report = TailReport::default();
    loop {
        if *stop.borrow() {
            return Ok(report);
        }
        let mut pages = client
            .filter_log_events()
            .log_group_name(&options.log_group)
            .start_time(cursor.timestamp_ms)
            .set_filter_pattern(options.filter_pattern.clone())
            .into_paginator()
            .send();
        let mut batch = Vec::new();
        let mut exhausted = true;
        while let Some(page) = pages.next().await {
            if *stop.borrow() {
                return Ok(report);
            }
            let page = page.map_err(|e| aws_error("FilterLogEvents", e))?;
            for event in page.events() {
                let id = event.event_id().unwrap_or_default();
                let ts = event.timestamp().unwrap_or_default();
                if ts < cursor.timestamp_ms
                    || (ts == cursor.timestamp_ms && cursor.ids_at_timestamp.contains(id))
                {
                    continue;
                }
                batch.push(event.clone());
            }
            if batch.len() >= EVENTS_PER_BATCH {
                exhausted = false;
                break;
            }
        }
        if !batch.is_empty() {
            batch.sort_by_key(|e| e.timestamp().unwrap_or_default());
            let input = subscription_input(&options.log_group, &batch);
            let outcome = pipeline
                .ingest(vec![input], chrono::Utc::now().timestamp_millis())
                .await?;
            if let Some((_, reason)) = outcome.failed_inputs.first() {
                return Err(ServerlessError::Runtime(reason.clone()));
            }
            advance(&mut cursor, &batch);
            state.put(&cursor_name, &cursor).await?;
            report.events += batch.len() as u64;
            report.batches += 1;
            report.parsed += outcome.ingest.parsed_total();
            report.dead_lettered += outcome.ingest.dead_lettered_total();
            report.findings += outcome.findings.len() as u64;
            report.alerts += outcome.delivery.delivered() as u64;
            progress(&report);
        }
        if !exhausted {
            continue;
        }
        if !options.follow {
            return Ok(report);
        }
        tokio::select! {
            _ = tokio::time::sleep(options.poll_interval) => {}
            _ = stopped(&mut stop) => return Ok(report),
        }
    }
}

/// Resolves once `stop` turns true; never, if its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

type LogEvent = aws_sdk_cloudwatchlogs::types::FilteredLogEvent;

/// The batch as subscription `DATA_MESSAGE`s (one per stream), as the
/// ingest function would receive it; keyed by its first and last event ids.
fn subscription_input(log_group: &str, batch: &[LogEvent]) -> Input {
    let mut by_stream: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    for e in batch {
        by_stream
            .entry(e.log_stream_name().unwrap_or(""))
            .or_default()
            .push(json!({
                "id": e.event_id(),
                "timestamp": e.timestamp(),
                "message": e.message().unwrap_or(""),
            }));
    }
    let mut bytes = Vec::new();
    for (stream, events) in by_stream {
        let doc = json!({
            "messageType": "DATA_MESSAGE",
            "logGroup": log_group,
            "logStream": stream,
            "subscriptionFilters": ["vigil-tail"],
            "logEvents": events,
        });
        bytes.extend_from_slice(doc.to_string().as_bytes());
        bytes.push(b'\n');
    }
    let first = batch.first().and_then(|e| e.event_id()).unwrap_or("");
    let last = batch.last().and_then(|e| e.event_id()).unwrap_or("");
    Input::Bytes {
        bytes,
        source: SourceId::new(log_group, &format!("tail:{log_group}:{first}:{last}")),
    }
}

fn advance(cursor: &mut Cursor, batch: &[LogEvent]) {
    let Some(last) = batch.iter().filter_map(|e| e.timestamp()).max() else {
        return;
    };
    if last != cursor.timestamp_ms {
        cursor.timestamp_ms = last;
        cursor.ids_at_timestamp.clear();
    }
    cursor.ids_at_timestamp.extend(
        batch
            .iter()
            .filter(|e| e.timestamp() == Some(last))
            .filter_map(|e| e.event_id().map(str::to_string)),
    );
}

/// A log group name as a file name (`/aws/lambda/x` → `aws-lambda-x-<digest>`;
/// the digest keeps `a/b` and `a-b` apart).
fn cursor_file(log_group: &str) -> String {
    use sha2::{Digest, Sha256};
    let readable: String = log_group
        .trim_matches('/')
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' | '.' => c,
            _ => '-',
        })
        .collect();
    let digest = Sha256::digest(log_group.as_bytes());
    format!("{readable}-{}", hex::encode(&digest[..4]))
}
