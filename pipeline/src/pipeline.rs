//! The pipeline: a lake, its rules and its alert destinations, and the runs
//! the command line and the Lambda handlers make over them.

use object_store::ObjectStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use vigil_alerting::{AlertingConfig, DeliveryReport, Dispatcher};
use vigil_detect::engine::{to_deliver, DetectReport, ModeFilter, Source};
use vigil_detect::{streaming_pass, Detector, Finding, RuleSet, StreamingResults};
use vigil_ingest::{IngestOptions, IngestReport, Ingester, Lake};
use vigil_queries::TimeRange;

use crate::error::PipelineError;
use crate::input::{feed, FailedInput, PipelineInput, ProgressFn};

/// What a pipeline is made of.
pub struct PipelineConfig {
    pub lake: Lake,
    pub rules: RuleSet,
    pub alerting: AlertingConfig,
    /// False: findings are recorded in the lake, never sent (backfills,
    /// `--no-alerts`), and no outbox is kept.
    pub send_alerts: bool,
    /// How long findings another run settled are left to it to deliver:
    /// zero where one run goes at a time (the command line); longer than a
    /// run lasts where runs overlap (Lambda functions). Findings left in the
    /// outbox longer were left by a run that stopped before alerting, and
    /// the next run delivers them.
    pub outbox_grace: Duration,
    /// Called with each run's report once its findings are settled, before
    /// they are alerted (the command line prints them then, so that they
    /// come before the alerts).
    pub on_settled: Option<SettledHook>,
}

/// See [`PipelineConfig::on_settled`].
pub type SettledHook = Box<dyn Fn(&RunReport) + Send + Sync>;

/// How one ingest run goes.
#[derive(Default)]
pub struct IngestRun {
    pub options: IngestOptions,
    /// Also run the scheduled rules over the time span ingested (`vigil run`).
    pub scheduled_over_span: bool,
    pub progress: Option<ProgressFn>,
    /// What names the input (a Lambda event's digest): a run with the key
    /// of an earlier one that stopped (a retry) delivers the findings that
    /// one settled at once (see `Detector::for_run`).
    pub key: Option<String>,
}

/// What one run did.
#[derive(Debug, Default)]
pub struct RunReport {
    pub ingest: IngestReport,
    /// Inputs that could not be read at all: a retry may help.
    pub failed_inputs: Vec<FailedInput>,
    pub detect: DetectReport,
    /// The findings settled by this run.
    pub findings: Vec<Finding>,
    pub delivery: DeliveryReport,
    /// What kept the run from alerting (a destination that cannot be set
    /// up, the outbox unreadable): its findings are in the lake and wait in
    /// the outbox for the next run.
    pub alert_error: Option<PipelineError>,
}

impl RunReport {
    /// The report of a detection run, its findings settled.
    fn settled(detect: DetectReport, findings: Vec<Finding>) -> RunReport {
        RunReport {
            detect,
            findings,
            ..RunReport::default()
        }
    }

    /// The report, or the error that kept the run from alerting (a Lambda
    /// invocation then fails, and is retried).
    pub fn alerted(mut self) -> Result<RunReport, PipelineError> {
        match self.alert_error.take() {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }
}

/// The least time between two sweeps of the outbox by one pipeline, when
/// its grace is shorter: `vigil tail` runs every few seconds, and on an S3
/// lake each sweep is a LIST.
const MIN_SWEEP_INTERVAL_MS: i64 = 60_000;

/// The lake, the rules and the alert destinations: built once (a Lambda
/// function keeps it warm), run many times. The dispatcher (SDK clients,
/// secrets) is built only when there is something to send.
pub struct Pipeline {
    lake: Lake,
    detector: Detector,
    alerting: AlertingConfig,
    send_alerts: bool,
    outbox_grace: Duration,
    on_settled: Option<SettledHook>,
    dispatcher: OnceCell<Dispatcher>,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    /// When a run of this pipeline last swept the outbox (Unix ms).
    last_sweep_ms: Mutex<Option<i64>>,
}

impl Pipeline {
    /// Opens the pipeline (no request is made).
    pub fn new(config: PipelineConfig) -> Pipeline {
        Pipeline {
            detector: Detector::for_lake(config.rules, config.lake.clone())
                .with_outbox(config.send_alerts),
            lake: config.lake,
            alerting: config.alerting,
            send_alerts: config.send_alerts,
            outbox_grace: config.outbox_grace,
            on_settled: config.on_settled,
            dispatcher: OnceCell::new(),
            buckets: Mutex::new(HashMap::new()),
            last_sweep_ms: Mutex::new(None),
        }
    }

    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    pub fn detector(&self) -> &Detector {
        &self.detector
    }

