//! Settling: candidates folded into open findings through the suppression
//! state (retried when other writers change it), and the new and updated
//! findings written to the lake's `findings` table.

use std::collections::BTreeMap;
use std::time::Duration;
use vigil_ingest::{Lake, Table, TableBatch};

use crate::error::DetectError;
use crate::evaluate::Candidate;
use crate::finding::{findings_batch, Finding, FindingStatus};
use crate::rule::Rule;
use crate::suppress::{Decision, Suppressor, SUPPRESSION_STATE};

use super::outbox::digest;
use super::{DetectReport, Detector};

/// How many times a settle reads and folds the suppression state again when
/// other writers keep changing it, before giving up with an error.
const SETTLE_ATTEMPTS: u32 = 8;

impl Detector {
    /// Folds candidates into open findings (suppression state), writes the
    /// new and updated ones to the `findings` table, and returns them.
    pub async fn settle(
        &self,
        mut candidates: Vec<Candidate>,
        detected_at: i64,
        report: &mut DetectReport,
    ) -> Result<Vec<Finding>, DetectError> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        candidates.sort_by(|a, b| {
            (a.first_seen, &a.rule_id, &a.dedup_key).cmp(&(b.first_seen, &b.rule_id, &b.dedup_key))
        });
        // Detection may run in several places at once (ingest functions run
        // streaming rules side by side): the suppression state is written
        // back only if nobody changed it since it was read, else folded again.
        let mut attempt = 0;
        let (findings, unchanged) = loop {
            let (suppressor, version) = self.state.get_versioned(SUPPRESSION_STATE).await?;
            let earlier = self.earlier_group_names(suppressor.as_ref());
            let (mut suppressor, folded) = self.fold(
                suppressor.unwrap_or_default(),
                candidates.clone(),
                detected_at,
            );
            // In the outbox before the state says they were reported, and
            // named by that state: a stop in between leaves a group the
            // state does not name, which is never delivered, and candidates
            // the next run settles again.
            let waiting =
                (self.outbox && !folded.0.is_empty()).then(|| self.outbox_name(&folded.0));
            if let Some(name) = &waiting {
                self.state.put(name, &folded.0).await?;
                suppressor.note_settled(name, chrono::Utc::now().timestamp_millis());
            }
            if self
                .state
                .put_if(SUPPRESSION_STATE, &suppressor, &version)
                .await?
            {
                self.note_earlier_groups(earlier, waiting.as_deref());
                break folded;
            }
            // Folded against a stale state: these are not the findings to alert.
            if let Some(name) = &waiting {
                self.state.delete(name).await?;
            }
            attempt += 1;
            if attempt == SETTLE_ATTEMPTS {
                return Err(DetectError::State {
                    path: format!("_state/{SUPPRESSION_STATE}"),
                    reason: format!("changed by other writers {attempt} times in a row"),
                });
            }
            tokio::time::sleep(Duration::from_millis(20 << attempt)).await;
        };
        report.unchanged += unchanged;
        for f in &findings {
            match f.status {
                FindingStatus::New => report.new += 1,
                FindingStatus::Updated => report.updated += 1,
            }
        }
        if let Some(lake) = &self.lake {
            write_findings(lake, &findings).await?;
        }
        Ok(findings)
    }

    /// Folds sorted candidates into the suppression state: the findings to
    /// report (one per id, later updates replacing earlier ones; in order of
    /// first event) and how many candidates added nothing to an open finding.
    fn fold(
        &self,
        mut suppressor: Suppressor,
        candidates: Vec<Candidate>,
        detected_at: i64,
    ) -> (Suppressor, (Vec<Finding>, usize)) {
        let by_id: BTreeMap<&str, &Rule> = self.rules.iter().map(|r| (r.id.as_str(), r)).collect();
        let mut findings: BTreeMap<String, Finding> = BTreeMap::new();
        let mut unchanged = 0;
        for c in candidates {
            let Some(rule) = by_id.get(c.rule_id.as_str()) else {
                continue;
            };
            match suppressor.apply(rule, c, detected_at) {
                Decision::Report(f) => {
                    let f = *f;
                    match findings.get_mut(&f.finding_id) {
                        Some(existing) => {
                            let status = existing.status;
                            *existing = f;
                            existing.status = status;
                        }
                        None => {
                            findings.insert(f.finding_id.clone(), f);
                        }
                    }
                }
                Decision::Unchanged => unchanged += 1,
            }
        }
        suppressor.prune();
        let mut findings: Vec<Finding> = findings.into_values().collect();
        findings.sort_by(|a, b| {
            (a.first_seen, &a.rule_id, &a.finding_id).cmp(&(
                b.first_seen,
                &b.rule_id,
                &b.finding_id,
            ))
        });
        (suppressor, (findings, unchanged))
    }
}

/// Writes findings to the lake; the object name hashes their content, so
/// writing the same findings again replaces the same objects.
pub(super) async fn write_findings(lake: &Lake, findings: &[Finding]) -> Result<(), DetectError> {
    if findings.is_empty() {
        return Ok(());
    }
    let batch_id = format!("findings-{}", digest(findings));
    let batch = findings_batch(findings)?;
    lake.write_batch(&TableBatch {
        table: Table::Findings,
        batch_id,
        batch,
    })
    .await?;
    Ok(())
}
