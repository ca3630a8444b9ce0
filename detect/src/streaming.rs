//! The streaming pass: the streaming rules over each ingested batch, run as a
//! task beside the ingester, whose results come back as a value when the
//! input ends.
//!
//! Ingest is synchronous (it runs on a thread of its own, or a blocking
//! task); the rules are async (DataFusion). [`streaming_pass`] splits the two
//! at a bounded channel: the [`StreamingSink`] writes each batch through the
//! sink it wraps (the lake writer) and hands a copy (Arrow buffers are shared,
//! not copied) to the [`StreamingPass`] task on the caller's runtime.

use tokio::sync::mpsc;
use vigil_ingest::{BatchSink, IngestError, SinkStats, TableBatch};
use vigil_queries::TimeRange;

use crate::engine::{DetectReport, Detector};
use crate::error::DetectError;
use crate::evaluate::Candidate;
use crate::tables::Tables;

/// What the streaming pass saw.
#[derive(Debug, Default)]
pub struct StreamingResults {
    pub candidates: Vec<Candidate>,
    pub report: DetectReport,
    /// From the first to just after the last ingested rule-table event.
    pub span: Option<TimeRange>,
}

/// Batches waiting for the rules at most: ingest runs ahead of the rules by
/// this many, then waits (memory stays bounded whatever the input's size).
const BATCHES_IN_FLIGHT: usize = 2;

/// Wraps another sink (the lake writer): each batch goes to the streaming
/// pass, then to the inner sink.
pub struct StreamingSink<S: BatchSink> {
    inner: S,
    /// `None` once the input has ended, which ends the pass.
    batches: Option<mpsc::Sender<TableBatch>>,
}

/// The streaming rules running over the batches of a [`StreamingSink`].
pub struct StreamingPass {
    task: tokio::task::JoinHandle<Result<StreamingResults, DetectError>>,
}

/// A streaming pass of `detector`'s rules, spawned on `runtime`, and the
/// sink that feeds it and writes to `inner`. Call [`StreamingPass::results`]
/// once the ingester using the sink has finished.
pub fn streaming_pass<S: BatchSink>(
    inner: S,
    detector: Detector,
    runtime: &tokio::runtime::Handle,
) -> (StreamingSink<S>, StreamingPass) {
    let (sender, mut receiver) = mpsc::channel::<TableBatch>(BATCHES_IN_FLIGHT);
    let task = runtime.spawn(async move {
        let mut results = StreamingResults::default();
        while let Some(batch) = receiver.recv().await {
            let tables = Tables::from_batches([batch])?;
            let mut report = DetectReport::default();
            let candidates = detector.streaming(&tables, &mut report).await?;
            results.candidates.extend(candidates);
            Detector::merge_report(&mut results.report, report);
            if let Some(span) = tables.span() {
                results.span = Some(results.span.map_or(span, |s| s.union(&span)));
            }
        }
        Ok(results)
    });
    (
        StreamingSink {
            inner,
            batches: Some(sender),
        },
        StreamingPass { task },
    )
}

impl StreamingPass {
    /// What the pass found, once every batch has been through it (the sink
    /// finished or dropped); the pass's own error if a rule failed.
    pub async fn results(self) -> Result<StreamingResults, DetectError> {
        self.task.await?
    }
}

impl<S: BatchSink> StreamingSink<S> {
    fn end_pass(&mut self) {
        self.batches = None;
    }
}

impl<S: BatchSink> BatchSink for StreamingSink<S> {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        let sender = self
            .batches
            .as_ref()
            .ok_or_else(|| IngestError::Runtime("a batch after the input ended".into()))?;
        // Fails only when the pass has stopped: a rule failed, and the
        // pass's result says which.
        sender
            .blocking_send(batch.clone())
            .map_err(|_| IngestError::Runtime("streaming detection stopped".into()))?;
        self.inner.accept(batch)
    }

    fn end_of_input(&mut self) -> Result<(), IngestError> {
        self.inner.end_of_input()
    }

    fn finish(&mut self) -> Result<SinkStats, IngestError> {
        self.end_pass();
        self.inner.finish()
    }
}
