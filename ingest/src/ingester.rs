//! The ingestion pipeline: inputs → decoder → parsers → builders → sink, with
//! the accounting that makes every record end up somewhere.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::batch::{BatchSink, BatchSizes, Builders, TableBatch};
use crate::deadletter::DeadLetter;
use crate::decode::input::open_reader;
use crate::decode::{DecodeFailure, Decoder, Envelope, RecordHandler};
use crate::error::IngestError;
use crate::family::{Family, Table};
use crate::limits::Limits;
use crate::parse::{ParseError, RecordContext};
use crate::report::IngestReport;

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub limits: Limits,
    /// Parse every record as this family (`--format`), instead of detecting it.
    pub format: Option<Family>,
    /// A table's rows are flushed as a batch at this many rows...
    pub batch_rows: usize,
    /// ...or at this many bytes of raw records, whichever comes first.
    pub batch_bytes: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            limits: Limits::default(),
            format: None,
            batch_rows: 64 * 1024,
            batch_bytes: 8 << 20,
        }
    }
}

/// Names an input: how records refer to it, and the stable key its lake
/// objects are named by (so re-ingesting it rewrites, never duplicates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceId {
    pub source_ref: String,
    pub batch_key: String,
}

impl SourceId {
    /// `identity` is whatever makes the input unique: a canonical path, an
    /// S3 key and ETag, a subscription payload's first event id.
    pub fn new(source_ref: impl Into<String>, identity: &str) -> Self {
        let digest = Sha256::digest(identity.as_bytes());
        SourceId {
            source_ref: source_ref.into(),
            batch_key: hex::encode(&digest[..10]),
        }
    }

    pub fn file(path: &Path) -> Self {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        SourceId::new(path.display().to_string(), &canonical.display().to_string())
    }
}

/// Called with the running totals as ingestion goes (records, raw bytes).
pub type ProgressFn = Box<dyn FnMut(&IngestReport, u64)>;

/// Ingests inputs into a [`BatchSink`].
pub struct Ingester {
    options: IngestOptions,
    sink: Box<dyn BatchSink>,
    report: IngestReport,
    ingest_time_ms: i64,
    progress: Option<ProgressFn>,
    /// How big each table's batches have been, to size the next input's builders.
    batch_sizes: BatchSizes,
}

impl Ingester {
    pub fn new(options: IngestOptions, sink: impl BatchSink + 'static) -> Self {
        Ingester {
            options,
            sink: Box::new(sink),
            report: IngestReport::default(),
            ingest_time_ms: chrono::Utc::now().timestamp_millis(),
            progress: None,
            batch_sizes: BatchSizes::default(),
        }
    }

    /// Sets the time stamped on dead letters and on records with no time of
    /// their own (tests pin it; by default it is the time the ingester started).
    pub fn with_ingest_time(mut self, ms: i64) -> Self {
        self.ingest_time_ms = ms;
        self
    }

    pub fn on_progress(&mut self, f: ProgressFn) {
        self.progress = Some(f);
    }

    pub fn report(&self) -> &IngestReport {
        &self.report
    }

    /// Ingests a file, or every file under a directory (sorted; hidden files
    /// and Markdown notes are passed over).
    pub fn ingest_path(&mut self, path: &Path) -> Result<(), IngestError> {
        if path.is_dir() {
            for file in files_under(path)? {
                self.ingest_path(&file)?;
            }
            return Ok(());
        }
        let file = File::open(path).map_err(|source| IngestError::Open {
            path: path.display().to_string(),
            source,
        })?;
        self.ingest_reader(Box::new(file), SourceId::file(path))
    }

    /// Ingests standard input (its batch key is derived from its first bytes).
    pub fn ingest_stdin(&mut self) -> Result<(), IngestError> {
        let mut stdin = BufReader::with_capacity(64 << 10, std::io::stdin());
        let head = stdin.fill_buf().map_err(|source| IngestError::Read {
            source_ref: "stdin".into(),
            source,
        })?;
        let identity = format!("stdin:{}", hex::encode(Sha256::digest(head)));
        self.ingest_reader(Box::new(stdin), SourceId::new("stdin", &identity))
    }

    /// Ingests bytes already in memory (an S3 object, a Lambda event payload).
    pub fn ingest_bytes(&mut self, bytes: &[u8], source: SourceId) -> Result<(), IngestError> {
        self.ingest_reader(Box::new(bytes), source)
    }

