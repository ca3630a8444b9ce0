//! The overview: findings over time, what is open, the pipeline's health.

use std::sync::Arc;

use axum::extract::{Extension, Query, State};
use serde_json::{json, Value};
use vigil_detect::state::State as LakeState;
use vigil_ingest::Lake;
use vigil_queries::TimeRange;

use super::{html, page_range, Console, Page, RangeQuery};
use crate::auth::Caller;
use crate::data;
use crate::error::ConsoleError;
use crate::triage;
use crate::views::{self, rfc3339, time, FindingRowView};

pub(super) fn link(f: &FindingRowView, report: bool) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    v["link"] = Value::String(if report {
        format!("#f-{}", f.finding_id)
    } else {
        format!("/findings/{}", f.finding_id)
    });
    v
}

/// The overview's context (also the report's).
pub(crate) async fn overview_context(
    lake: &Lake,
    range: TimeRange,
    report: bool,
) -> Result<Value, ConsoleError> {
    let triage = triage::load_all(&LakeState::Lake(lake.clone())).await?;
    let ctx = data::session(lake, range).await?;
    let findings = data::findings(&ctx, &triage).await?;
    let health = data::health(&ctx, lake, range).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let newest: Vec<Value> = health
        .newest
        .iter()
        .map(|n| {
            json!({
                "table": n.table,
                "newest": n.newest.map(time),
                "age": n.newest.map(|t| age(now - t)),
            })
        })
        .collect();
    let rows: Vec<Value> = findings
        .iter()
        .map(|f| link(&FindingRowView::from(f), report))
        .collect();
    Ok(json!({
        "page": "overview",
        "title": "Overview",
        "from": rfc3339(range.from_ms),
        "to": rfc3339(range.to_ms),
        "open": views::open_findings(&findings),
        "total_findings": findings.len(),
        "severities": data::SEVERITIES,
        "tables": vigil_ingest::Table::LOGS.iter().map(|t| t.name()).collect::<Vec<_>>(),
        "findings_chart": views::findings_chart(&findings, range).svg(),
        "volume_chart": views::volume_chart(&health, range).svg(),
        "health": health,
        "newest": newest,
        "rows": rows,
    }))
}

fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7_199 => format!("{} min", s / 60),
        7_200..=172_799 => format!("{} h", s / 3_600),
        _ => format!("{} days", s / 86_400),
    }
}

pub(super) async fn overview(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<RangeQuery>,
) -> Page {
    let range = page_range(&c.lake, q.from.as_deref(), q.to.as_deref()).await?;
    let context = overview_context(&c.lake, range, false).await?;
    html(
        c.templates
            .render("overview.html", &c.lake, &caller, context),
    )
}
