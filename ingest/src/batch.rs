//! Per-table Arrow builders for one source, and the sink that takes finished batches.

use arrow::array::RecordBatch;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::deadletter::DeadLetterBuilder;
use crate::error::IngestError;
use crate::family::Table;
use crate::parse::apigateway::ApiGatewayBuilder;
use crate::parse::cloudtrail::CloudTrailBuilder;
use crate::parse::lambda::LambdaBuilder;
use crate::parse::waf::WafBuilder;
use crate::schema::{schema, BatchSize};

/// A finished batch of one table, with the id its lake objects are named by.
#[derive(Debug, Clone)]
pub struct TableBatch {
    pub table: Table,
    pub batch_id: String,
    pub batch: RecordBatch,
}

/// What a sink wrote, per table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkStats {
    pub files: BTreeMap<Table, u64>,
    pub rows: BTreeMap<Table, u64>,
    /// Files not stored because `vigil compact` had merged a file of that
    /// name into a bigger one (their rows are in the lake already).
    pub already_merged: BTreeMap<Table, u64>,
}

/// Where finished batches go: the lake, streaming detection, memory.
pub trait BatchSink: Send {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError>;
    /// The input whose batches came so far has ended: a sink that gathers
    /// an input's batches into fewer files may close them now.
    fn end_of_input(&mut self) -> Result<(), IngestError> {
        Ok(())
    }
    /// Completes every write; what was accepted is durable once this returns.
    fn finish(&mut self) -> Result<SinkStats, IngestError>;
}

/// Keeps batches in memory (streaming detection, tests); clones share them.
#[derive(Debug, Clone, Default)]
pub struct MemorySink(Arc<Mutex<Vec<TableBatch>>>);

impl MemorySink {
    pub fn batches(&self) -> Vec<TableBatch> {
        self.0.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

impl BatchSink for MemorySink {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        self.0
            .lock()
            .map_err(|_| IngestError::WriterGone("memory sink poisoned".into()))?
            .push(batch);
        Ok(())
    }

    fn finish(&mut self) -> Result<SinkStats, IngestError> {
        let mut stats = SinkStats::default();
        for b in self.batches() {
            *stats.files.entry(b.table).or_default() += 1;
            *stats.rows.entry(b.table).or_default() += b.batch.num_rows() as u64;
        }
        Ok(stats)
    }
}

/// The builders of every ingested table.
pub struct Builders {
    pub cloudtrail: CloudTrailBuilder,
    pub apigateway: ApiGatewayBuilder,
    pub lambda: LambdaBuilder,
    pub waf: WafBuilder,
    pub deadletter: DeadLetterBuilder,
    /// Raw bytes appended per table since its last flush (memory bound).
    bytes: [usize; Table::INGESTED.len()],
    capacity: usize,
    /// The raw bytes at which a batch is flushed (`IngestOptions::batch_bytes`).
    batch_bytes: usize,
    sizes: BatchSizes,
}

/// Per table, the size of its last full batch (see [`BatchSize`]); kept by
/// the ingester from one input to the next.
#[derive(Debug, Clone, Default)]
pub struct BatchSizes([Option<BatchSize>; Table::INGESTED.len()]);

impl BatchSizes {
    fn get(&self, table: Table) -> Option<&BatchSize> {
        self.0[slot(table)].as_ref()
    }

    /// The rows a new builder of `table` starts with: its largest batch so
    /// far, else `default`, but no more than a batch of `batch_bytes` holds
    /// at the records' size so far.
    fn rows(&self, table: Table, default: usize, batch_bytes: usize) -> usize {
        // Dead letters are few and large: their builder never asks for more
        // than a thousand rows up front.
        let default = match table {
            Table::DeadLetter => default.min(1024),
            _ => default,
        };
        self.get(table).map_or(default, |s| {
            let rows = match table {
                Table::DeadLetter => default,
                _ => s.rows.max(default),
            };
            s.rows_within(rows, batch_bytes)
        })
    }

