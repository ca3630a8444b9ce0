//! The console's HTTP server: routes, sign-in, security headers and errors;
//! each page's handlers are in a module of their own.

use std::sync::Arc;

use axum::extract::{Extension, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use vigil_detect::state::State as LakeState;
use vigil_detect::RuleSet;
use vigil_ingest::Lake;
use vigil_queries::hunts::Hunt;
use vigil_queries::TimeRange;

use crate::auth::{session_cookie, Auth, Caller, COOKIE};
use crate::data;
use crate::error::ConsoleError;
use crate::jobs::Jobs;
use crate::templates::Templates;

mod findings;
mod hunts;
mod overview;
mod rules;

use findings::{finding, findings, set_status};
use hunts::{cancel_job, hunts, job, job_csv, job_json, run_hunt};
use overview::overview;
pub(crate) use overview::overview_context;
use rules::rules;

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
