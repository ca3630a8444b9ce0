//! `vigil tail`: pulls a log group's events with FilterLogEvents and runs them
//! through the pipeline, for running Vigil without Lambda. The cursor lives in
//! `<lake>/_state/tail/`, so a restart resumes where the last batch ended;
//! each pass looks [`TailOptions::late`] back for events that arrived late.

use aws_sdk_cloudwatchlogs::Client;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::sync::watch;
use vigil_detect::state::State;
use vigil_ingest::SourceId;
use vigil_pipeline::{IngestRun, Pipeline, PipelineInput};

use crate::clients::aws_error;
use crate::error::AwsError;

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
    /// How far before the newest event taken to look again: events reach a
    /// log group out of time order (each stream, each Lambda instance, sends
    /// its own), so one stamped before the newest may arrive after it.
    pub late: Duration,
}

/// Where the last run stopped: the newest event time taken, and the ids
/// taken within [`TailOptions::late`] of it, so that the next run can look
/// that far back for late arrivals and skip what it took already.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Cursor {
    timestamp_ms: i64,
    /// No event before this is taken: the run's `--since`.
    #[serde(default)]
    since_ms: i64,
    /// Ids taken, by event time, from `timestamp_ms - late` on.
    #[serde(default)]
    taken: BTreeMap<i64, BTreeSet<String>>,
    /// A cursor saved before `taken`: the ids at `timestamp_ms`.
    #[serde(default, skip_serializing)]
    ids_at_timestamp: BTreeSet<String>,
}

impl Cursor {
    /// Where to start reading: `late` before the newest event taken.
    fn read_from(&self, late: Duration) -> i64 {
        let late = i64::try_from(late.as_millis()).unwrap_or(i64::MAX);
        self.timestamp_ms.saturating_sub(late).max(self.since_ms)
    }

    /// Whether an event was taken already, or is older than the cursor looks.
    fn has_taken(&self, timestamp_ms: i64, id: &str, late: Duration) -> bool {
        timestamp_ms < self.read_from(late)
            || self
                .taken
                .get(&timestamp_ms)
                .is_some_and(|ids| ids.contains(id))
    }

    /// A cursor saved before `taken`, with its ids moved there.
    fn upgraded(mut self) -> Cursor {
        let old = std::mem::take(&mut self.ids_at_timestamp);
        if !old.is_empty() {
            self.taken.entry(self.timestamp_ms).or_default().extend(old);
        }
        self
    }