    /// Ingests one input. Records that fail go to the dead-letter table; an
    /// input that breaks off (truncated gzip, read error) keeps what was read,
    /// dead-letters the rest and is listed in `input_errors`.
    pub fn ingest_reader(
        &mut self,
        reader: Box<dyn Read + '_>,
        source: SourceId,
    ) -> Result<(), IngestError> {
        self.report.inputs += 1;
        let limits = self.options.limits;
        let input = match open_reader(reader, limits) {
            Ok(i) => i,
            Err(source_err) => {
                return Err(IngestError::Read {
                    source_ref: source.source_ref,
                    source: source_err,
                })
            }
        };
        let env = Envelope {
            ctx: RecordContext {
                source_ref: &source.source_ref,
                ingest_time_ms: self.ingest_time_ms,
                ..RecordContext::default()
            },
            family_hint: self
                .options
                .format
                .or_else(|| Family::from_object_key(&source.source_ref)),
        };
        let records_before = self.report.records_read;
        let mut run = SourceRun {
            options: &self.options,
            builders: Builders::new(
                self.options.batch_rows.min(4096),
                self.options.batch_bytes,
                std::mem::take(&mut self.batch_sizes),
            ),
            sink: self.sink.as_mut(),
            report: &mut self.report,
            batch_key: &source.batch_key,
            seq: [0; Table::INGESTED.len()],
            sticky: None,
            error: None,
            progress: self.progress.as_mut(),
            raw_bytes: &input.raw_bytes,
        };
        let outcome = Decoder::new(&mut run, limits).decode_reader(input.reader, &env);
        if let Err(e) = outcome {
            run.report
                .input_errors
                .push(format!("{}: {e}", source.source_ref));
        }
        for table in Table::INGESTED {
            run.flush(table);
        }
        if run.error.is_none() {
            run.error = run.sink.end_of_input().err();
        }
        let error = run.error.take();
        self.batch_sizes = run.builders.into_sizes();
        if let Some(err) = error {
            return Err(err);
        }
        self.report.bytes_read += input.raw_bytes.get();
        if self.report.records_read == records_before && input.raw_bytes.get() == 0 {
            self.report.empty_inputs.push(source.source_ref.clone());
        }
        Ok(())
    }

    /// Flushes the sink and returns the final report.
    pub fn finish(mut self) -> Result<IngestReport, IngestError> {
        let stats = self.sink.finish()?;
        self.report.files_written = stats.files;
        self.report.rows_written = stats.rows;
        self.report.files_already_merged = stats.already_merged;
        Ok(self.report)
    }
}

pub(crate) fn files_under(dir: &Path) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| IngestError::Open {
            path: d.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| IngestError::Open {
                path: d.display().to_string(),
                source,
            })?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.ends_with(".md") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The state of ingesting one input.
struct SourceRun<'a> {
    options: &'a IngestOptions,
    builders: Builders,
    sink: &'a mut dyn BatchSink,
    report: &'a mut IngestReport,
    batch_key: &'a str,
    /// The next batch number of each table of [`Table::INGESTED`], in order.
    seq: [u32; Table::INGESTED.len()],
    /// The family the last record was, tried first for the next one.
    sticky: Option<Family>,
    error: Option<IngestError>,
    progress: Option<&'a mut ProgressFn>,
    raw_bytes: &'a std::cell::Cell<u64>,
}

impl SourceRun<'_> {
    fn flush(&mut self, table: Table) {
        if self.error.is_some() {
            return;
        }
        let Some(slot) = Table::INGESTED.iter().position(|t| *t == table) else {
            self.error = Some(IngestError::Runtime(format!(
                "{} is not a table the ingester writes",
                table.name()
            )));
            return;
        };
        match self.builders.take(table) {
            Ok(Some(batch)) => {
                let batch_id = format!("{}-{:05}", self.batch_key, self.seq[slot]);
                self.seq[slot] += 1;
                if let Err(e) = self.sink.accept(TableBatch {
                    table,
                    batch_id,
                    batch,
                }) {
                    self.error = Some(e);
                }
            }
            Ok(None) => {}
            Err(e) => self.error = Some(e),
        }
    }

    fn parsed(&mut self, table: Table, bytes: usize) {
        *self.report.parsed.entry(table).or_default() += 1;
        self.builders.add_bytes(table, bytes);
        if self.builders.rows(table) >= self.options.batch_rows
            || self.builders.bytes(table) >= self.options.batch_bytes
        {
            self.flush(table);
        }
        if self.report.records_read % 16_384 == 0 {
            if let Some(progress) = self.progress.as_mut() {
                progress(self.report, self.raw_bytes.get());
            }
        }
    }

    fn dead_letter(&mut self, d: DeadLetter<'_>) {
        *self
            .report
            .dead_lettered
            .entry(d.reason.to_string())
            .or_default() += 1;
        self.builders.deadletter.append(&d);
        self.builders.add_bytes(Table::DeadLetter, d.raw.len());
        if self.builders.rows(Table::DeadLetter) >= self.options.batch_rows
            || self.builders.bytes(Table::DeadLetter) >= self.options.batch_bytes
        {
            self.flush(Table::DeadLetter);
        }
    }

    fn parse_as(
        &mut self,
        family: Family,
        text: &str,
        ctx: &RecordContext<'_>,
    ) -> Result<(), ParseError> {
        match family {
            Family::CloudTrail => self.builders.cloudtrail.append(text, ctx),
            Family::ApiGateway => self.builders.apigateway.append(text, ctx),
            Family::Lambda => self.builders.lambda.append(text, ctx),
            Family::Waf => self.builders.waf.append(text, ctx),
        }
    }
}

