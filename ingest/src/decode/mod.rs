//! Envelopes: from bytes as delivered (files, stdin, S3 objects, subscription
//! payloads) to individual records, each with the context it came with.
//!
//! An input is read in one of two modes, chosen from its first value:
//! - **lines** (NDJSON and text logs): one record per line, so one bad line
//!   costs only itself;
//! - **documents** (a JSON array, a `{"Records":[...]}` CloudTrail object,
//!   pretty-printed or concatenated JSON such as Firehose output): values are
//!   split structurally, and `Records` arrays stream one element at a time.
//!
//! Every value is then classified by its first key: `awslogs` (a Lambda
//! subscription event), `messageType` (a decoded subscription payload),
//! `Records` (a CloudTrail object), `kinesis` (a Kinesis record carrying a
//! subscription payload), `awsAccountId` + `digestStartTime` (a CloudTrail
//! digest: skipped), or else a log record for the parsers.

pub mod input;
pub mod json_stream;
pub mod subscription;

use std::borrow::Cow;
use std::io::{self, BufRead};

use crate::family::Family;
use crate::limits::Limits;
use crate::parse::RecordContext;
use json_stream::{first_key, JsonStream};
use subscription::{decode_base64, LambdaLogsEvent, LogData};

/// Envelopes inside envelopes deeper than this are refused.
const MAX_NESTING: u32 = 4;

/// The context of the records of one envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct Envelope<'a> {
    pub ctx: RecordContext<'a>,
    /// The family the envelope says its records are (e.g. from the log group).
    pub family_hint: Option<Family>,
}

/// Receives what the decoder finds. Every call is one record read.
pub trait RecordHandler {
    /// A record to parse.
    fn record(&mut self, raw: &[u8], index: u64, env: &Envelope<'_>);
    /// A record skipped on purpose (control message, digest file).
    fn skip(&mut self, reason: &'static str, index: u64, env: &Envelope<'_>);
    /// A record (or the rest of an input) that could not be decoded.
    fn dead_letter(&mut self, failure: DecodeFailure<'_>, index: u64, env: &Envelope<'_>);
}

/// Why some bytes could not be decoded into records.
#[derive(Debug, Clone, Copy)]
pub struct DecodeFailure<'a> {
    pub reason: &'static str,
    pub error: &'a str,
    pub raw: &'a [u8],
    pub raw_length: Option<u64>,
}

/// Splits inputs into records for a [`RecordHandler`].
pub struct Decoder<'h, H: RecordHandler> {
    handler: &'h mut H,
    limits: Limits,
    next_index: u64,
}

impl<'h, H: RecordHandler> Decoder<'h, H> {
    pub fn new(handler: &'h mut H, limits: Limits) -> Self {
        Decoder {
            handler,
            limits,
            next_index: 0,
        }
    }

    /// Records (and skips and dead letters) emitted so far.
    pub fn records_seen(&self) -> u64 {
        self.next_index
    }

    fn index(&mut self) -> u64 {
        let i = self.next_index;
        self.next_index += 1;
        i
    }

    fn emit(&mut self, raw: &[u8], env: &Envelope<'_>) {
        let i = self.index();
        self.handler.record(raw, i, env);
    }

    fn fail(&mut self, failure: DecodeFailure<'_>, env: &Envelope<'_>) {
        let i = self.index();
        self.handler.dead_letter(failure, i, env);
    }

    fn skip(&mut self, reason: &'static str, env: &Envelope<'_>) {
        let i = self.index();
        self.handler.skip(reason, i, env);
    }

    fn oversized(&mut self, head: &[u8], len: u64, env: &Envelope<'_>) {
        let error = format!(
            "record of {len} bytes exceeds the limit of {} bytes",
            self.limits.max_record_bytes
        );
        self.fail(
            DecodeFailure {
                reason: "record_too_large",
                error: &error,
                raw: head,
                raw_length: Some(len),
            },
            env,
        );
    }

    /// Reads a whole input. An I/O or decompression error ends it early: the
    /// value being read when it happened is dead-lettered, and the error returned.
    pub fn decode_reader<R: BufRead>(&mut self, reader: R, env: &Envelope<'_>) -> io::Result<()> {
        let mut js = JsonStream::new(reader);
        let mut buf = Vec::new();
        let result = self.decode_stream(&mut js, env, &mut buf);
        if let Err(e) = &result {
            let error = format!("input ended early at byte {}: {e}", js.offset());
            let reason = if e.kind() == io::ErrorKind::InvalidData {
                "decompression"
            } else {
                "read_error"
            };
            self.fail(
                DecodeFailure {
                    reason,
                    error: &error,
                    raw: &buf,
                    raw_length: None,
                },
                env,
            );
        }
        result
    }

