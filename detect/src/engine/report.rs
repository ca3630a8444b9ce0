//! What a detection run did: counts, times, and the streaming rules' cost.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What a detection run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectReport {
    /// Rule evaluations (one rule over one window or batch).
    pub evaluations: usize,
    /// Windows given up because catch-up was bounded.
    pub windows_skipped: usize,
    /// Windows of baseline rules not run because the rule's tables held
    /// less history than its `min_history` before the window.
    pub windows_without_history: usize,
    /// Rows read from the lake or the batches (each event once).
    pub rows_read: usize,
    /// Repeated deliveries of an event (its `event_id` read before) set
    /// aside, so that no rule sees an event twice.
    pub repeated_deliveries: usize,
    pub candidates: usize,
    pub new: usize,
    pub updated: usize,
    /// Candidates that added nothing to an open finding.
    pub unchanged: usize,
    /// Time spent reading the lake.
    pub read_time: Duration,
    /// Time each rule took, from start to end (scheduled rules run side by
    /// side, so these overlap).
    pub rule_time: BTreeMap<String, Duration>,
    /// Time spent running rules, all together.
    pub evaluation_time: Duration,
    /// What the streaming rules cost on the way to the lake.
    pub streaming: StreamingCost,
}

/// The streaming rules' cost: ingested batches they ran over, and the wall
/// time from a batch's arrival to its candidates (samples included).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct StreamingCost {
    pub batches: usize,
    pub rows: usize,
    pub time: Duration,
    /// The slowest batch.
    pub slowest: Duration,
}

impl StreamingCost {
    /// Counts one batch of `rows` that took `took`.
    pub fn add_batch(&mut self, rows: usize, took: Duration) {
        self.batches += 1;
        self.rows += rows;
        self.time += took;
        self.slowest = self.slowest.max(took);
    }

    fn merge(&mut self, other: &StreamingCost) {
        self.batches += other.batches;
        self.rows += other.rows;
        self.time += other.time;
        self.slowest = self.slowest.max(other.slowest);
    }

    /// Mean time per batch.
    pub fn per_batch(&self) -> Duration {
        self.time / self.batches.max(1) as u32
    }
}

impl DetectReport {
    pub(super) fn merge(&mut self, other: DetectReport) {
        self.evaluations += other.evaluations;
        self.windows_skipped += other.windows_skipped;
        self.windows_without_history += other.windows_without_history;
        self.rows_read += other.rows_read;
        self.repeated_deliveries += other.repeated_deliveries;
        self.candidates += other.candidates;
        self.new += other.new;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.read_time += other.read_time;
        self.evaluation_time += other.evaluation_time;
        self.streaming.merge(&other.streaming);
        for (k, v) in other.rule_time {
            *self.rule_time.entry(k).or_default() += v;
        }
    }
}
