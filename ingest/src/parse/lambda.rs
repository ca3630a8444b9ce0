//! Lambda logs, text and JSON formats, into the `lambda` table.
//!
//! Text: `START`, `END`, `REPORT` (durations, memory, `Init Duration`,
//! `Status`, the XRAY line), `INIT_START`, `Task timed out`, runtime errors
//! (`Runtime exited with error ... Runtime.ExitError`), and application lines
//! in the Node (`<time>\t<request id>\t<LEVEL>\t<message>`) and Python
//! (`[LEVEL]\t<time>\t<request id>\t<message>`) shapes. A log event's message
//! is one record, so a multi-line stack trace stays whole in `message`.
//!
//! JSON: platform records (`{"time", "type": "platform.report", "record": {...}}`)
//! and application logs (`{"timestamp", "level", "message", "requestId"}`).

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

use super::text::Text;
use super::time::parse_rfc3339_ms;
use super::{raw_text, Common, Outcome, ParseError, RecordContext, TimeSource};
use crate::schema::{BatchSize, CommonColumns, LambdaColumns};

/// One Lambda row before it is appended.
#[derive(Default)]
struct Row<'a> {
    time: Option<i64>,
    function_name: Option<Cow<'a, str>>,
    function_version: Option<Cow<'a, str>>,
    record_type: Cow<'a, str>,
    request_id: Option<Cow<'a, str>>,
    level: Option<Cow<'a, str>>,
    message: Option<Cow<'a, str>>,
    duration_ms: Option<f64>,
    billed_duration_ms: Option<i64>,
    memory_size_mb: Option<i64>,
    max_memory_used_mb: Option<i64>,
    init_duration_ms: Option<f64>,
    status: Option<Cow<'a, str>>,
    error_type: Option<Cow<'a, str>>,
    xray_trace_id: Option<Cow<'a, str>>,
    runtime_version: Option<Cow<'a, str>>,
}

const LEVELS: [&str; 7] = [
    "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "CRITICAL",
];

fn is_level(s: &str) -> bool {
    LEVELS.contains(&s) || s == "WARNING"
}

fn looks_like_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 19
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && matches!(b.get(10), Some(b'T' | b' '))
}

/// True for the text shapes Lambda writes (used to recognise files with no hint).
pub fn looks_like_text(line: &[u8]) -> bool {
    const PREFIXES: [&[u8]; 9] = [
        b"START RequestId: ",
        b"END RequestId: ",
        b"REPORT RequestId: ",
        b"INIT_START ",
        b"INIT_REPORT ",
        b"RequestId: ",
        b"EXTENSION ",
        b"[ERROR]",
        b"[INFO]",
    ];
    if PREFIXES.iter().any(|p| line.starts_with(p)) {
        return true;
    }
    // `<RFC 3339 time>\t<request id>\t...`
    let mut parts = line.splitn(3, |c| *c == b'\t');
    match (parts.next(), parts.next()) {
        (Some(time), Some(id)) => {
            std::str::from_utf8(time).is_ok_and(looks_like_time)
                && id.len() == 36
                && id.iter().filter(|c| **c == b'-').count() == 4
        }
        _ => false,
    }
}

/// The keys of Lambda's platform lines, longest first so that `Duration:`
/// does not match inside `Billed Duration:`.
const PLATFORM_KEYS: [&str; 15] = [
    "Runtime Version ARN:",
    "Runtime Version:",
    "Billed Duration:",
    "Max Memory Used:",
    "Init Duration:",
    "Memory Size:",
    "XRAY TraceId:",
    "Error Type:",
    "RequestId:",
    "SegmentId:",
    "Duration:",
    "Sampled:",
    "Version:",
    "Status:",
    "Phase:",
];