    fn decode_stream<R: BufRead>(
        &mut self,
        js: &mut JsonStream<R>,
        env: &Envelope<'_>,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        match js.peek_non_ws()?.0 {
            None => Ok(()),
            Some(b'{') => {
                // The first object's shape picks the mode.
                let Some(scanned) = self.object(js, env, buf)? else {
                    return self.decode_documents(js, env, buf);
                };
                let whole = !scanned.cut && !scanned.truncated;
                let single_line = !buf.contains(&b'\n');
                let (next, newline) = js.peek_non_ws()?;
                self.value(buf, scanned.len, scanned.cut, scanned.truncated, env, 0);
                if whole && single_line && (next.is_none() || newline) {
                    self.decode_lines(js, env, buf)
                } else {
                    self.decode_documents(js, env, buf)
                }
            }
            Some(b'[') => self.decode_documents(js, env, buf),
            Some(_) => self.decode_lines(js, env, buf),
        }
    }

    /// Reads an object (the next byte is `{`). A CloudTrail object whose first
    /// key is `Records` has its records streamed, and `None` is returned;
    /// any other object is read whole into `buf` (within the document limit).
    fn object<R: BufRead>(
        &mut self,
        js: &mut JsonStream<R>,
        env: &Envelope<'_>,
        buf: &mut Vec<u8>,
    ) -> io::Result<Option<json_stream::Scanned>> {
        js.skip_byte();
        let mut key = Vec::new();
        if js.peek_non_ws()?.0 == Some(b'"') {
            js.read_string(&mut key, 256)?;
        }
        if key == b"\"Records\"" && self.after_colon_is_array(js)? {
            self.stream_records(js, env, buf)?;
            self.finish_object(js)?;
            return Ok(None);
        }
        buf.clear();
        buf.push(b'{');
        buf.extend_from_slice(&key);
        let mut scanned = js.continue_value(buf, self.limits.max_document_bytes, 1)?;
        scanned.len += 1 + key.len() as u64;
        Ok(Some(scanned))
    }

    /// After a key: consumes `:` and reports whether an array follows.
    fn after_colon_is_array<R: BufRead>(&mut self, js: &mut JsonStream<R>) -> io::Result<bool> {
        if js.peek_non_ws()?.0 != Some(b':') {
            return Ok(false);
        }
        js.skip_byte();
        Ok(js.peek_non_ws()?.0 == Some(b'['))
    }

    /// Reads past the rest of an object whose `Records` were streamed.
    fn finish_object<R: BufRead>(&mut self, js: &mut JsonStream<R>) -> io::Result<()> {
        let mut ignored = Vec::new();
        js.continue_value(&mut ignored, 0, 1).map(|_| ())
    }

    /// Streams the elements of an array (the next byte is `[`).
    fn stream_records<R: BufRead>(
        &mut self,
        js: &mut JsonStream<R>,
        env: &Envelope<'_>,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        js.skip_byte();
        loop {
            match js.peek_non_ws()?.0 {
                Some(b']') => {
                    js.skip_byte();
                    return Ok(());
                }
                Some(b',') => js.skip_byte(),
                None => {
                    self.fail(
                        DecodeFailure {
                            reason: "truncated_input",
                            error: "the input ended inside an array",
                            raw: b"",
                            raw_length: Some(0),
                        },
                        env,
                    );
                    return Ok(());
                }
                Some(_) => {
                    buf.clear();
                    let s = js.read_value(buf, self.limits.max_record_bytes)?;
                    self.element(buf, s.len, s.cut, s.truncated, env);
                }
            }
        }
    }

    /// Top-level values one after another (documents mode).
    fn decode_documents<R: BufRead>(
        &mut self,
        js: &mut JsonStream<R>,
        env: &Envelope<'_>,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        loop {
            match js.peek_non_ws()?.0 {
                None => return Ok(()),
                Some(b'[') => self.stream_records(js, env, buf)?,
                Some(b'{') => {
                    if let Some(s) = self.object(js, env, buf)? {
                        self.value(buf, s.len, s.cut, s.truncated, env, 0);
                    }
                }
                Some(_) => {
                    buf.clear();
                    let len = js
                        .read_line(buf, self.limits.max_record_bytes)?
                        .unwrap_or(0);
                    self.fail(
                        DecodeFailure {
                            reason: "invalid_json",
                            error: "unexpected text between JSON documents",
                            raw: buf,
                            raw_length: Some(len),
                        },
                        env,
                    );
                }
            }
        }
    }

    /// One record per line (lines mode).
    fn decode_lines<R: BufRead>(
        &mut self,
        js: &mut JsonStream<R>,
        env: &Envelope<'_>,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        let max = self.limits.max_record_bytes;
        loop {
            buf.clear();
            let Some(len) = js.read_line(buf, max)? else {
                return Ok(());
            };
            if buf.iter().all(|c| c.is_ascii_whitespace()) && len as usize == buf.len() {
                continue;
            }
            if len > max as u64 {
                self.oversized(buf, len, env);
                continue;
            }
            self.value(buf, buf.len() as u64, false, false, env, 0);
        }
    }

    /// An element of a `Records` array or a bare array.
    fn element(&mut self, raw: &[u8], len: u64, cut: bool, truncated: bool, env: &Envelope<'_>) {
        if cut {
            return self.oversized(raw, len, env);
        }
        if truncated {
            return self.truncated(raw, env);
        }
        match first_key(raw) {
            Some("kinesis") => self.kinesis(raw, env, 0),
            _ if memchr::memmem::find(raw, b"\"eventSource\":\"aws:s3\"").is_some()
                && memchr::memmem::find(raw, b"\"s3\":").is_some() =>
            {
                self.fail(
                    DecodeFailure {
                        reason: "unsupported_record",
                        error: "an S3 event notification, not a log record",
                        raw,
                        raw_length: Some(len),
                    },
                    env,
                )
            }
            _ => self.emit(raw, env),
        }
    }

    fn truncated(&mut self, raw: &[u8], env: &Envelope<'_>) {
        self.fail(
            DecodeFailure {
                reason: "truncated_input",
                error: "the input ended inside this value",
                raw,
                raw_length: Some(raw.len() as u64),
            },
            env,
        );
    }

    /// A whole top-level value (a line, or a document): an envelope or a record.
    fn value(
        &mut self,
        raw: &[u8],
        len: u64,
        cut: bool,
        truncated: bool,
        env: &Envelope<'_>,
        depth: u32,
    ) {
        if cut {
            return self.oversized(raw, len, env);
        }
        if truncated {
            return self.truncated(raw, env);
        }
        if depth > MAX_NESTING {
            return self.fail(
                DecodeFailure {
                    reason: "bad_envelope",
                    error: "envelopes nested too deeply",
                    raw,
                    raw_length: Some(len),
                },
                env,
            );
        }
        match first_key(raw) {
            Some("awslogs") => self.awslogs(raw, env, depth),
            Some(
                "messageType"
                | "owner"
                | "logGroup"
                | "logStream"
                | "subscriptionFilters"
                | "logEvents",
            ) => self.log_data(raw, env),
            Some("Records") => {
                let mut js = JsonStream::new(raw);
                let mut key = Vec::new();
                let mut buf = Vec::new();
                let streamed = (|| -> io::Result<bool> {
                    js.peek_non_ws()?;
                    js.skip_byte();
                    js.peek_non_ws()?;
                    js.read_string(&mut key, 256)?;
                    if self.after_colon_is_array(&mut js)? {
                        self.stream_records(&mut js, env, &mut buf)?;
                        Ok(true)
                    } else {
                        Ok(false)
                    }
                })();
                if !matches!(streamed, Ok(true)) {
                    self.emit_record(raw, env);
                }
            }
            Some("kinesis") => self.kinesis(raw, env, depth),
            Some("awsAccountId") if memchr::memmem::find(raw, b"\"digestStartTime\"").is_some() => {
                self.skip("cloudtrail_digest", env)
            }
            _ => self.emit_record(raw, env),
        }
    }

    /// A top-level value that is a record, not an envelope. It was read under
    /// the document limit (it might have been an envelope, which may be far
    /// larger than a record), so the record limit is applied here.
    fn emit_record(&mut self, raw: &[u8], env: &Envelope<'_>) {
        let max = self.limits.max_record_bytes;
        if let Some(head) = raw.get(..max).filter(|_| raw.len() > max) {
            return self.oversized(head, raw.len() as u64, env);
        }
        self.emit(raw, env)
    }

    /// `{"awslogs":{"data":"<base64 gzip>"}}`
    fn awslogs(&mut self, raw: &[u8], env: &Envelope<'_>, depth: u32) {
        let event: LambdaLogsEvent<'_> = match serde_json::from_slice(raw) {
            Ok(e) => e,
            Err(e) => {
                return self.bad_envelope("bad_envelope", &format!("awslogs event: {e}"), raw, env)
            }
        };
        self.compressed_payload(&event.awslogs.data, raw, env, depth)
    }

    /// A Kinesis record whose data is a CloudWatch Logs subscription payload.
    fn kinesis(&mut self, raw: &[u8], env: &Envelope<'_>, depth: u32) {
        #[derive(serde::Deserialize)]
        struct Kinesis<'a> {
            #[serde(borrow)]
            kinesis: KinesisData<'a>,
        }
        #[derive(serde::Deserialize)]
        struct KinesisData<'a> {
            #[serde(borrow)]
            data: Cow<'a, str>,
        }
        match serde_json::from_slice::<Kinesis<'_>>(raw) {
            Ok(k) => self.compressed_payload(&k.kinesis.data, raw, env, depth),
            Err(e) => self.bad_envelope("bad_envelope", &format!("kinesis record: {e}"), raw, env),
        }
    }

    fn compressed_payload(&mut self, data: &str, raw: &[u8], env: &Envelope<'_>, depth: u32) {
        let bytes = match decode_base64(data) {
            Ok(b) => b,
            Err(e) => {
                return self.bad_envelope("bad_base64", &format!("payload data: {e}"), raw, env)
            }
        };
        let max = self.limits.max_document_bytes;
        let decoded = match input::decompress_payload(&bytes, self.limits, max) {
            Ok(d) => d,
            Err(e) => {
                return self.bad_envelope("decompression", &format!("payload data: {e}"), raw, env)
            }
        };
        self.value(&decoded, decoded.len() as u64, false, false, env, depth + 1);
    }

    fn bad_envelope(&mut self, reason: &'static str, error: &str, raw: &[u8], env: &Envelope<'_>) {
        let len = raw.len();
        let kept = raw.get(..self.limits.max_record_bytes).unwrap_or(raw);
        self.fail(
            DecodeFailure {
                reason,
                error,
                raw: kept,
                raw_length: Some(len as u64),
            },
            env,
        );
    }

    /// A decoded subscription payload: each log event is one record.
    fn log_data(&mut self, raw: &[u8], env: &Envelope<'_>) {
        let data: LogData<'_> = match serde_json::from_slice(raw) {
            Ok(d) => d,
            Err(e) => {
                return self.bad_envelope(
                    "bad_envelope",
                    &format!("subscription payload: {e}"),
                    raw,
                    env,
                )
            }
        };
        let group = data.log_group.as_deref().unwrap_or("");
        let stream = data.log_stream.as_deref().unwrap_or("");
        let source_ref = format!("{group}/{stream}");
        let base = Envelope {
            ctx: RecordContext {
                source_ref: &source_ref,
                account_id: data
                    .owner
                    .as_deref()
                    .filter(|o| o.bytes().all(|c| c.is_ascii_digit())),
                log_group: data.log_group.as_deref(),
                ..env.ctx
            },
            family_hint: env.family_hint.or_else(|| Family::from_log_group(group)),
        };
        if data.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            return self.skip("control_message", &base);
        }
        for event in &data.log_events {
            let id = event.id_text();
            let sub = Envelope {
                ctx: RecordContext {
                    log_event_id: id.as_deref(),
                    envelope_time_ms: event.timestamp,
                    ..base.ctx
                },
                ..base
            };
            match event.message_text() {
                Ok(text) if text.len() > self.limits.max_record_bytes => {
                    let head = text.as_bytes().get(..self.limits.max_record_bytes);
                    self.oversized(head.unwrap_or_default(), text.len() as u64, &sub)
                }
                Ok(text) => self.emit(text.as_bytes(), &sub),
                Err(e) => {
                    let error = format!("log event message: {e}");
                    self.fail(
                        DecodeFailure {
                            reason: "invalid_json",
                            error: &error,
                            raw: event.message.get().as_bytes(),
                            raw_length: None,
                        },
                        &sub,
                    )
                }
            }
        }
    }
}
