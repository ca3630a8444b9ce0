//! The Parquet lake: `<lake>/<table>/date=YYYY-MM-DD/hour=HH/<batch-id>.parquet`,
//! on a local folder or `s3://bucket/prefix`, through `object_store`.
//!
//! Objects appear whole or not at all: the local store writes a temporary file
//! and renames it; S3 takes a single PUT. Batch ids come from the input, so a
//! retried ingestion rewrites the same objects instead of adding rows.

use arrow::array::{Array, RecordBatch, TimestampMillisecondArray, UInt32Array};
use arrow::compute::take_record_batch;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::batch::{BatchSink, SinkStats, TableBatch};
use crate::error::IngestError;
use crate::family::Table;

/// Environment variable naming an S3-compatible endpoint (tests point it at moto).
pub const S3_ENDPOINT_ENV: &str = "VIGIL_S3_ENDPOINT";

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
            let mut path = self.table_path(tb.table);
            for segment in folder.split('/') {
                path = path.join(segment);
            }
            let path = path.join(format!("{}.parquet", tb.batch_id).as_str());
            self.store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(|source| IngestError::LakeWrite {
                    path: path.to_string(),
                    source,
                })?;
            written.files += 1;
            written.rows += part.num_rows() as u64;
        }
        Ok(written)
    }

    /// Starts a writer: batches are encoded and stored on a thread of their
    /// own, so parsing and writing overlap.
    pub fn writer(&self) -> Result<LakeWriter, IngestError> {
        LakeWriter::start(self.clone())
    }
}

/// An object store for one S3 bucket: credentials and region from the
/// standard AWS environment, the endpoint from `VIGIL_S3_ENDPOINT` or
/// `AWS_ENDPOINT_URL` when set (path-style, plain HTTP allowed only there).
pub fn s3_store(bucket: &str) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = std::env::var(S3_ENDPOINT_ENV)
        .ok()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|e| !e.is_empty())
    {
        builder = builder
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
    }
    if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        builder = builder.with_region("us-east-1");
    }
    Ok(Arc::new(builder.build()?))
}

/// What one [`Lake::write_batch`] stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub files: u64,
    pub rows: u64,
}

/// Columns whose every value is (nearly) unique: whole records, ids, nested
/// JSON. A dictionary never pays off on them and min/max statistics never
/// prune a query, yet both cost a hash or a comparison of every value (a
/// third of the writer's time on CloudTrail), so both are off for these.
const UNIQUE_COLUMNS: &[&str] = &[
    "raw",
    "raw_bytes",
    "event_id",
    "request_id",
    "extended_request_id",
    "shared_event_id",
    "xray_trace_id",
    "message",
    "user_identity",
    "request_parameters",
    "response_elements",
    "additional_event_data",
    "resources",
    "service_event_details",
    "insight_details",
    "fields",
    "samples",
];

/// Encodes one batch as a Parquet file (zstd).
pub fn encode_parquet(batch: &RecordBatch) -> Result<Vec<u8>, IngestError> {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(128 * 1024));
    for field in batch.schema().fields() {
        if UNIQUE_COLUMNS.contains(&field.name().as_str()) {
            let column = ColumnPath::from(field.name().as_str());
            props = props
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_statistics_enabled(column, EnabledStatistics::None);
        }
    }
    let props = props.build();
    let mut out = Vec::with_capacity(1 << 20);
    let mut writer = ArrowWriter::try_new(&mut out, batch.schema(), Some(props))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

/// Splits a batch by the hour of its first column (`event_time`), giving the
/// `date=YYYY-MM-DD/hour=HH` folder of each part.
pub fn split_by_hour(batch: &RecordBatch) -> Result<Vec<(String, RecordBatch)>, IngestError> {
    const HOUR_MS: i64 = 3_600_000;
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

/// Writes batches to the lake from a background thread.
pub struct LakeWriter {
    tx: Option<SyncSender<TableBatch>>,
    handle: Option<JoinHandle<Result<SinkStats, IngestError>>>,
}

impl LakeWriter {
    fn start(lake: Lake) -> Result<LakeWriter, IngestError> {
        // One batch queued while another is encoded: parsing and writing
        // overlap, and memory stays bounded at about three batches.
        let (tx, rx) = sync_channel::<TableBatch>(1);
        let handle = std::thread::Builder::new()
            .name("vigil-lake-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| IngestError::Runtime(e.to_string()))?;
                let mut stats = SinkStats::default();
                for tb in rx {
                    let written = runtime.block_on(lake.write_batch(&tb))?;
                    *stats.files.entry(tb.table).or_default() += written.files;
                    *stats.rows.entry(tb.table).or_default() += written.rows;
                }
                Ok(stats)
            })
            .map_err(|e| IngestError::Runtime(e.to_string()))?;
        Ok(LakeWriter {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn join(&mut self) -> Result<SinkStats, IngestError> {
        self.tx.take();
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| IngestError::WriterGone("the lake writer panicked".into()))?,
            None => Ok(SinkStats::default()),
        }
    }
}

impl BatchSink for LakeWriter {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        let sent = match &self.tx {
            Some(tx) => tx.send(batch).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The writer stopped: report why.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(IngestError::WriterGone(
                "the lake writer has finished".into(),
            )),
        }
    }

    fn finish(&mut self) -> Result<SinkStats, IngestError> {
        self.join()
    }
}

impl Drop for LakeWriter {
    fn drop(&mut self) {
        let _ = self.join();
    }
}
