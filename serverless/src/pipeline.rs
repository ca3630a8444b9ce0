//! One invocation's work: ingest inputs into the lake with the streaming
//! rules, or run the scheduled rules that are due; then alert.

use object_store::ObjectStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use vigil_alerting::{DeliveryReport, Dispatcher};
use vigil_detect::engine::{DetectReport, ModeFilter, Source};
use vigil_detect::{streaming_pass, Detector, Finding, RuleSources, StreamingResults};
use vigil_ingest::{IngestOptions, IngestReport, Ingester, Lake, SourceId};

use crate::error::ServerlessError;
use crate::object_reader::ObjectReader;
use crate::settings::Settings;

/// One input of an ingest invocation.
pub enum InvocationInput {
    /// A payload already in memory (a subscription event).
    Bytes { bytes: Vec<u8>, source: SourceId },
    /// An S3 object, streamed.
    Object {
        store: Arc<dyn ObjectStore>,
        bucket: String,
        key: String,
        source: SourceId,
    },
}

/// What one invocation did.
#[derive(Debug, Default)]
pub struct InvocationReport {
    pub ingest: IngestReport,
    /// Inputs (by position) that could not be read at all: a retry may help.
    pub failed_inputs: Vec<(usize, String)>,
    pub detect: DetectReport,
    pub findings: Vec<Finding>,
    pub delivery: DeliveryReport,
}

/// Longer than any function runs (Lambda's limit is 15 minutes): findings in
/// the outbox for longer were left by a run that stopped before alerting.
const LONGEST_RUN_MS: i64 = 16 * 60_000;