    /// Remembers a batch's size unless it is a small tail (the end of an
    /// input), which says little about the next input's batches.
    fn record(&mut self, table: Table, size: BatchSize) {
        let slot = &mut self.0[slot(table)];
        if slot.as_ref().is_none_or(|s| size.rows * 2 >= s.rows) {
            *slot = Some(size);
        }
    }
}

fn slot(table: Table) -> usize {
    match table {
        Table::CloudTrail => 0,
        Table::ApiGateway => 1,
        Table::Lambda => 2,
        Table::Waf => 3,
        Table::DeadLetter | Table::Findings => 4,
    }
}

impl Builders {
    /// Builders for `capacity` rows per table, or as many as `sizes` says
    /// the table's batches have, within `batch_bytes` of records.
    pub fn new(capacity: usize, batch_bytes: usize, sizes: BatchSizes) -> Self {
        let rows = |t| sizes.rows(t, capacity, batch_bytes);
        Builders {
            cloudtrail: CloudTrailBuilder::with_size(
                rows(Table::CloudTrail),
                sizes.get(Table::CloudTrail),
            ),
            apigateway: ApiGatewayBuilder::with_size(
                rows(Table::ApiGateway),
                sizes.get(Table::ApiGateway),
            ),
            lambda: LambdaBuilder::with_size(rows(Table::Lambda), sizes.get(Table::Lambda)),
            waf: WafBuilder::with_size(rows(Table::Waf), sizes.get(Table::Waf)),
            deadletter: DeadLetterBuilder::with_size(
                rows(Table::DeadLetter),
                sizes.get(Table::DeadLetter),
            ),
            bytes: [0; Table::INGESTED.len()],
            capacity,
            batch_bytes,
            sizes,
        }
    }

    /// The batch sizes seen so far, for the builders of the next input.
    pub fn into_sizes(self) -> BatchSizes {
        self.sizes
    }

    pub fn rows(&self, table: Table) -> usize {
        match table {
            Table::CloudTrail => self.cloudtrail.rows(),
            Table::ApiGateway => self.apigateway.rows(),
            Table::Lambda => self.lambda.rows(),
            Table::Waf => self.waf.rows(),
            Table::DeadLetter => self.deadletter.rows(),
            Table::Findings => 0,
        }
    }

    pub fn add_bytes(&mut self, table: Table, n: usize) {
        self.bytes[slot(table)] += n;
    }

    pub fn bytes(&self, table: Table) -> usize {
        self.bytes[slot(table)]
    }

    /// Takes the rows built so far as a batch, leaving the builder empty
    /// (and sized for a batch like this one).
    pub fn take(&mut self, table: Table) -> Result<Option<RecordBatch>, IngestError> {
        let rows = self.rows(table);
        if rows == 0 {
            return Ok(None);
        }
        let mut arrays = Vec::new();
        match table {
            Table::CloudTrail => {
                self.cloudtrail.common.finish_into(&mut arrays);
                self.cloudtrail.columns.finish_into(&mut arrays);
            }
            Table::ApiGateway => {
                self.apigateway.common.finish_into(&mut arrays);
                self.apigateway.columns.finish_into(&mut arrays);
            }
            Table::Lambda => {
                self.lambda.common.finish_into(&mut arrays);
                self.lambda.columns.finish_into(&mut arrays);
            }
            Table::Waf => {
                self.waf.common.finish_into(&mut arrays);
                self.waf.columns.finish_into(&mut arrays);
            }
            Table::DeadLetter => self.deadletter.columns.finish_into(&mut arrays),
            Table::Findings => return Ok(None),
        }
        self.sizes.record(table, BatchSize::of(rows, &arrays));
        let next_rows = self.sizes.rows(table, self.capacity, self.batch_bytes);
        let size = self.sizes.get(table);
        match table {
            Table::CloudTrail => self.cloudtrail = CloudTrailBuilder::with_size(next_rows, size),
            Table::ApiGateway => self.apigateway = ApiGatewayBuilder::with_size(next_rows, size),
            Table::Lambda => self.lambda = LambdaBuilder::with_size(next_rows, size),
            Table::Waf => self.waf = WafBuilder::with_size(next_rows, size),
            _ => self.deadletter = DeadLetterBuilder::with_size(next_rows, size),
        }
        self.bytes[slot(table)] = 0;
        let schema = schema(table);
        Ok(Some(RecordBatch::try_new(schema, arrays)?))
    }
}
