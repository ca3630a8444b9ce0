//! The alert body: a finding as versioned JSON (see `docs/ALERTS.md`).

use serde::Serialize;
use vigil_detect::Finding;

/// The schema name and version every alert body carries.
pub const PAYLOAD_SCHEMA: &str = "vigil.finding/v1";

#[derive(Serialize)]
struct Envelope<'a> {
    schema: &'static str,
    finding: &'a Finding,
    /// A hunting query that shows the finding's events.
    hunt: String,
}

/// A command that shows what happened around a finding.
pub fn hunt_hint(f: &Finding) -> String {
    let from = chrono::DateTime::from_timestamp_millis(f.first_seen - 15 * 60_000)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let to = chrono::DateTime::from_timestamp_millis(f.last_seen + 15 * 60_000)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    format!("vigil detect --rule {} --from {from} --to {to}", f.rule_id)
}

/// The JSON body of an alert for `f`.
pub fn finding_json(f: &Finding) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        schema: PAYLOAD_SCHEMA,
        finding: f,
        hunt: hunt_hint(f),
    })
    .expect("a finding always serializes")
}
