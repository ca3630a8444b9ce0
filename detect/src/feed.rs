//! The lake read once per table and fed, batch by batch, to every rule scan of it, so a window is never held in memory whole.
//!
//! A [`Feed`] is registered in each rule's session as the table itself. Each
//! scan of it that a rule's physical plan makes is noted; once every rule is
//! planned, the task reading the lake opens a channel to each scan and sends
//! each batch (cut to the feed's time range) to all of them as it is decoded. The rules aggregate while the lake
//! is read, a batch is freed once every rule has consumed it, and a rule
//! that falls behind holds the read back: memory stays a few batches deep.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};
use vigil_ingest::{Lake, Table};
use vigil_queries::TimeRange;

use crate::dedup::EventIds;
use crate::error::DetectError;
use crate::reads::TableRead;
use crate::scan_table::ScanSource;
use crate::tables::{lake_session, within, Pushdown};

/// What a subscriber receives: a batch, or the error that ended the read.
pub type Fed = Result<RecordBatch, DataFusionError>;

/// Batches waiting for one scan that reads its feed alone in its session:
/// a rule slower than the lake read holds the read back rather than let
/// the window pile up in memory.
const WAITING_BATCHES: usize = 4;

/// A planned scan: its session's id, and where to hand it its channel.
type Scan = (String, oneshot::Sender<Receiver>);

/// One lake table's rows within a time range, the source of a table a rule
/// can scan ([`ScanTable`](crate::scan_table::ScanTable)). Give each rule a session of its own: scans are
/// told apart by session.
#[derive(Debug)]
pub struct Feed {
    schema: SchemaRef,
    range: TimeRange,
    /// The scans planned of it.
    scans: Mutex<Vec<Scan>>,
}