/// Reads the `Key: value` fields of a START/END/REPORT/INIT line. AWS
/// separates them with tabs, but copies often have spaces or escaped tabs
/// (a literal `\t`): keys are found wherever they start a word, and a value
/// runs to the next key.
fn platform_fields<'a>(row: &mut Row<'a>, text: &'a str) {
    let bytes = text.as_bytes();
    let mut hits: Vec<(&str, usize, usize)> = Vec::new();
    let mut i = 0;
    let starts_word = |i: usize| match bytes.get(..i) {
        Some([]) => true,
        Some([.., before]) if before.is_ascii_whitespace() => true,
        Some([.., b'\\', b't' | b'n']) => true,
        _ => false,
    };
    while i < bytes.len() {
        if starts_word(i) {
            if let Some(key) = PLATFORM_KEYS.iter().find(|k| {
                bytes
                    .get(i..)
                    .is_some_and(|rest| rest.starts_with(k.as_bytes()))
            }) {
                hits.push((key, i, i + key.len()));
                i += key.len();
                continue;
            }
        }
        i += 1;
    }
    for (n, (key, _, value_start)) in hits.iter().enumerate() {
        let value_end = hits.get(n + 1).map_or(text.len(), |h| h.1);
        let value = text.get(*value_start..value_end).unwrap_or_default().trim();
        let mut first = value.split_whitespace().next().unwrap_or("");
        while let Some(rest) = first
            .strip_suffix("\\n")
            .or_else(|| first.strip_suffix("\\t"))
        {
            first = rest;
        }
        let number = || first.parse::<f64>().ok();
        match *key {
            "RequestId:" => row.request_id = Some(Cow::Borrowed(first)),
            "Version:" => row.function_version = Some(Cow::Borrowed(first)),
            "Duration:" => row.duration_ms = number(),
            "Billed Duration:" => row.billed_duration_ms = number().map(|v| v as i64),
            "Memory Size:" => row.memory_size_mb = number().map(|v| v as i64),
            "Max Memory Used:" => row.max_memory_used_mb = number().map(|v| v as i64),
            "Init Duration:" => row.init_duration_ms = number(),
            "Status:" => row.status = Some(Cow::Borrowed(first)),
            "Error Type:" => row.error_type = Some(Cow::Borrowed(first)),
            "XRAY TraceId:" => row.xray_trace_id = Some(Cow::Borrowed(first)),
            "Runtime Version:" => row.runtime_version = Some(Cow::Borrowed(first)),
            _ => {}
        }
    }
}

