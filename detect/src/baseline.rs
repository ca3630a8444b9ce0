//! First-seen baselines: folding CloudTrail calls into the `first_seen` facts per principal, kept in the lake's state.

use arrow::array::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use vigil_ingest::{Lake, Table, HOUR_MS};
use vigil_queries::first_seen::{self, STATE_OBJECT};
use vigil_queries::TimeRange;

use crate::error::DetectError;
use crate::state::State;
use crate::tables::{Pushdown, Tables};

/// The most values kept per principal and kind (the most recently seen
/// stay): an address-hopping principal cannot grow the state without bound.
pub const MAX_VALUES_PER_KEY: usize = 500;

/// Facts not seen for this long (before the newest fact) are forgotten.
pub const RETENTION_DAYS: i64 = 180;

/// The hours of CloudTrail already folded in, as `[from, to)` ranges.
const FOLDED: &str = "first_seen/folded.json";

/// The facts of the successful calls in a session's `cloudtrail` table.
/// A principal is its role for an assumed role (sessions come and go), else
/// its ARN, else the actor. AWS services acting for a principal are left out.
const FACTS_SQL: &str = "
WITH calls AS (
  SELECT coalesce(user_identity_session_issuer_arn, user_identity_arn, actor) AS principal,
         event_time, src_ip, user_agent, event_source, event_name
  FROM cloudtrail
  WHERE outcome <> 'failure'
    AND coalesce(user_identity_type, '') <> 'AWSService'
    AND coalesce(user_identity_session_issuer_arn, user_identity_arn, actor) IS NOT NULL
),
facts AS (
  SELECT principal, 'principal' AS kind, '' AS value, event_time FROM calls
  UNION ALL SELECT principal, 'country', geo_country(src_ip), event_time FROM calls
  UNION ALL SELECT principal, 'asn', CAST(geo_asn(src_ip) AS VARCHAR), event_time FROM calls
  UNION ALL SELECT principal, 'src_ip', src_ip, event_time FROM calls
  UNION ALL SELECT principal, 'user_agent', left(user_agent, 512), event_time FROM calls
  UNION ALL SELECT principal, 'ua_family', ua_family(user_agent), event_time FROM calls
  UNION ALL SELECT principal, 'service', event_source, event_time FROM calls
  UNION ALL SELECT principal, 'operation', event_source || ':' || event_name, event_time FROM calls
)
SELECT principal, kind, value, min(event_time) AS first_seen, max(event_time) AS last_seen
FROM facts
WHERE value IS NOT NULL
GROUP BY principal, kind, value
";

/// Known facts and new ones as one set: earliest first, latest last, at
/// most `MAX_VALUES_PER_KEY` per principal and kind, the stale forgotten.
fn merge_sql() -> String {
    format!(
        "
WITH merged AS (
  SELECT principal, kind, value, min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM (SELECT * FROM known UNION ALL SELECT * FROM new_facts)
  GROUP BY principal, kind, value
),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY principal, kind ORDER BY last_seen DESC, value) AS rank
  FROM merged
)
SELECT principal, kind, value, first_seen, last_seen
FROM ranked
WHERE rank <= {MAX_VALUES_PER_KEY}
  AND last_seen >= (SELECT max(last_seen) FROM merged) - INTERVAL '{RETENTION_DAYS} days'
ORDER BY principal, kind, value
"
    )
}

