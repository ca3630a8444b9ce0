//! The Parquet lake: `<lake>/<table>/date=YYYY-MM-DD/hour=HH/<batch-id>.parquet`,
//! on a local folder or `s3://bucket/prefix`, through `object_store`.
//!
//! Objects appear whole or not at all: the local store writes a temporary file
//! and renames it; S3 takes a single PUT. Batch ids come from the input, so a
//! retried ingestion rewrites the same objects instead of adding rows, or,
//! once `vigil compact` has merged them, leaves them out.

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

/// What one [`Lake::write_batch`] stored: files (not counting those a
/// compaction had merged already) and the batch's rows.
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

/// Columns of a few distinct values per file: enumerations, and the names of
/// accounts, APIs, functions, IAM users and roles. Dictionary-encoded, their
/// pages are runs of small codes that zstd shrinks little (by 0-30 % on the
/// benchmark lake; mostly-null ones it makes larger), while a reader pays for
/// every compressed column chunk it opens: parquet-rs builds zstd contexts
/// for each, and zstd asks the CPU for its features (`cpuid`, a trap to the
/// hypervisor on a VM), a tenth of a short hunt's time. These are written
/// uncompressed (the lake grows by under 1 %). Not source addresses, session
/// ARNs, principal ids or user agents: they can take millions of values, and
/// then their dictionaries overflow to plain text that needs zstd (`src_ip`
/// uncompressed made the busy detection lake 12 % larger).
const LOW_CARDINALITY_COLUMNS: &[&str] = &[
    "account_id",
    "region",
    "outcome",
    "time_source",
    "log_format",
    "event_name",
    "event_source",
    "event_type",
    "event_category",
    "event_version",
    "api_version",
    "recipient_account_id",
    "error_code",
    "tls_version",
    "tls_cipher_suite",
    "user_identity_type",
    "user_identity_account_id",
    "user_identity_invoked_by",
    "user_identity_identity_provider",
    "user_identity_source_identity",
    "user_identity_session_issuer_type",
    "vpc_endpoint_id",
    "api_id",
    "domain_name",
    "stage",
    "protocol",
    "http_method",
    "route_key",
    "resource_path",
    "status",
    "error_response_type",
    "integration_status",
    "websocket_event_type",
    "function_name",
    "runtime_version",
    "error_type",
    "function_version",
    "level",
    "record_type",
    "user_identity_user_name",
    "user_identity_session_issuer_arn",
    "user_identity_session_issuer_user_name",
];

/// Encodes one batch as a Parquet file (zstd).
pub fn encode_parquet(batch: &RecordBatch) -> Result<Vec<u8>, IngestError> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut writer = ArrowWriter::try_new(
        &mut out,
        batch.schema(),
        Some(writer_properties(&batch.schema())?),
    )?;
    writer.write(batch)?;
    writer.close()?;
    Ok(out)
}

