//! One pass of rules: the streaming rules over ingested batches, or the
//! selected rules over a range of the lake, each table read once and fed to
//! every rule reading it.

use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use vigil_ingest::{Table, HOUR_MS};
use vigil_queries::TimeRange;

use crate::error::DetectError;
use crate::evaluate::{plan, run, Candidate};
use crate::feed::{Feed, FeedReport};
use crate::prepared::{preparable, BatchRows, PreparedPlans};
use crate::reads::Job;
use crate::rule::{Mode, Rule};
use crate::scan_table::ScanTable;
use crate::tables::{Pushdown, Tables};
use crate::window::windows_over;

use super::{DetectReport, Detector, ModeFilter, Source};

/// How much of the lake one pass reads: window ends are processed in chunks
/// of this length (the lake is fed to the rules as it is read, so this
/// bounds the work of a pass, and the event ids it keeps to set repeats aside).
const CHUNK_MS: i64 = 6 * HOUR_MS;

/// One rule (an index into the detector's rules) over one window: the unit
/// of work of a detection pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct RuleWindow {
    pub(super) rule: usize,
    pub(super) window: TimeRange,
}

/// A rule ready to run over its window.
struct SessionJob {
    planner: Planner,
    rule: Rule,
    window: TimeRange,
}

/// Where a job's rule is planned, and the task context it runs with.
enum Planner {
    /// Planned in this session (which holds, or is fed, the rule's rows).
    Session(SessionContext),
    /// A prepared plan (see [`crate::prepared`]), run with a task context
    /// that carries the batch's rows.
    Prepared {
        plans: Arc<PreparedPlans>,
        task: Arc<TaskContext>,
    },
}

impl Planner {
    async fn plan(
        &self,
        rule: &Rule,
        window: TimeRange,
    ) -> Result<(Arc<dyn ExecutionPlan>, Arc<TaskContext>), DetectError> {
        match self {
            Planner::Session(ctx) => Ok((plan(ctx, rule, window).await?, ctx.task_ctx())),
            Planner::Prepared { plans, task } => Ok((plans.plan(rule).await?, task.clone())),
        }
    }
}

/// The sessions of a chunk's jobs, and the one read of the lake that feeds
/// them (to run once every job is planned).
struct FedJobs<F> {
    sessions: Vec<SessionJob>,
    feeding: F,
}

impl Detector {
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
        // Rules run from their prepared plans when the batch has the lake's
        // schemas (batches built by hand in tests may not); the others are
        // planned in a session that holds the batch.
        let prepared = match (&self.prepared, BatchRows::of(tables)) {
            (Some(plans), Some(rows)) => Some((plans, plans.task_context(rows)?)),
            _ => None,
        };
        let mut session = None;
        let mut jobs = Vec::new();
        for rule in rules {
            let planner = match &prepared {
                Some((plans, task)) if preparable(rule) => Planner::Prepared {
                    plans: Arc::clone(plans),
                    task: task.clone(),
                },
                _ => Planner::Session(match &session {
                    Some(ctx) => SessionContext::clone(ctx),
                    None => session.insert(tables.context(None)?).clone(),
                }),
            };
            jobs.push(SessionJob {
                planner,
                rule: rule.clone(),
                window: span,
            });
        }
        let nothing_to_read = async { Ok(FeedReport::default()) };
        let mut out = evaluate_side_by_side(jobs, nothing_to_read, report).await?;
        // Samples named by id (rare in streaming rules, which return raw).
        if out
            .iter()
            .any(|c| c.samples.is_empty() && !c.sample_ids.is_empty())
        {
            let ctx = match session {
                Some(ctx) => ctx,
                None => tables.context(None)?,
            };
            crate::samples::fill(&ctx, &self.rules, &mut out, None).await?;
        }
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
                .map(|read| (read.table, Arc::new(Feed::new(read.schema(), read_range))))
                .collect();
            // A session per rule: the feeds tell the scans of different
            // rules apart by their session.
            for job in group {
                let ctx = Tables::default().context(None)?;
                for (table, feed) in &group_feeds {
                    let schema = feed.schema();
                    let constraints = Tables::unique_ids(&schema);
                    let scanned = ScanTable::new(schema, constraints, feed.clone());
                    ctx.deregister_table(table.name())
                        .and_then(|_| ctx.register_table(table.name(), Arc::new(scanned)))
                        .map_err(DetectError::Lake)?;
                }
                sessions.push(SessionJob {
                    planner: Planner::Session(ctx),
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

    /// Runs `(rule, window)` jobs, reading each chunk of the lake once: each
    /// table is fed, batch by batch, to every rule reading it, cut to the
    /// rule's read range (see [`crate::feed`]).
    pub(super) async fn run_jobs(
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
        // The first-seen facts, folded up to the data's end before any rule
        // reads them.
        let baseline = if jobs
            .iter()
            .any(|job| self.rules[job.rule].reads_first_seen())
        {
            match source {
                Source::Memory(t) => crate::baseline::from_tables(t).await?,
                Source::Lake => {
                    crate::baseline::fold_lake(self.lake()?, &self.state, data_end).await?
                }
            }
        } else {
            None
        };
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
                    if baseline.is_some() {
                        for job in &fed.sessions {
                            if let Planner::Session(ctx) = &job.planner {
                                vigil_queries::first_seen::register(ctx, baseline.clone())?;
                            }
                        }
                    }
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
                        if baseline.is_some() {
                            vigil_queries::first_seen::register(&ctx, baseline.clone())?;
                        }
                        jobs.extend(group.into_iter().map(|job| SessionJob {
                            planner: Planner::Session(ctx.clone()),
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
        let SessionJob {
            planner,
            rule,
            window,
        } = job;
        tokio::spawn(async move {
            let plan = planner.plan(&rule, window).await;
            (rule, window, plan)
        })
    });
    let mut plans = Vec::new();
    for planned in futures::future::join_all(planning).await {
        let (rule, window, plan) = planned?;
        let (plan, task) = plan?;
        plans.push((task, rule, window, plan));
    }
    let feeding = tokio::spawn(async move {
        let started = Instant::now();
        feeding.await.map(|fed| (fed, started.elapsed()))
    });
    let runs = plans.into_iter().map(|(task, rule, window, plan)| {
        tokio::spawn(async move {
            let started = Instant::now();
            let found = run(task, &rule, window, plan).await;
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