fn parse_text(text: &str) -> Row<'_> {
    let mut row = Row::default();
    let trimmed = text.trim_end_matches(['\n', '\r']);
    let first_word = trimmed.split([' ', '\t']).next().unwrap_or("");
    match first_word {
        "START" | "END" | "REPORT" | "INIT_START" | "INIT_REPORT" | "EXTENSION" => {
            platform_fields(&mut row, trimmed);
            let well_formed = row.request_id.is_some()
                || matches!(first_word, "INIT_START" | "INIT_REPORT" | "EXTENSION");
            if well_formed {
                row.record_type = Cow::Owned(first_word.to_ascii_lowercase());
                if first_word == "REPORT" && row.status.is_none() {
                    row.status = Some(Cow::Borrowed("success"));
                }
                return row;
            }
            // A platform word without its fields: keep the line as a plain message.
            row = Row::default();
        }
        _ => {}
    }
    if let Some(rest) = trimmed.strip_prefix("RequestId: ") {
        // `RequestId: <id> Error: Runtime exited with error: signal: killed\nRuntime.ExitError`
        row.record_type = Cow::Borrowed("runtime_error");
        row.request_id = rest.split_whitespace().next().map(Cow::Borrowed);
        let message = rest.split_once(' ').map(|(_, m)| m.trim()).unwrap_or("");
        row.message = Some(Cow::Borrowed(
            message.strip_prefix("Error: ").unwrap_or(message),
        ));
        row.error_type = trimmed
            .lines()
            .last()
            .filter(|l| !l.contains(' ') && l.contains('.'))
            .map(Cow::Borrowed);
        row.status = Some(Cow::Borrowed("error"));
        return row;
    }
    let parts: Vec<&str> = trimmed.splitn(4, '\t').collect();
    row.record_type = Cow::Borrowed("app");
    match parts.as_slice() {
        // Python: [LEVEL]\t<time>\t<request id>\t<message>
        [level, time, id, message] if level.starts_with('[') && looks_like_time(time) => {
            row.level = Some(Cow::Borrowed(level.trim_matches(['[', ']'])));
            row.time = parse_rfc3339_ms(time);
            row.request_id = Some(Cow::Borrowed(id));
            row.message = Some(Cow::Borrowed(message));
        }
        // Node: <time>\t<request id>\t<LEVEL>\t<message>
        [time, id, level, message] if looks_like_time(time) && is_level(level) => {
            row.time = parse_rfc3339_ms(time);
            row.request_id = Some(Cow::Borrowed(id));
            row.level = Some(Cow::Borrowed(level));
            row.message = Some(Cow::Borrowed(message));
        }
        // <time>\t<request id>\t<message> (older runtimes, and timeouts)
        [time, id, ..] if looks_like_time(time) => {
            row.time = parse_rfc3339_ms(time);
            row.request_id = Some(Cow::Borrowed(id));
            // Everything after the second tab (nothing when the line ends
            // with the request id).
            let message = trimmed.splitn(3, '\t').nth(2).unwrap_or("").trim_start();
            row.message = Some(Cow::Borrowed(message));
        }
        _ => {
            // `[ERROR] KeyError: 'x'\nTraceback ...` (Python, no time), or plain output.
            if let Some(level) = trimmed
                .strip_prefix('[')
                .and_then(|r| r.split_once(']'))
                .map(|(l, _)| l)
                .filter(|l| is_level(l))
            {
                row.level = Some(Cow::Borrowed(level));
            }
            row.message = Some(Cow::Borrowed(trimmed));
        }
    }
    // `2024-01-01T00:00:00.000Z <id> Task timed out after 3.00 seconds`
    if let Some(m) = row.message.as_deref() {
        if let Some(pos) = m.find("Task timed out after") {
            row.record_type = Cow::Borrowed("timeout");
            row.status = Some(Cow::Borrowed("timeout"));
            row.error_type = Some(Cow::Borrowed("Sandbox.Timedout"));
            if row.request_id.is_none() {
                row.request_id = m
                    .get(..pos)
                    .unwrap_or_default()
                    .split_whitespace()
                    .nth(1)
                    .map(|s| Cow::Owned(s.to_string()));
            }
            if row.level.is_none() {
                row.level = Some(Cow::Borrowed("ERROR"));
            }
        }
    }
    row
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonLog<'a> {
    #[serde(rename = "type")]
    kind: Option<Text<'a>>,
    time: Option<Text<'a>>,
    #[serde(borrow)]
    timestamp: Option<&'a RawValue>,
    #[serde(borrow)]
    record: Option<&'a RawValue>,
    #[serde(alias = "levelname", alias = "severity")]
    level: Option<Text<'a>>,
    #[serde(borrow, alias = "msg")]
    message: Option<&'a RawValue>,
    #[serde(alias = "request_id", alias = "AWSRequestId", alias = "awsRequestId")]
    request_id: Option<Text<'a>>,
    #[serde(alias = "errorType", alias = "error_type", alias = "exception_name")]
    error_type_: Option<Text<'a>>,
    #[serde(alias = "function_name")]
    function_name: Option<Text<'a>>,
    #[serde(alias = "xray_trace_id", alias = "traceId")]
    xray_trace_id: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PlatformRecord<'a> {
    request_id: Option<Text<'a>>,
    version: Option<Text<'a>>,
    status: Option<Text<'a>>,
    error_type: Option<Text<'a>>,
    metrics: Option<PlatformMetrics>,
    #[serde(borrow)]
    tracing: Option<PlatformTracing<'a>>,
    runtime_version: Option<Text<'a>>,
    function_name: Option<Text<'a>>,
    function_version: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PlatformMetrics {
    duration_ms: Option<f64>,
    billed_duration_ms: Option<f64>,
    #[serde(rename = "memorySizeMB")]
    memory_size_mb: Option<f64>,
    #[serde(rename = "maxMemoryUsedMB")]
    max_memory_used_mb: Option<f64>,
    init_duration_ms: Option<f64>,
}