/// The lake's Parquet settings: zstd, row groups of up to [`ROW_GROUP_ROWS`]
/// rows, no dictionary or statistics on the [`UNIQUE_COLUMNS`], no
/// compression on the [`LOW_CARDINALITY_COLUMNS`].
pub(crate) fn writer_properties(
    schema: &arrow::datatypes::SchemaRef,
) -> Result<WriterProperties, IngestError> {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for field in schema.fields() {
        if UNIQUE_COLUMNS.contains(&field.name().as_str()) {
            let column = ColumnPath::from(field.name().as_str());
            props = props
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_statistics_enabled(column, EnabledStatistics::None);
        } else if LOW_CARDINALITY_COLUMNS.contains(&field.name().as_str()) {
            props = props.set_column_compression(
                ColumnPath::from(field.name().as_str()),
                Compression::UNCOMPRESSED,
            );
        }
    }
    Ok(props.build())
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

/// Rows per lake file. The ingester's batches are smaller (they bound its
/// memory); the writer gathers an input's batches of one hour into files of up
/// to this many rows, as every file costs a query an open and a footer read.
pub const FILE_ROWS: usize = 128 * 1024;

/// The memory the writer's open files may hold together (encoded and
/// compressed, plus the row groups being encoded): an input spanning many
/// hours would otherwise keep one growing file per hour. Past it, the
/// biggest open file is stored early.
pub const OPEN_FILES_BYTES: usize = 32 << 20;

/// At most this many files open at once (tables × hours of one input).
pub const MAX_OPEN_FILES: usize = 8;

/// Rows per row group: a quarter of a file, so that a detection window of a
/// few minutes skips most of its hour's rows by their `event_time` statistics.
pub const ROW_GROUP_ROWS: usize = 32 * 1024;

/// What the ingester sends the writer thread.
enum WriterMessage {
    Batch(TableBatch),
    EndOfInput,
}

/// A lake file being filled: the encoder holds it compressed in memory
/// until it is stored whole.
struct OpenFile {
    path: ObjectPath,
    writer: ArrowWriter<Vec<u8>>,
    rows: usize,
    /// When it was last written to (the gatherer's count of writes).
    last_write: u64,
}

/// The writer thread's files: one open per table and hour of the current
/// input, named after the first batch written to it (so re-ingesting the same
/// input rewrites the same objects).
struct FileGatherer {
    lake: Lake,
    runtime: tokio::runtime::Runtime,
    open: BTreeMap<(Table, String), OpenFile>,
    /// Writes so far, to tell which open file was written to last.
    writes: u64,
    stats: SinkStats,
    /// [`FILE_ROWS`] but in tests.
    file_rows: usize,
    /// [`OPEN_FILES_BYTES`] but in tests.
    open_bytes: usize,
}

impl FileGatherer {
    fn write(&mut self, tb: TableBatch) -> Result<(), IngestError> {
        for (folder, part) in split_by_hour(&tb.batch)? {
            let key = (tb.table, folder);
            let file = match self.open.entry(key.clone()) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let path = self.lake.object_path(tb.table, &key.1, &tb.batch_id);
                    let writer = ArrowWriter::try_new(
                        Vec::with_capacity(1 << 20),
                        part.schema(),
                        Some(writer_properties(&part.schema())?),
                    )?;
                    e.insert(OpenFile {
                        path,
                        writer,
                        rows: 0,
                        last_write: 0,
                    })
                }
            };
            file.writer.write(&part)?;
            file.rows += part.num_rows();
            self.writes += 1;
            file.last_write = self.writes;
            *self.stats.rows.entry(tb.table).or_default() += part.num_rows() as u64;
            if file.rows >= self.file_rows {
                self.store_open(&key)?;
            }
            self.bound_memory()?;
        }
        Ok(())
    }

    /// Stores open files until at most [`MAX_OPEN_FILES`] remain (each
    /// encoder has a cost of its own that its size does not show) and they
    /// fit in `open_bytes`.
    fn bound_memory(&mut self) -> Result<(), IngestError> {
        while let Some(key) = self.next_to_store() {
            self.store_open(&key)?;
        }
        Ok(())
    }

    /// The open file to store now to respect the bounds, if any: past the
    /// count, the one written to longest ago (in time-ordered input, an
    /// hour that is over); past the budget, the biggest.
    fn next_to_store(&self) -> Option<(Table, String)> {
        let size = |f: &OpenFile| f.writer.bytes_written() + f.writer.memory_size();
        let pick = if self.open.len() > MAX_OPEN_FILES {
            self.open.iter().min_by_key(|(_, f)| f.last_write)
        } else if self.open.values().map(size).sum::<usize>() > self.open_bytes {
            self.open.iter().max_by_key(|(_, f)| size(f))
        } else {
            None
        };
        pick.map(|(k, _)| k.clone())
    }

    /// Stores the open file of `key` (table and hour folder).
    fn store_open(&mut self, key: &(Table, String)) -> Result<(), IngestError> {
        match self.open.remove(key) {
            Some(file) => self.store(key.0, file),
            None => Ok(()),
        }
    }

    /// Stores every open file.
    fn close_all(&mut self) -> Result<(), IngestError> {
        for ((table, _), file) in std::mem::take(&mut self.open) {
            self.store(table, file)?;
        }
        Ok(())
    }

    fn store(&mut self, table: Table, file: OpenFile) -> Result<(), IngestError> {
        let bytes = file.writer.into_inner()?;
        if self
            .runtime
            .block_on(self.lake.put_unless_merged(&file.path, bytes))?
        {
            *self.stats.files.entry(table).or_default() += 1;
        } else {
            *self.stats.already_merged.entry(table).or_default() += 1;
        }
        Ok(())
    }
}

/// Writes batches to the lake from a background thread.
pub struct LakeWriter {
    tx: Option<SyncSender<WriterMessage>>,
    handle: Option<JoinHandle<Result<SinkStats, IngestError>>>,
}

