//! Scheduled runs: each scheduled rule over the windows due since its
//! checkpoint, and the `min_history` of baseline rules.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigil_ingest::{Lake, Table, HOUR_MS};
use vigil_queries::TimeRange;

use crate::error::DetectError;
use crate::finding::Finding;
use crate::rule::{Rule, Schedule};
use crate::state::State;
use crate::tables::Pushdown;
use crate::window::due_windows;

use super::passes::RuleWindow;
use super::{DetectReport, Detector, Source};

/// How many windows of a rule a scheduled run catches up at most: a day of
/// five-minute windows (older ones are reported as skipped).
pub(super) const DEFAULT_MAX_CATCH_UP: usize = 288;

/// A scheduled rule, with its schedule and the name of its checkpoint.
struct ScheduledRule<'a> {
    index: usize,
    rule: &'a Rule,
    schedule: Schedule,
    checkpoint: String,
}

/// The checkpoint of one scheduled rule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Checkpoint {
    /// End of the last window whose findings are settled, Unix ms.
    last_window_end: i64,
}

impl Detector {
    /// Runs each scheduled rule over the windows due at `now_ms` since its
    /// checkpoint, settles the findings, then moves the checkpoints on: a
    /// crash before that re-runs the same windows, and suppression keeps the
    /// re-run from counting anything twice.
    pub async fn due(
        &self,
        now_ms: i64,
        report: &mut DetectReport,
    ) -> Result<Vec<Finding>, DetectError> {
        let scheduled: Vec<ScheduledRule> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                Some(ScheduledRule {
                    index,
                    rule,
                    schedule: rule.schedule()?,
                    checkpoint: checkpoint_name(&rule.id),
                })
            })
            .collect();
        // One round trip for all the rules' checkpoints, not one per rule
        // (on S3, tens of milliseconds each).
        let lasts = futures::future::try_join_all(
            scheduled
                .iter()
                .map(|s| self.state.get::<Checkpoint>(&s.checkpoint)),
        )
        .await?;
        let mut jobs = Vec::new();
        let mut checkpoints = Vec::new();
        for (scheduled, last) in scheduled.into_iter().zip(lasts) {
            let rule = scheduled.rule;
            let (windows, skipped) = due_windows(
                &scheduled.schedule,
                last.map(|c| c.last_window_end),
                now_ms,
                self.max_catch_up,
            );
            if skipped > 0 {
                tracing::warn!(rule = %rule.id, skipped, "catch-up bounded: older windows were not run");
            }
            report.windows_skipped += skipped;
            if let Some(w) = windows.last() {
                checkpoints.push((
                    scheduled.checkpoint,
                    Checkpoint {
                        last_window_end: w.to_ms,
                    },
                ));
            }
            jobs.extend(windows.into_iter().map(|window| RuleWindow {
                rule: scheduled.index,
                window,
            }));
        }
        let candidates = self.run_jobs(jobs, now_ms, Source::Lake, report).await?;
        let findings = self.settle(candidates, now_ms, report).await?;
        futures::future::try_join_all(
            checkpoints
                .iter()
                .map(|(name, checkpoint)| self.state.put(name, checkpoint)),
        )
        .await?;
        Ok(findings)
    }

    /// Leaves out the windows of rules with a `min_history` that start less
    /// than that long after the first event of the rule's tables: a baseline
    /// of an hour that holds no data yet reads as zero, and every entity
    /// would stand out against it.
    pub(super) async fn drop_windows_without_history(
        &self,
        jobs: &mut Vec<RuleWindow>,
        source: Source<'_>,
        report: &mut DetectReport,
    ) -> Result<(), DetectError> {
        let min_history = |i: usize| -> i64 {
            self.rules[i]
                .schedule()
                .map(|s| s.min_history.as_millis().min(i64::MAX as u128) as i64)
                .unwrap_or(0)
        };
        let mut tables: Vec<Table> = jobs
            .iter()
            .filter(|job| min_history(job.rule) > 0)
            .flat_map(|job| self.rules[job.rule].tables.iter().copied())
            .collect();
        if tables.is_empty() {
            return Ok(());
        }
        tables.sort();
        tables.dedup();
        let mut first_event: BTreeMap<Table, i64> = BTreeMap::new();
        for table in tables {
            let first = match source {
                Source::Memory(t) => t.only(&[table]).span().map(|s| s.from_ms),
                Source::Lake => first_event_in_lake(self.lake()?, table).await?,
            };
            if let Some(first) = first {
                first_event.insert(table, first);
            }
        }
        let before = jobs.len();
        jobs.retain(|job| {
            let (i, window) = (job.rule, job.window);
            let needed = min_history(i);
            if needed == 0 {
                return true;
            }
            // The earliest data of any table the rule reads starts its history.
            self.rules[i]
                .tables
                .iter()
                .filter_map(|t| first_event.get(t))
                .min()
                .is_some_and(|&first| window.from_ms.saturating_sub(first) >= needed)
        });
        report.windows_without_history += before - jobs.len();
        Ok(())
    }
}

/// The time of the first event of `table` in the lake: the earliest event of
/// its first partition hour (two folder listings and one hour's files read).
async fn first_event_in_lake(lake: &Lake, table: Table) -> Result<Option<i64>, DetectError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
    use datafusion::functions_aggregate::expr_fn::min;
    use datafusion::prelude::col;
    let Some(hour) = vigil_queries::first_partition_hour(lake, table).await? else {
        return Ok(None);
    };
    let ctx = crate::tables::lake_session(Pushdown::Filters);
    vigil_queries::register_lake(&ctx, lake)?;
    let lake_err = DetectError::Lake;
    let batches = ctx
        .table(table.name())
        .await
        .map_err(lake_err)?
        .filter(TimeRange::new(hour, hour + HOUR_MS).filter())
        .and_then(|df| df.aggregate(vec![], vec![min(col("event_time")).alias("first")]))
        .map_err(lake_err)?
        .collect()
        .await
        .map_err(lake_err)?;
    for batch in batches {
        let first = arrow::compute::cast(
            batch.column(0),
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )?;
        let first = first.as_primitive::<TimestampMillisecondType>();
        if !first.is_empty() && first.is_valid(0) {
            return Ok(Some(first.value(0)));
        }
    }
    Ok(None)
}

/// The end (Unix ms) of the last window a scheduled rule has settled; none
/// before its first run.
pub async fn last_settled(state: &State, rule_id: &str) -> Result<Option<i64>, DetectError> {
    Ok(state
        .get::<Checkpoint>(&checkpoint_name(rule_id))
        .await?
        .map(|c| c.last_window_end))
}

fn checkpoint_name(rule_id: &str) -> String {
    format!("checkpoints/{rule_id}.json")
}
