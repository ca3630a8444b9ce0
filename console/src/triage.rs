//! Triage: a finding's status (open, acknowledged, resolved, false positive)
//! and the history of its changes, kept in the lake's state
//! (`<lake>/_state/triage/<finding_id>.json`, written conditionally).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigil_detect::state::{State, Version};

use crate::error::ConsoleError;

/// The most characters a note keeps.
pub const MAX_NOTE_CHARS: usize = 2_000;
/// The most changes a finding's history keeps (the oldest go first).
pub const MAX_HISTORY: usize = 200;
/// The most characters of who made a change.
const MAX_BY_CHARS: usize = 200;
/// Tries of a conditional write before giving up to another writer.
const WRITE_TRIES: usize = 5;

/// Where a person has put a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageStatus {
    Open,
    Acknowledged,
    Resolved,
    FalsePositive,
}

impl TriageStatus {
    pub const ALL: [TriageStatus; 4] = [
        TriageStatus::Open,
        TriageStatus::Acknowledged,
        TriageStatus::Resolved,
        TriageStatus::FalsePositive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TriageStatus::Open => "open",
            TriageStatus::Acknowledged => "acknowledged",
            TriageStatus::Resolved => "resolved",
            TriageStatus::FalsePositive => "false_positive",
        }
    }

    /// Whether the finding still needs someone (open or acknowledged).
    pub fn is_active(self) -> bool {
        matches!(self, TriageStatus::Open | TriageStatus::Acknowledged)
    }
}

impl std::fmt::Display for TriageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for TriageStatus {
    type Err = ConsoleError;
    fn from_str(s: &str) -> Result<Self, ConsoleError> {
        TriageStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_ascii_lowercase().replace([' ', '-'], "_"))
            .ok_or_else(|| {
                ConsoleError::BadRequest(format!(
                    "unknown status {s:?} (open, acknowledged, resolved, false_positive)"
                ))
            })
    }
}

/// One change of a finding's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageChange {
    pub status: TriageStatus,
    pub note: String,
    /// Who made it (the console's user, or the CLI's `--by`).
    pub by: String,
    /// When, Unix ms.
    pub at: i64,
}

/// A finding's triage document: its changes, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageRecord {
    pub history: Vec<TriageChange>,
}

/// A finding's status as shown: the last change, unless the finding fired
/// again after it was resolved (then it is open again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EffectiveStatus {
    pub status: TriageStatus,
    /// Resolved, then detected again.
    pub reopened: bool,
}

impl TriageRecord {
    /// The status given the finding's latest detection (Unix ms).
    pub fn effective(&self, last_detected_at: i64) -> EffectiveStatus {
        match self.history.last() {
            None => EffectiveStatus {
                status: TriageStatus::Open,
                reopened: false,
            },
            Some(c) if c.status == TriageStatus::Resolved && last_detected_at > c.at => {
                EffectiveStatus {
                    status: TriageStatus::Open,
                    reopened: true,
                }
            }
            Some(c) => EffectiveStatus {
                status: c.status,
                reopened: false,
            },
        }
    }
}

/// The state document of a finding: ids are checked first, since they name
/// an object in the lake.
fn document(finding_id: &str) -> Result<String, ConsoleError> {
    let valid = !finding_id.is_empty()
        && finding_id.len() <= 64
        && finding_id.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(ConsoleError::BadRequest(format!(
            "{:?} is not a finding id (hexadecimal)",
            truncate(finding_id, 80)
        )));
    }
    Ok(format!("triage/{}.json", finding_id.to_ascii_lowercase()))
}

/// A finding's triage record (empty when nobody has triaged it).
pub async fn load(state: &State, finding_id: &str) -> Result<TriageRecord, ConsoleError> {
    Ok(state.get(&document(finding_id)?).await?.unwrap_or_default())
}

