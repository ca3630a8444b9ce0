//! What the console shows, read from the lake: findings (one per finding id,
//! folded over their updates), ingest volume, the dead-letter and the newest
//! event of each table.

use std::collections::BTreeMap;

use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vigil_detect::attack::AttackTags;
use vigil_ingest::{Lake, Table};
use vigil_queries::TimeRange;

use crate::error::ConsoleError;
use crate::triage::{EffectiveStatus, TriageRecord};

const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 24 * HOUR_MS;

/// A finding as listed: its rows in the `findings` table folded into one
/// (the first row is the alert, later ones are updates).
#[derive(Debug, Clone, Serialize)]
pub struct FindingSummary {
    pub finding_id: String,
    pub rule_id: String,
    pub title: String,
    pub severity: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub event_count: i64,
    pub dedup_key: String,
    pub entities: BTreeMap<&'static str, String>,
    pub tags: Vec<String>,
    pub window_start: i64,
    pub window_end: i64,
    /// The first and the latest detection that produced it.
    pub first_detected_at: i64,
    pub detected_at: i64,
    /// Its rows in the table (1 + updates).
    pub detections: u64,
    pub status: EffectiveStatus,
}

impl FindingSummary {
    /// Its severity's rank (critical first when sorted descending).
    pub fn severity_rank(&self) -> u8 {
        severity_rank(&self.severity)
    }

    /// Whether any entity, the title, rule or dedup key contains `text`
    /// (case-insensitive).
    pub fn mentions(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.title.to_lowercase().contains(&text)
            || self.rule_id.to_lowercase().contains(&text)
            || self.dedup_key.to_lowercase().contains(&text)
            || self
                .entities
                .values()
                .any(|v| v.to_lowercase().contains(&text))
    }
}

/// The rank of a severity name, 0 for none known.
pub fn severity_rank(severity: &str) -> u8 {
    match severity {
        "critical" => 5,
        "high" => 4,
        "medium" => 3,
        "low" => 2,
        "info" => 1,
        _ => 0,
    }
}

/// The severities, most severe first.
pub const SEVERITIES: [&str; 5] = ["critical", "high", "medium", "low", "info"];

/// The entity columns of a finding, in the order shown.
pub const ENTITY_COLUMNS: [&str; 5] = ["actor", "src_ip", "account_id", "region", "resource"];

/// One row of `findings`, as read.
#[derive(Debug, Deserialize)]
struct FindingRow {
    finding_id: String,
    rule_id: String,
    title: String,
    severity: String,
    first_seen: i64,
    last_seen: i64,
    event_count: i64,
    dedup_key: String,
    actor: Option<String>,
    src_ip: Option<String>,
    account_id: Option<String>,
    region: Option<String>,
    resource: Option<String>,
    tags: String,
    window_start: i64,
    window_end: i64,
    detected_at: i64,
}

const FINDING_COLUMNS: &str = "finding_id, rule_id, title, severity, \
    CAST(event_time AS BIGINT) AS first_seen, CAST(last_seen AS BIGINT) AS last_seen, \
    event_count, dedup_key, actor, src_ip, account_id, region, resource, tags, \
    CAST(window_start AS BIGINT) AS window_start, CAST(window_end AS BIGINT) AS window_end, \
    CAST(detected_at AS BIGINT) AS detected_at";

/// A session over the lake restricted to `range` (partitions outside it are
/// not read).
pub async fn session(lake: &Lake, range: TimeRange) -> Result<SessionContext, ConsoleError> {
    Ok(vigil_queries::hunting_session(lake, Some(range)).await?)
}

