//! The findings list, a finding's page and its triage.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Extension, Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use serde_json::{json, Value};

use super::overview::link;
use super::{html, page_range, refused, Console, Page};
use crate::auth::Caller;
use crate::data;
use crate::triage::{self, TriageStatus};
use crate::views::{self, rfc3339, time, FindingFilter, FindingRowView};

pub(super) async fn findings(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Query(filter): Query<FindingFilter>,
) -> Page {
    let range = page_range(&c.lake, filter.from.as_deref(), filter.to.as_deref()).await?;
    let triage = triage::load_all(&c.state()).await?;
    let ctx = data::session(&c.lake, range).await?;
    let all = data::findings(&ctx, &triage).await?;
    let page = filter.apply(&all);
    let rows: Vec<Value> = page
        .rows
        .iter()
        .map(|f| link(&FindingRowView::from(*f), false))
        .collect();
    let mut rule_ids: Vec<&str> = c.rules.rules.iter().map(|r| r.id.as_str()).collect();
    rule_ids.sort();
    let sort_links: BTreeMap<&str, String> =
        ["severity", "rule", "first_seen", "last_seen", "event_count"]
            .into_iter()
            .map(|s| (s, filter.query(1, Some(s))))
            .collect();
    let context = json!({
        "page": "findings",
        "title": "Findings",
        "filter": filter,
        "from": rfc3339(range.from_ms),
        "to": rfc3339(range.to_ms),
        "severities": data::SEVERITIES,
        "statuses": views::statuses(),
        "rule_ids": rule_ids,
        "rows": rows,
        "total": page.total,
        "page_number": page.page,
        "pages": page.pages,
        "sort_links": sort_links,
        "prev_link": (page.page > 1).then(|| filter.query(page.page - 1, None)),
        "next_link": (page.page < page.pages).then(|| filter.query(page.page + 1, None)),
    });
    html(
        c.templates
            .render("findings.html", &c.lake, &caller, context),
    )
}

/// Links to the saved hunts about a finding's entities, over its time span.
fn hunt_links(c: &Console, d: &data::FindingDetail) -> Vec<Value> {
    let f = &d.summary;
    let access_key = ["access_key_id", "accessKeyId", "access_key"]
        .iter()
        .find_map(|k| d.fields.get(*k).and_then(Value::as_str))
        .map(String::from);
    let candidates = [
        (
            "ip_activity",
            "ip",
            f.entities.get("src_ip").cloned(),
            "Everything this IP did",
        ),
        (
            "principal_activity",
            "principal",
            f.entities.get("actor").cloned(),
            "Everything this principal did",
        ),
        (
            "leaked_access_key",
            "key",
            access_key,
            "Everything this access key did",
        ),
    ];
    let (from, to) = (rfc3339(f.first_seen), rfc3339(f.last_seen + 1_000));
    candidates
        .into_iter()
        .filter_map(|(hunt, param, value, label)| {
            let value = value?;
            let known = c
                .hunts
                .iter()
                .any(|h| h.name == hunt && h.params.iter().any(|p| p.name == param));
            if !known {
                return None;
            }
            let mut q = url::form_urlencoded::Serializer::new(String::new());
            q.append_pair("hunt", hunt)
                .append_pair(&format!("param.{param}"), &value)
                .append_pair("from", &from)
                .append_pair("to", &to);
            Some(json!({
                "href": format!("/hunts?{}", q.finish()),
                "label": format!("{label}: {}", triage::truncate(&value, 120)),
            }))
        })
        .collect()
}

pub(super) async fn finding(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Page {
    let state = c.state();
    let record = if id.bytes().all(|b| b.is_ascii_hexdigit()) && !id.is_empty() {
        triage::load(&state, &id).await?
    } else {
        Default::default()
    };
    let by_id: BTreeMap<String, _> = [(id.to_ascii_lowercase(), record.clone())].into();
    let d = data::finding(&c.lake, &id, &by_id).await?;
    let rule = c.rules.rules.iter().find(|r| r.id == d.summary.rule_id);
    let history: Vec<Value> = record
        .history
        .iter()
        .rev()
        .map(|h| json!({"at": time(h.at), "status": h.status, "by": h.by, "note": h.note}))
        .collect();
    let context = json!({
        "page": "findings",
        "title": d.summary.title,
        "first_seen": time(d.summary.first_seen),
        "last_seen": time(d.summary.last_seen),
        "first_detected": time(d.summary.first_detected_at),
        "detected": time(d.summary.detected_at),
        "rule": rule.map(|r| json!({"description": r.description, "runbook": r.runbook})),
        "hunt_links": hunt_links(&c, &d),
        "statuses": views::statuses(),
        "history": history,
        "d": d,
    });
    html(
        c.templates
            .render("finding.html", &c.lake, &caller, context),
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    by: String,
}

pub(super) async fn set_status(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<StatusForm>,
) -> Page {
    if !caller.may_change(&form.csrf) {
        return Err(refused("the form's CSRF token is missing or wrong"));
    }
    let status: TriageStatus = form.status.parse()?;
    // The finding must exist (a status is never kept for an unknown id).
    data::finding(&c.lake, &id, &BTreeMap::new()).await?;
    let by = if form.by.trim().is_empty() {
        caller.who()
    } else {
        form.by.trim()
    };
    triage::set_status(
        &c.state(),
        &id,
        status,
        &form.note,
        by,
        chrono::Utc::now().timestamp_millis(),
    )
    .await?;
    Ok(Redirect::to(&format!("/findings/{}", id.to_ascii_lowercase())).into_response())
}
