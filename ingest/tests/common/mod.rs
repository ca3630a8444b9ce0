//! Helpers shared by the ingest integration tests.
#![allow(dead_code)]

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int32Type, Int64Type, TimestampMillisecondType};
use std::path::{Path, PathBuf};
use vigil_ingest::{IngestOptions, IngestReport, Ingester, MemorySink, Table, TableBatch};

/// The corpus of real public AWS logs (`testdata/corpus/`), and
/// `sample-logs/`.
#[allow(unused_imports)] // each test binary uses some of them
pub use vigil_test_support::{corpus, sample_logs as sample};

/// The ingest time pinned in tests.
pub const INGEST_TIME: i64 = 1_764_000_000_000;

/// Ingests the paths into memory.
pub fn ingest(paths: &[PathBuf]) -> (IngestReport, Vec<TableBatch>) {
    ingest_with(paths, IngestOptions::default())
}

pub fn ingest_with(paths: &[PathBuf], options: IngestOptions) -> (IngestReport, Vec<TableBatch>) {
    let sink = MemorySink::default();
    let mut ingester = Ingester::new(options, sink.clone()).with_ingest_time(INGEST_TIME);
    for p in paths {
        ingester.ingest_path(p).unwrap();
    }
    let report = ingester.finish().unwrap();
    assert!(report.reconciles(), "counts do not reconcile: {report:#?}");
    (report, sink.batches())
}

pub fn ingest_bytes(bytes: &[u8]) -> (IngestReport, Vec<TableBatch>) {
    let sink = MemorySink::default();
    let mut ingester =
        Ingester::new(IngestOptions::default(), sink.clone()).with_ingest_time(INGEST_TIME);
    ingester
        .ingest_bytes(
            bytes,
            vigil_ingest::SourceId::new("test-input", "test-input"),
        )
        .unwrap();
    let report = ingester.finish().unwrap();
    assert!(report.reconciles(), "counts do not reconcile: {report:#?}");
    (report, sink.batches())
}

pub fn batches_of(batches: &[TableBatch], table: Table) -> Vec<RecordBatch> {
    batches
        .iter()
        .filter(|b| b.table == table)
        .map(|b| b.batch.clone())
        .collect()
}

pub fn rows(batches: &[TableBatch], table: Table) -> usize {
    batches_of(batches, table)
        .iter()
        .map(|b| b.num_rows())
        .sum()
}

/// Every value of a string column of a table, in order (None for null).
pub fn strings(batches: &[TableBatch], table: Table, column: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    for b in batches_of(batches, table) {
        let col = b
            .column_by_name(column)
            .unwrap_or_else(|| panic!("no column {column}"));
        let col = col.as_string::<i32>();
        for i in 0..col.len() {
            out.push(col.is_valid(i).then(|| col.value(i).to_string()));
        }
    }
    out
}

pub fn non_null(batches: &[TableBatch], table: Table, column: &str) -> Vec<String> {
    strings(batches, table, column)
        .into_iter()
        .flatten()
        .collect()
}

/// How many values of a string column equal `value`.
pub fn count_eq(batches: &[TableBatch], table: Table, column: &str, value: &str) -> usize {
    non_null(batches, table, column)
        .iter()
        .filter(|v| *v == value)
        .count()
}

pub fn i64s(batches: &[TableBatch], table: Table, column: &str) -> Vec<Option<i64>> {
    let mut out = Vec::new();
    for b in batches_of(batches, table) {
        let col = b.column_by_name(column).unwrap();
        if let Some(c) = col.as_primitive_opt::<Int64Type>() {
            out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i))));
        } else if let Some(c) = col.as_primitive_opt::<Int32Type>() {
            out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i) as i64)));
        } else {
            let c = col.as_primitive::<TimestampMillisecondType>();
            out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i))));
        }
    }
    out
}

pub fn f64s(batches: &[TableBatch], table: Table, column: &str) -> Vec<Option<f64>> {
    let mut out = Vec::new();
    for b in batches_of(batches, table) {
        let c = b
            .column_by_name(column)
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone();
        out.extend((0..c.len()).map(|i| c.is_valid(i).then(|| c.value(i))));
    }
    out
}

/// Files directly in a folder, sorted.
pub fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}
