//! Scores a lake's findings against `labels.jsonl`: which scenarios were
//! found (by which of their expected rules), and which findings match no
//! scenario (false positives), per rule.

use datafusion::prelude::SessionContext;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use vigil_ingest::Lake;

use crate::error::GenerateError;
use crate::scenarios::Label;

/// A finding matches a scenario whose events it overlaps within this slack
/// (windows run up to 10 minutes long and report their own span).
const SLACK_MS: i64 = 15 * 60_000;

/// One finding, as the scorer sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ScoredFinding {
    pub finding_id: String,
    pub rule_id: String,
    pub first_seen: i64,
    pub last_seen: i64,
    /// Entity values and the dedup key: what a label's entities are compared with.
    pub keys: Vec<String>,
}

/// Recall and false positives for one rule.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct RuleScore {
    /// Scenarios that expect this rule.
    pub expected: usize,
    /// Of those, the ones it reported.
    pub found: usize,
    /// Its findings that match no scenario.
    pub false_positives: usize,
    /// Its findings that match a scenario (expected or not).
    pub true_positives: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Score {
    pub scenarios: usize,
    /// Scenarios reported by at least one of their expected rules.
    pub scenarios_found: usize,
    pub findings: usize,
    pub false_positives: usize,
    pub rules: BTreeMap<String, RuleScore>,
    /// Scenarios no expected rule reported, by label id.
    pub missed: Vec<String>,
    /// Findings that match no scenario.
    pub unexplained: Vec<ScoredFinding>,
}

impl Score {
    /// Scenarios found / scenarios planted (1.0 with none planted).
    pub fn recall(&self) -> f64 {
        if self.scenarios == 0 {
            1.0
        } else {
            self.scenarios_found as f64 / self.scenarios as f64
        }
    }
}

/// Reads `labels.jsonl`.
pub fn read_labels(path: &Path) -> Result<Vec<Label>, GenerateError> {
    let text = std::fs::read_to_string(path).map_err(|e| GenerateError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| GenerateError::Read {
                path: format!("{}:{}", path.display(), i + 1),
                message: e.to_string(),
            })
        })
        .collect()
}

fn matches(f: &ScoredFinding, l: &Label) -> bool {
    let overlaps = f.first_seen <= l.end_ms + SLACK_MS && f.last_seen >= l.start_ms - SLACK_MS;
    overlaps
        && l.entities
            .iter()
            .any(|e| f.keys.iter().any(|k| k == e || k.contains(e.as_str())))
}

/// Scores `findings` against `labels`.
pub fn score_findings(labels: &[Label], findings: &[ScoredFinding]) -> Score {
    let mut score = Score {
        scenarios: labels.len(),
        findings: findings.len(),
        ..Score::default()
    };
    for l in labels {
        let mut found_by_expected = false;
        for rule in &l.expected_rules {
            let entry = score.rules.entry(rule.clone()).or_default();
            entry.expected += 1;
            if findings.iter().any(|f| &f.rule_id == rule && matches(f, l)) {
                entry.found += 1;
                found_by_expected = true;
            }
        }
        if found_by_expected {
            score.scenarios_found += 1;
        } else {
            score.missed.push(l.id.clone());
        }
    }
    for f in findings {
        let entry = score.rules.entry(f.rule_id.clone()).or_default();
        if labels.iter().any(|l| matches(f, l)) {
            entry.true_positives += 1;
        } else {
            entry.false_positives += 1;
            score.false_positives += 1;
            score.unexplained.push(f.clone());
        }
    }
    score
}

/// The lake's findings, one per finding id (its widest span over updates).
pub async fn lake_findings(lake: &Lake) -> Result<Vec<ScoredFinding>, GenerateError> {
    let ctx = SessionContext::new();
    vigil_queries::register_lake(&ctx, lake).map_err(|e| GenerateError::Query(e.to_string()))?;
    let sql = "SELECT finding_id, min(rule_id) AS rule_id, \
               CAST(min(event_time) AS BIGINT) AS first_seen, CAST(max(last_seen) AS BIGINT) AS last_seen, \
               min(coalesce(actor, '')) AS actor, min(coalesce(src_ip, '')) AS src_ip, \
               min(coalesce(resource, '')) AS resource, min(coalesce(dedup_key, '')) AS dedup_key \
               FROM findings GROUP BY finding_id ORDER BY finding_id";
    let batches = ctx
        .sql(sql)
        .await
        .map_err(|e| GenerateError::Query(e.to_string()))?
        .collect()
        .await
        .map_err(|e| GenerateError::Query(e.to_string()))?;
    let rows =
        vigil_queries::output::rows(&batches).map_err(|e| GenerateError::Query(e.to_string()))?;
    let text = |r: &serde_json::Map<String, serde_json::Value>, k: &str| {
        r.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    Ok(rows
        .iter()
        .map(|r| ScoredFinding {
            finding_id: text(r, "finding_id"),
            rule_id: text(r, "rule_id"),
            first_seen: r
                .get("first_seen")
                .and_then(|v| v.as_i64())
                .unwrap_or_default(),
            last_seen: r
                .get("last_seen")
                .and_then(|v| v.as_i64())
                .unwrap_or_default(),
            keys: ["actor", "src_ip", "resource", "dedup_key"]
                .iter()
                .map(|k| text(r, k))
                .filter(|k| !k.is_empty())
                .collect(),
        })
        .collect())
}

/// Scores the findings in `lake` against the labels in `labels`.
pub async fn score(lake: &Lake, labels: &Path) -> Result<Score, GenerateError> {
    let labels = read_labels(labels)?;
    let findings = lake_findings(lake).await?;
    Ok(score_findings(&labels, &findings))
}
