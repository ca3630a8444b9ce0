//! Settled findings wait in an outbox under `<lake>/_state/` until they are
//! delivered, so that a run that stops before alerting leaves them to the next.

use sha2::{Digest, Sha256};

use super::settle::write_findings;
use super::Detector;
use crate::error::DetectError;
use crate::finding::Finding;
use crate::state::StateDocument;
use crate::suppress::{Suppressor, SUPPRESSION_STATE};

impl Detector {
    /// Findings settled earlier and not yet delivered, a group per settle;
    /// with `settled_before` (Unix ms), only groups settled before then: a
    /// run that may overlap others (a Lambda function) leaves the groups of
    /// runs that may still be delivering them alone, but takes those of an
    /// earlier attempt at its own input at once (see [`Detector::for_run`]).
    ///
    /// A group the suppression state does not name was left by a settle that
    /// never committed: it is deleted, not delivered (its candidates were
    /// settled again, or will be). The findings of the others are written
    /// to the lake again (the same objects: a stop between the state and
    /// the lake write left them out of the `findings` table).
    pub async fn undelivered(
        &self,
        settled_before: Option<i64>,
    ) -> Result<Vec<OutboxGroup>, DetectError> {
        let written_before =
            |group: &StateDocument, before: Option<i64>| match (before, group.written_ms) {
                (Some(before), Some(written)) => written < before,
                _ => true,
            };
        // An earlier attempt's groups: under this run's key, written before
        // it started (what it settles itself it delivers as settled).
        let earlier_attempt = |group: &StateDocument| {
            self.run.as_ref().is_some_and(|run| {
                group.name.starts_with(&run_folder(&run.key))
                    && written_before(group, Some(run.started_ms))
            })
        };
        let groups: Vec<_> = self
            .state
            .documents(OUTBOX, None)
            .await?
            .into_iter()
            .filter(|group| written_before(group, settled_before) || earlier_attempt(group))
            .collect();
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let suppressor: Suppressor = self.state.get(SUPPRESSION_STATE).await?.unwrap_or_default();
        let mut out = Vec::new();
        for group in groups {
            if !suppressor.is_settled(&group.name, group.written_ms) {
                tracing::info!(group = %group.name, "outbox group of a settle that never committed: dropped");
                self.state.delete(&group.name).await?;
                continue;
            }
            if let Some(findings) = self.state.get::<Vec<Finding>>(&group.name).await? {
                if let Some(lake) = &self.lake {
                    write_findings(lake, &findings).await?;
                }
                out.push(OutboxGroup {
                    name: group.name,
                    findings,
                });
            }
        }
        Ok(out)
    }

    /// The groups an earlier attempt at this keyed run's input settled and
    /// may not have delivered: those the suppression state named under the
    /// run's key when this run's settle read it. It reads only those groups,
    /// where [`Detector::undelivered`] lists the whole outbox: a Lambda
    /// invocation makes this check every time and the sweep for other runs'
    /// groups only now and then (S3 bills a list as a PUT, a read at a
    /// twelfth of that). A run whose input gave no candidates has no earlier
    /// attempt's group to take (the same input gave that attempt none), and
    /// reads nothing. A group the state does not name never committed: it is
    /// left to the sweep, which drops it.
    pub async fn earlier_attempt(&self) -> Result<Vec<OutboxGroup>, DetectError> {
        let Some(run) = self.run.as_ref().filter(|_| self.outbox) else {
            return Ok(Vec::new());
        };
        let names = run
            .earlier_groups
            .lock()
            .map(|names| names.clone())
            .unwrap_or_default();
        let mut out = Vec::new();
        for name in names {
            // Gone: the attempt delivered it before it stopped.
            if let Some(findings) = self.state.get::<Vec<Finding>>(&name).await? {
                if let Some(lake) = &self.lake {
                    write_findings(lake, &findings).await?;
                }
                out.push(OutboxGroup { name, findings });
            }
        }
        Ok(out)
    }

    /// The groups `suppressor` names under this keyed run's key (none for
    /// a run without a key): see [`Detector::earlier_attempt`].
    pub(super) fn earlier_group_names(&self, suppressor: Option<&Suppressor>) -> Vec<String> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let folder = run_folder(&run.key);
        let names: std::collections::BTreeSet<&str> = suppressor
            .into_iter()
            .flat_map(Suppressor::settled_group_names)
            .filter(|name| name.starts_with(&folder))
            .collect();
        names.into_iter().map(str::to_string).collect()
    }

    /// Keeps `names` but `own` (the group this run settled) for
    /// [`Detector::earlier_attempt`].
    pub(super) fn note_earlier_groups(&self, mut names: Vec<String>, own: Option<&str>) {
        if let Some(run) = &self.run {
            names.retain(|name| Some(name.as_str()) != own);
            if let Ok(mut earlier) = run.earlier_groups.lock() {
                *earlier = names;
            }
        }
    }

    /// Takes delivered (or dead-lettered) findings out of the outbox: the
    /// groups of a backlog from [`Detector::undelivered`], and the findings
    /// just settled (as [`to_deliver`] merged them).
    pub async fn delivered(
        &self,
        backlog: &[OutboxGroup],
        settled: &[Finding],
    ) -> Result<(), DetectError> {
        if !self.outbox {
            return Ok(());
        }
        for group in backlog {
            self.state.delete(&group.name).await?;
        }
        if !settled.is_empty() {
            self.state.delete(&self.outbox_name(settled)).await?;
        }
        Ok(())
    }

    /// A group of findings' name in the outbox: `outbox/<digest>.json`, or
    /// `outbox/run-<key>/<digest>.json` for a run with a key.
    pub(super) fn outbox_name(&self, findings: &[Finding]) -> String {
        let folder = match &self.run {
            Some(run) => run_folder(&run.key),
            None => format!("{OUTBOX}/"),
        };
        format!("{folder}{}.json", digest(findings))
    }
}

/// `outbox/run-<key>/`, the groups of the runs with that key.
fn run_folder(key: &str) -> String {
    format!("{OUTBOX}/run-{key}/")
}

/// The findings one settle left in the outbox, under its name there.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxGroup {
    pub name: String,
    pub findings: Vec<Finding>,
}

/// What to deliver: the findings of a backlog (from
/// [`Detector::undelivered`]), then those just settled, each once.
pub fn to_deliver(backlog: &[OutboxGroup], settled: &[Finding]) -> Vec<Finding> {
    let mut all: Vec<Finding> = backlog
        .iter()
        .flat_map(|group| group.findings.iter().cloned())
        .collect();
    for f in settled {
        if !all.contains(f) {
            all.push(f.clone());
        }
    }
    all
}

/// Where settled findings wait for delivery (see [`Detector::with_outbox`]).
const OUTBOX: &str = "outbox";

/// A short digest of what a group of findings reports.
pub(super) fn digest(findings: &[Finding]) -> String {
    let mut h = Sha256::new();
    for f in findings {
        h.update(f.finding_id.as_bytes());
        h.update(f.status.as_str().as_bytes());
        h.update(f.event_count.to_be_bytes());
        h.update(f.last_seen.to_be_bytes());
    }
    hex::encode(&h.finalize()[..10])
}
