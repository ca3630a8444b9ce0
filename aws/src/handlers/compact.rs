//! `compact-lake`: each hour's small lake files merged, on a timer.

use serde_json::Value;
use vigil_ingest::compact::{compact, CompactOptions};
use vigil_ingest::Table;

use crate::error::AwsError;
use crate::handlers::scheduled_time;
use vigil_pipeline::{Pipeline, RunReport};

const HOUR_MS: i64 = 3_600_000;

/// Hours that ended at least this long before the scheduled time: late
/// deliveries to an hour mostly arrive within it.
const SETTLED_MS: i64 = HOUR_MS;

/// How far back each run looks: a day and a half, so that a run that failed
/// or was skipped is made up by the next ones without listing the whole lake.
const LOOKBACK_MS: i64 = 36 * HOUR_MS;

/// Compacts the hours between [`LOOKBACK_MS`] and [`SETTLED_MS`] before the
/// event's scheduled time (`time`), else before `now_ms`.
pub async fn handle(
    pipeline: &Pipeline,
    payload: &str,
    now_ms: i64,
) -> Result<(Value, RunReport), AwsError> {
    let at = scheduled_time("compact-lake", payload, now_ms)?;
    let options = CompactOptions {
        tables: Table::ALL.to_vec(),
        ended_before_ms: at - SETTLED_MS,
        from_ms: Some(at - LOOKBACK_MS),
        dry_run: false,
    };
    let report = compact(pipeline.lake(), &options).await?;
    let total = |f: fn(&vigil_ingest::compact::TableCompaction) -> u64| -> u64 {
        report.tables.values().map(f).sum()
    };
    let skipped: Vec<String> = report
        .tables
        .iter()
        .flat_map(|(table, t)| {
            t.skipped
                .iter()
                .map(move |(hour, reason)| format!("{}/{hour}: {reason}", table.name()))
        })
        .collect();
    for hour in &skipped {
        tracing::warn!(hour = %hour, "left as it is");
    }
    let summary = serde_json::json!({
        "hours": total(|t| t.hours),
        "files_merged": total(|t| t.files_merged),
        "files_written": total(|t| t.files_written),
        "rows": total(|t| t.rows),
        "leftovers_deleted": total(|t| t.leftovers_deleted),
        "skipped": skipped,
    });
    Ok((summary, RunReport::default()))
}
