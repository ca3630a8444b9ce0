//! The console's HTTP server: routes, sign-in, security headers, and each
//! page's handler.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Extension, Form, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use vigil_detect::state::State as LakeState;
use vigil_detect::RuleSet;
use vigil_ingest::Lake;
use vigil_queries::hunts::Hunt;
use vigil_queries::output::Format;
use vigil_queries::{TimeRange, HUNTING_TABLES};

use crate::auth::{session_cookie, Auth, Caller, COOKIE};
use crate::data;
use crate::error::ConsoleError;
use crate::jobs::{Jobs, Outcome};
use crate::templates::Templates;
use crate::triage::{self, TriageStatus};
use crate::views::{self, rfc3339, time, FindingFilter, FindingRowView};

/// The rows of a job's results shown on its page (downloads have them all).
const SHOWN_ROWS: usize = 500;
/// The longest a shown cell gets, in characters.
const SHOWN_CELL_CHARS: usize = 2_000;

/// Everything the console serves from.
pub struct Console {
    pub lake: Lake,
    pub rules: RuleSet,
    pub hunts: Vec<Hunt>,
    pub auth: Auth,
    pub jobs: Jobs,
    templates: Templates,
    /// Cookies marked `Secure` (served beyond loopback).
    secure_cookies: bool,
}

impl Console {
    /// A console over `lake`; `token` from `VIGIL_CONSOLE_TOKEN` (a random
    /// one when none); `secure_cookies` when it listens beyond loopback.
    pub fn new(
        lake: Lake,
        rules: RuleSet,
        hunts: Vec<Hunt>,
        token: Option<String>,
        secure_cookies: bool,
    ) -> Result<Console, ConsoleError> {
        Ok(Console {
            lake,
            rules,
            hunts,
            auth: Auth::new(token),
            jobs: Jobs::default(),
            templates: Templates::new()?,
            secure_cookies,
        })
    }

    fn state(&self) -> LakeState {
        LakeState::Lake(self.lake.clone())
    }
}

/// The console's routes.
pub fn router(console: Arc<Console>) -> Router {
    let signed_in = Router::new()
        .route("/", get(overview))
        .route("/findings", get(findings))
        .route("/findings/{id}", get(finding))
        .route("/findings/{id}/status", post(set_status))
        .route("/hunts", get(hunts))
        .route("/hunts/run", post(run_hunt))
        .route("/jobs/{id}", get(job))
        .route("/jobs/{id}/cancel", post(cancel_job))
        .route("/jobs/{id}/results.csv", get(job_csv))
        .route("/jobs/{id}/results.json", get(job_json))
        .route("/rules", get(rules))
        .route("/logout", post(logout))
        .route_layer(middleware::from_fn_with_state(
            console.clone(),
            require_caller,
        ));
    Router::new()
        .route("/login", get(login_link).post(login_token))
        .route("/assets/style.css", get(stylesheet))
        .merge(signed_in)
        .fallback(not_found)
        .layer(middleware::from_fn(security_headers))
        .with_state(console)
}

/// Headers on every response: a strict CSP (no script at all, styles from
/// the console's own stylesheet), no framing, no sniffing, no caching.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::REFERRER_POLICY, "no-referrer");
    if !headers.contains_key(header::CACHE_CONTROL) {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// Lets a request through only from a signed-in browser or a script with
/// the token.
async fn require_caller(
    State(c): State<Arc<Console>>,
    mut request: Request,
    next: Next,
) -> Response {
    let authorization = header_text(request.headers(), header::AUTHORIZATION);
    let cookie = header_text(request.headers(), header::COOKIE);
    let caller = c.auth.caller(authorization.as_deref(), cookie.as_deref());
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        None => {
            let page = c.templates.message(
                &c.lake,
                StatusCode::UNAUTHORIZED,
                "Sign in",
                "This console needs its token.",
                true,
            );
            let mut response = page.into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"vigil\""),
            );
            response
        }
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(String::from)
}

/// An error as a page (its text escaped like any other).
struct PageError {
    status: StatusCode,
    message: String,
}

impl From<ConsoleError> for PageError {
    fn from(e: ConsoleError) -> Self {
        let status = match &e {
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::warn!(error = %e, "a console page failed");
        }
        PageError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (
            self.status,
            Html(format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error · Vigil</title>\
                 <link rel=\"stylesheet\" href=\"/assets/style.css\"></head><body><main><h1>{}</h1>\
                 <p class=\"error\">{}</p><p><a href=\"/\">Overview</a></p></main></body></html>",
                self.status,
                crate::chart::escape(&self.message)
            )),
        )
            .into_response()
    }
}

type Page = Result<Response, PageError>;

fn html(page: Result<String, ConsoleError>) -> Page {
    Ok(Html(page?).into_response())
}

fn refused(message: &str) -> PageError {
    PageError {
        status: StatusCode::FORBIDDEN,
        message: message.into(),
    }
}

