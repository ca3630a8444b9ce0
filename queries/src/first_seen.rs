//! The `first_seen` table: first- and last-seen facts per principal (countries, ASNs, user agents, addresses, services, operations), kept by the scheduled pass under `<lake>/_state/first_seen/`.

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use object_store::ObjectStoreExt;
use std::sync::Arc;
use vigil_ingest::Lake;

use crate::error::QueryError;

/// The table's name in sessions.
pub const TABLE: &str = "first_seen";

/// The state object holding the facts (Parquet), under `<lake>/_state/`.
pub const STATE_OBJECT: &str = "first_seen/facts.parquet";

/// `principal` (the role ARN for assumed roles, else the user ARN or
/// actor), `kind` (`principal`, `country`, `asn`, `src_ip`, `user_agent`,
/// `ua_family`, `service`, `operation`), `value`, `first_seen`, `last_seen`.
pub fn schema() -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    Arc::new(Schema::new(vec![
        Field::new("principal", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("value", DataType::Utf8, false),
        Field::new("first_seen", time.clone(), false),
        Field::new("last_seen", time, false),
    ]))
}

/// `batch` with the table's column types (text read from a lake or a rule
/// session may be views).
pub fn conform(batch: &RecordBatch) -> Result<RecordBatch, QueryError> {
    let schema = schema();
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            let column = batch
                .column_by_name(f.name())
                .ok_or_else(|| QueryError::State {
                    object: STATE_OBJECT.into(),
                    reason: format!("no {} column", f.name()),
                })?;
            Ok(arrow::compute::cast(column, f.data_type())?)
        })
        .collect::<Result<Vec<_>, QueryError>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Registers `facts` as the `first_seen` table (none: an empty table).
pub fn register(ctx: &SessionContext, facts: Option<RecordBatch>) -> Result<(), QueryError> {
    let schema = schema();
    let partitions = facts.map(|b| vec![vec![b]]).unwrap_or_else(|| vec![vec![]]);
    let table = MemTable::try_new(schema, partitions).map_err(QueryError::Query)?;
    ctx.deregister_table(TABLE).map_err(QueryError::Query)?;
    ctx.register_table(TABLE, Arc::new(table))
        .map_err(QueryError::Query)?;
    Ok(())
}

/// The facts kept in `lake`, if the scheduled pass has written any.
pub async fn load(lake: &Lake) -> Result<Option<RecordBatch>, QueryError> {
    let path = lake.state_path(STATE_OBJECT);
    let bytes = match lake.store().get(&path).await {
        Ok(got) => got.bytes().await,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => Err(e),
    }
    .map_err(|e| QueryError::State {
        object: path.to_string(),
        reason: e.to_string(),
    })?;
    decode(bytes).map(Some)
}

/// The facts of a Parquet file's bytes, as one batch.
pub fn decode(bytes: Bytes) -> Result<RecordBatch, QueryError> {
    let reader =
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)?.build()?;
    let batches = reader
        .map(|b| conform(&b?))
        .collect::<Result<Vec<_>, QueryError>>()?;
    Ok(arrow::compute::concat_batches(&schema(), &batches)?)
}