/// Runs SQL the console wrote and returns its rows as JSON objects.
async fn rows(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Vec<serde_json::Map<String, Value>>, ConsoleError> {
    let batches = ctx.sql(sql).await?.collect().await?;
    Ok(vigil_queries::output::rows(&batches)?)
}

/// The findings whose first event is in the session's range, one per id,
/// with their triage status (newest first).
pub async fn findings(
    ctx: &SessionContext,
    triage: &BTreeMap<String, TriageRecord>,
) -> Result<Vec<FindingSummary>, ConsoleError> {
    let sql = format!("SELECT {FINDING_COLUMNS} FROM findings");
    let mut by_id: BTreeMap<String, FindingSummary> = BTreeMap::new();
    for row in rows(ctx, &sql).await? {
        fold(&mut by_id, finding_row(row)?);
    }
    let mut out: Vec<FindingSummary> = by_id
        .into_values()
        .map(|mut f| {
            set_status(&mut f, triage);
            f
        })
        .collect();
    out.sort_by(|a, b| {
        b.last_seen
            .cmp(&a.last_seen)
            .then(a.finding_id.cmp(&b.finding_id))
    });
    Ok(out)
}

fn finding_row(row: serde_json::Map<String, Value>) -> Result<FindingRow, ConsoleError> {
    serde_json::from_value(Value::Object(row))
        .map_err(|e| ConsoleError::Lake(format!("a row of the findings table: {e}")))
}

/// The status its triage (none: open) gives a finding.
fn set_status(f: &mut FindingSummary, triage: &BTreeMap<String, TriageRecord>) {
    f.status = match triage.get(&f.finding_id) {
        Some(record) => record.effective(f.detected_at),
        None => TriageRecord::default().effective(f.detected_at),
    };
}

fn fold(by_id: &mut BTreeMap<String, FindingSummary>, row: FindingRow) {
    let entities: BTreeMap<&'static str, String> = ENTITY_COLUMNS
        .into_iter()
        .zip([
            row.actor,
            row.src_ip,
            row.account_id,
            row.region,
            row.resource,
        ])
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
    match by_id.get_mut(&row.finding_id) {
        Some(f) => {
            f.first_seen = f.first_seen.min(row.first_seen);
            f.last_seen = f.last_seen.max(row.last_seen);
            f.event_count = f.event_count.max(row.event_count);
            f.window_start = f.window_start.min(row.window_start);
            f.window_end = f.window_end.max(row.window_end);
            f.first_detected_at = f.first_detected_at.min(row.detected_at);
            f.detections += 1;
            if row.detected_at >= f.detected_at {
                f.detected_at = row.detected_at;
                f.title = row.title;
                f.severity = row.severity;
                for (k, v) in entities {
                    f.entities.insert(k, v);
                }
            }
        }
        None => {
            let tags = row
                .tags
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect();
            by_id.insert(
                row.finding_id.clone(),
                FindingSummary {
                    finding_id: row.finding_id,
                    rule_id: row.rule_id,
                    title: row.title,
                    severity: row.severity,
                    first_seen: row.first_seen,
                    last_seen: row.last_seen,
                    event_count: row.event_count,
                    dedup_key: row.dedup_key,
                    entities,
                    tags,
                    window_start: row.window_start,
                    window_end: row.window_end,
                    first_detected_at: row.detected_at,
                    detected_at: row.detected_at,
                    detections: 1,
                    status: TriageRecord::default().effective(row.detected_at),
                },
            );
        }
    }
}

/// A finding with what its page shows beyond the list: the columns its
/// rule returned and its redacted samples.
#[derive(Debug, Clone, Serialize)]
pub struct FindingDetail {
    pub summary: FindingSummary,
    pub fields: BTreeMap<String, Value>,
    /// Each sample pretty-printed when it is JSON.
    pub samples: Vec<String>,
    pub attack: AttackView,
    /// What the context said about it, as (label, value) rows.
    pub context: Vec<(String, String)>,
}

/// A finding's context as labelled rows for its page.
fn context_rows(context: &vigil_detect::finding::FindingContext) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if let Some(geo) = &context.src_ip {
        let place: Vec<&str> = [&geo.city, &geo.country]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !place.is_empty() {
            rows.push(("Address location".to_string(), place.join(", ")));
        }
        if let Some(network) = geo.network() {
            rows.push(("Address network".into(), network));
        }
    }
    if let Some(account) = &context.account {
        rows.push(("Account".into(), account.label()));
    }
    if let Some(owner) = &context.owner {
        let who: Vec<&str> = [&owner.owner, &owner.team]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        rows.push((
            "Owner".into(),
            if who.is_empty() {
                owner.principal.clone()
            } else {
                who.join(", ")
            },
        ));
    }
    rows
}

