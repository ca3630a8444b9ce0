//! Suppression: the same rule and dedup key within the dedup period is one
//! finding, updated (count, last seen) instead of alerted again.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet, VecDeque};

use crate::evaluate::Candidate;
use crate::finding::{finding_id, Finding, FindingStatus};
use crate::rule::Rule;
use crate::template::render_title;

/// The state document suppression keeps.
pub const SUPPRESSION_STATE: &str = "suppression.json";

/// Event ids remembered per finding, so that a redelivered event is not counted twice.
const REMEMBERED_IDS: usize = 1000;

/// An open finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub finding_id: String,
    pub first_seen: i64,
    pub last_seen: i64,
    pub event_count: u64,
    /// Longest a finding stays open after its last event (the rule's dedup period), ms.
    pub period_ms: i64,
    #[serde(default)]
    pub event_ids: VecDeque<String>,
}

/// What suppression decided for a candidate.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A finding to report (new, or updated with more events).
    Report(Box<Finding>),
    /// Nothing new: the same events were seen already.
    Unchanged,
}

/// Ids of findings reported as new, remembered after pruning, so that a
/// replay of old events (a Lambda retry, a backfill) does not alert again.
const REMEMBERED_FINDINGS: usize = 10_000;

/// Outbox groups remembered as settled (see [`SettledGroups`]).
const REMEMBERED_GROUPS: usize = 1000;

/// Open findings by rule and dedup key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppressor {
    entries: BTreeMap<String, Entry>,
    #[serde(default)]
    reported: VecDeque<String>,
    /// `None` in a state written before groups were recorded: every group
    /// in the outbox then counts as settled.
    #[serde(default)]
    settled_groups: Option<SettledGroups>,
}

impl Default for Suppressor {
    fn default() -> Self {
        Suppressor {
            entries: BTreeMap::new(),
            reported: VecDeque::new(),
            settled_groups: Some(SettledGroups::default()),
        }
    }
}

/// The outbox groups whose settle committed (wrote the state that reports
/// them), newest last. A settle writes its group to the outbox before the
/// state, so that a stop between the two loses nothing; a group that the
/// state does not name was left by a settle that never committed (it
/// stopped, or lost a race and folded again), and must not be delivered: the
/// run that settles those candidates again alerts them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SettledGroups {
    names: VecDeque<String>,
    /// When the oldest name was forgotten (Unix ms, wall clock): a group
    /// written before then may have been settled, and counts as such.
    forgotten_before_ms: Option<i64>,
}

impl Suppressor {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Notes that the outbox group `name` is settled with this state.
    pub fn note_settled(&mut self, name: &str, now_ms: i64) {
        let groups = self
            .settled_groups
            .get_or_insert_with(SettledGroups::default);
        groups.names.push_back(name.to_string());
        while groups.names.len() > REMEMBERED_GROUPS {
            groups.names.pop_front();
            groups.forgotten_before_ms = Some(now_ms);
        }
    }

    /// The outbox groups this state names as settled (none in a state
    /// written before groups were recorded).
    pub fn settled_group_names(&self) -> impl Iterator<Item = &str> {
        self.settled_groups
            .iter()
            .flat_map(|groups| groups.names.iter().map(String::as_str))
    }

    /// Whether the outbox group `name`, written at `written_ms` when known,
    /// was settled with this state (or may have been: see [`SettledGroups`]).
    pub fn is_settled(&self, name: &str, written_ms: Option<i64>) -> bool {
        let Some(groups) = &self.settled_groups else {
            return true;
        };
        groups.names.iter().any(|n| n == name)
            || matches!(
                (groups.forgotten_before_ms, written_ms),
                (Some(forgotten), Some(written)) if written < forgotten
            )
    }

