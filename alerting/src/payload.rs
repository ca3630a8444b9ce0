//! The alert body: a finding as Vigil's versioned JSON (see `docs/ALERTS.md`)
//! or, for destinations set to `format = "ocsf"`, an OCSF Detection Finding.

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

/// The hunting command that shows what happened around a finding: everything
/// its source IP (or else its principal) did from 15 minutes before to 15
/// minutes after, or else the finding itself.
pub fn hunt_hint(f: &Finding) -> String {
    let at = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let window = format!(
        "--from {} --to {}",
        at(f.first_seen - 15 * 60_000),
        at(f.last_seen + 15 * 60_000)
    );
    // Shell-safe: single quotes, with embedded ones closed and escaped.
    let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    match (&f.entities.src_ip, &f.entities.actor) {
        (Some(ip), _) => format!(
            "vigil hunt run ip_activity --param ip={} {window}",
            quote(ip)
        ),
        (None, Some(actor)) => format!(
            "vigil hunt run principal_activity --param principal={} {window}",
            quote(actor)
        ),
        (None, None) => format!(
            "vigil query \"SELECT * FROM findings WHERE finding_id = '{}'\"",
            f.finding_id
        ),
    }
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

/// What a destination sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyFormat {
    /// Vigil's versioned JSON (`vigil.finding/v1`).
    #[default]
    Vigil,
    /// An OCSF 1.1.0 Detection Finding (see [`crate::ocsf`]).
    Ocsf,
}

/// The body of an alert for `f` in `format`.
pub fn body(f: &Finding, format: BodyFormat) -> Vec<u8> {
    match format {
        BodyFormat::Vigil => finding_json(f),
        BodyFormat::Ocsf => serde_json::to_vec(&crate::ocsf::detection_finding(f))
            .expect("a finding always serializes"),
    }
}
