//! The detection engine: streaming rules per batch, scheduled rules over
//! sliding windows (each table read once per pass and fed to every rule as
//! it is read), checkpoints, suppression, and the `findings` table.

use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_ingest::{Lake, Table, TableBatch, HOUR_MS};
use vigil_queries::TimeRange;

use crate::error::DetectError;
use crate::evaluate::{plan, run, Candidate};
use crate::feed::{Feed, FeedReport};
use crate::finding::{findings_batch, Finding, FindingStatus};
use crate::reads::Job;
use crate::rule::{Mode, Rule, RuleSet, Schedule};
use crate::state::State;
use crate::suppress::{Decision, Suppressor, SUPPRESSION_STATE};
use crate::tables::{Pushdown, Tables};
use crate::window::{due_windows, windows_over};

/// How much of the lake one pass reads: window ends are processed in chunks
/// of this length (the lake is fed to the rules as it is read, so this
/// bounds the work of a pass, and the event ids it keeps to set repeats aside).
const CHUNK_MS: i64 = 6 * HOUR_MS;

/// How many windows of a rule a scheduled run catches up at most: a day of
/// five-minute windows (older ones are reported as skipped).
const DEFAULT_MAX_CATCH_UP: usize = 288;

/// One rule (an index into the detector's rules) over one window: the unit
/// of work of a detection pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RuleWindow {
    rule: usize,
    window: TimeRange,
}

/// A rule ready to run over its window in a session of its own.
struct SessionJob {
    ctx: SessionContext,
    rule: Rule,
    window: TimeRange,
}

/// The sessions of a chunk's jobs, and the one read of the lake that feeds
/// them (to run once every job is planned).
struct FedJobs<F> {
    sessions: Vec<SessionJob>,
    feeding: F,
}

/// A scheduled rule, with its schedule and the name of its checkpoint.
struct ScheduledRule<'a> {
    index: usize,
    rule: &'a Rule,
    schedule: Schedule,
    checkpoint: String,
}

