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
use crate::schema::schema;

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
}

/// Where finished batches go: the lake, streaming detection, memory.
pub trait BatchSink: Send {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError>;
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
    pub deadletter: DeadLetterBuilder,
    /// Raw bytes appended per table since its last flush (memory bound).
    bytes: [usize; 4],
    capacity: usize,
}

fn slot(table: Table) -> usize {
    match table {
        Table::CloudTrail => 0,
        Table::ApiGateway => 1,
        Table::Lambda => 2,
        Table::DeadLetter | Table::Findings => 3,
    }
}

impl Builders {
    pub fn new(capacity: usize) -> Self {
        Builders {
            cloudtrail: CloudTrailBuilder::with_capacity(capacity),
            apigateway: ApiGatewayBuilder::with_capacity(capacity),
            lambda: LambdaBuilder::with_capacity(capacity),
            deadletter: DeadLetterBuilder::with_capacity(capacity.min(1024)),
            bytes: [0; 4],
            capacity,
        }
    }

    pub fn rows(&self, table: Table) -> usize {
        match table {
            Table::CloudTrail => self.cloudtrail.rows(),
            Table::ApiGateway => self.apigateway.rows(),
            Table::Lambda => self.lambda.rows(),
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

    /// Takes the rows built so far as a batch, leaving the builder empty.
    pub fn take(&mut self, table: Table) -> Result<Option<RecordBatch>, IngestError> {
        if self.rows(table) == 0 {
            return Ok(None);
        }
        let mut arrays = Vec::new();
        match table {
            Table::CloudTrail => {
                self.cloudtrail.common.finish_into(&mut arrays);
                self.cloudtrail.columns.finish_into(&mut arrays);
                self.cloudtrail = CloudTrailBuilder::with_capacity(self.capacity);
            }
            Table::ApiGateway => {
                self.apigateway.common.finish_into(&mut arrays);
                self.apigateway.columns.finish_into(&mut arrays);
                self.apigateway = ApiGatewayBuilder::with_capacity(self.capacity);
            }
            Table::Lambda => {
                self.lambda.common.finish_into(&mut arrays);
                self.lambda.columns.finish_into(&mut arrays);
                self.lambda = LambdaBuilder::with_capacity(self.capacity);
            }
            Table::DeadLetter => {
                self.deadletter.columns.finish_into(&mut arrays);
                self.deadletter = DeadLetterBuilder::with_capacity(self.capacity.min(1024));
            }
            Table::Findings => return Ok(None),
        }
        self.bytes[slot(table)] = 0;
        let schema = schema(table);
        Ok(Some(RecordBatch::try_new(schema, arrays)?))
    }
}
