//! Hunts: the saved hunts' forms, SQL, and the jobs that run them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect};
use serde_json::{json, Value};
use vigil_queries::output::Format;
use vigil_queries::{TimeRange, HUNTING_TABLES};

use super::{html, refused, Console, CsrfForm, Page};
use crate::auth::Caller;
use crate::error::ConsoleError;
use crate::jobs::Outcome;
use crate::triage;

/// The rows of a job's results shown on its page (downloads have them all).
const SHOWN_ROWS: usize = 500;
/// The longest a shown cell gets, in characters.
const SHOWN_CELL_CHARS: usize = 2_000;

pub(super) async fn hunts(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<HashMap<String, String>>,
) -> Page {
    let chosen = q
        .get("hunt")
        .map(String::as_str)
        .and_then(|name| c.hunts.iter().find(|h| h.name == name))
        .map(|h| {
            let params: Vec<Value> = h
                .params
                .iter()
                .map(|p| {
                    let value = q
                        .get(&format!("param.{}", p.name))
                        .cloned()
                        .unwrap_or_else(|| p.default.clone());
                    json!({"name": p.name, "value": value, "meaning": p.meaning})
                })
                .collect();
            json!({"name": h.name, "title": h.title, "description": h.description, "params": params, "sql": h.sql})
        });
    let list: Vec<Value> = c
        .hunts
        .iter()
        .map(|h| json!({"name": h.name, "title": h.title}))
        .collect();
    let context = json!({
        "page": "hunts",
        "title": "Hunt",
        "hunts": list,
        "chosen": chosen,
        "from": q.get("from").cloned().unwrap_or_default(),
        "to": q.get("to").cloned().unwrap_or_default(),
        "sql": "SELECT source, count(*) AS events FROM events GROUP BY source",
        "tables": HUNTING_TABLES,
    });
    html(c.templates.render("hunts.html", &c.lake, &caller, context))
}

pub(super) async fn run_hunt(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<HashMap<String, String>>,
) -> Page {
    if !caller.may_change(form.get("csrf").map(String::as_str).unwrap_or("")) {
        return Err(refused("the form's CSRF token is missing or wrong"));
    }
    let field = |k: &str| form.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let now = chrono::Utc::now().timestamp_millis();
    let from = field("from").map(|s| crate::time_arg(s, now)).transpose()?;
    let to = field("to").map(|s| crate::time_arg(s, now)).transpose()?;
    let range = match (from, to) {
        (None, None) => None,
        (f, t) => {
            let r = TimeRange::new(f.unwrap_or(0), t.unwrap_or(now + 1));
            if r.is_empty() {
                return Err(ConsoleError::BadRequest("`from` must be before `to`".into()).into());
            }
            Some(r)
        }
    };
    let (title, sql) = match field("hunt") {
        Some(name) => {
            let hunt = c
                .hunts
                .iter()
                .find(|h| h.name == name)
                .ok_or_else(|| ConsoleError::NotFound(format!("no saved hunt {name:?}")))?;
            let values: BTreeMap<String, String> = form
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("param.")?.to_string(), v.clone())))
                .collect();
            (
                hunt.title.clone(),
                hunt.render(&values).map_err(ConsoleError::from)?,
            )
        }
        None => (
            "SQL".to_string(),
            field("sql")
                .ok_or_else(|| ConsoleError::BadRequest("no SQL to run".into()))?
                .to_string(),
        ),
    };
    let job = c.jobs.start(c.lake.clone(), title, sql, range)?;
    Ok(Redirect::to(&format!("/jobs/{}", job.id)).into_response())
}

fn find_job(c: &Console, id: &str) -> Result<Arc<crate::jobs::Job>, ConsoleError> {
    c.jobs.get(id).ok_or_else(|| {
        ConsoleError::NotFound("no such query (the console keeps the last 32)".into())
    })
}

fn cell(v: &Value) -> String {
    let s = match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    triage::truncate(&s, SHOWN_CELL_CHARS).to_string()
}

pub(super) async fn job(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Page {
    let job = find_job(&c, &id)?;
    let base = json!({
        "page": "hunts",
        "title": job.title,
        "job": {"id": job.id, "title": job.title, "sql": job.sql},
        "rows_so_far": job.rows(),
        "elapsed": job.elapsed().as_secs(),
    });
    let extra = match job.outcome() {
        Outcome::Running => json!({"state": "running", "refresh": 1}),
        Outcome::Failed(e) => json!({"state": "failed", "error": e}),
        Outcome::Cancelled => json!({"state": "cancelled"}),
        Outcome::Done {
            schema,
            batches,
            took,
            truncated,
        } => {
            let rows = vigil_queries::output::row_values(&batches).map_err(ConsoleError::from)?;
            let kept = rows.len();
            let shown: Vec<Vec<String>> = rows
                .iter()
                .take(SHOWN_ROWS)
                .map(|r| r.iter().map(cell).collect())
                .collect();
            json!({
                "state": "done",
                "columns": schema.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>(),
                "shown_rows": shown.len(),
                "rows": shown,
                "kept_rows": kept,
                "total_rows": job.rows(),
                "truncated": truncated,
                "took": format!("{:.2}", took.as_secs_f64()),
            })
        }
    };
    let mut context = base;
    if let (Value::Object(a), Value::Object(b)) = (&mut context, extra) {
        a.extend(b);
    }
    html(c.templates.render("job.html", &c.lake, &caller, context))
}

pub(super) async fn cancel_job(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Page {
    if !caller.may_change(&form.csrf) {
        return Err(refused("the form's CSRF token is missing or wrong"));
    }
    find_job(&c, &id)?.cancel();
    Ok(Redirect::to(&format!("/jobs/{id}")).into_response())
}

fn download(c: &Console, id: &str, format: Format) -> Page {
    let job = find_job(c, id)?;
    let Outcome::Done {
        schema, batches, ..
    } = job.outcome()
    else {
        return Err(ConsoleError::Conflict("the query has no results (yet)".into()).into());
    };
    let mut body = Vec::new();
    vigil_queries::output::write(schema, &batches, format, &mut body)
        .map_err(ConsoleError::from)?;
    let (content_type, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        _ => ("application/json", "json"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"vigil-{}.{ext}\"", job.id),
            ),
        ],
        body,
    )
        .into_response())
}

pub(super) async fn job_csv(State(c): State<Arc<Console>>, Path(id): Path<String>) -> Page {
    download(&c, &id, Format::Csv)
}

pub(super) async fn job_json(State(c): State<Arc<Console>>, Path(id): Path<String>) -> Page {
    download(&c, &id, Format::Json)
}