/// Every triaged finding's record, by finding id.
pub async fn load_all(state: &State) -> Result<BTreeMap<String, TriageRecord>, ConsoleError> {
    use futures::{StreamExt, TryStreamExt};
    let names = state.names("triage", None).await?;
    futures::stream::iter(names.into_iter().filter_map(|name| {
        let id = name
            .strip_prefix("triage/")?
            .strip_suffix(".json")?
            .to_string();
        Some((id, name))
    }))
    .map(|(id, name)| async move {
        let record: Option<TriageRecord> = state.get(&name).await?;
        Ok::<_, ConsoleError>((id, record.unwrap_or_default()))
    })
    .buffer_unordered(16)
    .try_collect()
    .await
}

/// Adds a change to a finding's history, with a conditional write (another
/// writer's change in between is read and kept, then the write is tried again).
pub async fn set_status(
    state: &State,
    finding_id: &str,
    status: TriageStatus,
    note: &str,
    by: &str,
    at: i64,
) -> Result<TriageRecord, ConsoleError> {
    let name = document(finding_id)?;
    let change = TriageChange {
        status,
        note: truncate(note.trim(), MAX_NOTE_CHARS).to_string(),
        by: truncate(by.trim(), MAX_BY_CHARS).to_string(),
        at,
    };
    for _ in 0..WRITE_TRIES {
        let (record, version): (Option<TriageRecord>, Version) = state.get_versioned(&name).await?;
        let mut record = record.unwrap_or_default();
        record.history.push(change.clone());
        if record.history.len() > MAX_HISTORY {
            let excess = record.history.len() - MAX_HISTORY;
            record.history.drain(..excess);
        }
        if state.put_if(&name, &record, &version).await? {
            return Ok(record);
        }
    }
    Err(ConsoleError::Conflict(format!(
        "the triage of {finding_id} kept changing under this write; try again"
    )))
}

/// At most `max` characters of `s`.
pub fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn changes_are_kept_in_order_and_a_resolved_finding_reopens_when_it_fires_again() {
        let state = State::memory();
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            load(&state, id).await.unwrap().effective(5).status,
            TriageStatus::Open
        );
        set_status(&state, id, TriageStatus::Acknowledged, "looking", "ana", 10)
            .await
            .unwrap();
        let record = set_status(&state, id, TriageStatus::Resolved, "rotated", "bo", 20)
            .await
            .unwrap();
        assert_eq!(record.history.len(), 2);
        assert_eq!(record.history[0].by, "ana");
        assert_eq!(load(&state, id).await.unwrap(), record);
        let settled = record.effective(15);
        assert_eq!(
            (settled.status, settled.reopened),
            (TriageStatus::Resolved, false)
        );
        let again = record.effective(25);
        assert_eq!((again.status, again.reopened), (TriageStatus::Open, true));
        assert_eq!(load_all(&state).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn ids_that_are_not_hex_never_name_a_document() {
        let state = State::memory();
        for bad in ["../checkpoints/x", "", "abc/def", "a b"] {
            assert!(matches!(
                set_status(&state, bad, TriageStatus::Open, "", "", 0).await,
                Err(ConsoleError::BadRequest(_))
            ));
        }
    }

    #[tokio::test]
    async fn notes_and_history_are_bounded() {
        let state = State::memory();
        let id = "ab";
        let long = "x".repeat(MAX_NOTE_CHARS * 2);
        let mut record = TriageRecord::default();
        for i in 0..(MAX_HISTORY + 5) {
            record = set_status(&state, id, TriageStatus::Open, &long, "me", i as i64)
                .await
                .unwrap();
        }
        assert_eq!(record.history.len(), MAX_HISTORY);
        assert_eq!(record.history[0].at, 5);
        assert_eq!(record.history[0].note.chars().count(), MAX_NOTE_CHARS);
    }

    #[test]
    fn statuses_parse_as_people_write_them() {
        assert_eq!(
            "False positive".parse::<TriageStatus>().unwrap(),
            TriageStatus::FalsePositive
        );
        assert!("closed".parse::<TriageStatus>().is_err());
    }
}
