//! `vigil compact`: merges an hour's small lake files into files of up to
//! [`FILE_ROWS`] rows, never losing a row nor keeping one twice.
//!
//! Streaming ingestion stores a file per delivery, table and hour, and every
//! file costs a query an open and a footer read. A compaction of an hour goes:
//! 1. a marker per small file to merge, `<lake>/_state/merged/<table>/<hour
//!    folder>/<batch-id>`, naming the last merged file: the writers skip a
//!    batch whose marker exists, so a retried delivery cannot bring a merged
//!    file back (the batch ids stay idempotent);
//! 2. the merged files, in order, each in one PUT;
//! 3. the small files deleted.
//!
//! A run that finds a small file whose marker names a merged file that exists
//! finishes step 3 for it instead of merging it again; one whose marker names
//! a merged file that does not exist was stopped in step 2, and the merged
//! files it did store are deleted before the hour is merged again (late
//! arrivals may make that merge another, otherwise named). Between steps 2
//! and 3 (or until the next run, after a stop there) readers see those rows
//! twice; detection counts each event once anyway (it keeps one row per
//! event id).
//! One compaction at a time per lake.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectMeta, ObjectStoreExt};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::async_reader::MetadataFetch;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use parquet::file::statistics::Statistics;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use crate::error::IngestError;
use crate::family::Table;
use crate::lake::{writer_properties, Lake, FILE_ROWS, HOUR_MS};

/// What to compact.
#[derive(Debug, Clone)]
pub struct CompactOptions {
    pub tables: Vec<Table>,
    /// Only hours that ended at or before this time (Unix ms): the current
    /// hour is still being written to.
    pub ended_before_ms: i64,
    /// Only hours starting at or after this time (Unix ms).
    pub from_ms: Option<i64>,
    /// Report what would be merged, change nothing.
    pub dry_run: bool,
}

/// What a compaction did to one table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableCompaction {
    /// Hours whose small files were merged.
    pub hours: u64,
    pub files_merged: u64,
    pub files_written: u64,
    pub rows: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    /// Small files an interrupted run had merged but not yet deleted.
    pub leftovers_deleted: u64,
    /// Hours left as they are, with the reason (e.g. files of two schemas).
    pub skipped: Vec<(String, String)>,
}

/// What a compaction did, per table.
#[derive(Debug, Clone, Default)]
pub struct CompactReport {
    pub tables: BTreeMap<Table, TableCompaction>,
    /// Staging files of writes that never finished, deleted (or, in a dry
    /// run, found): see [`sweep_staging`].
    pub staging_files_deleted: u64,
}

/// How old a staging file must be to be a dead write's: a write stages its
/// file for the seconds its PUT takes.
pub const STAGING_GRACE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Merges the small files of every hour the options select.
pub async fn compact(lake: &Lake, options: &CompactOptions) -> Result<CompactReport, IngestError> {
    let mut report = CompactReport::default();
    for &table in &options.tables {
        let mut done = TableCompaction::default();
        for (folder, files) in hours_of(lake, table, options).await? {
            compact_hour(lake, &folder, files, options.dry_run, &mut done).await?;
        }
        report.tables.insert(table, done);
    }
    if let Some(root) = lake.local_root() {
        report.staging_files_deleted = sweep_staging(root, STAGING_GRACE, options.dry_run)
            .map_err(|e| IngestError::LakeLocation {
                location: root.display().to_string(),
                reason: format!("sweeping staging files: {e}"),
            })?;
    }
    Ok(report)
}

/// Deletes (or, in a dry run, counts) the staging files under a local lake
/// older than `grace`. A local write stages `<name>#<n>` and renames it into
/// place; a process killed in between leaves it for good. Readers never see
/// it (not `*.parquet`, and the store lists no such name), but it holds disk.
pub fn sweep_staging(
    root: &std::path::Path,
    grace: std::time::Duration,
    dry_run: bool,
) -> std::io::Result<u64> {
    let mut swept: u64 = 0;
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                folders.push(entry.path());
                continue;
            }
            let name = entry.file_name();
            let staging =
                name.to_str()
                    .and_then(|n| n.rsplit_once('#'))
                    .is_some_and(|(_, suffix)| {
                        !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit())
                    });
            let old = entry
                .metadata()?
                .modified()?
                .elapsed()
                .is_ok_and(|age| age >= grace);
            if kind.is_file() && staging && old {
                if !dry_run {
                    std::fs::remove_file(entry.path())?;
                }
                swept = swept.saturating_add(1);
            }
        }
    }
    Ok(swept)
}

