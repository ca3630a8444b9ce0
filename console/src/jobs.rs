//! Hunts run from the console: each query is a job in the background, so a
//! long one shows its progress (time, rows so far) and can be cancelled.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use futures::StreamExt;
use vigil_ingest::Lake;
use vigil_queries::{guard, TimeRange, HUNTING_TABLES};

use crate::error::ConsoleError;

/// The most rows a job keeps (the rest are counted, not kept).
pub const MAX_ROWS: usize = 10_000;
/// The most jobs remembered (the oldest finished ones go first).
const MAX_JOBS: usize = 32;

/// Where a job is.
#[derive(Debug, Clone)]
pub enum Outcome {
    Running,
    Done {
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
        took: Duration,
        /// More rows than [`MAX_ROWS`] came back.
        truncated: bool,
    },
    Failed(String),
    Cancelled,
}

/// One query run from the console.
#[derive(Debug)]
pub struct Job {
    pub id: String,
    /// The hunt's title, or "SQL".
    pub title: String,
    pub sql: String,
    pub range: Option<TimeRange>,
    started: Instant,
    rows: AtomicU64,
    outcome: Mutex<Outcome>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Job {
    pub fn outcome(&self) -> Outcome {
        self.outcome
            .lock()
            .map(|o| o.clone())
            .unwrap_or(Outcome::Failed("the job's state was lost".into()))
    }

    /// Rows received so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    fn finish(&self, outcome: Outcome) {
        if let Ok(mut o) = self.outcome.lock() {
            if matches!(*o, Outcome::Running) {
                *o = outcome;
            }
        }
    }

    /// Stops the query (its DataFusion stream is dropped).
    pub fn cancel(&self) {
        if let Some(task) = self.task.lock().ok().and_then(|mut t| t.take()) {
            task.abort();
        }
        self.finish(Outcome::Cancelled);
    }
}

/// The console's jobs.
#[derive(Debug, Default)]
pub struct Jobs {
    jobs: Mutex<VecDeque<Arc<Job>>>,
}

impl Jobs {
    /// Checks the SQL with the read-only guard, then runs it in the
    /// background over the lake (within `range` when given).
    pub fn start(
        &self,
        lake: Lake,
        title: String,
        sql: String,
        range: Option<TimeRange>,
    ) -> Result<Arc<Job>, ConsoleError> {
        guard::check_query(&sql, &HUNTING_TABLES)
            .map_err(|r| ConsoleError::BadRequest(format!("line {}: {}", r.line, r.message)))?;
        let job = Arc::new(Job {
            id: crate::auth::random_hex()[..16].to_string(),
            title,
            sql,
            range,
            started: Instant::now(),
            rows: AtomicU64::new(0),
            outcome: Mutex::new(Outcome::Running),
            task: Mutex::new(None),
        });
        let running = job.clone();
        let task = tokio::spawn(async move {
            let outcome = match run(&lake, &running).await {
                Ok(o) => o,
                Err(e) => Outcome::Failed(first_lines(&e.to_string())),
            };
            running.finish(outcome);
        });
        if let Ok(mut t) = job.task.lock() {
            *t = Some(task.abort_handle());
        }
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.push_back(job.clone());
            while jobs.len() > MAX_JOBS {
                match jobs
                    .iter()
                    .position(|j| !matches!(j.outcome(), Outcome::Running))
                {
                    Some(i) => {
                        jobs.remove(i);
                    }
                    None => break,
                }
            }
        }
        Ok(job)
    }

    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        self.jobs.lock().ok()?.iter().find(|j| j.id == id).cloned()
    }
}

async fn run(lake: &Lake, job: &Job) -> Result<Outcome, ConsoleError> {
    let ctx = vigil_queries::hunting_session(lake, job.range).await?;
    vigil_queries::ocsf::register_views_for(&ctx, &job.sql).await?;
    let df = ctx.sql_with_options(&job.sql, guard::sql_options()).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await?;
    let mut batches = Vec::new();
    let mut kept = 0;
    let mut truncated = false;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        job.rows
            .fetch_add(batch.num_rows() as u64, Ordering::Relaxed);
        if kept < MAX_ROWS {
            let take = batch.num_rows().min(MAX_ROWS - kept);
            kept += take;
            truncated |= take < batch.num_rows();
            batches.push(batch.slice(0, take));
        } else {
            truncated = true;
        }
    }
    Ok(Outcome::Done {
        schema,
        batches,
        took: job.started.elapsed(),
        truncated,
    })
}

fn first_lines(s: &str) -> String {
    s.lines().take(3).collect::<Vec<_>>().join("\n")
}