/// ATT&CK tactics and techniques, as shown.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttackView {
    pub tactics: Vec<String>,
    pub techniques: Vec<String>,
}

impl AttackView {
    pub fn from_tags(tags: &[String]) -> AttackView {
        let tags = AttackTags::from_tags(tags);
        AttackView {
            tactics: tags
                .tactics
                .iter()
                .map(|t| match t.id {
                    Some(id) => format!("{} ({id})", t.name),
                    None => t.name.clone(),
                })
                .collect(),
            techniques: tags
                .techniques
                .iter()
                .map(|t| match t.name {
                    Some(name) => format!("{} {name}", t.id),
                    None => t.id.clone(),
                })
                .collect(),
        }
    }
}

/// One finding by id, over the whole lake.
pub async fn finding(
    lake: &Lake,
    finding_id: &str,
    triage: &BTreeMap<String, TriageRecord>,
) -> Result<FindingDetail, ConsoleError> {
    let not_found = || {
        ConsoleError::NotFound(format!(
            "no finding {:?}",
            crate::triage::truncate(finding_id, 80)
        ))
    };
    if finding_id.is_empty() || !finding_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let ctx = vigil_queries::hunting_session(lake, None).await?;
    // Hex digits only (checked above): safe inside the literal.
    let only = format!("finding_id = '{}'", finding_id.to_ascii_lowercase());
    details(&ctx, Some(&only), triage)
        .await?
        .into_iter()
        .next()
        .ok_or_else(not_found)
}

/// The findings in the session's range with their fields and samples (those
/// `only` selects, an SQL condition the console wrote), newest first.
pub async fn details(
    ctx: &SessionContext,
    only: Option<&str>,
    triage: &BTreeMap<String, TriageRecord>,
) -> Result<Vec<FindingDetail>, ConsoleError> {
    let sql = format!(
        "SELECT {FINDING_COLUMNS}, fields, samples, context FROM findings {} ORDER BY detected_at",
        only.map(|c| format!("WHERE {c}")).unwrap_or_default()
    );
    let mut by_id = BTreeMap::new();
    let mut extras: BTreeMap<String, (BTreeMap<String, Value>, Vec<String>)> = BTreeMap::new();
    let mut contexts: BTreeMap<String, vigil_detect::finding::FindingContext> = BTreeMap::new();
    for row in rows(ctx, &sql).await? {
        let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        // The latest detection's context that knows anything.
        if let Ok(context) =
            serde_json::from_str::<vigil_detect::finding::FindingContext>(&text("context"))
        {
            if !context.is_empty() {
                contexts.insert(text("finding_id"), context);
            }
        }
        let (fields, samples) = extras.entry(text("finding_id")).or_default();
        if let Ok(Value::Object(f)) = serde_json::from_str::<Value>(&text("fields")) {
            fields.extend(f);
        }
        if let Ok(list) = serde_json::from_str::<Vec<String>>(&text("samples")) {
            for s in list {
                let shown = pretty(&s);
                if !samples.contains(&shown)
                    && samples.len() < vigil_detect::finding::MAX_SAMPLES * 2
                {
                    samples.push(shown);
                }
            }
        }
        fold(&mut by_id, finding_row(row)?);
    }
    let mut out: Vec<FindingDetail> = by_id
        .into_values()
        .map(|mut summary| {
            set_status(&mut summary, triage);
            let (fields, samples) = extras.remove(&summary.finding_id).unwrap_or_default();
            let attack = AttackView::from_tags(&summary.tags);
            let context = contexts
                .remove(&summary.finding_id)
                .map(|c| context_rows(&c))
                .unwrap_or_default();
            FindingDetail {
                summary,
                fields,
                samples,
                attack,
                context,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.summary
            .last_seen
            .cmp(&a.summary.last_seen)
            .then(a.summary.finding_id.cmp(&b.summary.finding_id))
    });
    Ok(out)
}

/// JSON pretty-printed; anything else as it is.
fn pretty(sample: &str) -> String {
    serde_json::from_str::<Value>(sample)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| sample.to_string())
}