impl LakeWriter {
    fn start(lake: Lake) -> Result<LakeWriter, IngestError> {
        // One batch queued while another is encoded: parsing and writing
        // overlap, and memory stays bounded at about three batches plus the
        // open files (compressed).
        let (tx, rx) = sync_channel::<WriterMessage>(1);
        let handle = std::thread::Builder::new()
            .name("vigil-lake-writer".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| IngestError::Runtime(e.to_string()))?;
                let mut files = FileGatherer {
                    lake,
                    runtime,
                    open: BTreeMap::new(),
                    writes: 0,
                    stats: SinkStats::default(),
                    file_rows: FILE_ROWS,
                    open_bytes: OPEN_FILES_BYTES,
                };
                for message in rx {
                    match message {
                        WriterMessage::Batch(tb) => files.write(tb)?,
                        WriterMessage::EndOfInput => files.close_all()?,
                    }
                }
                files.close_all()?;
                Ok(files.stats)
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

    fn send(&mut self, message: WriterMessage) -> Result<(), IngestError> {
        let sent = match &self.tx {
            Some(tx) => tx.send(message).is_ok(),
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
}

impl BatchSink for LakeWriter {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        self.send(WriterMessage::Batch(batch))
    }

    fn end_of_input(&mut self) -> Result<(), IngestError> {
        self.send(WriterMessage::EndOfInput)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schema;
    use arrow::array::ArrayRef;

    /// A `lambda` batch of `rows` rows at `hour`, every other column null.
    fn batch(rows: usize, hour: i64) -> RecordBatch {
        table_batch(Table::Lambda, rows, hour)
    }

    /// A batch of `table` of `rows` rows at `hour`, every other column null.
    fn table_batch(table: Table, rows: usize, hour: i64) -> RecordBatch {
        let schema = schema(table);
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i == 0 {
                    Arc::new(
                        TimestampMillisecondArray::from(vec![hour * 3_600_000; rows])
                            .with_timezone("UTC"),
                    ) as ArrayRef
                } else {
                    arrow::array::new_null_array(f.data_type(), rows)
                }
            })
            .collect();
        RecordBatch::try_new(schema, columns).unwrap()
    }

    #[test]
    fn low_cardinality_columns_are_stored_uncompressed_and_the_rest_with_zstd() {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let mut low_cardinality_seen = std::collections::BTreeSet::new();
        for table in Table::INGESTED {
            let bytes = encode_parquet(&table_batch(table, 10, 0)).unwrap();
            let file = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
            let row_group = file.metadata().row_group(0);
            for column in row_group.columns() {
                let name = column.column_path().string();
                let low_cardinality = LOW_CARDINALITY_COLUMNS.contains(&name.as_str());
                if low_cardinality {
                    low_cardinality_seen.insert(name.clone());
                }
                let zstd = matches!(column.compression(), Compression::ZSTD(_));
                assert_eq!(
                    zstd,
                    !low_cardinality,
                    "{table:?}.{name}: {:?}",
                    column.compression()
                );
            }
        }
        // A misspelt name would silently compress its column.
        let unknown: Vec<_> = LOW_CARDINALITY_COLUMNS
            .iter()
            .filter(|c| !low_cardinality_seen.contains(**c))
            .collect();
        assert!(unknown.is_empty(), "not a column of any table: {unknown:?}");
    }

    /// A gatherer over a fresh local lake, with these bounds.
    fn gatherer(dir: &std::path::Path, file_rows: usize, open_bytes: usize) -> FileGatherer {
        FileGatherer {
            lake: Lake::open(dir.to_str().unwrap()).unwrap(),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            open: BTreeMap::new(),
            writes: 0,
            stats: SinkStats::default(),
            file_rows,
            open_bytes,
        }
    }

    /// The lake's files, relative to its root, sorted.
    fn lake_files(dir: &std::path::Path) -> Vec<String> {
        crate::ingester::files_under(dir)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
            .collect()
    }

    /// Writes batch number `seq` of an input: `rows` `lambda` rows at `hour`.
    fn write_lambda(files: &mut FileGatherer, seq: usize, rows: usize, hour: i64) {
        files
            .write(TableBatch {
                table: Table::Lambda,
                batch_id: format!("src-{seq:05}"),
                batch: batch(rows, hour),
            })
            .unwrap();
    }

    #[test]
    fn an_inputs_batches_are_gathered_into_files_of_bounded_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = gatherer(dir.path(), 250, usize::MAX);
        for (seq, hour) in [(0, 1), (1, 1), (2, 2), (3, 1)] {
            write_lambda(&mut files, seq, 100, hour);
        }
        // Hour 1 reached 300 rows at the fourth batch: stored at once.
        assert_eq!(files.stats.files.get(&Table::Lambda), Some(&1));
        files.close_all().unwrap();
        assert_eq!(files.stats.files.get(&Table::Lambda), Some(&2));
        assert_eq!(files.stats.rows.get(&Table::Lambda), Some(&400));
        assert_eq!(
            lake_files(dir.path()),
            vec![
                "lambda/date=1970-01-01/hour=01/src-00000.parquet",
                "lambda/date=1970-01-01/hour=02/src-00002.parquet",
            ]
        );
    }

    #[test]
    fn open_files_past_the_memory_bound_are_stored_early() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = gatherer(dir.path(), usize::MAX, 1);
        for (seq, hour) in [(0, 1), (1, 2), (2, 3)] {
            write_lambda(&mut files, seq, 100, hour);
            // Every file is over a one-byte budget: none stays open.
            assert!(files.open.is_empty());
        }
        assert_eq!(files.stats.files.get(&Table::Lambda), Some(&3));
        assert_eq!(lake_files(dir.path()).len(), 3);
    }

    #[test]
    fn past_the_open_file_cap_the_file_written_to_longest_ago_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = gatherer(dir.path(), usize::MAX, usize::MAX);
        let hours = MAX_OPEN_FILES as i64 + 1;
        // Hour 0 is written to again after the others, then one hour too many opens.
        for (seq, hour) in (0..hours - 1).chain([0, hours - 1]).enumerate() {
            write_lambda(&mut files, seq, 10, hour);
        }
        assert_eq!(files.open.len(), MAX_OPEN_FILES);
        // Hour 1, not hour 0 (written to more recently), was stored.
        assert_eq!(
            lake_files(dir.path()),
            vec!["lambda/date=1970-01-01/hour=01/src-00001.parquet"]
        );
        files.close_all().unwrap();
        assert_eq!(lake_files(dir.path()).len(), hours as usize);
    }
}
