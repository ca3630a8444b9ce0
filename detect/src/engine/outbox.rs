//! Settled findings wait in an outbox under `<lake>/_state/` until they are
//! delivered, so that a run that stops before alerting leaves them to the next.

use sha2::{Digest, Sha256};

use super::Detector;
use crate::error::DetectError;
use crate::finding::Finding;

impl Detector {
    /// Findings settled earlier and not yet delivered, a group per settle;
    /// with `settled_before` (Unix ms), only groups settled before then: a
    /// run that may overlap others (a Lambda function) leaves the groups of
    /// runs that may still be delivering them alone.
    pub async fn undelivered(
        &self,
        settled_before: Option<i64>,
    ) -> Result<Vec<Vec<Finding>>, DetectError> {
        let mut out = Vec::new();
        for name in self.state.names(OUTBOX, settled_before).await? {
            if let Some(findings) = self.state.get::<Vec<Finding>>(&name).await? {
                out.push(findings);
            }
        }
        Ok(out)
    }

    /// Takes delivered (or dead-lettered) findings out of the outbox: the
    /// groups of a backlog from [`Detector::undelivered`], and the findings
    /// just settled (as [`to_deliver`] merged them).
    pub async fn delivered(
        &self,
        backlog: &[Vec<Finding>],
        settled: &[Finding],
    ) -> Result<(), DetectError> {
        if !self.outbox {
            return Ok(());
        }
        for group in backlog.iter().map(Vec::as_slice).chain([settled]) {
            if !group.is_empty() {
                self.state.delete(&outbox_name(group)).await?;
            }
        }
        Ok(())
    }
}

/// What to deliver: the findings of a backlog (from
/// [`Detector::undelivered`]), then those just settled, each once.
pub fn to_deliver(backlog: &[Vec<Finding>], settled: &[Finding]) -> Vec<Finding> {
    let mut all: Vec<Finding> = backlog.concat();
    for f in settled {
        if !all.contains(f) {
            all.push(f.clone());
        }
    }
    all
}

/// Where settled findings wait for delivery (see [`Detector::with_outbox`]).
const OUTBOX: &str = "outbox";

/// A group of findings' name in the outbox.
pub(super) fn outbox_name(findings: &[Finding]) -> String {
    format!("{OUTBOX}/{}.json", digest(findings))
}

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