async fn collect(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>, DetectError> {
    let batches = ctx
        .sql(sql)
        .await
        .map_err(DetectError::Lake)?
        .collect()
        .await
        .map_err(DetectError::Lake)?;
    batches
        .iter()
        .map(|b| first_seen::conform(b).map_err(DetectError::from))
        .collect()
}

fn table(batches: Vec<RecordBatch>) -> Result<Arc<MemTable>, DetectError> {
    Ok(Arc::new(
        MemTable::try_new(first_seen::schema(), vec![batches]).map_err(DetectError::Lake)?,
    ))
}

/// `known` and `new` facts merged (see [`merge_sql`]); `None` when there are none.
async fn merge(
    known: Option<RecordBatch>,
    new: Vec<RecordBatch>,
) -> Result<Option<RecordBatch>, DetectError> {
    let ctx = crate::tables::session();
    ctx.register_table("known", table(known.into_iter().collect())?)
        .map_err(DetectError::Lake)?;
    ctx.register_table("new_facts", table(new)?)
        .map_err(DetectError::Lake)?;
    let merged = collect(&ctx, &merge_sql()).await?;
    let batch = arrow::compute::concat_batches(&first_seen::schema(), &merged)?;
    Ok((batch.num_rows() > 0).then_some(batch))
}

/// The facts of rows held in memory (rule tests, `vigil detect` over
/// ingested batches): every row at once.
pub async fn from_tables(tables: &Tables) -> Result<Option<RecordBatch>, DetectError> {
    let ctx = tables.context(None)?;
    let new = collect(&ctx, FACTS_SQL).await?;
    merge(None, new).await
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Folded {
    /// `[from, to)` in Unix ms, sorted, not overlapping.
    ranges: Vec<(i64, i64)>,
}

impl Folded {
    fn contains(&self, hour: i64) -> bool {
        self.ranges
            .iter()
            .any(|&(from, to)| from <= hour && hour < to)
    }

    fn add(&mut self, hours: &BTreeSet<i64>) {
        let mut all: BTreeSet<i64> = hours.clone();
        for &(from, to) in &self.ranges {
            // Ranges are whole hours: re-expanding them is exact.
            let mut h = from;
            while h < to {
                all.insert(h);
                h += HOUR_MS;
            }
        }
        self.ranges = vigil_queries::hour_ranges(&all, TimeRange::ALL)
            .into_iter()
            .map(|r| (r.from_ms, r.to_ms))
            .collect();
    }
}

/// Folds the lake's CloudTrail hours not folded yet (up to `until_ms`) into
/// the facts in the lake's state, and returns the facts. An hour is marked
/// folded once it has ended by `until_ms`; the hour `until_ms` falls in is
/// folded again next time (first and last seen are minima and maxima, so
/// folding twice changes nothing).
pub async fn fold_lake(
    lake: &Lake,
    state: &State,
    until_ms: i64,
) -> Result<Option<RecordBatch>, DetectError> {
    let mut folded: Folded = state.get(FOLDED).await?.unwrap_or_default();
    let hours = vigil_queries::partition_hours(
        lake,
        Table::CloudTrail,
        TimeRange::new(TimeRange::ALL.from_ms, until_ms),
    )
    .await?;
    let todo: BTreeSet<i64> = hours.into_iter().filter(|&h| !folded.contains(h)).collect();
    let known = first_seen::load(lake).await?;
    if todo.is_empty() {
        return Ok(known);
    }
    let ctx = crate::tables::lake_session(Pushdown::Filters);
    vigil_queries::register_lake(&ctx, lake)?;
    let all = ctx
        .table(Table::CloudTrail.name())
        .await
        .map_err(DetectError::Lake)?;
    let mut new = Vec::new();
    for range in vigil_queries::hour_ranges(&todo, TimeRange::new(TimeRange::ALL.from_ms, until_ms))
    {
        let view = all
            .clone()
            .filter(range.filter())
            .map_err(DetectError::Lake)?;
        // The hours' rows under the table's name, in the lake's own session
        // (it knows the lake's object store); the view keeps the table it
        // was made from.
        ctx.deregister_table(Table::CloudTrail.name())
            .map_err(DetectError::Lake)?;
        ctx.register_table(Table::CloudTrail.name(), view.into_view())
            .map_err(DetectError::Lake)?;
        new.extend(collect(&ctx, FACTS_SQL).await?);
    }
    let facts = merge(known, new).await?;
    if let Some(batch) = &facts {
        let bytes = vigil_ingest::lake::encode_parquet(batch)?;
        state.put_bytes(STATE_OBJECT, bytes).await?;
    }
    let ended: BTreeSet<i64> = todo
        .into_iter()
        .filter(|&h| h + HOUR_MS <= until_ms)
        .collect();
    folded.add(&ended);
    state.put(FOLDED, &folded).await?;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_hours_merge_into_ranges() {
        let mut f = Folded::default();
        f.add(&[0, HOUR_MS, 3 * HOUR_MS].into_iter().collect());
        assert_eq!(f.ranges, [(0, 2 * HOUR_MS), (3 * HOUR_MS, 4 * HOUR_MS)]);
        f.add(&[2 * HOUR_MS].into_iter().collect());
        assert_eq!(f.ranges, [(0, 4 * HOUR_MS)]);
        assert!(f.contains(3 * HOUR_MS) && !f.contains(4 * HOUR_MS));
    }
}
