//! `vigil backfill`: replays log objects already in S3 (CloudTrail, WAF) into the lake,
//! in key order, resuming after the last batch a previous run finished.

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vigil_detect::engine::ModeFilter;
use vigil_detect::state::State;
use vigil_ingest::SourceId;
use vigil_pipeline::{IngestRun, Pipeline, PipelineError, PipelineInput};
use vigil_queries::TimeRange;

use crate::error::AwsError;
use crate::notifications::ObjectRef;

/// CloudTrail delivers a file up to about 15 minutes after its last event:
/// files stamped up to this long after the range may hold events in it.
const DELIVERY_SLACK_MS: i64 = 3_600_000;

#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// `s3://bucket/prefix` of a trail's objects.
    pub source: String,
    /// Event time range to replay.
    pub range: TimeRange,
    /// Objects per pipeline run (and per resume checkpoint).
    pub objects_per_batch: usize,
}

/// Progress and totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BackfillReport {
    /// Objects under the prefix whose time may fall in the range.
    pub objects_in_range: u64,
    /// Of those, already done by an earlier run.
    pub objects_resumed: u64,
    pub objects_done: u64,
    pub bytes: u64,
    pub records: u64,
    pub dead_lettered: u64,
    pub findings: u64,
    pub alerts: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    /// Every key up to this one (in key order) is in the lake.
    last_done_key: Option<String>,
}

/// Lists the objects in range, then ingests them batch by batch, saving the
/// last key done after each batch; scheduled rules then run over the range.
pub async fn backfill(
    pipeline: &Pipeline,
    options: &BackfillOptions,
    mut progress: impl FnMut(&BackfillReport),
) -> Result<BackfillReport, AwsError> {
    let (bucket, prefix) = options
        .source
        .strip_prefix("s3://")
        .map(|rest| rest.split_once('/').unwrap_or((rest, "")))
        .filter(|(bucket, _)| !bucket.is_empty())
        .ok_or_else(|| AwsError::Setting {
            name: "backfill source",
            message: format!("{}: expected s3://bucket/prefix", options.source),
        })?;
    let store = pipeline.bucket(bucket)?;
    let state = State::Lake(pipeline.lake().clone());
    let state_name = format!(
        "backfill/{}.json",
        hex::encode(
            &Sha256::digest(
                format!(
                    "{}|{}|{}",
                    options.source, options.range.from_ms, options.range.to_ms
                )
                .as_bytes()
            )[..8]
        )
    );
    let done: Progress = state.get(&state_name).await?.unwrap_or_default();

    let list_prefix = ObjectPath::from(prefix.trim_matches('/'));
    let mut objects: Vec<ObjectRef> = store
        .list(Some(&list_prefix))
        .try_filter_map(|meta| {
            let key = meta.location.to_string();
            let stamp = key_time(&key).unwrap_or(meta.last_modified.timestamp_millis());
            let wanted = stamp >= options.range.from_ms
                && stamp < options.range.to_ms.saturating_add(DELIVERY_SLACK_MS);
            futures::future::ready(Ok(wanted.then(|| ObjectRef {
                bucket: bucket.to_string(),
                key,
                etag: meta.e_tag.clone(),
                size: Some(meta.size as i64),
            })))
        })
        .try_collect()
        .await
        .map_err(|source| PipelineError::Object {
            bucket: bucket.into(),
            key: prefix.into(),
            source,
        })?;
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    let mut report = BackfillReport {
        objects_in_range: objects.len() as u64,
        ..BackfillReport::default()
    };
    if let Some(last) = &done.last_done_key {
        let resumed = objects.partition_point(|o| &o.key <= last);
        report.objects_resumed = resumed as u64;
        objects.drain(..resumed);
    }
    progress(&report);
    for chunk in objects.chunks(options.objects_per_batch.max(1)) {
        // Keyed like `ingest-s3` keys them: an object both notified and
        // backfilled lands in the lake once.
        let inputs = chunk
            .iter()
            .map(|o| PipelineInput::Object {
                store: store.clone(),
                bucket: o.bucket.clone(),
                key: o.key.clone(),
                source: SourceId::new(format!("s3://{}/{}", o.bucket, o.key), &o.identity()),
            })
            .collect();
        let outcome = pipeline
            .ingest(inputs, IngestRun::default(), Utc::now().timestamp_millis())
            .await?
            .alerted()?;
        if let Some(failed) = outcome.failed_inputs.first() {
            return Err(AwsError::Runtime(format!(
                "{}: {} (re-run to resume from here)",
                failed.name, failed.error
            )));
        }
        let last = chunk.last().map(|o| o.key.clone());
        state
            .put(
                &state_name,
                &Progress {
                    last_done_key: last,
                },
            )
            .await?;
        report.objects_done += chunk.len() as u64;
        report.bytes += chunk.iter().filter_map(|o| o.size).sum::<i64>() as u64;
        report.records += outcome.ingest.records_read;
        report.dead_lettered += outcome.ingest.dead_lettered_total();
        report.findings += outcome.findings.len() as u64;
        report.alerts += outcome.delivery.delivered() as u64;
        progress(&report);
    }
    let outcome = pipeline
        .detect_range(
            options.range,
            ModeFilter::Scheduled,
            Utc::now().timestamp_millis(),
        )
        .await?
        .alerted()?;
    report.findings += outcome.findings.len() as u64;
    report.alerts += outcome.delivery.delivered() as u64;
    Ok(report)
}

/// The time a CloudTrail or WAF key names: the file's `_YYYYMMDDTHHMMZ_` stamp, else
/// its `/YYYY/MM/DD/` folders (start of that day).
pub fn key_time(key: &str) -> Option<i64> {
    let name = key.rsplit('/').next().unwrap_or(key);
    for part in name.split('_') {
        if part.len() == 14 && part.ends_with('Z') && part.as_bytes()[8] == b'T' {
            if let Ok(t) = NaiveDateTime::parse_from_str(&part[..13], "%Y%m%dT%H%M") {
                return Some(Utc.from_utc_datetime(&t).timestamp_millis());
            }
        }
    }
    let parts: Vec<&str> = key.split('/').collect();
    parts.windows(3).rev().find_map(|w| {
        if w[0].len() != 4 || w[1].len() != 2 || w[2].len() != 2 {
            return None;
        }
        let date =
            NaiveDate::from_ymd_opt(w[0].parse().ok()?, w[1].parse().ok()?, w[2].parse().ok()?)?;
        Some(
            Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?)
                .timestamp_millis(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_and_waf_keys_name_their_time() {
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        assert_eq!(
            key_time("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/218007301253_CloudTrail_us-east-1_20230710T1220Z_WMiHxZgr5Hdd6UDc.json.gz"),
            Some(at("2023-07-10T12:20:00Z"))
        );
        assert_eq!(
            key_time("trail/AWSLogs/1/CloudTrail/eu-west-1/2024/02/29/other.json"),
            Some(at("2024-02-29T00:00:00Z"))
        );
        assert_eq!(
            key_time("AWSLogs/111122223333/WAFLogs/us-east-1/orders-api/2026/11/24/09/05/111122223333_waflogs_us-east-1_orders-api_20261124T0905Z_5c2b8e7f.log.gz"),
            Some(at("2026-11-24T09:05:00Z"))
        );
        assert_eq!(key_time("logs/readme.txt"), None);
        assert_eq!(key_time("AWSLogs/1/CloudTrail/x/2024/13/40/f.json"), None);
    }
}
