//! A batch sink that runs the streaming rules over each ingested batch on its
//! way to the lake, and remembers the time span ingested for scheduled rules.

use std::sync::{Arc, Mutex};
use vigil_ingest::{BatchSink, IngestError, SinkStats, TableBatch};
use vigil_queries::TimeRange;

use crate::engine::{DetectReport, Detector};
use crate::evaluate::Candidate;
use crate::tables::Tables;

/// What the streaming pass saw, shared with the caller.
#[derive(Debug, Default)]
pub struct StreamingResults {
    pub candidates: Vec<Candidate>,
    pub report: DetectReport,
    /// From the first to just after the last ingested rule-table event.
    pub span: Option<TimeRange>,
}

/// Wraps another sink (the lake writer): detection first, then the write.
pub struct StreamingSink<S: BatchSink> {
    inner: S,
    detector: Detector,
    runtime: tokio::runtime::Runtime,
    results: Arc<Mutex<StreamingResults>>,
}

impl<S: BatchSink> StreamingSink<S> {
    /// The sink and a handle to read its results once ingestion is finished.
    pub fn new(
        inner: S,
        detector: Detector,
    ) -> Result<(Self, Arc<Mutex<StreamingResults>>), IngestError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| IngestError::Runtime(e.to_string()))?;
        let results = Arc::new(Mutex::new(StreamingResults::default()));
        Ok((
            StreamingSink {
                inner,
                detector,
                runtime,
                results: results.clone(),
            },
            results,
        ))
    }
}

impl<S: BatchSink> BatchSink for StreamingSink<S> {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        let tables = Tables::from_batches([batch.clone()])
            .map_err(|e| IngestError::Runtime(format!("streaming detection: {e}")))?;
        let mut report = DetectReport::default();
        let candidates = self
            .runtime
            .block_on(self.detector.streaming(&tables, &mut report))
            .map_err(|e| IngestError::Runtime(format!("streaming detection: {e}")))?;
        {
            let mut results = self
                .results
                .lock()
                .map_err(|_| IngestError::Runtime("streaming results poisoned".into()))?;
            results.candidates.extend(candidates);
            Detector::merge_report(&mut results.report, report);
            if let Some(span) = tables.span() {
                results.span = Some(results.span.map_or(span, |s| s.union(&span)));
            }
        }
        self.inner.accept(batch)
    }

    fn end_of_input(&mut self) -> Result<(), IngestError> {
        self.inner.end_of_input()
    }

    fn finish(&mut self) -> Result<SinkStats, IngestError> {
        self.inner.finish()
    }
}