/// How many times a settle reads and folds the suppression state again when
/// other writers keep changing it, before giving up with an error.
const SETTLE_ATTEMPTS: u32 = 8;

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
    fn merge(&mut self, other: DetectReport) {
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

/// The checkpoint of one scheduled rule.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Checkpoint {
    /// End of the last window whose findings are settled, Unix ms.
    last_window_end: i64,
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
        }
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

    /// Runs the streaming rules over freshly ingested rows (no lake read).
    pub async fn streaming(
        &self,
        tables: &Tables,
        report: &mut DetectReport,
    ) -> Result<Vec<Candidate>, DetectError> {
        let Some(span) = tables.span() else {
            return Ok(Vec::new());
        };
        let present: Vec<Table> = tables.tables().collect();
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.mode == Mode::Streaming && r.tables.iter().any(|t| present.contains(t)))
            .collect();
        if rules.is_empty() {
            return Ok(Vec::new());
        }
        let started = std::time::Instant::now();
        report.rows_read += tables.rows();
        report.repeated_deliveries += tables.repeated();
        let ctx = tables.context(None)?;
        let jobs = rules
            .into_iter()
            .map(|rule| SessionJob {
                ctx: ctx.clone(),
                rule: rule.clone(),
                window: span,
            })
            .collect();
        let nothing_to_read = async { Ok(FeedReport::default()) };
        let mut out = evaluate_side_by_side(jobs, nothing_to_read, report).await?;
        crate::samples::fill(&ctx, &self.rules, &mut out, None).await?;
        report.candidates += out.len();
        report.streaming.add_batch(tables.rows(), started.elapsed());
        Ok(out)
    }

    /// Runs the selected rules over `range`: scheduled rules over every
    /// aligned window that overlaps it, streaming rules over the range in
    /// hour-long slices. No checkpoints are read or written.
    pub async fn over_range(
        &self,
        range: TimeRange,
        source: Source<'_>,
        modes: ModeFilter,
        report: &mut DetectReport,
    ) -> Result<Vec<Candidate>, DetectError> {
        let selected: Vec<usize> = (0..self.rules.len())
            .filter(|&i| modes.accepts(&self.rules[i]))
            .collect();
        // Only the hours that hold data get windows: a range spanning months
        // with a few busy hours costs a few hours of work.
        let mut hours = std::collections::BTreeSet::new();
        match source {
            Source::Memory(t) => hours = t.hours(),
            Source::Lake => {
                let lake = self.lake()?;
                let mut tables: Vec<Table> = selected
                    .iter()
                    .flat_map(|&i| self.rules[i].tables.clone())
                    .collect();
                tables.sort();
                tables.dedup();
                for table in tables {
                    hours.extend(vigil_queries::partition_hours(lake, table, range).await?);
                }
            }
        }
        let active = vigil_queries::hour_ranges(&hours, range);
        let mut jobs = std::collections::BTreeSet::new();
        for &i in &selected {
            let rule = &self.rules[i];
            for r in &active {
                match rule.schedule() {
                    Some(s) => jobs.extend(
                        windows_over(&s, *r)
                            .into_iter()
                            .map(|window| RuleWindow { rule: i, window }),
                    ),
                    None => {
                        let mut from = r.from_ms;
                        while from < r.to_ms {
                            let to = (from.div_euclid(HOUR_MS) + 1) * HOUR_MS;
                            jobs.insert(RuleWindow {
                                rule: i,
                                window: TimeRange::new(from, to.min(r.to_ms)),
                            });
                            from = to;
                        }
                    }
                }
            }
        }
        self.run_jobs(jobs.into_iter().collect(), range.to_ms, source, report)
            .await
    }

    /// The tables the rules of a group of jobs read.
    fn tables_of(&self, group: &[RuleWindow]) -> Vec<Table> {
        group
            .iter()
            .flat_map(|job| self.rules[job.rule].tables.iter().copied())
            .collect()
    }

    /// A session for each job of a chunk, where each table the rule reads
    /// is a feed of the one read of it (see [`crate::feed`]), and that read,
    /// to run once every job is planned. `by_read` groups the jobs by the
    /// range they read; `read` gives a job's range.
    async fn fed_jobs(
        &self,
        chunk: &[RuleWindow],
        by_read: BTreeMap<TimeRange, Vec<RuleWindow>>,
        read: impl Fn(&RuleWindow) -> TimeRange,
    ) -> Result<
        FedJobs<impl Future<Output = Result<FeedReport, DetectError>> + Send + 'static>,
        DetectError,
    > {
        let mut unique: Vec<RuleWindow> = chunk.to_vec();
        unique.sort();
        unique.dedup();
        let jobs: Vec<Job> = unique
            .iter()
            .map(|job| Job {
                rule: &self.rules[job.rule],
                window: job.window,
                read: read(job),
            })
            .collect();
        // Only the spans, columns and rows the rules use are read.
        let reads = crate::reads::lake_reads(&jobs).await?;
        tracing::debug!(?reads, "reading the lake");
        let lake_reads = crate::feed::open_lake_reads(self.lake()?, &reads).await?;
        let mut feeds = Vec::new();
        let mut sessions = Vec::new();
        for (read_range, group) in by_read {
            let group_tables = self.tables_of(&group);
            let group_feeds: Vec<(Table, Arc<Feed>)> = lake_reads
                .iter()
                .filter(|r| group_tables.contains(&r.table))
                .map(|read| {
                    let schema = read.schema();
                    let constraints = Tables::unique_ids(&schema);
                    let feed = Feed::new(schema, read_range, constraints);
                    (read.table, Arc::new(feed))
                })
                .collect();
            // A session per rule: the feeds tell the scans of different
            // rules apart by their session.
            for job in group {
                let ctx = Tables::default().context(None)?;
                for (table, feed) in &group_feeds {
                    ctx.deregister_table(table.name())
                        .and_then(|_| ctx.register_table(table.name(), feed.clone()))
                        .map_err(DetectError::Lake)?;
                }
                sessions.push(SessionJob {
                    ctx,
                    rule: self.rules[job.rule].clone(),
                    window: job.window,
                });
            }
            feeds.extend(group_feeds);
        }
        Ok(FedJobs {
            sessions,
            feeding: crate::feed::feed_lake(lake_reads, feeds),
        })
    }

    fn lake(&self) -> Result<&Lake, DetectError> {
        self.lake.as_ref().ok_or_else(|| DetectError::State {
            path: "lake".into(),
            reason: "this detector has no lake to read".into(),
        })
    }

    /// Runs each scheduled rule over the windows due at `now_ms` since its
    /// checkpoint, settles the findings, then moves the checkpoints on: a
    /// crash before that re-runs the same windows, and suppression keeps the
    /// re-run from counting anything twice.
    pub async fn due(
        &self,
        now_ms: i64,
        report: &mut DetectReport,
    ) -> Result<Vec<Finding>, DetectError> {
        let scheduled: Vec<ScheduledRule> = self
            .rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| {
                Some(ScheduledRule {
                    index,
                    rule,
                    schedule: rule.schedule()?,
                    checkpoint: checkpoint_name(&rule.id),
                })
            })
            .collect();
        // One round trip for all the rules' checkpoints, not one per rule
        // (on S3, tens of milliseconds each).
        let lasts = futures::future::try_join_all(
            scheduled
                .iter()
                .map(|s| self.state.get::<Checkpoint>(&s.checkpoint)),
        )
        .await?;
        let mut jobs = Vec::new();
        let mut checkpoints = Vec::new();
        for (scheduled, last) in scheduled.into_iter().zip(lasts) {
            let rule = scheduled.rule;
            let (windows, skipped) = due_windows(
                &scheduled.schedule,
                last.map(|c| c.last_window_end),
                now_ms,
                self.max_catch_up,
            );
            if skipped > 0 {
                tracing::warn!(rule = %rule.id, skipped, "catch-up bounded: older windows were not run");
            }
            report.windows_skipped += skipped;
            if let Some(w) = windows.last() {
                checkpoints.push((
                    scheduled.checkpoint,
                    Checkpoint {
                        last_window_end: w.to_ms,
                    },
                ));
            }
            jobs.extend(windows.into_iter().map(|window| RuleWindow {
                rule: scheduled.index,
                window,
            }));
        }
        let candidates = self.run_jobs(jobs, now_ms, Source::Lake, report).await?;
        let findings = self.settle(candidates, now_ms, report).await?;
        futures::future::try_join_all(
            checkpoints
                .iter()
                .map(|(name, checkpoint)| self.state.put(name, checkpoint)),
        )
        .await?;
        Ok(findings)
    }

    /// Runs `(rule, window)` jobs, reading each chunk of the lake once: each
    /// table is fed, batch by batch, to every rule reading it, cut to the
    /// rule's read range (see [`crate::feed`]).
    async fn run_jobs(
        &self,
        mut jobs: Vec<RuleWindow>,
        data_end: i64,
        source: Source<'_>,
        report: &mut DetectReport,
    ) -> Result<Vec<Candidate>, DetectError> {
        let lookback = |i: usize| -> i64 {
            self.rules[i]
                .schedule()
                .map(|s| s.lookback.as_millis().min(i64::MAX as u128) as i64)
                .unwrap_or(0)
        };
        self.drop_windows_without_history(&mut jobs, source, report)
            .await?;
        jobs.sort_by_key(|job| (job.window.to_ms, job.rule));
        let mut out = Vec::new();
        let mut start = 0;
        while start < jobs.len() {
            let chunk_end_limit = jobs[start].window.to_ms + CHUNK_MS;
            let end = jobs[start..]
                .iter()
                .position(|job| job.window.to_ms > chunk_end_limit)
                .map_or(jobs.len(), |p| start + p);
            let chunk = &jobs[start..end];
            start = end;
            // Each job reads [window start - lookback, min(window end, data end)).
            let read = |job: &RuleWindow| {
                let w = job.window;
                TimeRange::new(w.from_ms - lookback(job.rule), w.to_ms.min(data_end))
            };
            let span = chunk
                .iter()
                .map(read)
                .reduce(|a, b| a.union(&b))
                .expect("chunk is not empty");
            let mut by_read: BTreeMap<TimeRange, Vec<RuleWindow>> = BTreeMap::new();
            for job in chunk {
                by_read.entry(read(job)).or_default().push(*job);
            }
            by_read.retain(|range, _| !range.is_empty());
            // The chunk's rows, when they are in memory.
            let mut memory_data: Option<Tables> = None;
            let mut found_in_chunk = match source {
                Source::Lake => {
                    let fed = self.fed_jobs(chunk, by_read, read).await?;
                    evaluate_side_by_side(fed.sessions, fed.feeding, report).await?
                }
                Source::Memory(t) => {
                    let started = Instant::now();
                    let data = memory_data.insert(t.slice(span)?);
                    report.read_time += started.elapsed();
                    report.rows_read += data.rows();
                    report.repeated_deliveries += data.repeated();
                    let mut jobs = Vec::new();
                    for (read_range, group) in by_read {
                        // Only the tables these rules read are cut to their range.
                        let ctx = data
                            .only(&self.tables_of(&group))
                            .context(Some(read_range))?;
                        jobs.extend(group.into_iter().map(|job| SessionJob {
                            ctx: ctx.clone(),
                            rule: self.rules[job.rule].clone(),
                            window: job.window,
                        }));
                    }
                    let nothing_to_read = async { Ok(FeedReport::default()) };
                    evaluate_side_by_side(jobs, nothing_to_read, report).await?
                }
            };
            report.candidates += found_in_chunk.len();
            // Samples named by id: read now, for these few events only.
            if found_in_chunk
                .iter()
                .any(|c| c.samples.is_empty() && !c.sample_ids.is_empty())
            {
                let started = Instant::now();
                match &memory_data {
                    None => {
                        let ctx = crate::tables::lake_session(Pushdown::Filters);
                        vigil_queries::register_lake(&ctx, self.lake()?)?;
                        crate::samples::fill(
                            &ctx,
                            &self.rules,
                            &mut found_in_chunk,
                            Some(span.filter()),
                        )
                        .await?;
                    }
                    Some(data) => {
                        let ctx = data.context(None)?;
                        crate::samples::fill(&ctx, &self.rules, &mut found_in_chunk, None).await?;
                    }
                }
                report.read_time += started.elapsed();
            }
            out.extend(found_in_chunk);
        }
        Ok(out)
    }

    /// Leaves out the windows of rules with a `min_history` that start less
    /// than that long after the first event of the rule's tables: a baseline
    /// of an hour that holds no data yet reads as zero, and every entity
    /// would stand out against it.
    async fn drop_windows_without_history(
        &self,
        jobs: &mut Vec<RuleWindow>,
        source: Source<'_>,
        report: &mut DetectReport,
    ) -> Result<(), DetectError> {
        let min_history = |i: usize| -> i64 {
            self.rules[i]
                .schedule()
                .map(|s| s.min_history.as_millis().min(i64::MAX as u128) as i64)
                .unwrap_or(0)
        };
        let mut tables: Vec<Table> = jobs
            .iter()
            .filter(|job| min_history(job.rule) > 0)
            .flat_map(|job| self.rules[job.rule].tables.iter().copied())
            .collect();
        if tables.is_empty() {
            return Ok(());
        }
        tables.sort();
        tables.dedup();
        let mut first_event: BTreeMap<Table, i64> = BTreeMap::new();
        for table in tables {
            let first = match source {
                Source::Memory(t) => t.only(&[table]).span().map(|s| s.from_ms),
                Source::Lake => first_event_in_lake(self.lake()?, table).await?,
            };
            if let Some(first) = first {
                first_event.insert(table, first);
            }
        }
        let before = jobs.len();
        jobs.retain(|job| {
            let (i, window) = (job.rule, job.window);
            let needed = min_history(i);
            if needed == 0 {
                return true;
            }
            // The earliest data of any table the rule reads starts its history.
            self.rules[i]
                .tables
                .iter()
                .filter_map(|t| first_event.get(t))
                .min()
                .is_some_and(|&first| window.from_ms.saturating_sub(first) >= needed)
        });
        report.windows_without_history += before - jobs.len();
        Ok(())
    }

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
            let (suppressor, folded) = self.fold(
                suppressor.unwrap_or_default(),
                candidates.clone(),
                detected_at,
            );
            // In the outbox before the state says they were reported: a
            // stop in between leaves them to be delivered, never lost.
            let waiting = (self.outbox && !folded.0.is_empty()).then(|| outbox_name(&folded.0));
            if let Some(name) = &waiting {
                self.state.put(name, &folded.0).await?;
            }
            if self
                .state
                .put_if(SUPPRESSION_STATE, &suppressor, &version)
                .await?
            {
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

    /// Merges a report of work done elsewhere (the streaming sink) into `into`.
    pub fn merge_report(into: &mut DetectReport, other: DetectReport) {
        into.merge(other);
    }
}