/// The lake's health over a range: records per table per hour, the
/// dead-letter by reason, and each table's newest event.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Health {
    /// (table, hour start) → records.
    pub volume: Vec<HourVolume>,
    pub deadletter: Vec<ReasonCount>,
    pub deadletter_total: i64,
    pub newest: Vec<TableNewest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HourVolume {
    pub table: &'static str,
    pub hour: i64,
    pub records: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub records: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableNewest {
    pub table: &'static str,
    /// Unix ms of its newest event, none when the table is empty.
    pub newest: Option<i64>,
}

/// The health of the lake within `range` (the dead-letter from the session,
/// which is restricted to it); `newest` over the whole lake.
pub async fn health(
    ctx: &SessionContext,
    lake: &Lake,
    range: TimeRange,
) -> Result<Health, ConsoleError> {
    use datafusion::functions_aggregate::expr_fn::count;
    use datafusion::prelude::{col, lit};
    let mut health = Health::default();
    // Records per hour from the files' row counts: a scan with no column
    // and a filter on the partition columns alone reads only footers.
    let plain = SessionContext::new();
    vigil_queries::register_lake(&plain, lake)?;
    for table in Table::LOGS {
        let batches = plain
            .table(table.name())
            .await?
            .filter(range.partition_filter())?
            .aggregate(
                vec![col("date"), col("hour")],
                vec![count(lit(1)).alias("records")],
            )?
            .collect()
            .await?;
        for row in vigil_queries::output::rows(&batches)? {
            let date = row.get("date").and_then(Value::as_str).unwrap_or("");
            let hour = row.get("hour").and_then(Value::as_str).unwrap_or("");
            let Some(start) = partition_start(date, hour) else {
                continue;
            };
            health.volume.push(HourVolume {
                table: table.name(),
                hour: start,
                records: row.get("records").and_then(Value::as_i64).unwrap_or(0),
            });
        }
        health.newest.push(TableNewest {
            table: table.name(),
            newest: newest_event(lake, table).await?,
        });
    }
    health.volume.sort_by_key(|v| (v.hour, v.table));
    for row in rows(
        ctx,
        "SELECT reason, count(*) AS records FROM deadletter GROUP BY reason ORDER BY records DESC, reason",
    )
    .await?
    {
        let records = row.get("records").and_then(Value::as_i64).unwrap_or(0);
        health.deadletter_total += records;
        health.deadletter.push(ReasonCount {
            reason: row
                .get("reason")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            records,
        });
    }
    Ok(health)
}

fn partition_start(date: &str, hour: &str) -> Option<i64> {
    chrono::NaiveDateTime::parse_from_str(&format!("{date} {hour}:00:00"), "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// The time of a table's newest event (reads its newest hour only).
pub async fn newest_event(lake: &Lake, table: Table) -> Result<Option<i64>, ConsoleError> {
    let Some(hour) = vigil_queries::last_partition_hour(lake, table).await? else {
        return Ok(None);
    };
    let ctx =
        vigil_queries::hunting_session(lake, Some(TimeRange::new(hour, hour + HOUR_MS))).await?;
    let sql = format!(
        "SELECT CAST(max(event_time) AS BIGINT) AS newest FROM {}",
        table.name()
    );
    Ok(rows(&ctx, &sql)
        .await?
        .first()
        .and_then(|r| r.get("newest"))
        .and_then(Value::as_i64))
}

/// The newest event of any log table or finding: where the console's
/// default time range ends.
pub async fn newest_anywhere(lake: &Lake) -> Result<Option<i64>, ConsoleError> {
    let mut newest = None;
    for table in Table::LOGS.into_iter().chain([Table::Findings]) {
        if let Some(hour) = vigil_queries::last_partition_hour(lake, table).await? {
            newest = newest.max(Some(hour + HOUR_MS));
        }
    }
    Ok(newest)
}
