//! The rules in force and their ATT&CK coverage.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Extension, State};
use serde_json::json;

use super::{html, Console, Page};
use crate::auth::Caller;
use crate::data;
use crate::error::ConsoleError;
use crate::triage;
use crate::views::{self};

pub(super) async fn rules(
    State(c): State<Arc<Console>>,
    Extension(caller): Extension<Caller>,
) -> Page {
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