    pub fn alerting(&self) -> &AlertingConfig {
        &self.alerting
    }

    /// The object store of a bucket objects are read from (kept for the
    /// pipeline's lifetime: its HTTP connections are reused).
    pub fn bucket(&self, name: &str) -> Result<Arc<dyn ObjectStore>, PipelineError> {
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| PipelineError::Runtime("bucket cache poisoned".into()))?;
        if let Some(store) = buckets.get(name) {
            return Ok(store.clone());
        }
        let store = vigil_ingest::s3_store(name).map_err(|source| PipelineError::Object {
            bucket: name.into(),
            key: String::new(),
            source,
        })?;
        buckets.insert(name.to_string(), store.clone());
        Ok(store)
    }

    /// Ingests `inputs` into the lake with the streaming rules over every
    /// batch (and the scheduled rules over the span ingested when `run` asks
    /// for them), settles the findings and alerts the new ones. An input
    /// that cannot be read is listed in the report and the others go on.
    /// Batch ids come from the inputs, so a retried run rewrites the same
    /// objects, and suppression keeps it from alerting twice.
    pub async fn ingest(
        &self,
        inputs: Vec<PipelineInput>,
        run: IngestRun,
        now_ms: i64,
    ) -> Result<RunReport, PipelineError> {
        let started_ms = chrono::Utc::now().timestamp_millis();
        let handle = tokio::runtime::Handle::current();
        let lake = self.lake.clone();
        let IngestRun {
            options,
            scheduled_over_span,
            progress,
            key,
        } = run;
        let detector = match &key {
            Some(key) => self.detector.for_run(key, started_ms),
            None => self.detector.clone(),
        };
        let run_detector = detector.clone();
        // Ingest is synchronous: it runs on a blocking thread while the
        // streaming pass runs on this runtime.
        let (ingested, pass) = tokio::task::spawn_blocking(move || {
            let writer = match lake.writer() {
                Ok(writer) => writer,
                Err(e) => return (Err(PipelineError::from(e)), None),
            };
            let (sink, pass) = streaming_pass(writer, detector, &handle);
            let mut ingester = Ingester::new(options, sink);
            let failed = feed(&mut ingester, inputs, &handle, progress.as_ref());
            let report = ingester.finish().map_err(PipelineError::from);
            (report.map(|r| (r, failed)), Some(pass))
        })
        .await
        .map_err(|e| PipelineError::Runtime(format!("ingest task: {e}")))?;
        // A rule that failed stopped the ingest too: its own error says more.
        let streamed = match pass {
            Some(pass) => pass.results().await?,
            None => StreamingResults::default(),
        };
        let (ingest, failed_inputs) = ingested?;
        let StreamingResults {
            mut candidates,
            report: mut detect,
            span,
        } = streamed;
        if let Some(span) = span.filter(|_| scheduled_over_span) {
            let mut scheduled = DetectReport::default();
            candidates.extend(
                run_detector
                    .over_range(span, Source::Lake, ModeFilter::Scheduled, &mut scheduled)
                    .await?,
            );
            Detector::merge_report(&mut detect, scheduled);
        }
        let findings = run_detector.settle(candidates, now_ms, &mut detect).await?;
        let settled = RunReport {
            ingest,
            failed_inputs,
            ..RunReport::settled(detect, findings)
        };
        Ok(self.alerted(&run_detector, settled, started_ms).await)
    }