/// The time of the first event of `table` in the lake: the earliest event of
/// its first partition hour (two folder listings and one hour's files read).
async fn first_event_in_lake(lake: &Lake, table: Table) -> Result<Option<i64>, DetectError> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{DataType, TimeUnit, TimestampMillisecondType};
    use datafusion::functions_aggregate::expr_fn::min;
    use datafusion::prelude::col;
    let Some(hour) = vigil_queries::first_partition_hour(lake, table).await? else {
        return Ok(None);
    };
    let ctx = crate::tables::lake_session(Pushdown::Filters);
    vigil_queries::register_lake(&ctx, lake)?;
    let lake_err = DetectError::Lake;
    let batches = ctx
        .table(table.name())
        .await
        .map_err(lake_err)?
        .filter(TimeRange::new(hour, hour + HOUR_MS).filter())
        .and_then(|df| df.aggregate(vec![], vec![min(col("event_time")).alias("first")]))
        .map_err(lake_err)?
        .collect()
        .await
        .map_err(lake_err)?;
    for batch in batches {
        let first = arrow::compute::cast(
            batch.column(0),
            &DataType::Timestamp(TimeUnit::Millisecond, None),
        )?;
        let first = first.as_primitive::<TimestampMillisecondType>();
        if !first.is_empty() && first.is_valid(0) {
            return Ok(Some(first.value(0)));
        }
    }
    Ok(None)
}