    /// Notes a batch as taken, and forgets ids too old to be read again.
    fn advance(&mut self, batch: &[LogEvent], late: Duration) {
        for e in batch {
            let (Some(ts), Some(id)) = (e.timestamp(), e.event_id()) else {
                continue;
            };
            self.timestamp_ms = self.timestamp_ms.max(ts);
            self.taken.entry(ts).or_default().insert(id.to_string());
        }
        let oldest = self.read_from(late);
        self.taken = self.taken.split_off(&oldest);
    }
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
/// true), calling `progress` after each batch. Each pass reads from
/// [`TailOptions::late`] before the newest event taken, and ingests batches
/// of at most [`EVENTS_PER_BATCH`] as its pages come. A stop never
/// interrupts a batch being ingested; a batch still being gathered is left
/// to the next run (the cursor has not passed it).
pub async fn tail(
    client: &Client,
    pipeline: &Pipeline,
    options: &TailOptions,
    mut stop: watch::Receiver<bool>,
    mut progress: impl FnMut(&TailReport),
) -> Result<TailReport, AwsError> {
    let state = State::Lake(pipeline.lake().clone());
    let cursor_name = format!("tail/{}.json", cursor_file(&options.log_group));
    let mut cursor: Cursor = match state.get::<Cursor>(&cursor_name).await? {
        Some(saved) => saved.upgraded(),
        None => {
            let since = options
                .start_ms
                .unwrap_or_else(|| chrono::Utc::now().timestamp_millis());
            Cursor {
                timestamp_ms: since,
                since_ms: since,
                ..Cursor::default()
            }
        }
    };
    let mut report = TailReport::default();
    loop {
        if *stop.borrow() {
            return Ok(report);
        }
        let mut pages = client
            .filter_log_events()
            .log_group_name(&options.log_group)
            .start_time(cursor.read_from(options.late))
            .set_filter_pattern(options.filter_pattern.clone())
            .into_paginator()
            .send();
        let mut batch = Vec::new();
        loop {
            let page = pages.next().await;
            if *stop.borrow() {
                return Ok(report);
            }
            let exhausted = page.is_none();
            if let Some(page) = page {
                let page = page.map_err(|e| aws_error("FilterLogEvents", e))?;
                batch.extend(
                    page.events()
                        .iter()
                        .filter(|e| {
                            let ts = e.timestamp().unwrap_or_default();
                            !cursor.has_taken(ts, e.event_id().unwrap_or_default(), options.late)
                        })
                        .cloned(),
                );
                if batch.len() < EVENTS_PER_BATCH {
                    continue;
                }
            }
            if !batch.is_empty() {
                batch.sort_by_key(|e| e.timestamp().unwrap_or_default());
                let input = subscription_input(&options.log_group, &batch);
                let outcome = pipeline
                    .ingest(
                        vec![input],
                        IngestRun::default(),
                        chrono::Utc::now().timestamp_millis(),
                    )
                    .await?
                    .alerted()?;
                if let Some(failed) = outcome.failed_inputs.first() {
                    return Err(AwsError::Runtime(failed.error.clone()));
                }
                cursor.advance(&batch, options.late);
                state.put(&cursor_name, &cursor).await?;
                report.events += batch.len() as u64;
                report.batches += 1;
                report.parsed += outcome.ingest.parsed_total();
                report.dead_lettered += outcome.ingest.dead_lettered_total();
                report.findings += outcome.findings.len() as u64;
                report.alerts += outcome.delivery.delivered() as u64;
                progress(&report);
                batch.clear();
            }
            if exhausted {
                break;
            }
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
fn subscription_input(log_group: &str, batch: &[LogEvent]) -> PipelineInput {
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
    PipelineInput::Bytes {
        bytes,
        source: SourceId::new(log_group, &format!("tail:{log_group}:{first}:{last}")),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn event(timestamp_ms: i64, id: &str) -> LogEvent {
        LogEvent::builder()
            .timestamp(timestamp_ms)
            .event_id(id)
            .build()
    }

    #[test]
    fn the_cursor_looks_back_for_late_events_and_forgets_older_ids() {
        let late = Duration::from_millis(100);
        let mut cursor = Cursor {
            timestamp_ms: 1_000,
            since_ms: 1_000,
            ..Cursor::default()
        };
        // Never before `--since`, even within the look-back.
        assert_eq!(cursor.read_from(late), 1_000);
        assert!(cursor.has_taken(999, "x", late));
        cursor.advance(
            &[event(1_050, "a"), event(1_200, "b"), event(1_120, "c")],
            late,
        );
        assert_eq!(
            (cursor.timestamp_ms, cursor.read_from(late)),
            (1_200, 1_100)
        );
        // "a" is before the look-back: forgotten, and not read again anyway.
        let kept: Vec<i64> = cursor.taken.keys().copied().collect();
        assert_eq!(kept, vec![1_120, 1_200]);
        assert!(cursor.has_taken(1_050, "a", late));
        assert!(cursor.has_taken(1_120, "c", late));
        assert!(!cursor.has_taken(1_120, "d", late));
        assert!(!cursor.has_taken(1_150, "e", late));
    }

    #[test]
    fn a_cursor_saved_before_the_look_back_keeps_its_ids() {
        let saved: Cursor =
            serde_json::from_str(r#"{"timestamp_ms": 500, "ids_at_timestamp": ["a", "b"]}"#)
                .unwrap();
        let cursor = saved.upgraded();
        let late = Duration::from_secs(60);
        assert!(cursor.has_taken(500, "a", late) && cursor.has_taken(500, "b", late));
        assert!(!cursor.has_taken(500, "c", late));
        assert!(!cursor.has_taken(400, "a", late));
        let again: Cursor = serde_json::from_str(&serde_json::to_string(&cursor).unwrap()).unwrap();
        assert!(again.ids_at_timestamp.is_empty() && again.taken[&500].len() == 2);
    }
}
