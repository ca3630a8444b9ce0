//! `vigil report`: the overview and the findings of a time range as one
//! self-contained HTML file (stylesheet inlined, charts as inline SVG, no
//! script, nothing fetched when it is opened).

use serde_json::Value;
use vigil_detect::state::State;
use vigil_ingest::Lake;
use vigil_queries::TimeRange;

use crate::error::ConsoleError;
use crate::templates::{Templates, STYLESHEET};

/// The most findings a report details (the overview counts them all).
pub const MAX_DETAILED: usize = 500;

/// The report of `range` as HTML.
pub async fn render(lake: &Lake, range: TimeRange) -> Result<String, ConsoleError> {
    let mut context = crate::server::overview_context(lake, range, true).await?;
    let triage = crate::triage::load_all(&State::Lake(lake.clone())).await?;
    let ctx = crate::data::session(lake, range).await?;
    let mut details = crate::data::details(&ctx, None, &triage).await?;
    let cut = details.len() > MAX_DETAILED;
    details.truncate(MAX_DETAILED);
    if let Value::Object(map) = &mut context {
        map.insert("report".into(), Value::Bool(true));
        map.insert("title".into(), Value::String("Report".into()));
        map.insert("inline_css".into(), Value::String(STYLESHEET.into()));
        map.insert("lake".into(), Value::String(lake.location().to_string()));
        map.insert(
            "details".into(),
            serde_json::to_value(&details).unwrap_or_default(),
        );
        map.insert("details_cut".into(), Value::Bool(cut));
    }
    Templates::new()?.render_raw("overview.html", &context)
}