/// The table's `.parquet` files by hour folder (`date=…/hour=…`), for the
/// hours the options select that hold more than one file. With a start,
/// only the days from it on are listed, not the whole table.
async fn hours_of(
    lake: &Lake,
    table: Table,
    options: &CompactOptions,
) -> Result<BTreeMap<String, Vec<ObjectMeta>>, IngestError> {
    const DAY_MS: i64 = 24 * HOUR_MS;
    let root = lake.table_path(table);
    let folders = match options.from_ms {
        None => vec![root.clone()],
        Some(from) => (from.div_euclid(DAY_MS)..=options.ended_before_ms.div_euclid(DAY_MS))
            .filter_map(|day| chrono::DateTime::from_timestamp(day * 86_400, 0))
            .map(|day| {
                root.clone()
                    .join(format!("date={}", day.format("%Y-%m-%d")).as_str())
            })
            .collect(),
    };
    let mut listed = Vec::new();
    for folder in &folders {
        listed.extend(list(lake, folder).await?);
    }
    let mut hours: BTreeMap<String, Vec<ObjectMeta>> = BTreeMap::new();
    for meta in listed {
        let Some(rel) = meta.location.prefix_match(&root) else {
            continue;
        };
        let parts: Vec<String> = rel.map(|p| p.as_ref().to_string()).collect();
        let [date, hour, name] = parts.as_slice() else {
            continue;
        };
        let Some(start) = hour_start_ms(date, hour) else {
            continue;
        };
        let selected = start + HOUR_MS <= options.ended_before_ms
            && options.from_ms.is_none_or(|from| start >= from);
        if selected && name.ends_with(".parquet") {
            hours
                .entry(format!("{date}/{hour}"))
                .or_default()
                .push(meta);
        }
    }
    hours.retain(|_, files| files.len() > 1);
    Ok(hours)
}

/// The start (Unix ms) of `date=YYYY-MM-DD` / `hour=HH`.
fn hour_start_ms(date: &str, hour: &str) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(date.strip_prefix("date=")?, "%Y-%m-%d").ok()?;
    let hour: u32 = hour.strip_prefix("hour=")?.parse().ok()?;
    Some(day.and_hms_opt(hour, 0, 0)?.and_utc().timestamp_millis())
}

/// A small lake file to merge, as its footer describes it.
struct SmallFile {
    meta: ObjectMeta,
    schema: SchemaRef,
    rows: i64,
    /// The smallest `event_time` (the first column) in its statistics.
    first_time: Option<i64>,
}

