//! Fan-out: every new finding to every destination that routes it, with
//! bounded concurrency and the retry policy; failures to the dead-letter.

use futures::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;
use vigil_detect::{Finding, FindingStatus};

use crate::config::{AlertingConfig, DestinationConfig};
use crate::deadletter::{DeadDelivery, DeadLetter};
use crate::destinations::Destination;
use crate::error::AlertError;
use crate::payload::body;
use crate::retry::{RetryPolicy, SendError};

/// What happened to the deliveries of one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DestinationCounts {
    /// Findings routed to it: each ends delivered or dead-lettered.
    pub routed: usize,
    pub delivered: usize,
    pub dead_lettered: usize,
    /// Attempts made, retries included.
    pub attempts: usize,
}

/// What one dispatch did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub findings: usize,
    /// Updates of findings already alerted: not sent again.
    pub suppressed: usize,
    pub destinations: BTreeMap<String, DestinationCounts>,
    /// How long each delivered alert took, retries included (for load tests).
    #[serde(skip)]
    pub latencies: Vec<std::time::Duration>,
}

impl DeliveryReport {
    pub fn delivered(&self) -> usize {
        self.destinations.values().map(|c| c.delivered).sum()
    }
    pub fn dead_lettered(&self) -> usize {
        self.destinations.values().map(|c| c.dead_lettered).sum()
    }
    pub fn routed(&self) -> usize {
        self.destinations.values().map(|c| c.routed).sum()
    }
    /// Every routed delivery ended one way or the other.
    pub fn reconciles(&self) -> bool {
        self.destinations
            .values()
            .all(|c| c.routed == c.delivered + c.dead_lettered)
    }
}

/// Sends findings to the configured destinations.
#[derive(Debug)]
pub struct Dispatcher {
    destinations: Vec<(DestinationConfig, Destination)>,
    policy: RetryPolicy,
    max_concurrency: usize,
    dead_letter: DeadLetter,
}

/// One finding to send to one destination (an index into the dispatcher's
/// destinations), with its JSON body.
struct DeliveryJob<'a> {
    destination: usize,
    finding: &'a Finding,
    body: Vec<u8>,
}

/// How the delivery of one finding to one destination ended, retries
/// included.
enum DeliveryOutcome {
    Delivered {
        attempts: u32,
        took: std::time::Duration,
    },
    Failed {
        attempts: u32,
        error: String,
    },
}

impl Dispatcher {
    /// Builds every destination (resolving secrets now, so that a missing one
    /// is an error before anything is sent).
    pub async fn new(config: &AlertingConfig) -> Result<Dispatcher, AlertError> {
        let mut destinations = Vec::new();
        for d in &config.destinations {
            destinations.push((d.clone(), Destination::build(d).await?));
        }
        Ok(Dispatcher {
            destinations,
            policy: RetryPolicy {
                max_attempts: config.max_attempts,
                base_backoff: config.base_backoff,
                max_backoff: config.max_backoff,
                deadline: config.deadline,
            },
            max_concurrency: config.max_concurrency.max(1),
            dead_letter: DeadLetter::new(config).await,
        })
    }

    pub fn dead_letter(&self) -> &DeadLetter {
        &self.dead_letter
    }

    /// Keeps only the destination named `name`, routing everything to it.
    pub fn only(mut self, name: &str) -> Result<Dispatcher, AlertError> {
        self.destinations.retain(|(c, _)| c.name == name);
        match self.destinations.first_mut() {
            Some((c, _)) => {
                // Every finding routed to it, in the body format it was given.
                let mut routes_all = DestinationConfig::new(&c.name, c.kind);
                routes_all.format = c.format.take();
                *c = routes_all;
                Ok(self)
            }
            None => Err(AlertError::UnknownDestination(name.into())),
        }
    }

    /// Sends each new finding to every destination that routes it. Updates of
    /// findings already alerted are counted, and sent only to destinations
    /// that keep findings up to date.
    pub async fn deliver(&self, findings: &[Finding]) -> Result<DeliveryReport, AlertError> {
        let mut report = DeliveryReport {
            findings: findings.len(),
            ..DeliveryReport::default()
        };
        let mut jobs = Vec::new();
        for f in findings {
            let update = f.status != FindingStatus::New;
            if update {
                report.suppressed += 1;
            }
            for (i, (config, destination)) in self.destinations.iter().enumerate() {
                // An update is news only to a destination that keeps
                // findings up to date (Security Hub), not to a pager.
                if (!update || destination.takes_updates()) && config.routes(f) {
                    jobs.push(DeliveryJob {
                        destination: i,
                        finding: f,
                        body: body(f, config.body_format().unwrap_or_default()),
                    });
                }
            }
        }
        self.run(jobs, &mut report, None).await?;
        Ok(report)
    }