    /// Runs every scheduled rule over the windows due at `now_ms` (catching
    /// up from its checkpoint), then alerts. The same `now_ms` twice runs
    /// nothing new the second time.
    pub async fn detect_due(&self, now_ms: i64) -> Result<RunReport, PipelineError> {
        let started_ms = chrono::Utc::now().timestamp_millis();
        let mut detect = DetectReport::default();
        let findings = self.detector.due(now_ms, &mut detect).await?;
        Ok(self
            .alerted(
                &self.detector,
                RunReport::settled(detect, findings),
                started_ms,
            )
            .await)
    }

    /// Runs the rules `modes` selects over an explicit range of the lake
    /// (`vigil detect --from/--since`, backfills), then alerts.
    pub async fn detect_range(
        &self,
        range: TimeRange,
        modes: ModeFilter,
        now_ms: i64,
    ) -> Result<RunReport, PipelineError> {
        let started_ms = chrono::Utc::now().timestamp_millis();
        let mut detect = DetectReport::default();
        let candidates = self
            .detector
            .over_range(range, Source::Lake, modes, &mut detect)
            .await?;
        let findings = self
            .detector
            .settle(candidates, now_ms, &mut detect)
            .await?;
        Ok(self
            .alerted(
                &self.detector,
                RunReport::settled(detect, findings),
                started_ms,
            )
            .await)
    }

    /// Alerts the settled findings: the end of every run. A failure to
    /// alert is reported beside the findings, which are settled already.
    async fn alerted(
        &self,
        detector: &Detector,
        mut report: RunReport,
        started_ms: i64,
    ) -> RunReport {
        if let Some(hook) = &self.on_settled {
            hook(&report);
        }
        match self.alert(detector, &report.findings, started_ms).await {
            Ok(delivery) => report.delivery = delivery,
            Err(error) => report.alert_error = Some(error),
        }
        report
    }

    /// Delivers the findings just settled, and those an earlier run settled
    /// but did not deliver (in the detector's outbox since before this run
    /// started, less the grace other runs have); then takes them out of the
    /// outbox. A failed delivery is dead-lettered (the report counts it); an
    /// error before delivery leaves every finding in the outbox for the next
    /// run.
    ///
    /// Listing the outbox for other runs' groups (the sweep) is done by a
    /// pipeline's first run and then at most once per grace (or per minute,
    /// when the grace is shorter): a warm Lambda function would otherwise
    /// pay a LIST (priced as a PUT) per invocation, `vigil tail` one per poll.
    /// A keyed run that does not sweep still takes what an earlier attempt
    /// at its input settled ([`Detector::earlier_attempt`]). A group left by
    /// a run that stopped is delivered by the next sweep of any function.
    async fn alert(
        &self,
        detector: &Detector,
        findings: &[Finding],
        started_ms: i64,
    ) -> Result<DeliveryReport, PipelineError> {
        if !self.send_alerts {
            return Ok(DeliveryReport::default());
        }
        let grace_ms = i64::try_from(self.outbox_grace.as_millis()).unwrap_or(i64::MAX);
        let settled_before = started_ms.saturating_sub(grace_ms);
        let sweep_every_ms = grace_ms.max(MIN_SWEEP_INTERVAL_MS);
        let sweep = self
            .last_sweep_ms
            .lock()
            .map_err(|_| PipelineError::Runtime("sweep time poisoned".into()))?
            .is_none_or(|last| started_ms.saturating_sub(last) >= sweep_every_ms);
        let backlog = if sweep {
            let backlog = detector.undelivered(Some(settled_before)).await?;
            if let Ok(mut last) = self.last_sweep_ms.lock() {
                *last = Some(started_ms);
            }
            backlog
        } else {
            detector.earlier_attempt().await?
        };
        let all = to_deliver(&backlog, findings);
        if all.is_empty() {
            return Ok(DeliveryReport::default());
        }
        let dispatcher = self
            .dispatcher
            .get_or_try_init(|| Dispatcher::new(&self.alerting))
            .await?;
        let report = dispatcher.deliver(&all).await?;
        detector.delivered(&backlog, findings).await?;
        Ok(report)
    }
}