impl Feed {
    pub fn new(schema: SchemaRef, range: TimeRange) -> Feed {
        Feed {
            schema,
            range,
            scans: Mutex::new(Vec::new()),
        }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The time range whose rows this feed carries.
    pub fn range(&self) -> TimeRange {
        self.range
    }

    /// The scans planned so far, each with its session id.
    fn take_scans(&self) -> Vec<Scan> {
        std::mem::take(&mut *self.scans.lock().expect("feed lock poisoned"))
    }
}

/// Opens a channel to each scan of the feeds and returns the sending ends
/// by table, with the range each carries: when the reader drops them, every
/// scan sees the end of its input. A session that scans feeds more than once
/// (a join) may consume one scan only after another, so its scans are never
/// made to wait for; a rule with a single scan is, and can wait on nothing
/// but the reader.
fn subscribe(feeds: &[(Table, Arc<Feed>)]) -> BTreeMap<Table, Vec<(TimeRange, Vec<Sender>)>> {
    let scans: Vec<(Table, TimeRange, Vec<Scan>)> = feeds
        .iter()
        .map(|(table, feed)| (*table, feed.range(), feed.take_scans()))
        .collect();
    let mut per_session: BTreeMap<String, usize> = BTreeMap::new();
    for (session, _) in scans.iter().flat_map(|(_, _, s)| s) {
        *per_session.entry(session.clone()).or_default() += 1;
    }
    let mut out: BTreeMap<Table, Vec<(TimeRange, Vec<Sender>)>> = BTreeMap::new();
    for (table, range, feed_scans) in scans {
        let mut senders = Vec::new();
        for (session, handover) in feed_scans {
            let (sender, receiver) = if per_session[&session] == 1 {
                let (s, r) = mpsc::channel(WAITING_BATCHES);
                (Sender::Waiting(s), Receiver::Waiting(r))
            } else {
                let (s, r) = mpsc::unbounded_channel();
                (Sender::Unbounded(s), Receiver::Unbounded(r))
            };
            // A scan dropped since it was planned wants nothing.
            if handover.send(receiver).is_ok() {
                senders.push(sender);
            }
        }
        if !senders.is_empty() {
            out.entry(table).or_default().push((range, senders));
        }
    }
    out
}

/// The reader's end of a scan's channel.
#[derive(Debug)]
pub enum Sender {
    Waiting(mpsc::Sender<Fed>),
    Unbounded(mpsc::UnboundedSender<Fed>),
}

impl Sender {
    /// Sends, waiting for room if the scan is behind; a scan that stopped
    /// early (a LIMIT, a join with nothing to probe) has hung up, which is
    /// not an error.
    pub async fn send(&self, fed: Fed) {
        let _ = match self {
            Sender::Waiting(s) => s.send(fed).await.map_err(|_| ()),
            Sender::Unbounded(s) => s.send(fed).map_err(|_| ()),
        };
    }
}

/// A scan's end of its channel.
#[derive(Debug)]
enum Receiver {
    Waiting(mpsc::Receiver<Fed>),
    Unbounded(mpsc::UnboundedReceiver<Fed>),
}

impl Receiver {
    async fn recv(&mut self) -> Option<Fed> {
        match self {
            Receiver::Waiting(r) => r.recv().await,
            Receiver::Unbounded(r) => r.recv().await,
        }
    }
}

impl ScanSource for Feed {
    /// Registers a scan of the feed; its channel comes when the reader
    /// subscribes the scans (see [`subscribe`]).
    fn partition(&self, session_id: &str) -> Arc<dyn PartitionStream> {
        let (handover, channel) = oneshot::channel();
        self.scans
            .lock()
            .expect("feed lock poisoned")
            .push((session_id.to_string(), handover));
        Arc::new(Subscription {
            schema: self.schema.clone(),
            channel: Mutex::new(Some(channel)),
        })
    }
}

/// One scan's end of a feed, until its channel is handed over.
#[derive(Debug)]
struct Subscription {
    schema: SchemaRef,
    channel: Mutex<Option<oneshot::Receiver<Receiver>>>,
}

impl PartitionStream for Subscription {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let channel = self.channel.lock().expect("feed lock poisoned").take();
        let stream = futures::stream::once(async move {
            match channel {
                Some(c) => c.await.map_err(|_| {
                    DataFusionError::Internal("a fed table was dropped before it was read".into())
                }),
                // A scan runs once: a second run would silently see nothing.
                None => Err(DataFusionError::Internal(
                    "a fed table scan was run twice".into(),
                )),
            }
        })
        .flat_map(|channel| match channel {
            Ok(receiver) => futures::stream::unfold(receiver, |mut r| async move {
                r.recv().await.map(|fed| (fed, r))
            })
            .left_stream(),
            Err(e) => futures::stream::once(async { Err(e) }).right_stream(),
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}

/// One table's read of the lake, opened but not yet polled.
pub struct LakeRead {
    pub table: Table,
    stream: SendableRecordBatchStream,
}

impl LakeRead {
    /// The schema of the rows it yields: the read's columns.
    pub fn schema(&self) -> SchemaRef {
        self.stream.schema()
    }
}

/// Opens the reads of the given span, columns and rows of each table,
/// pruning partitions (and so reading only what the rules use).
pub async fn open_lake_reads(
    lake: &Lake,
    reads: &BTreeMap<Table, TableRead>,
) -> Result<Vec<LakeRead>, DetectError> {
    let mut out = Vec::new();
    for (&table, read) in reads {
        let ctx = lake_session(match read.rows {
            Some(_) => Pushdown::Filters,
            None => Pushdown::None,
        });
        vigil_queries::register_lake_views(&ctx, lake)?;
        let columns: Vec<&str> = read.columns.iter().map(String::as_str).collect();
        // Rows the rules filter on are picked during the decode; rows read
        // whole are filtered after it, where a batch within the span passes
        // uncopied. Either way the span prunes files and row groups by
        // their event_time statistics.
        let stream = ctx
            .table(table.name())
            .await
            .and_then(|df| match &read.rows {
                Some(rows) => df.filter(read.span.filter().and(rows.clone())),
                None => df.filter(read.span.filter()),
            })
            .and_then(|df| df.select_columns(&columns))
            .map_err(DetectError::Lake)?
            .execute_stream()
            .await
            .map_err(DetectError::Lake)?;
        out.push(LakeRead { table, stream });
    }
    Ok(out)
}

/// What feeding the lake to the rules read.
#[derive(Debug, Default)]
pub struct FeedReport {
    /// Rows fed, each event once.
    pub rows: usize,
    /// Repeated deliveries of an event set aside.
    pub repeated: usize,
}

/// Reads each table once, side by side (a task each, setting repeats aside
/// as batches come, on another core than the decoding), and sends its rows,
/// each event once, to every feed of it, cut to the feed's range. A failed
/// read ends every feed of its table with the error, so no rule takes a
/// partial window for a whole one.
pub async fn feed_lake(
    reads: Vec<LakeRead>,
    feeds: Vec<(Table, Arc<Feed>)>,
) -> Result<FeedReport, DetectError> {
    let mut subscribed = subscribe(&feeds);
    let tasks = reads.into_iter().map(|read| {
        let subscribers = subscribed.remove(&read.table).unwrap_or_default();
        tokio::spawn(async move {
            let fed = feed_table(read.stream, &subscribers).await;
            if let Err(e) = &fed {
                let failed = || DataFusionError::Execution(format!("reading the lake: {e}"));
                for sender in subscribers.iter().flat_map(|(_, s)| s.iter()) {
                    sender.send(Err(failed())).await;
                }
            }
            fed
        })
    });
    let mut out = FeedReport::default();
    for task in futures::future::join_all(tasks).await {
        let fed = task??;
        out.rows += fed.rows;
        out.repeated += fed.repeated;
    }
    Ok(out)
}

async fn feed_table(
    mut stream: SendableRecordBatchStream,
    subscribers: &[(TimeRange, Vec<Sender>)],
) -> Result<FeedReport, DetectError> {
    let mut ids: EventIds = EventIds::default();
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = ids.first_deliveries(batch.map_err(DetectError::Lake)?)?;
        rows += batch.num_rows();
        for (range, senders) in subscribers {
            match within(&batch, *range)? {
                Some(part) if part.num_rows() > 0 => {
                    for sender in senders {
                        sender.send(Ok(part.clone())).await;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(FeedReport {
        rows,
        repeated: ids.set_aside(),
    })
}
