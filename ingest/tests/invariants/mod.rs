//! The ingest invariants every input must meet, and an allocator that keeps
//! the peak of live bytes to check the memory one: shared by the fuzz
//! targets (`fuzz/src/lib.rs` includes this file) and the replay of what they
//! found (`ingest/tests/fuzz_regressions.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use vigil_ingest::{
    BatchSink, Family, IngestError, IngestOptions, Ingester, Limits, SinkStats, SourceId,
    TableBatch,
};

/// The system allocator, counting the bytes live and their peak, so that a
/// check can tell that an input never made Vigil hold more than its limits
/// allow (install it with `#[global_allocator]`). A `GlobalAlloc` is unsafe
/// to implement: this is the only unsafe code of the tests and fuzz targets.
pub struct CountingAllocator;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let grown = new_size - layout.size();
                let live = LIVE.fetch_add(grown, Ordering::Relaxed) + grown;
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Live bytes now; the peak is reset to them.
pub fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

/// The most bytes live since [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Limits small enough that the fuzzer's inputs (up to a few hundred KB)
/// reach them: records of 16 KiB, documents of 256 KiB, 4 MiB decompressed.
pub fn fuzz_limits() -> Limits {
    Limits {
        max_record_bytes: 16 << 10,
        max_document_bytes: 256 << 10,
        max_decompressed_bytes: 4 << 20,
        max_expansion_ratio: 200,
    }
}

/// A sink that counts rows per table and keeps nothing (memory stays flat).
#[derive(Clone, Default)]
struct CountingSink(Arc<Mutex<SinkStats>>);

impl BatchSink for CountingSink {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        let mut stats = self.0.lock().expect("one thread");
        *stats.files.entry(batch.table).or_default() += 1;
        *stats.rows.entry(batch.table).or_default() += batch.batch.num_rows() as u64;
        Ok(())
    }

    fn finish(&mut self) -> Result<SinkStats, IngestError> {
        Ok(self.0.lock().expect("one thread").clone())
    }
}

/// The bound on the bytes an input may make the ingester hold: a few
/// documents and their parsed values, each table's builders at most a batch
/// of records (`batch_bytes`) each, a copy or two of the input, and 2 MiB of
/// what the first input initialises once (compiled expressions, tables).
fn memory_bound(limits: &Limits, batch_bytes: usize, input: usize) -> usize {
    (2 << 20) + 16 * limits.max_document_bytes + 16 * batch_bytes + 8 * input
}

/// Ingests `data` (as `format`, or detecting it) and checks what every
/// input must give: no panic, every record parsed, dead-lettered or skipped
/// (the counts reconcile), every parsed or dead-lettered row reaching the
/// sink, and memory within the limits.
pub fn ingest_and_check(data: &[u8], format: Option<Family>) {
    let limits = fuzz_limits();
    let batch_bytes = 64 << 10;
    let options = IngestOptions {
        limits,
        format,
        batch_rows: 256,
        batch_bytes,
    };
    let sink = CountingSink::default();
    let before = reset_peak();
    let mut ingester = Ingester::new(options, sink).with_ingest_time(1_700_000_000_000);
    let source = SourceId::new("fuzz://input", "fuzz");
    match ingester.ingest_bytes(data, source) {
        // An input that cannot even be opened (a corrupt compression header)
        // is refused whole, with the reason: nothing of it was taken.
        Ok(()) | Err(IngestError::Read { .. }) => {}
        Err(e) => panic!("a bad input is dead-lettered, not an error: {e}"),
    }
    let report = ingester.finish().expect("the sink accepts every batch");
    let held = peak().saturating_sub(before);
    assert!(
        report.reconciles(),
        "counts do not reconcile: read {}, parsed {:?}, dead-lettered {:?}, skipped {:?}, written {:?}",
        report.records_read,
        report.parsed,
        report.dead_lettered,
        report.skipped,
        report.rows_written
    );
    for (table, rows) in &report.parsed {
        assert_eq!(
            report.rows_written.get(table),
            Some(rows),
            "{table:?}: parsed rows reaching the lake"
        );
    }
    let bound = memory_bound(&limits, batch_bytes, data.len());
    if std::env::var_os("VIGIL_FUZZ_SHOW_MEMORY").is_some() {
        eprintln!(
            "{held} bytes held for a {}-byte input (bound {bound})",
            data.len()
        );
    }
    assert!(
        held <= bound,
        "{held} bytes held for a {}-byte input (bound {bound})",
        data.len()
    );
}
