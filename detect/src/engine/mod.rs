//! The detection engine: streaming rules per batch, scheduled rules over
//! sliding windows (each table read once per pass and fed to every rule as
//! it is read), checkpoints, suppression, and the `findings` table.
//!
//! - [`passes`]: one pass of rules over ingested batches or the lake.
//! - [`schedule`]: the windows due since each scheduled rule's checkpoint.
//! - [`settle`]: candidates folded into findings, written to the lake.
//! - [`outbox`]: settled findings waiting for delivery.
//! - [`report`]: what a detection run did.

mod outbox;
mod passes;
mod report;
mod schedule;
mod settle;

use std::sync::Arc;
use vigil_ingest::Lake;

use schedule::DEFAULT_MAX_CATCH_UP;

use crate::error::DetectError;
use crate::prepared::PreparedPlans;
use crate::rule::{Mode, Rule, RuleSet};
use crate::state::State;
use crate::tables::Tables;

pub use outbox::{to_deliver, OutboxGroup};
pub use report::{DetectReport, StreamingCost};
pub use schedule::last_settled;

/// Which rules to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ModeFilter {
    Streaming,
    Scheduled,
    #[default]
    All,
}

impl ModeFilter {
    fn accepts(self, rule: &Rule) -> bool {
        matches!(
            (self, rule.mode),
            (ModeFilter::All, _)
                | (ModeFilter::Streaming, Mode::Streaming)
                | (ModeFilter::Scheduled, Mode::Scheduled(_))
        )
    }
}

/// Where scheduled rules read their rows.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Lake,
    Memory(&'a Tables),
}

/// Runs rules and settles what they find.
#[derive(Debug, Clone)]
pub struct Detector {
    rules: Vec<Rule>,
    state: State,
    lake: Option<Lake>,
    /// Most windows one scheduled run catches up per rule.
    pub max_catch_up: usize,
    /// Whether settled findings wait in the outbox until delivered.
    outbox: bool,
    /// The run over a named input, when it has one (see [`Detector::for_run`]).
    run: Option<KeyedRun>,
    /// The streaming rules' plans, shared by the detector's clones; `None`
    /// plans them for each batch (see [`Detector::planning_every_batch`]).
    prepared: Option<Arc<PreparedPlans>>,
}

/// A run over an input named by a key, and when it started (Unix ms).
#[derive(Debug, Clone)]
struct KeyedRun {
    key: String,
    started_ms: i64,
    /// The outbox groups of an earlier attempt, as its settle found them
    /// named in the suppression state (see [`Detector::earlier_attempt`]).
    earlier_groups: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Detector {
    /// A detector over a lake: state and findings live in the lake.
    pub fn for_lake(rules: RuleSet, lake: Lake) -> Detector {
        Detector {
            rules: rules.rules,
            state: State::Lake(lake.clone()),
            lake: Some(lake),
            max_catch_up: DEFAULT_MAX_CATCH_UP,
            outbox: false,
            run: None,
            prepared: Some(Arc::default()),
        }
    }

    /// A detector with no lake: state in memory, findings only returned.
    pub fn in_memory(rules: RuleSet) -> Detector {
        Detector {
            rules: rules.rules,
            state: State::memory(),
            lake: None,
            max_catch_up: DEFAULT_MAX_CATCH_UP,
            outbox: false,
            run: None,
            prepared: Some(Arc::default()),
        }
    }

    /// The same detector for one run over an input named by `key` (a digest
    /// of a Lambda event's payload), started at `started_ms`: its settled
    /// findings wait in the outbox under that key, and a later run with the
    /// same key (the retry of an invocation that stopped) delivers them at
    /// once rather than after the grace left to runs that may still be
    /// delivering them.
    pub fn for_run(&self, key: &str, started_ms: i64) -> Detector {
        let mut detector = self.clone();
        detector.run = Some(KeyedRun {
            key: key.chars().filter(char::is_ascii_alphanumeric).collect(),
            started_ms,
            earlier_groups: Default::default(),
        });
        detector
    }

    /// The same detector planning every streaming rule for each batch in a
    /// session that holds it, as it plans scheduled rules, instead of once
    /// (see [`crate::prepared`]): the reference prepared plans are tested
    /// against.
    pub fn planning_every_batch(mut self) -> Detector {
        self.prepared = None;
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Settled findings wait in an outbox (`<lake>/_state/outbox/`) until
    /// [`Detector::delivered`] is called for them: a process that stops
    /// between settling findings and alerting them leaves them there, and
    /// the next run finds them with [`Detector::undelivered`]. Alerts are
    /// then delivered at least once, rather than at most once. Off by
    /// default (a run without alerts would fill the outbox).
    pub fn with_outbox(mut self, on: bool) -> Detector {
        self.outbox = on;
        self
    }

    fn lake(&self) -> Result<&Lake, DetectError> {
        self.lake.as_ref().ok_or_else(|| DetectError::State {
            path: "lake".into(),
            reason: "this detector has no lake to read".into(),
        })
    }

    /// Merges a report of work done elsewhere (the streaming sink) into `into`.
    pub fn merge_report(into: &mut DetectReport, other: DetectReport) {
        into.merge(other);
    }
}