/// The lake, the rules and the alert destinations of a function. Built on the
/// first invocation and kept warm; the dispatcher (SDK clients, secrets) is
/// built only when there is something to send.
pub struct Pipeline {
    lake: Lake,
    detector: Detector,
    settings: Settings,
    dispatcher: OnceCell<Dispatcher>,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Pipeline {
    /// Opens the lake (no request is made) and loads the rules.
    pub fn new(settings: Settings) -> Result<Pipeline, ServerlessError> {
        let lake = Lake::open(&settings.lake)?;
        let rules = RuleSources {
            dirs: settings.rule_dirs.clone(),
            packs: settings.rule_packs.clone(),
            placeholders: settings.rule_placeholders.clone(),
        }
        .load()?;
        Ok(Pipeline {
            detector: Detector::for_lake(rules, lake.clone()).with_outbox(settings.send_alerts),
            lake,
            settings,
            dispatcher: OnceCell::new(),
            buckets: Mutex::new(HashMap::new()),
        })
    }

    pub fn lake(&self) -> &Lake {
        &self.lake
    }

    /// The object store of a bucket objects are read from (kept for the
    /// function's lifetime: its HTTP connections are reused).
    pub fn bucket(&self, name: &str) -> Result<Arc<dyn ObjectStore>, ServerlessError> {
        let mut buckets = self
            .buckets
            .lock()
            .map_err(|_| ServerlessError::Runtime("bucket cache poisoned".into()))?;
        if let Some(store) = buckets.get(name) {
            return Ok(store.clone());
        }
        let store = vigil_ingest::s3_store(name).map_err(|source| ServerlessError::Object {
            bucket: name.into(),
            key: String::new(),
            source,
        })?;
        buckets.insert(name.to_string(), store.clone());
        Ok(store)
    }

    /// Ingests `inputs` into the lake with the streaming rules over every
    /// batch, settles the findings and alerts the new ones. Batch ids come
    /// from the inputs, so a retried invocation rewrites the same objects, and
    /// suppression keeps it from alerting twice.
    pub async fn ingest(
        &self,
        inputs: Vec<InvocationInput>,
        now_ms: i64,
    ) -> Result<InvocationReport, ServerlessError> {
        let handle = tokio::runtime::Handle::current();
        let lake = self.lake.clone();
        let detector = self.detector.clone();
        let (ingested, pass) = tokio::task::spawn_blocking(move || {
            let writer = match lake.writer() {
                Ok(writer) => writer,
                Err(e) => return (Err(ServerlessError::from(e)), None),
            };
            let (sink, pass) = streaming_pass(writer, detector, &handle);
            let mut ingester = Ingester::new(IngestOptions::default(), sink);
            let mut failed = Vec::new();
            for (i, input) in inputs.into_iter().enumerate() {
                let outcome = match input {
                    InvocationInput::Bytes { bytes, source } => ingester
                        .ingest_bytes(&bytes, source)
                        .map_err(ServerlessError::from),
                    InvocationInput::Object {
                        store,
                        bucket,
                        key,
                        source,
                    } => ObjectReader::open(handle.clone(), store, &bucket, &key).and_then(
                        |reader| {
                            ingester
                                .ingest_reader(Box::new(reader), source)
                                .map_err(ServerlessError::from)
                        },
                    ),
                };
                if let Err(e) = outcome {
                    tracing::warn!(input = i, error = %e, "input not ingested");
                    failed.push((i, e.to_string()));
                }
            }
            let report = ingester.finish().map_err(ServerlessError::from);
            (report.map(|r| (r, failed)), Some(pass))
        })
        .await
        .map_err(|e| ServerlessError::Runtime(format!("ingest task: {e}")))?;
        // A rule that failed stopped the ingest too: its own error says more.
        let streamed = match pass {
            Some(pass) => pass.results().await?,
            None => StreamingResults::default(),
        };
        let (ingest, failed_inputs) = ingested?;
        let mut detect = streamed.report;
        let findings = self
            .detector
            .settle(streamed.candidates, now_ms, &mut detect)
            .await?;
        Ok(InvocationReport {
            ingest,
            failed_inputs,
            ..self.alerted(detect, findings).await?
        })
    }

    /// Runs every scheduled rule over the windows due at `now_ms` (catching up
    /// from its checkpoint), then alerts. The same `now_ms` twice runs nothing
    /// new the second time.
    pub async fn detect_due(&self, now_ms: i64) -> Result<InvocationReport, ServerlessError> {
        let mut detect = DetectReport::default();
        let findings = self.detector.due(now_ms, &mut detect).await?;
        self.alerted(detect, findings).await
    }

    /// Runs the scheduled rules over an explicit range (backfills).
    pub async fn detect_range(
        &self,
        range: vigil_queries::TimeRange,
        now_ms: i64,
    ) -> Result<InvocationReport, ServerlessError> {
        let mut detect = DetectReport::default();
        let candidates = self
            .detector
            .over_range(range, Source::Lake, ModeFilter::Scheduled, &mut detect)
            .await?;
        let findings = self
            .detector
            .settle(candidates, now_ms, &mut detect)
            .await?;
        self.alerted(detect, findings).await
    }

    /// Alerts the settled findings: the outcome of a detection pass.
    async fn alerted(
        &self,
        detect: DetectReport,
        findings: Vec<Finding>,
    ) -> Result<InvocationReport, ServerlessError> {
        let delivery = self.alert(&findings).await?;
        Ok(InvocationReport {
            detect,
            findings,
            delivery,
            ..InvocationReport::default()
        })
    }

    /// Delivers the findings just settled, and those a stopped run settled
    /// but did not deliver (left in the detector's outbox longer than any
    /// function runs, so not another invocation's work in progress); then
    /// takes them out of the outbox.
    async fn alert(&self, findings: &[Finding]) -> Result<DeliveryReport, ServerlessError> {
        if !self.settings.send_alerts {
            return Ok(DeliveryReport::default());
        }
        let settled_before = chrono::Utc::now().timestamp_millis() - LONGEST_RUN_MS;
        let backlog = self.detector.undelivered(Some(settled_before)).await?;
        let all = vigil_detect::engine::to_deliver(&backlog, findings);
        if all.is_empty() {
            return Ok(DeliveryReport::default());
        }
        let dispatcher = self
            .dispatcher
            .get_or_try_init(|| Dispatcher::new(&self.settings.alerting))
            .await?;
        let report = dispatcher.deliver(&all).await?;
        self.detector.delivered(&backlog, findings).await?;
        Ok(report)
    }
}
