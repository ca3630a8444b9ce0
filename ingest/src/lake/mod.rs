//! The Parquet lake: `<lake>/<table>/date=YYYY-MM-DD/hour=HH/<batch-id>.parquet`,
//! on a local folder or `s3://bucket/prefix`, through `object_store`.
//!
//! Objects appear whole or not at all: the local store writes a temporary file
//! and renames it; S3 takes a single PUT. Batch ids come from the input, so a
//! retried ingestion rewrites the same objects instead of adding rows, or,
//! once `vigil compact` has merged them, leaves them out.
//!
//! - [`store`]: the object store of an `s3://` lake (or of a bucket inputs
//!   are read from).
//! - [`requests`]: counts the requests made to S3, by billing class.
//! - [`encoding`]: the lake's Parquet settings, column by column.
//! - [`writer`]: the writer thread that gathers an input's batches into files.

mod encoding;
mod requests;
mod store;
mod writer;

use arrow::array::{Array, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow::compute::take_record_batch;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::batch::TableBatch;
use crate::error::IngestError;
use crate::family::Table;

pub(crate) use encoding::writer_properties;
pub use encoding::{encode_parquet, encode_parquet_with, ROW_GROUP_ROWS};
pub use requests::{s3_requests, S3Requests};
pub use store::{s3_store, S3_ENDPOINT_ENV};
pub use writer::{LakeWriter, FILE_ROWS, MAX_OPEN_FILES, OPEN_FILES_BYTES};

/// The span of one lake partition (an hour), in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// Where the lake lives.
#[derive(Debug, Clone)]
pub struct Lake {
    location: String,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    /// `file://` or `s3://bucket`: the object store's URL for query engines.
    store_url: String,
}

impl Lake {
    /// Opens `./path` (created if missing) or `s3://bucket/prefix` (credentials
    /// and region from the standard AWS environment; endpoint override from
    /// `VIGIL_S3_ENDPOINT` or `AWS_ENDPOINT_URL`).
    pub fn open(location: &str) -> Result<Lake, IngestError> {
        let bad = |reason: String| IngestError::LakeLocation {
            location: location.to_string(),
            reason,
        };
        if let Some(rest) = location.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(bad("no bucket name".into()));
            }
            let store = s3_store(bucket).map_err(|e| bad(e.to_string()))?;
            Ok(Lake {
                location: location.to_string(),
                store,
                prefix: ObjectPath::from(prefix.trim_matches('/')),
                store_url: format!("s3://{bucket}"),
            })
        } else {
            let path = location.strip_prefix("file://").unwrap_or(location);
            std::fs::create_dir_all(path).map_err(|e| bad(e.to_string()))?;
            let root = std::fs::canonicalize(path).map_err(|e| bad(e.to_string()))?;
            let store = LocalFileSystem::new_with_prefix(&root).map_err(|e| bad(e.to_string()))?;
            Ok(Lake {
                location: root.display().to_string(),
                store: Arc::new(store),
                prefix: ObjectPath::default(),
                store_url: "file://".to_string(),
            })
        }
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// The folder of a local lake (`None` for an S3 lake).
    pub fn local_root(&self) -> Option<&std::path::Path> {
        (self.store_url == "file://").then(|| std::path::Path::new(&self.location))
    }

    pub fn store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }

    /// The URL of a table's folder (`file:///abs/lake/cloudtrail/`, `s3://b/p/cloudtrail/`).
    pub fn table_url(&self, table: Table) -> String {
        if self.store_url == "file://" {
            format!(
                "file://{}/{}/",
                self.location.trim_end_matches('/'),
                table.name()
            )
        } else {
            let prefix = self.prefix.as_ref();
            if prefix.is_empty() {
                format!("{}/{}/", self.store_url, table.name())
            } else {
                format!("{}/{}/{}/", self.store_url, prefix, table.name())
            }
        }
    }

    /// The object store's URL (`file://` or `s3://bucket`), to register with a query engine.
    pub fn store_url(&self) -> &str {
        &self.store_url
    }

    /// The object path of a table's folder inside the store.
    pub fn table_path(&self, table: Table) -> ObjectPath {
        self.prefix.clone().join(table.name())
    }

    /// The object path of a small state file under `<lake>/_state/`.
    pub fn state_path(&self, name: &str) -> ObjectPath {
        let mut path = self.prefix.clone().join("_state");
        for part in name.split('/').filter(|p| !p.is_empty()) {
            path = path.join(part);
        }
        path
    }

    /// Writes one batch under its hour partitions, one object per hour named
    /// by the batch id (rewriting the same batch replaces the same objects).
    pub async fn write_batch(&self, tb: &TableBatch) -> Result<Written, IngestError> {
        let mut written = Written::default();
        for (folder, part) in split_by_hour(&tb.batch)? {
            let bytes = encode_parquet(&part)?;
            let path = self.object_path(tb.table, &folder, &tb.batch_id);
            if self.put_unless_merged(&path, bytes).await? {
                written.files += 1;
            }
            written.rows += part.num_rows() as u64;
        }
        Ok(written)
    }

    /// Where `vigil compact` notes that a file was merged into a bigger one:
    /// `<lake>/_state/merged/<table>/<hour folder>/<batch id>`.
    pub(crate) fn merged_marker(&self, file: &ObjectPath) -> ObjectPath {
        let mut marker = self.prefix.clone().join("_state").join("merged");
        let rel: Vec<_> = match file.prefix_match(&self.prefix) {
            Some(parts) => parts.collect(),
            None => file.parts().collect(),
        };
        for (i, part) in rel.iter().enumerate() {
            let part = part.as_ref();
            marker = match (i + 1 == rel.len(), part.strip_suffix(".parquet")) {
                (true, Some(batch_id)) => marker.join(batch_id),
                _ => marker.join(part),
            };
        }
        marker
    }

    /// Stores a lake file, unless `vigil compact` merged a file of that name
    /// into a bigger one already (a retried delivery would bring its rows back
    /// a second time); tells whether it stored it.
    async fn put_unless_merged(
        &self,
        path: &ObjectPath,
        bytes: Vec<u8>,
    ) -> Result<bool, IngestError> {
        let marker = self.merged_marker(path);
        match self.store.head(&marker).await {
            Ok(_) => {
                tracing::info!(file = %path, "already merged by a compaction: not stored again");
                return Ok(false);
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(source) => {
                return Err(IngestError::LakeAccess {
                    path: marker.to_string(),
                    source,
                })
            }
        }
        self.put(path, bytes).await?;
        Ok(true)
    }

    /// `<table>/<folder>/<batch_id>.parquet`, `folder` being `date=…/hour=…`.
    fn object_path(&self, table: Table, folder: &str, batch_id: &str) -> ObjectPath {
        let mut path = self.table_path(table);
        for segment in folder.split('/') {
            path = path.join(segment);
        }
        path.join(format!("{batch_id}.parquet").as_str())
    }

    /// Stores a whole object in one PUT (so it is never seen half-written).
    pub(crate) async fn put(&self, path: &ObjectPath, bytes: Vec<u8>) -> Result<(), IngestError> {
        self.store
            .put(path, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|source| IngestError::LakeWrite {
                path: path.to_string(),
                source,
            })
    }

    /// Starts a writer: batches are encoded and stored on a thread of their
    /// own, so parsing and writing overlap.
    pub fn writer(&self) -> Result<LakeWriter, IngestError> {
        LakeWriter::start(self.clone())
    }
}