async fn compact_hour(
    lake: &Lake,
    folder: &str,
    files: Vec<ObjectMeta>,
    dry_run: bool,
    done: &mut TableCompaction,
) -> Result<(), IngestError> {
    let names: BTreeSet<String> = files.iter().map(file_name).collect();
    let markers = markers_beside(lake, &files[0].location).await?;
    // What interrupted runs left: small files merged but not deleted (their
    // marker names a merged file that exists), and the merged files of a run
    // stopped before it stored the last one (their marker names a file that
    // does not exist: their rows are still in the small files).
    let mut merged_already = BTreeSet::new();
    let mut unfinished_merges = BTreeSet::new();
    for meta in files.iter().filter(|m| markers.contains(&batch_id(m))) {
        let marker = lake.merged_marker(&meta.location);
        let merged_into = String::from_utf8_lossy(&get(lake, &marker).await?).into_owned();
        if names.contains(&merged_into) {
            merged_already.insert(file_name(meta));
        } else if let Some(merge) = merge_of(&merged_into) {
            unfinished_merges.insert(merge.to_string());
        }
    }
    let mut small = Vec::new();
    for meta in files {
        let name = file_name(&meta);
        if merged_already.contains(&name) {
            if !dry_run {
                delete(lake, &meta.location).await?;
            }
            done.leftovers_deleted += 1;
            continue;
        }
        // Deleted before merging again: the merge may now take other small
        // files (late arrivals), and so be named otherwise.
        if merge_of(&name).is_some_and(|merge| unfinished_merges.contains(merge)) {
            if !dry_run {
                delete(lake, &meta.location).await?;
            }
            done.leftovers_deleted += 1;
            continue;
        }
        // The footer only (ranged reads): full files are not downloaded.
        let footer = ArrowReaderMetadata::try_new(
            Arc::new(footer(lake, &meta).await?),
            ArrowReaderOptions::default(),
        )?;
        let rows = footer.metadata().file_metadata().num_rows();
        if rows < FILE_ROWS as i64 {
            small.push(SmallFile {
                first_time: first_time(footer.metadata()),
                schema: footer.schema().clone(),
                rows,
                meta,
            });
        }
    }
    if small.len() < 2 {
        return Ok(());
    }
    let schema = small[0].schema.clone();
    if small.iter().any(|f| f.schema.fields() != schema.fields()) {
        done.skipped
            .push((folder.to_string(), "files with different columns".into()));
        return Ok(());
    }
    // In time order, so that the merged row groups keep narrow time ranges.
    small.sort_by_key(|f| (f.first_time.is_none(), f.first_time, file_name(&f.meta)));
    let rows: i64 = small.iter().map(|f| f.rows).sum();
    let outputs = (rows as usize).div_ceil(FILE_ROWS);
    let mut merged_names: Vec<String> = small.iter().map(|f| file_name(&f.meta)).collect();
    merged_names.sort();
    let digest = Sha256::digest(merged_names.join("\n").as_bytes());
    let output_name = |n: usize| {
        format!(
            "{MERGED_PREFIX}{}-{n:03}.parquet",
            hex::encode(&digest[..8])
        )
    };
    done.hours += 1;
    done.files_merged += small.len() as u64;
    done.files_written += outputs as u64;
    done.rows += rows as u64;
    done.bytes_before += small.iter().map(|f| f.meta.size).sum::<u64>();
    if dry_run {
        return Ok(());
    }

    // 1. The markers, naming the last merged file (stored last).
    let last = output_name(outputs - 1);
    for file in &small {
        let marker = lake.merged_marker(&file.meta.location);
        lake.put(&marker, last.clone().into_bytes()).await?;
    }
    // 2. The merged files.
    let hour_path = parent(&small[0].meta.location);
    let mut output = MergedFile::new(&schema)?;
    let mut stored = 0;
    for file in &small {
        // One small file in memory at a time.
        let batches =
            ParquetRecordBatchReaderBuilder::try_new(get(lake, &file.meta.location).await?)?
                .build()?;
        for batch in batches {
            let mut batch = batch?;
            while batch.num_rows() > 0 {
                let part = batch.slice(0, (FILE_ROWS - output.rows).min(batch.num_rows()));
                batch = batch.slice(part.num_rows(), batch.num_rows() - part.num_rows());
                output.write(&part)?;
                if output.rows == FILE_ROWS {
                    let full = std::mem::replace(&mut output, MergedFile::new(&schema)?);
                    let path = hour_path.clone().join(output_name(stored).as_str());
                    done.bytes_after += full.store(lake, &path).await?;
                    stored += 1;
                }
            }
        }
    }
    if output.rows > 0 {
        let path = hour_path.clone().join(output_name(stored).as_str());
        done.bytes_after += output.store(lake, &path).await?;
        stored += 1;
    }
    if stored != outputs {
        return Err(IngestError::Runtime(format!(
            "{folder}: merged into {stored} files where the footers promised {outputs}"
        )));
    }
    // 3. The small files, now in the merged ones.
    for file in &small {
        delete(lake, &file.meta.location).await?;
    }
    tracing::info!(hour = %hour_path, merged = small.len(), written = stored, rows, "compacted");
    Ok(())
}

