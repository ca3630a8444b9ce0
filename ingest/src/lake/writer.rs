//! The lake writer: a thread of its own that gathers an input's batches of
//! one table and hour into files of bounded rows and memory, and stores them.

use object_store::path::Path as ObjectPath;
use parquet::arrow::ArrowWriter;
use std::collections::BTreeMap;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

use crate::batch::{BatchSink, SinkStats, TableBatch};
use crate::error::IngestError;
use crate::family::Table;

use super::encoding::writer_properties;
use super::{split_by_hour, Lake};

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
    pub(super) fn start(lake: Lake) -> Result<LakeWriter, IngestError> {
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
    use crate::lake::test_batch;
    use arrow::array::RecordBatch;

    /// A `lambda` batch of `rows` rows at `hour`, every other column null.
    fn batch(rows: usize, hour: i64) -> RecordBatch {
        test_batch(Table::Lambda, rows, hour)
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