/// What one [`Lake::write_batch`] stored: files (not counting those a
/// compaction had merged already) and the batch's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub files: u64,
    pub rows: u64,
}

/// Splits a batch by the hour of its first column (`event_time`), giving the
/// `date=YYYY-MM-DD/hour=HH` folder of each part.
pub fn split_by_hour(batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>, IngestError> {
    let times = batch
        .column(0)
        .as_any()
        .downcast_ref::<TimestampMillisecondArray>()
        .ok_or_else(|| IngestError::Runtime("first column is not event_time".into()))?;
    let hour_of = |i: usize| -> i64 {
        if times.is_null(i) {
            0
        } else {
            times.value(i).div_euclid(HOUR_MS)
        }
    };
    let folder = |hour: i64| -> String {
        let dt = chrono::DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default();
        dt.format("date=%Y-%m-%d/hour=%H").to_string()
    };
    if batch.num_rows() == 0 {
        return Ok(Vec::new());
    }
    let first = hour_of(0);
    if (0..batch.num_rows()).all(|i| hour_of(i) == first) {
        return Ok(vec![(folder(first), batch.clone())]);
    }
    let mut groups: BTreeMap<i64, Vec<u32>> = BTreeMap::new();
    for i in 0..batch.num_rows() {
        groups.entry(hour_of(i)).or_default().push(i as u32);
    }
    groups
        .into_iter()
        .map(|(hour, rows)| {
            let part = take_record_batch(batch, &UInt32Array::from(rows))?;
            Ok((folder(hour), part))
        })
        .collect()
}

/// A batch of `table` of `rows` rows at `hour`, every other column null.
#[cfg(test)]
pub(crate) fn test_batch(table: Table, rows: usize, hour: i64) -> RecordBatch {
    use arrow::array::ArrayRef;
    let schema = crate::schema::schema(table);
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if i == 0 {
                Arc::new(
                    TimestampMillisecondArray::from(vec![hour * HOUR_MS; rows])
                        .with_timezone("UTC"),
                ) as ArrayRef
            } else {
                arrow::array::new_null_array(f.data_type(), rows)
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}