async fn not_found() -> PageError {
    ConsoleError::NotFound("no such page".into()).into()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        crate::templates::STYLESHEET,
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    code: Option<String>,
}

/// The login link: its one-time code becomes a session cookie.
async fn login_link(State(c): State<Arc<Console>>, Query(q): Query<LoginQuery>) -> Response {
    if let Some(code) = q.code.as_deref() {
        if let Some(session) = c.auth.redeem_code(code) {
            return signed_in(&c, &session);
        }
        return c
            .templates
            .message(
                &c.lake,
                StatusCode::UNAUTHORIZED,
                "Sign in",
                "That login link was used already or has expired: sign in with the token.",
                true,
            )
            .into_response();
    }
    c.templates
        .message(
            &c.lake,
            StatusCode::OK,
            "Sign in",
            "This console needs its token.",
            true,
        )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    token: String,
}

async fn login_token(State(c): State<Arc<Console>>, Form(form): Form<TokenForm>) -> Response {
    if c.auth.is_token(&form.token) {
        let session = c.auth.new_session();
        return signed_in(&c, &session);
    }
    c.templates
        .message(
            &c.lake,
            StatusCode::UNAUTHORIZED,
            "Sign in",
            "That is not the token.",
            true,
        )
        .into_response()
}

fn signed_in(c: &Console, session: &str) -> Response {
    let mut response = Redirect::to("/").into_response();
    if let Ok(v) = HeaderValue::from_str(&session_cookie(session, c.secure_cookies)) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
    Form(form): Form<CsrfForm>,
) -> Page {
    if !caller.may_change(&form.csrf) {
        return Err(refused("the form's CSRF token is missing or wrong"));
    }
    if let Caller::Browser { session_id, .. } = &caller {
        c.auth.end_session(session_id);
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(expired) = HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, expired);
    }
    Ok(response)
}

/// `from`/`to` of a page: RFC 3339, a date, or a duration ago (`24h`).
#[derive(Debug, Default, Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The range a page shows: the one asked for, else the seven days up to the
/// lake's newest data.
async fn page_range(
    lake: &Lake,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<TimeRange, ConsoleError> {
    let now = chrono::Utc::now().timestamp_millis();
    let parse = |s: Option<&str>| -> Result<Option<i64>, ConsoleError> {
        match s.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => crate::time_arg(s, now).map(Some),
        }
    };
    let (from, to) = (parse(from)?, parse(to)?);
    let to = match to {
        Some(t) => t,
        None => data::newest_anywhere(lake).await?.unwrap_or(now),
    };
    let from = from.unwrap_or(to - 7 * data::DAY_MS);
    if to <= from {
        return Err(ConsoleError::BadRequest(
            "`from` must be before `to`".into(),
        ));
    }
    Ok(TimeRange::new(from, to))
}

fn link(f: &FindingRowView, report: bool) -> Value {
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

async fn overview(
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

async fn findings(
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
        "page": page.page,
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

async fn finding(
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
struct StatusForm {
    #[serde(default)]
    csrf: String,
    status: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    by: String,
}

async fn set_status(
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

async fn hunts(
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

async fn run_hunt(
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

async fn job(
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

async fn cancel_job(
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

async fn job_csv(State(c): State<Arc<Console>>, Path(id): Path<String>) -> Page {
    download(&c, &id, Format::Csv)
}

async fn job_json(State(c): State<Arc<Console>>, Path(id): Path<String>) -> Page {
    download(&c, &id, Format::Json)
}

async fn rules(State(c): State<Arc<Console>>, Extension(caller): Extension<Caller>) -> Page {
    let state = c.state();
    let triage = triage::load_all(&state).await?;
    let ctx = vigil_queries::hunting_session(&c.lake, None)
        .await
        .map_err(ConsoleError::from)?;
    let all = data::findings(&ctx, &triage).await?;
    let scheduled: Vec<&str> = c
        .rules
        .rules
        .iter()
        .filter(|r| r.schedule().is_some())
        .map(|r| r.id.as_str())
        .collect();
    let settled_each = futures::future::try_join_all(
        scheduled
            .iter()
            .map(|id| vigil_detect::engine::last_settled(&state, id)),
    )
    .await
    .map_err(ConsoleError::from)?;
    let settled: BTreeMap<String, i64> = scheduled
        .iter()
        .zip(settled_each)
        .filter_map(|(id, t)| Some((id.to_string(), t?)))
        .collect();
    let rules = views::rule_views(&c.rules, &all, &settled);
    let context = json!({
        "page": "rules",
        "title": "Rules",
        "streaming": c.rules.rules.len() - scheduled.len(),
        "scheduled": scheduled.len(),
        "rules": rules,
        "matrix": views::attack_matrix(&c.rules),
    });
    html(c.templates.render("rules.html", &c.lake, &caller, context))
}
