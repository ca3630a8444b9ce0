//! The pages' templates (HTML-escaped by default) and the stylesheet, all
//! compiled into the binary.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::Environment;
use serde_json::{json, Value};
use vigil_ingest::Lake;

use crate::auth::Caller;
use crate::error::ConsoleError;

/// The console's stylesheet (served at `/assets/style.css`, inlined in reports).
pub const STYLESHEET: &str = include_str!("../assets/style.css");

const TEMPLATES: [(&str, &str); 9] = [
    ("base.html", include_str!("../templates/base.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("overview.html", include_str!("../templates/overview.html")),
    ("findings.html", include_str!("../templates/findings.html")),
    ("finding.html", include_str!("../templates/finding.html")),
    ("hunts.html", include_str!("../templates/hunts.html")),
    ("job.html", include_str!("../templates/job.html")),
    ("rules.html", include_str!("../templates/rules.html")),
    ("message.html", include_str!("../templates/message.html")),
];

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Result<Templates, ConsoleError> {
        let mut env = Environment::new();
        // `.html` templates escape every value unless marked safe (only the
        // server-made SVG charts and the stylesheet are).
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Lenient);
        for (name, text) in TEMPLATES {
            env.add_template(name, text)
                .map_err(|source| ConsoleError::Template {
                    template: name.into(),
                    source,
                })?;
        }
        Ok(Templates { env })
    }

    /// Renders a page with what every page has (the lake, the CSRF token).
    pub fn render(
        &self,
        name: &str,
        lake: &Lake,
        caller: &Caller,
        mut context: Value,
    ) -> Result<String, ConsoleError> {
        if let Value::Object(map) = &mut context {
            map.insert("lake".into(), Value::String(lake.location().to_string()));
            map.insert("csrf".into(), Value::String(caller.csrf().to_string()));
        }
        self.render_raw(name, &context)
    }

    /// Renders a template with exactly `context`.
    pub fn render_raw(&self, name: &str, context: &Value) -> Result<String, ConsoleError> {
        let error = |source| ConsoleError::Template {
            template: name.into(),
            source,
        };
        self.env
            .get_template(name)
            .map_err(error)?
            .render(context)
            .map_err(error)
    }

    /// A short page: a heading, a message, and the sign-in form if asked.
    pub fn message(
        &self,
        lake: &Lake,
        status: StatusCode,
        heading: &str,
        message: &str,
        login_form: bool,
    ) -> Response {
        let context = json!({
            "title": heading,
            "heading": heading,
            "message": message,
            "kind": if status.is_success() { "" } else { "error" },
            "login_form": login_form,
            "lake": lake.location(),
        });
        match self.render_raw("message.html", &context) {
            Ok(page) => (status, Html(page)).into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        }
    }
}