impl RecordHandler for SourceRun<'_> {
    fn record(&mut self, raw: &[u8], index: u64, env: &Envelope<'_>) {
        self.report.records_read += 1;
        let ingest_time = env.ctx.ingest_time_ms;
        let fail = |run: &mut Self, family: Option<Family>, reason: &str, error: &str| {
            run.dead_letter(DeadLetter {
                time_ms: ingest_time,
                source_ref: env.ctx.source_ref,
                record_index: Some(index),
                family: family.map(Family::name),
                reason,
                error,
                raw,
                raw_length: Some(raw.len() as u64),
            })
        };
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                return fail(
                    self,
                    env.family_hint,
                    "invalid_utf8",
                    &format!("not UTF-8: {e}"),
                )
            }
        };
        let ctx = RecordContext {
            family_hint: env.family_hint,
            ..env.ctx
        };
        let mut first_error: Option<(Family, ParseError)> = None;
        let first = env.family_hint.or(self.sticky);
        if let Some(family) = first {
            match self.parse_as(family, text, &ctx) {
                Ok(()) => {
                    self.sticky = Some(family);
                    return self.parsed(family.table(), raw.len());
                }
                Err(e) => first_error = Some((family, e)),
            }
        }
        let forced = self.options.format.is_some();
        let sniffed = if forced { None } else { Family::sniff(raw) };
        let unhinted = RecordContext {
            family_hint: None,
            ..ctx
        };
        let mut sniff_refused = false;
        if let Some(family) = sniffed.filter(|f| Some(*f) != first) {
            match self.parse_as(family, text, &unhinted) {
                Ok(()) => {
                    self.sticky = Some(family);
                    return self.parsed(family.table(), raw.len());
                }
                // The sniffed family's error says more than a guess's "not mine".
                Err(e) => {
                    sniff_refused = e == ParseError::NotThisFamily;
                    match &first_error {
                        Some((_, ParseError::Invalid { .. })) if sniff_refused => {}
                        _ => first_error = Some((family, e)),
                    }
                }
            }
        }
        // The sniff was fooled (keys of one family inside another's record, an
        // attacker's request parameters naming WAF's keys): the other parsers try.
        if sniff_refused {
            for family in Family::ALL
                .into_iter()
                .filter(|f| Some(*f) != first && Some(*f) != sniffed)
            {
                if self.parse_as(family, text, &unhinted).is_ok() {
                    self.sticky = Some(family);
                    return self.parsed(family.table(), raw.len());
                }
            }
        }
        match first_error {
            Some((family, ParseError::Invalid { reason, detail })) => {
                fail(self, Some(family), reason, &detail)
            }
            Some((family, ParseError::NotThisFamily)) if forced => fail(
                self,
                Some(family),
                "unrecognized_format",
                &format!("not a {family} record"),
            ),
            _ => fail(
                self,
                None,
                "unrecognized_format",
                "not a CloudTrail, API Gateway, Lambda or WAF record",
            ),
        }
    }

    fn skip(&mut self, reason: &'static str, _index: u64, _env: &Envelope<'_>) {
        self.report.records_read += 1;
        *self.report.skipped.entry(reason.to_string()).or_default() += 1;
    }

    fn dead_letter(&mut self, failure: DecodeFailure<'_>, index: u64, env: &Envelope<'_>) {
        self.report.records_read += 1;
        self.dead_letter(DeadLetter {
            time_ms: env.ctx.ingest_time_ms,
            source_ref: env.ctx.source_ref,
            record_index: Some(index),
            family: env.family_hint.map(Family::name),
            reason: failure.reason,
            error: failure.error,
            raw: failure.raw,
            raw_length: failure.raw_length,
        });
    }
}