#[derive(Deserialize)]
// Its text borrows from the record (serde sees no borrowed field here).
#[serde(bound(deserialize = "'de: 'a"))]
struct PlatformTracing<'a> {
    value: Option<Text<'a>>,
}

/// `hinted`: the record is known to be a Lambda log (from its log group), so
/// any JSON a function printed is an application record.
fn parse_json(raw: &str, hinted: bool) -> Result<Row<'_>, ParseError> {
    let log: JsonLog<'_> = serde_json::from_str(raw).map_err(ParseError::json)?;
    let mut row = Row {
        time: log.time.as_deref().and_then(parse_rfc3339_ms).or_else(|| {
            log.timestamp
                .and_then(raw_text)
                .and_then(|t| super::time::parse_any_ms(&t))
        }),
        ..Row::default()
    };
    match (log.kind, log.record) {
        (Some(kind), Some(record)) if kind.starts_with("platform.") => {
            let rec: PlatformRecord<'_> = serde_json::from_str(record.get()).unwrap_or_default();
            let metrics = rec.metrics.unwrap_or_default();
            row.request_id = rec.request_id.map(Cow::from);
            row.function_version = rec.version.or(rec.function_version).map(Cow::from);
            row.function_name = rec.function_name.map(Cow::from);
            row.status = rec.status.map(Cow::from);
            row.error_type = rec.error_type.map(Cow::from);
            row.duration_ms = metrics.duration_ms;
            row.billed_duration_ms = metrics.billed_duration_ms.map(|v| v as i64);
            row.memory_size_mb = metrics.memory_size_mb.map(|v| v as i64);
            row.max_memory_used_mb = metrics.max_memory_used_mb.map(|v| v as i64);
            row.init_duration_ms = metrics.init_duration_ms;
            row.xray_trace_id = rec.tracing.and_then(|t| t.value).map(|v| {
                match v.split(';').find_map(|p| p.strip_prefix("Root=")) {
                    Some(root) => Cow::Owned(root.to_string()),
                    None => v.into(),
                }
            });
            row.runtime_version = rec.runtime_version.map(Cow::from);
            if &*kind == "platform.report" && row.status.is_none() {
                row.status = Some(Cow::Borrowed("success"));
            }
            row.record_type = kind.into();
        }
        (Some(kind), Some(record)) => {
            // Telemetry API `function`/`extension` records: the log line as a string.
            let text = raw_text(record);
            let inner = text.as_deref().map(parse_text);
            row.record_type = kind.into();
            if let Some(inner) = inner {
                row.level = inner.level.map(|l| Cow::Owned(l.into_owned()));
                row.request_id = inner.request_id.map(|l| Cow::Owned(l.into_owned()));
            }
            row.message = text.map(|t| Cow::Owned(t.into_owned()));
        }
        _ => {
            if log.level.is_none() && log.message.is_none() && !hinted {
                return Err(ParseError::NotThisFamily);
            }
            row.record_type = Cow::Borrowed("app");
            row.level = log.level.map(Cow::from);
            row.message = match log.message {
                Some(m) => raw_text(m),
                None => Some(Cow::Borrowed(raw.trim())),
            };
            row.request_id = log.request_id.map(Cow::from);
            row.error_type = log.error_type_.map(Cow::from);
            row.function_name = log.function_name.map(Cow::from);
            row.xray_trace_id = log.xray_trace_id.map(Cow::from);
        }
    }
    Ok(row)
}

/// The `lambda` table's builder.
pub struct LambdaBuilder {
    pub common: CommonColumns,
    pub columns: LambdaColumns,
    rows: usize,
}

impl LambdaBuilder {
    pub fn with_capacity(rows: usize) -> Self {
        Self::with_size(rows, None)
    }

