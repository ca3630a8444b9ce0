//! Runs one rule's SQL over a window and turns its result rows into candidate findings.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::{collect, ExecutionPlan};
use datafusion::prelude::SessionContext;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use vigil_queries::TimeRange;

use crate::error::DetectError;
use crate::finding::{Entities, MAX_SAMPLES};
use crate::guard;
use crate::redact::redact;
use crate::rule::Rule;

/// Result columns that name a finding's entities.
pub const ENTITY_COLUMNS: [&str; 5] = ["actor", "src_ip", "account_id", "region", "resource"];

/// Columns kept out of a finding's `fields` (too large, or carried elsewhere).
const NOT_FIELDS: [&str; 3] = ["raw", "samples", "sample_ids"];

/// What one run of a rule found for one dedup key, before suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub rule_id: String,
    pub dedup_key: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub event_count: u64,
    /// Distinct event ids behind it, when the rule returns event rows.
    pub event_ids: BTreeSet<String>,
    pub entities: Entities,
    pub fields: BTreeMap<String, Value>,
    pub samples: Vec<String>,
    /// Events to take samples from, by id, when the rule returned
    /// `sample_ids` instead of raw records: the engine reads their records
    /// afterwards (see [`crate::samples`]), so a window read can skip `raw`.
    pub sample_ids: Vec<String>,
    pub window: TimeRange,
}

/// Plans `rule` over `window` in `ctx` (whose tables hold, or are fed, the
/// window's rows): the physical plan, scans included (a fed table notes its
/// scans here, see [`crate::feed`]).
pub async fn plan(
    ctx: &SessionContext,
    rule: &Rule,
    window: TimeRange,
) -> Result<Arc<dyn ExecutionPlan>, DetectError> {
    plan_sql(ctx, rule, &rule.sql(window)).await
}

/// Plans `sql`, the rendered SQL of `rule`, in `ctx`.
pub async fn plan_sql(
    ctx: &SessionContext,
    rule: &Rule,
    sql: &str,
) -> Result<Arc<dyn ExecutionPlan>, DetectError> {
    let query = |source| DetectError::Query {
        rule: rule.id.clone(),
        source,
    };
    ctx.sql_with_options(sql, guard::sql_options())
        .await
        .map_err(query)?
        .create_physical_plan()
        .await
        .map_err(query)
}

/// Runs a plan of `rule` made by [`plan`] with `task` (its session's task
/// context, or one that carries the rows of a prepared plan).
pub async fn run(
    task: Arc<TaskContext>,
    rule: &Rule,
    window: TimeRange,
    plan: Arc<dyn ExecutionPlan>,
) -> Result<Vec<Candidate>, DetectError> {
    let batches = collect(plan, task)
        .await
        .map_err(|source| DetectError::Query {
            rule: rule.id.clone(),
            source,
        })?;
    let mut rows = Vec::new();
    for batch in &batches {
        rows.extend(batch_rows(batch)?);
    }
    Ok(candidates(rule, rows, window))
}

/// One result row: column → value, plus the time columns in ms.
#[derive(Debug, Default)]
struct Row {
    values: Map<String, Value>,
    times: BTreeMap<String, i64>,
    samples: Vec<String>,
    sample_ids: Vec<String>,
}

/// A list column's strings (a single string reads as a list of one).
fn strings(v: Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|s| s.as_str().map(String::from))
            .collect(),
        Value::String(s) => vec![s],
        _ => Vec::new(),
    }
}

fn batch_rows(batch: &RecordBatch) -> Result<Vec<Row>, DetectError> {
    let mut rows: Vec<Row> = (0..batch.num_rows()).map(|_| Row::default()).collect();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let name = field.name();
        if let DataType::Timestamp(_, _) = column.data_type() {
            let ms = cast(column, &DataType::Timestamp(TimeUnit::Millisecond, None))?;
            let ms = ms.as_primitive::<TimestampMillisecondType>();
            for (i, row) in rows.iter_mut().enumerate() {
                if ms.is_valid(i) {
                    row.times.insert(name.clone(), ms.value(i));
                }
            }
        }
        if name == "samples" || name == "sample_ids" {
            let values = vigil_queries::output::to_values(column)?;
            for (row, v) in rows.iter_mut().zip(values) {
                if name == "samples" {
                    row.samples = strings(v);
                } else {
                    row.sample_ids = strings(v);
                }
            }
            continue;
        }
        for (row, v) in rows
            .iter_mut()
            .zip(vigil_queries::output::to_values(column)?)
        {
            row.values.insert(name.clone(), v);
        }
    }
    Ok(rows)
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The dedup columns of a rule for a result: the declared ones, or the entity columns present.
fn dedup_columns(rule: &Rule, row: &Row) -> Vec<String> {
    if !rule.dedup_columns.is_empty() {
        return rule.dedup_columns.clone();
    }
    ENTITY_COLUMNS
        .iter()
        .filter(|c| row.values.contains_key(**c))
        .map(|c| c.to_string())
        .collect()
}

fn candidates(rule: &Rule, rows: Vec<Row>, window: TimeRange) -> Vec<Candidate> {
    let mut by_key: BTreeMap<String, Candidate> = BTreeMap::new();
    for row in rows {
        let columns = dedup_columns(rule, &row);
        let key = columns
            .iter()
            .map(|c| text(row.values.get(c)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("|");
        let aggregate = row.values.contains_key("event_count");
        let (first, last, count) = if aggregate {
            let count = row
                .values
                .get("event_count")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            (
                row.times
                    .get("first_seen")
                    .copied()
                    .unwrap_or(window.from_ms),
                row.times
                    .get("last_seen")
                    .copied()
                    .unwrap_or(window.to_ms - 1),
                count,
            )
        } else {
            let t = row
                .times
                .get("event_time")
                .copied()
                .unwrap_or(window.from_ms);
            (t, t, 1)
        };
        if aggregate && count == 0 {
            continue;
        }
        let event_id = (!aggregate)
            .then(|| text(row.values.get("event_id")))
            .flatten();
        let mut samples = row.samples.clone();
        if !aggregate {
            samples.extend(text(row.values.get("raw")));
        }
        let entry = by_key.entry(key.clone()).or_insert_with(|| Candidate {
            rule_id: rule.id.clone(),
            dedup_key: key,
            first_seen: first,
            last_seen: last,
            event_count: 0,
            event_ids: BTreeSet::new(),
            entities: Entities {
                actor: text(row.values.get("actor")),
                src_ip: text(row.values.get("src_ip")),
                account_id: text(row.values.get("account_id")),
                region: text(row.values.get("region")),
                resource: text(row.values.get("resource")),
            },
            fields: row
                .values
                .iter()
                .filter(|(k, _)| !NOT_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            samples: Vec::new(),
            sample_ids: Vec::new(),
            window,
        });
        entry.first_seen = entry.first_seen.min(first);
        entry.last_seen = entry.last_seen.max(last);
        match event_id {
            // A duplicate delivery of the same event counts once.
            Some(id) => {
                if !entry.event_ids.insert(id) {
                    continue;
                }
                entry.event_count += 1;
            }
            None => entry.event_count += count,
        }
        for id in &row.sample_ids {
            if entry.sample_ids.len() >= MAX_SAMPLES {
                break;
            }
            if !entry.sample_ids.contains(id) {
                entry.sample_ids.push(id.clone());
            }
        }
        for s in samples {
            if entry.samples.len() >= MAX_SAMPLES {
                break;
            }
            let s = redact(&s);
            if !entry.samples.contains(&s) {
                entry.samples.push(s);
            }
        }
    }
    by_key.into_values().collect()
}
