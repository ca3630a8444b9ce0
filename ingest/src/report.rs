//! What an ingestion did, counted so that every record is accounted for.

use std::collections::BTreeMap;

use crate::family::Table;

/// Counts of one ingestion run. `records_read = parsed + dead_lettered + skipped`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Inputs opened (files, stdin, payloads).
    pub inputs: u64,
    /// Inputs that held no data at all.
    pub empty_inputs: Vec<String>,
    /// Bytes read from the inputs as stored (compressed where they were).
    pub bytes_read: u64,
    /// Records seen: lines, array elements, log events, envelopes that failed whole.
    pub records_read: u64,
    /// Rows parsed into each table.
    pub parsed: BTreeMap<Table, u64>,
    /// Records dead-lettered, by reason.
    pub dead_lettered: BTreeMap<String, u64>,
    /// Records skipped on purpose (control messages, digest files), by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Errors that cut an input short (after which its remainder was dead-lettered).
    pub input_errors: Vec<String>,
    /// Parquet objects written, and rows in them, per table.
    pub files_written: BTreeMap<Table, u64>,
    pub rows_written: BTreeMap<Table, u64>,
    /// Files not stored again because `vigil compact` had merged them.
    pub files_already_merged: BTreeMap<Table, u64>,
}

impl IngestReport {
    pub fn parsed_total(&self) -> u64 {
        self.parsed.values().sum()
    }
    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered.values().sum()
    }
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// True when every record read is parsed, dead-lettered or skipped, and
    /// every parsed or dead-lettered row was written.
    pub fn reconciles(&self) -> bool {
        let written: u64 = self.rows_written.values().sum();
        self.records_read == self.parsed_total() + self.dead_lettered_total() + self.skipped_total()
            && written == self.parsed_total() + self.dead_lettered_total()
    }
}