/// The batch ids with a merge marker in the hour of `file` (one listing).
async fn markers_beside(lake: &Lake, file: &ObjectPath) -> Result<BTreeSet<String>, IngestError> {
    let folder = parent(&lake.merged_marker(file));
    Ok(list(lake, &folder).await?.iter().map(file_name).collect())
}

/// Every object under `folder`.
async fn list(lake: &Lake, folder: &ObjectPath) -> Result<Vec<ObjectMeta>, IngestError> {
    lake.store()
        .list(Some(folder))
        .try_collect()
        .await
        .map_err(|e| access(folder, e))
}

/// A merged file being encoded in memory.
struct MergedFile {
    writer: ArrowWriter<Vec<u8>>,
    rows: usize,
}

impl MergedFile {
    fn new(schema: &SchemaRef) -> Result<MergedFile, IngestError> {
        Ok(MergedFile {
            writer: ArrowWriter::try_new(
                Vec::with_capacity(1 << 20),
                schema.clone(),
                Some(writer_properties(schema)?),
            )?,
            rows: 0,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<(), IngestError> {
        self.writer.write(batch)?;
        self.rows += batch.num_rows();
        Ok(())
    }

    /// Stores the file in one PUT; returns its size.
    async fn store(self, lake: &Lake, path: &ObjectPath) -> Result<u64, IngestError> {
        let bytes = self.writer.into_inner()?;
        let size = bytes.len() as u64;
        lake.put(path, bytes).await?;
        Ok(size)
    }
}

/// The smallest value of the first column (`event_time`) in a file's statistics.
fn first_time(metadata: &ParquetMetaData) -> Option<i64> {
    metadata
        .row_groups()
        .iter()
        .filter_map(|rg| match rg.columns().first()?.statistics()? {
            Statistics::Int64(s) => s.min_opt().copied(),
            _ => None,
        })
        .min()
}

/// How the files one merge writes are named: `compact-<digest>-<n>.parquet`,
/// the digest naming the set of small files merged.
const MERGED_PREFIX: &str = "compact-";

/// The merge (`compact-<digest>-`) a merged file's name belongs to.
fn merge_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(MERGED_PREFIX)?;
    let digest_end = rest.find('-')?;
    name.get(..MERGED_PREFIX.len() + digest_end + 1)
}

fn file_name(meta: &ObjectMeta) -> String {
    meta.location.filename().unwrap_or_default().to_string()
}

/// A lake file's name without `.parquet`.
fn batch_id(meta: &ObjectMeta) -> String {
    let name = file_name(meta);
    name.strip_suffix(".parquet").unwrap_or(&name).to_string()
}

/// The folder an object is in.
fn parent(path: &ObjectPath) -> ObjectPath {
    let parts: Vec<_> = path.parts().collect();
    ObjectPath::from_iter(parts[..parts.len().saturating_sub(1)].iter().cloned())
}

/// A file's footer, read by ranges from the end.
async fn footer(lake: &Lake, meta: &ObjectMeta) -> Result<ParquetMetaData, IngestError> {
    struct Ranges<'a>(&'a Lake, &'a ObjectPath);
    impl MetadataFetch for Ranges<'_> {
        fn fetch(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
            async move {
                self.0
                    .store()
                    .get_range(self.1, range)
                    .await
                    .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))
            }
            .boxed()
        }
    }
    Ok(ParquetMetaDataReader::new()
        .with_prefetch_hint(Some(64 << 10))
        .load_and_finish(Ranges(lake, &meta.location), meta.size)
        .await?)
}

async fn get(lake: &Lake, path: &ObjectPath) -> Result<Bytes, IngestError> {
    let got = lake.store().get(path).await.map_err(|e| access(path, e))?;
    got.bytes().await.map_err(|e| access(path, e))
}

async fn delete(lake: &Lake, path: &ObjectPath) -> Result<(), IngestError> {
    match lake.store().delete(path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(access(path, e)),
    }
}

fn access(path: &ObjectPath, source: object_store::Error) -> IngestError {
    IngestError::LakeAccess {
        path: path.to_string(),
        source,
    }
}