fn checkpoint_name(rule_id: &str) -> String {
    format!("checkpoints/{rule_id}.json")
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
fn outbox_name(findings: &[Finding]) -> String {
    format!("{OUTBOX}/{}.json", digest(findings))
}

/// A short digest of what a group of findings reports.
fn digest(findings: &[Finding]) -> String {
    let mut h = Sha256::new();
    for f in findings {
        h.update(f.finding_id.as_bytes());
        h.update(f.status.as_str().as_bytes());
        h.update(f.event_count.to_be_bytes());
        h.update(f.last_seen.to_be_bytes());
    }
    hex::encode(&h.finalize()[..10])
}

/// Writes findings to the lake; the object name hashes their content, so
/// writing the same findings again replaces the same objects.
async fn write_findings(lake: &Lake, findings: &[Finding]) -> Result<(), DetectError> {
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

/// Runs each rule over its window in its session, side by side: every rule
/// is planned first (a task each: planning is single-threaded work), which
/// subscribes its scans to the feeds of the lake; then `feeding` reads the
/// lake into them while the rules run, a task each. Adds the read's time,
/// the rules' times and evaluations to `report`; the evaluation time is
/// the run's wall time beyond the read (planning, and rules finishing).
async fn evaluate_side_by_side(
    jobs: Vec<SessionJob>,
    feeding: impl Future<Output = Result<FeedReport, DetectError>> + Send + 'static,
    report: &mut DetectReport,
) -> Result<Vec<Candidate>, DetectError> {
    let evaluating = Instant::now();
    let planning = jobs.into_iter().map(|job| {
        let SessionJob { ctx, rule, window } = job;
        tokio::spawn(async move {
            let plan = plan(&ctx, &rule, window).await;
            (ctx, rule, window, plan)
        })
    });
    let mut plans = Vec::new();
    for planned in futures::future::join_all(planning).await {
        let (ctx, rule, window, plan) = planned?;
        plans.push((ctx, rule, window, plan?));
    }
    let feeding = tokio::spawn(async move {
        let started = Instant::now();
        feeding.await.map(|fed| (fed, started.elapsed()))
    });
    let runs = plans.into_iter().map(|(ctx, rule, window, plan)| {
        tokio::spawn(async move {
            let started = Instant::now();
            let found = run(&ctx, &rule, window, plan).await;
            (rule.id, started.elapsed(), found)
        })
    });
    let runs = futures::future::join_all(runs).await;
    // A failed read ended the rules' input with an error: report the read's.
    let (fed, read_time) = feeding.await??;
    report.rows_read += fed.rows;
    report.repeated_deliveries += fed.repeated;
    report.read_time += read_time;
    let mut out = Vec::new();
    for task in runs {
        let (rule, took, found) = task?;
        out.extend(found?);
        *report.rule_time.entry(rule).or_default() += took;
        report.evaluations += 1;
    }
    report.evaluation_time += evaluating.elapsed().saturating_sub(read_time);
    Ok(out)
}