    /// Builders for `rows` rows, sized like the table's `last` batch.
    pub fn with_size(rows: usize, last: Option<&BatchSize>) -> Self {
        LambdaBuilder {
            common: CommonColumns::with_size(rows, last, 0),
            columns: LambdaColumns::with_size(rows, last, CommonColumns::COUNT),
            rows: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Parses one Lambda log record (text or JSON) and appends it as a row.
    pub fn append(&mut self, raw: &str, ctx: &RecordContext<'_>) -> Result<(), ParseError> {
        let trimmed = raw.trim_start();
        let (row, format) = if trimmed.starts_with('{') && trimmed.trim_end().ends_with('}') {
            match parse_json(
                trimmed,
                ctx.family_hint == Some(crate::family::Family::Lambda),
            ) {
                Ok(row) => (row, "json"),
                // JSON-looking text from a function's own print statements.
                Err(ParseError::Invalid { .. }) if ctx.log_group.is_some() => {
                    (parse_text(raw), "text")
                }
                Err(e) => return Err(e),
            }
        } else if ctx.family_hint == Some(crate::family::Family::Lambda)
            || looks_like_text(trimmed.as_bytes())
        {
            (parse_text(raw), "text")
        } else {
            return Err(ParseError::NotThisFamily);
        };
        let function_name = row.function_name.clone().or_else(|| {
            ctx.log_group
                .and_then(|g| g.strip_prefix("/aws/lambda/"))
                .map(Cow::Borrowed)
        });
        let failed_status = row
            .status
            .as_deref()
            .is_some_and(|s| !s.eq_ignore_ascii_case("success"));
        let outcome = if failed_status
            || row
                .level
                .as_deref()
                .is_some_and(|l| matches!(l, "ERROR" | "FATAL" | "CRITICAL"))
        {
            Outcome::Failure
        } else if row.status.is_some() {
            Outcome::Success
        } else {
            Outcome::Unknown
        };
        let common = Common {
            event_time: row.time.map(|t| (t, TimeSource::Record)),
            event_id: None,
            account_id: None,
            region: None,
            src_ip: None,
            actor: function_name.clone(),
            action: Some(row.record_type.clone()),
            outcome: Some(outcome),
        };
        common.append(&mut self.common, ctx, raw);
        let c = &mut self.columns;
        c.function_name.append_option(function_name.as_deref());
        c.function_version
            .append_option(row.function_version.as_deref());
        c.log_format.append_value(format);
        c.record_type.append_value(&row.record_type);
        c.request_id.append_option(row.request_id.as_deref());
        c.level.append_option(row.level.as_deref());
        c.message.append_option(row.message.as_deref());
        c.duration_ms.append_option(row.duration_ms);
        c.billed_duration_ms.append_option(row.billed_duration_ms);
        c.memory_size_mb.append_option(row.memory_size_mb);
        c.max_memory_used_mb.append_option(row.max_memory_used_mb);
        c.init_duration_ms.append_option(row.init_duration_ms);
        c.status.append_option(row.status.as_deref());
        c.error_type.append_option(row.error_type.as_deref());
        c.xray_trace_id.append_option(row.xray_trace_id.as_deref());
        c.runtime_version
            .append_option(row.runtime_version.as_deref());
        self.rows += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_fields() {
        let row = parse_text("REPORT RequestId: db275f87-a934-471a-8980-b63bf4dc1beb\tDuration: 1.76 ms\tBilled Duration: 100 ms\tMemory Size: 128 MB\tMax Memory Used: 48 MB\tInit Duration: 120.96 ms\t\nXRAY TraceId: 1-5e6a-abc\tSegmentId: 0a\tSampled: true\n");
        assert_eq!(row.record_type, "report");
        assert_eq!(
            row.request_id.as_deref(),
            Some("db275f87-a934-471a-8980-b63bf4dc1beb")
        );
        assert_eq!(row.duration_ms, Some(1.76));
        assert_eq!(row.billed_duration_ms, Some(100));
        assert_eq!(row.memory_size_mb, Some(128));
        assert_eq!(row.max_memory_used_mb, Some(48));
        assert_eq!(row.init_duration_ms, Some(120.96));
        assert_eq!(row.xray_trace_id.as_deref(), Some("1-5e6a-abc"));
        assert_eq!(row.status.as_deref(), Some("success"));
    }

    #[test]
    fn report_fields_separated_by_spaces() {
        let row = parse_text("REPORT RequestId: 8edab1f8-7d34-4a8e-a965-15ccbbb78d4c Duration: 0.81 ms  Billed Duration: 100 ms Memory Size: 128 MB Max Memory Used: 90 MB  Init Duration: 1234 ms");
        assert_eq!(row.duration_ms, Some(0.81));
        assert_eq!(row.billed_duration_ms, Some(100));
        assert_eq!(row.max_memory_used_mb, Some(90));
        assert_eq!(row.init_duration_ms, Some(1234.0));
        let row = parse_text("REPORT invalid report log line");
        assert_eq!(row.record_type, "app");
        assert_eq!(row.duration_ms, None);
    }

    #[test]
    fn a_line_that_ends_with_its_request_id_has_an_empty_message() {
        // Found by the lambda_logs fuzz target: the message was sliced past
        // the end of a line with no third field.
        let row = parse_text("2020-03-05T16:30:36.114Z\tf08bb4c8-d6b2-4f05-ac17");
        assert_eq!(row.request_id.as_deref(), Some("f08bb4c8-d6b2-4f05-ac17"));
        assert_eq!(row.message.as_deref(), Some(""));
        let row = parse_text("2020-03-05T16:30:36.114Z\tf08b\t  hello\tworld");
        assert_eq!(row.message.as_deref(), Some("hello\tworld"));
    }

    #[test]
    fn start_line_has_version() {
        let row = parse_text("START RequestId: 8f5b Version: $LATEST\n");
        assert_eq!(row.record_type, "start");
        assert_eq!(row.request_id.as_deref(), Some("8f5b"));
        assert_eq!(row.function_version.as_deref(), Some("$LATEST"));
    }

    #[test]
    fn timeouts_and_runtime_errors() {
        let row = parse_text("2024-01-01T00:00:03.000Z 8f5b Task timed out after 3.00 seconds\n\n");
        assert_eq!(row.record_type, "timeout");
        assert_eq!(row.request_id.as_deref(), Some("8f5b"));
        let row = parse_text(
            "RequestId: 8f5b Error: Runtime exited with error: signal: killed\nRuntime.ExitError",
        );
        assert_eq!(row.record_type, "runtime_error");
        assert_eq!(row.request_id.as_deref(), Some("8f5b"));
        assert_eq!(row.error_type.as_deref(), Some("Runtime.ExitError"));
    }

    #[test]
    fn node_and_python_app_lines() {
        let row = parse_text("2020-03-05T16:30:36.113Z\tf08bb4c8-d6b2-4f05-ac17-af7e2ba005fb\tERROR\tboom\n    at x (y.js:1)");
        assert_eq!(row.level.as_deref(), Some("ERROR"));
        assert_eq!(row.message.as_deref(), Some("boom\n    at x (y.js:1)"));
        assert_eq!(row.time, Some(1_583_425_836_113));
        let row = parse_text("[INFO]\t2020-03-05T16:30:36.113Z\tabc\thello");
        assert_eq!(row.level.as_deref(), Some("INFO"));
        assert_eq!(row.request_id.as_deref(), Some("abc"));
    }

    #[test]
    fn json_platform_report() {
        let row = parse_json(r#"{"time":"2024-01-01T00:00:00.000Z","type":"platform.report","record":{"requestId":"r1","metrics":{"durationMs":12.5,"billedDurationMs":13,"memorySizeMB":128,"maxMemoryUsedMB":70,"initDurationMs":200.1},"tracing":{"type":"X-Amzn-Trace-Id","value":"Root=1-abc;Parent=2;Sampled=1"},"status":"timeout"}}"#, false).unwrap();
        assert_eq!(row.record_type, "platform.report");
        assert_eq!(row.duration_ms, Some(12.5));
        assert_eq!(row.billed_duration_ms, Some(13));
        assert_eq!(row.init_duration_ms, Some(200.1));
        assert_eq!(row.status.as_deref(), Some("timeout"));
        assert_eq!(row.xray_trace_id.as_deref(), Some("1-abc"));
    }
}