    /// Runs the jobs; failures are stored in the dead-letter, or collected
    /// into `failures` when one is given (redrive stores them itself).
    async fn run(
        &self,
        jobs: Vec<DeliveryJob<'_>>,
        report: &mut DeliveryReport,
        mut failures: Option<&mut Vec<DeadDelivery>>,
    ) -> Result<(), AlertError> {
        for (config, _) in &self.destinations {
            report.destinations.entry(config.name.clone()).or_default();
        }
        // Destinations that take findings in batches get one task per batch;
        // the others, one per finding.
        let mut tasks: Vec<Vec<DeliveryJob>> = Vec::new();
        let mut batches: BTreeMap<usize, Vec<DeliveryJob>> = BTreeMap::new();
        for job in jobs {
            match self.destinations[job.destination].1.batch_size() {
                Some(size) => {
                    let batch = batches.entry(job.destination).or_default();
                    batch.push(job);
                    if batch.len() == size {
                        tasks.push(std::mem::take(batch));
                    }
                }
                None => tasks.push(vec![job]),
            }
        }
        tasks.extend(batches.into_values().filter(|b| !b.is_empty()));
        let results: Vec<(DeliveryJob, DeliveryOutcome)> = stream::iter(tasks)
            .map(|mut task| async move {
                let destination = &self.destinations[task[0].destination].1;
                if destination.batch_size().is_some() {
                    self.attempt_batch(destination, task).await
                } else {
                    let job = task.pop().expect("one job");
                    let outcome = self.attempt_all(destination, job.finding, &job.body).await;
                    vec![(job, outcome)]
                }
            })
            .buffer_unordered(self.max_concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .flatten()
            .collect();
        for (job, outcome) in results {
            let f = job.finding;
            let name = &self.destinations[job.destination].0.name;
            let counts = report.destinations.entry(name.clone()).or_default();
            counts.routed += 1;
            match outcome {
                DeliveryOutcome::Delivered { attempts, took } => {
                    counts.delivered += 1;
                    counts.attempts += attempts as usize;
                    report.latencies.push(took);
                }
                DeliveryOutcome::Failed { attempts, error } => {
                    counts.dead_lettered += 1;
                    counts.attempts += attempts as usize;
                    tracing::warn!(destination = %name, finding = %f.finding_id, %error, "delivery dead-lettered");
                    let dead = DeadDelivery {
                        destination: name.clone(),
                        error,
                        attempts,
                        dead_lettered_at: chrono::Utc::now().to_rfc3339(),
                        finding: f.clone(),
                    };
                    match failures.as_deref_mut() {
                        Some(v) => v.push(dead),
                        None => self.dead_letter.append(&dead).await?,
                    }
                }
            }
        }
        Ok(())
    }

    /// Attempts until delivered, a permanent failure, the attempt limit, or the deadline.
    async fn attempt_all(
        &self,
        destination: &Destination,
        f: &Finding,
        body: &[u8],
    ) -> DeliveryOutcome {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = self.policy.deadline.saturating_sub(started.elapsed());
            let result = match tokio::time::timeout(remaining, destination.send(f, body)).await {
                Ok(r) => r,
                Err(_) => Err(SendError::Permanent {
                    message: format!(
                        "deadline of {:?} reached during attempt {attempt}",
                        self.policy.deadline
                    ),
                }),
            };
            match result {
                Ok(()) => {
                    return DeliveryOutcome::Delivered {
                        attempts: attempt,
                        took: started.elapsed(),
                    }
                }
                Err(SendError::Permanent { message }) => {
                    return DeliveryOutcome::Failed {
                        attempts: attempt,
                        error: message,
                    }
                }
                Err(SendError::Retryable {
                    message,
                    retry_after,
                }) => {
                    if attempt >= self.policy.max_attempts {
                        return DeliveryOutcome::Failed {
                            attempts: attempt,
                            error: format!("{message} (gave up after {attempt} attempts)"),
                        };
                    }
                    let wait = self.policy.backoff(attempt, retry_after);
                    if started.elapsed() + wait >= self.policy.deadline {
                        return DeliveryOutcome::Failed {
                            attempts: attempt,
                            error: format!(
                                "{message} (deadline of {:?} reached)",
                                self.policy.deadline
                            ),
                        };
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// [`Dispatcher::attempt_all`] for a batch: each attempt sends the
    /// findings not yet delivered, and each finding ends on its own outcome
    /// (the service may refuse some and take the rest).
    async fn attempt_batch<'a>(
        &self,
        destination: &Destination,
        jobs: Vec<DeliveryJob<'a>>,
    ) -> Vec<(DeliveryJob<'a>, DeliveryOutcome)> {
        let started = Instant::now();
        let mut done = Vec::with_capacity(jobs.len());
        let mut pending = jobs;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let remaining = self.policy.deadline.saturating_sub(started.elapsed());
            let findings: Vec<&Finding> = pending.iter().map(|j| j.finding).collect();
            let bodies: Vec<&[u8]> = pending.iter().map(|j| j.body.as_slice()).collect();
            let outcomes =
                match tokio::time::timeout(remaining, destination.send_batch(&findings, &bodies))
                    .await
                {
                    Ok(Ok(outcomes)) => outcomes,
                    Ok(Err(e)) => vec![Some(e); pending.len()],
                    Err(_) => vec![
                        Some(SendError::Permanent {
                            message: format!(
                                "deadline of {:?} reached during attempt {attempt}",
                                self.policy.deadline
                            ),
                        });
                        pending.len()
                    ],
                };
            let mut retry = Vec::new();
            let mut wait_at_least = None;
            for (job, outcome) in pending.into_iter().zip(outcomes) {
                match outcome {
                    None => done.push((
                        job,
                        DeliveryOutcome::Delivered {
                            attempts: attempt,
                            took: started.elapsed(),
                        },
                    )),
                    Some(SendError::Permanent { message }) => done.push((
                        job,
                        DeliveryOutcome::Failed {
                            attempts: attempt,
                            error: message,
                        },
                    )),
                    Some(SendError::Retryable {
                        message,
                        retry_after,
                    }) => {
                        wait_at_least = wait_at_least.max(retry_after);
                        retry.push((job, message));
                    }
                }
            }
            if retry.is_empty() {
                return done;
            }
            let wait = self.policy.backoff(attempt, wait_at_least);
            let give_up = if attempt >= self.policy.max_attempts {
                Some(format!("gave up after {attempt} attempts"))
            } else if started.elapsed() + wait >= self.policy.deadline {
                Some(format!("deadline of {:?} reached", self.policy.deadline))
            } else {
                None
            };
            if let Some(why) = give_up {
                done.extend(retry.into_iter().map(|(job, message)| {
                    (
                        job,
                        DeliveryOutcome::Failed {
                            attempts: attempt,
                            error: format!("{message} ({why})"),
                        },
                    )
                }));
                return done;
            }
            tokio::time::sleep(wait).await;
            pending = retry.into_iter().map(|(job, _)| job).collect();
        }
    }

    /// Re-sends what the dead-letter holds to destinations still configured;
    /// what fails again stays there (with its new error). Nothing is removed
    /// before its outcome is stored: a crash mid-way re-sends, never loses.
    pub async fn redrive(&self) -> Result<DeliveryReport, AlertError> {
        let taken = self.dead_letter.take().await?;
        let mut report = DeliveryReport {
            findings: taken.entries.len(),
            ..DeliveryReport::default()
        };
        let mut keep = Vec::new();
        let mut jobs = Vec::new();
        for (n, e) in taken.entries.iter().enumerate() {
            match self
                .destinations
                .iter()
                .position(|(c, _)| c.name == e.destination)
            {
                Some(i) => jobs.push((i, n)),
                None => keep.push(e.clone()),
            }
        }
        let jobs = jobs
            .into_iter()
            .map(|(i, n)| DeliveryJob {
                destination: i,
                finding: &taken.entries[n].finding,
                body: body(
                    &taken.entries[n].finding,
                    self.destinations[i].0.body_format().unwrap_or_default(),
                ),
            })
            .collect();
        let mut failed = Vec::new();
        self.run(jobs, &mut report, Some(&mut failed)).await?;
        keep.extend(failed);
        self.dead_letter.settle(taken, &keep).await?;
        Ok(report)
    }
}