    /// Folds a candidate into the open findings.
    pub fn apply(&mut self, rule: &Rule, c: Candidate, detected_at: i64) -> Decision {
        let key = format!("{}\u{1f}{}", rule.id, c.dedup_key);
        let period = rule.dedup_period.as_millis().min(i64::MAX as u128) as i64;
        let open = self.entries.get(&key).is_some_and(|e| {
            c.first_seen <= e.last_seen.saturating_add(period)
                && c.last_seen >= e.first_seen.saturating_sub(period)
        });
        let status = if open {
            let e = self.entries.get_mut(&key).expect("checked above");
            let before = (e.event_count, e.last_seen, e.first_seen);
            if c.event_ids.is_empty() {
                // Threshold rules report a count per window; windows overlap, so
                // the finding keeps the largest count any one window saw.
                e.event_count = e.event_count.max(c.event_count);
            } else {
                // A set beside the remembered ids: a candidate of many
                // events would otherwise scan them all for each one.
                let mut remembered: HashSet<String> = e.event_ids.iter().cloned().collect();
                for id in &c.event_ids {
                    if remembered.insert(id.clone()) {
                        e.event_count += 1;
                        e.event_ids.push_back(id.clone());
                        if e.event_ids.len() > REMEMBERED_IDS {
                            if let Some(forgotten) = e.event_ids.pop_front() {
                                remembered.remove(&forgotten);
                            }
                        }
                    }
                }
            }
            e.first_seen = e.first_seen.min(c.first_seen);
            e.last_seen = e.last_seen.max(c.last_seen);
            if (e.event_count, e.last_seen, e.first_seen) == before {
                return Decision::Unchanged;
            }
            FindingStatus::Updated
        } else {
            let id = finding_id(&rule.id, &c.dedup_key, c.first_seen, period);
            if self.reported.contains(&id) {
                return Decision::Unchanged;
            }
            self.reported.push_back(id.clone());
            if self.reported.len() > REMEMBERED_FINDINGS {
                self.reported.pop_front();
            }
            let mut ids: VecDeque<String> = c.event_ids.iter().cloned().collect();
            while ids.len() > REMEMBERED_IDS {
                ids.pop_front();
            }
            self.entries.insert(
                key.clone(),
                Entry {
                    finding_id: id,
                    first_seen: c.first_seen,
                    last_seen: c.last_seen,
                    event_count: c.event_count,
                    period_ms: period,
                    event_ids: ids,
                },
            );
            FindingStatus::New
        };
        let e = &self.entries[&key];
        let mut fields = c.fields;
        // The finding's count is the open finding's, over every window it
        // spans: the field must say what the title says.
        if fields.contains_key("event_count") {
            fields.insert("event_count".into(), e.event_count.into());
        }
        let severity = fields
            .get("severity")
            .and_then(serde_json::Value::as_str)
            .and_then(|s| s.parse().ok())
            .unwrap_or(rule.severity);
        let title = render_title(&rule.title, |col| {
            if col == "event_count" {
                return Some(e.event_count.to_string());
            }
            fields.get(col).and_then(|v| match v {
                serde_json::Value::Null => None,
                serde_json::Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            })
        });
        let context = vigil_context::current().finding_context(
            c.entities.src_ip.as_deref(),
            c.entities.account_id.as_deref(),
            c.entities.actor.as_deref(),
        );
        Decision::Report(Box::new(Finding {
            context,
            finding_id: e.finding_id.clone(),
            rule_id: rule.id.clone(),
            title,
            severity,
            status,
            first_seen: e.first_seen,
            last_seen: e.last_seen,
            event_count: e.event_count,
            dedup_key: c.dedup_key,
            entities: c.entities,
            tags: rule.tags.clone(),
            window_start: c.window.from_ms,
            window_end: c.window.to_ms,
            fields,
            samples: c.samples,
            detected_at,
        }))
    }

    /// Forgets findings closed for good: their dedup period ended more than a
    /// day before the newest event seen, so no late event can reopen them.
    pub fn prune(&mut self) {
        let Some(newest) = self.entries.values().map(|e| e.last_seen).max() else {
            return;
        };
        const DAY: i64 = 86_400_000;
        self.entries
            .retain(|_, e| e.last_seen.saturating_add(e.period_ms).saturating_add(DAY) >= newest);
    }
}
