//! The `Finding` type: what a rule found, with entities, samples and a deterministic id.

use arrow::array::RecordBatch;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use vigil_ingest::schema::{schema, FindingsColumns};
use vigil_ingest::Table;
use vigil_queries::TimeRange;

pub use vigil_context::FindingContext;

use crate::error::DetectError;

/// How bad a finding is, in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(format!(
                "unknown severity {s:?} (info, low, medium, high, critical)"
            )),
        }
    }
}

/// Whether a finding is news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    /// First seen: alert on it.
    New,
    /// Same rule and dedup key within the dedup period: more events, no new alert.
    Updated,
}

impl FindingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::New => "new",
            FindingStatus::Updated => "updated",
        }
    }
}

/// Who and what a finding is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
}

/// A detection: one rule, one dedup key, one stretch of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub finding_id: String,
    pub rule_id: String,
    pub title: String,
    pub severity: Severity,
    pub status: FindingStatus,
    /// First and last event, Unix ms.
    pub first_seen: i64,
    pub last_seen: i64,
    pub event_count: u64,
    pub dedup_key: String,
    pub entities: Entities,
    pub tags: Vec<String>,
    pub window_start: i64,
    pub window_end: i64,
    /// Every column the rule returned (first row of the finding).
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Up to three raw events, secrets redacted.
    pub samples: Vec<String>,
    pub detected_at: i64,
    /// Where its address is, whose account and principal it is about.
    #[serde(default, skip_serializing_if = "FindingContext::is_empty")]
    pub context: FindingContext,
}

/// The most samples a finding keeps.
pub const MAX_SAMPLES: usize = 3;

/// The deterministic id: the same rule, dedup key and dedup period always give
/// the same id, whatever the batching or how often detection is re-run.
pub fn finding_id(rule_id: &str, dedup_key: &str, first_seen: i64, period_ms: i64) -> String {
    let bucket = first_seen.div_euclid(period_ms.max(1));
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0x1f]);
    h.update(dedup_key.as_bytes());
    h.update([0x1f]);
    h.update(bucket.to_be_bytes());
    hex::encode(&h.finalize()[..16])
}

impl Finding {
    pub fn window(&self) -> TimeRange {
        TimeRange::new(self.window_start, self.window_end)
    }
}

/// Findings as a batch of the lake's `findings` table.
pub fn findings_batch(findings: &[Finding]) -> Result<RecordBatch, DetectError> {
    let mut b = FindingsColumns::with_capacity(findings.len());
    for f in findings {
        b.event_time.append_value(f.first_seen);
        b.last_seen.append_value(f.last_seen);
        b.finding_id.append_value(&f.finding_id);
        b.rule_id.append_value(&f.rule_id);
        b.title.append_value(&f.title);
        b.severity.append_value(f.severity.as_str());
        b.status.append_value(f.status.as_str());
        b.event_count.append_value(f.event_count as i64);
        b.dedup_key.append_value(&f.dedup_key);
        b.actor.append_option(f.entities.actor.as_deref());
        b.src_ip.append_option(f.entities.src_ip.as_deref());
        b.account_id.append_option(f.entities.account_id.as_deref());
        b.region.append_option(f.entities.region.as_deref());
        b.resource.append_option(f.entities.resource.as_deref());
        b.tags.append_value(f.tags.join(","));
        b.window_start.append_value(f.window_start);
        b.window_end.append_value(f.window_end);
        b.fields
            .append_value(serde_json::to_string(&f.fields).unwrap_or_default());
        b.samples
            .append_value(serde_json::to_string(&f.samples).unwrap_or_default());
        b.detected_at.append_value(f.detected_at);
        b.context
            .append_value(serde_json::to_string(&f.context).unwrap_or_default());
    }
    let mut columns = Vec::new();
    b.finish_into(&mut columns);
    Ok(RecordBatch::try_new(
        Arc::new(schema(Table::Findings).as_ref().clone()),
        columns,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_within_a_period_and_differ_across() {
        let hour = 3_600_000;
        let a = finding_id("r", "k", 10 * hour + 5, hour);
        assert_eq!(a, finding_id("r", "k", 10 * hour + 3_599_999, hour));
        assert_ne!(a, finding_id("r", "k", 11 * hour, hour));
        assert_ne!(a, finding_id("r", "k2", 10 * hour, hour));
        assert_ne!(a, finding_id("r2", "k", 10 * hour, hour));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!("HIGH".parse::<Severity>().unwrap(), Severity::High);
        assert!("urgent".parse::<Severity>().is_err());
    }
}
