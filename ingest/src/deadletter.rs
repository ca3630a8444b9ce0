//! The dead-letter table's builder: records that could not be parsed, with why.

use crate::schema::{BatchSize, DeadLetterColumns};

/// One record that failed, with where it came from and why.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetter<'a> {
    pub time_ms: i64,
    pub source_ref: &'a str,
    pub record_index: Option<u64>,
    pub family: Option<&'a str>,
    pub reason: &'a str,
    pub error: &'a str,
    /// The record's bytes (possibly cut at the record size limit).
    pub raw: &'a [u8],
    /// The record's full length, when it is known.
    pub raw_length: Option<u64>,
}

/// The `deadletter` table's builder.
pub struct DeadLetterBuilder {
    pub columns: DeadLetterColumns,
    rows: usize,
}

impl DeadLetterBuilder {
    pub fn with_capacity(rows: usize) -> Self {
        Self::with_size(rows, None)
    }

    /// Builders for `rows` rows, sized like the table's `last` batch.
    pub fn with_size(rows: usize, last: Option<&BatchSize>) -> Self {
        DeadLetterBuilder {
            columns: DeadLetterColumns::with_size(rows, last, 0),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn append(&mut self, d: &DeadLetter<'_>) {
        let c = &mut self.columns;
        c.event_time.append_value(d.time_ms);
        c.source_ref.append_value(d.source_ref);
        c.record_index
            .append_option(d.record_index.map(|i| i as i64));
        c.family.append_option(d.family);
        c.reason.append_value(d.reason);
        c.error.append_value(d.error);
        c.raw.append_value(String::from_utf8_lossy(d.raw));
        c.raw_bytes.append_value(d.raw);
        c.raw_length
            .append_option(d.raw_length.map(|l| l as i64).or(Some(d.raw.len() as i64)));
        self.rows += 1;
    }
}
