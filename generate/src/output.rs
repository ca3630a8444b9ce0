//! Writes generated events minute by minute in one of three shapes, one file
//! per hour (memory holds one minute of events, five for CloudTrail objects):
//!
//! - `ndjson`: `cloudtrail/` and `apigateway/` hold one record per line;
//!   `lambda/` holds one uncompressed subscription `DATA_MESSAGE` per function
//!   and minute (a Lambda log line names no function: its log group does).
//! - `cloudwatch`: `cloudwatch/` holds one `{"awslogs":{"data":...}}` Lambda
//!   event per log group and minute, as a subscription delivers them.
//! - `s3`: CloudTrail objects every five minutes under
//!   `s3/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`, and API Gateway and
//!   Lambda logs as Firehose writes a subscription to S3 (`s3/firehose/`:
//!   concatenated gzip members), and WAF logs as WAF writes them to S3
//!   (`s3/AWSLogs/<account>/WAFLogs/<region>/<web-acl>/YYYY/MM/DD/HH/mm/`,
//!   gzip NDJSON, one object per five minutes).
//!
//! WAF records go to `waf/` (`ndjson`) or a subscription from the
//! `aws-waf-logs-acme-api` group (`cloudwatch`).

use base64::Engine;
use chrono::DateTime;
use flate2::write::GzEncoder;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::GenerateError;
use crate::identity::ACCOUNT;
use crate::scenarios::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    #[default]
    Ndjson,
    Cloudwatch,
    S3,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ndjson" => Ok(OutputFormat::Ndjson),
            "cloudwatch" => Ok(OutputFormat::Cloudwatch),
            "s3" => Ok(OutputFormat::S3),
            other => Err(format!("{other:?}: expected ndjson, cloudwatch or s3")),
        }
    }
}

const CLOUDTRAIL_GROUP: &str = "aws-cloudtrail-logs-111122223333";
const API_GROUP: &str = "/aws/apigateway/access-logs/acme";
const WAF_GROUP: &str = "aws-waf-logs-acme-api";
const OBJECT_MS: i64 = 5 * 60_000;

/// Files and bytes written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Written {
    pub files: u64,
    pub bytes: u64,
}

pub struct Output {
    root: PathBuf,
    format: OutputFormat,
    minute: Vec<Event>,
    /// CloudTrail records of the current five-minute object (`s3`).
    trail: Vec<String>,
    trail_start: Option<i64>,
    /// Open hour files by path.
    files: BTreeMap<PathBuf, BufWriter<File>>,
    hour: Option<i64>,
    seq: u64,
    pub written: Written,
}

fn stamp(ms: i64, pattern: &str) -> String {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format(pattern)
        .to_string()
}

impl Output {
    pub fn new(root: &Path, format: OutputFormat) -> Output {
        Output {
            root: root.to_path_buf(),
            format,
            minute: Vec::new(),
            trail: Vec::new(),
            trail_start: None,
            files: BTreeMap::new(),
            hour: None,
            seq: 0,
            written: Written::default(),
        }
    }

    pub fn push(&mut self, event: Event) {
        self.minute.push(event);
    }

    /// Writes the minute starting at `minute_ms`.
    pub fn end_minute(&mut self, minute_ms: i64) -> Result<(), GenerateError> {
        let hour = minute_ms - minute_ms.rem_euclid(3_600_000);
        if self.hour != Some(hour) {
            self.close_files()?;
            self.hour = Some(hour);
        }
        let mut events = std::mem::take(&mut self.minute);
        events.sort_by_key(Event::ms);
        let mut groups: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        let mut waf_lines = String::new();
        for event in events {
            match (self.format, event) {
                (OutputFormat::Ndjson, Event::Waf { line, .. }) => {
                    self.line(&format!("waf/{}.ndjson", stamp(hour, "%Y-%m-%d-%H")), &line)?
                }
                (OutputFormat::S3, Event::Waf { line, .. }) => {
                    waf_lines.push_str(&line);
                    waf_lines.push('\n');
                }
                (_, Event::Waf { ms, line }) => {
                    groups.entry(WAF_GROUP.into()).or_default().push((ms, line))
                }
                (OutputFormat::Ndjson, Event::CloudTrail { record, .. }) => self.line(
                    &format!("cloudtrail/{}.ndjson", stamp(hour, "%Y-%m-%d-%H")),
                    &record,
                )?,
                (OutputFormat::Ndjson, Event::ApiGateway { line, .. }) => self.line(
                    &format!("apigateway/{}.ndjson", stamp(hour, "%Y-%m-%d-%H")),
                    &line,
                )?,
                (OutputFormat::S3, Event::CloudTrail { ms, record }) => {
                    let block = ms - ms.rem_euclid(OBJECT_MS);
                    if self.trail_start.is_some_and(|s| s != block) {
                        self.write_trail_object()?;
                    }
                    self.trail_start = Some(block);
                    self.trail.push(record);
                }
                (_, Event::CloudTrail { ms, record }) => groups
                    .entry(CLOUDTRAIL_GROUP.into())
                    .or_default()
                    .push((ms, record)),
                (_, Event::ApiGateway { ms, line }) => {
                    groups.entry(API_GROUP.into()).or_default().push((ms, line))
                }
                (_, Event::Lambda { function, ms, line }) => groups
                    .entry(format!("/aws/lambda/{function}"))
                    .or_default()
                    .push((ms, line)),
            }
        }
        if !waf_lines.is_empty() {
            // A gzip member per minute, appended to the five minutes' object.
            let block = minute_ms - minute_ms.rem_euclid(OBJECT_MS);
            let path = format!(
                "s3/AWSLogs/{ACCOUNT}/WAFLogs/us-east-1/acme-api/{}/{ACCOUNT}_waflogs_us-east-1_acme-api_{}_5c2b8e7f.log.gz",
                stamp(block, "%Y/%m/%d/%H/%M"),
                stamp(block, "%Y%m%dT%H%MZ"),
            );
            self.bytes(&path, &gzip(waf_lines.as_bytes()))?;
        }
        for (group, events) in groups {
            let message = self.data_message(&group, minute_ms, &events);
            match self.format {
                OutputFormat::Ndjson => self.line(
                    &format!("lambda/{}.ndjson", stamp(hour, "%Y-%m-%d-%H")),
                    &message,
                )?,
                OutputFormat::Cloudwatch => {
                    let data =
                        base64::engine::general_purpose::STANDARD.encode(gzip(message.as_bytes()));
                    let event = json!({"awslogs": {"data": data}}).to_string();
                    self.line(
                        &format!("cloudwatch/{}.ndjson", stamp(hour, "%Y-%m-%d-%H")),
                        &event,
                    )?
                }
                OutputFormat::S3 => {
                    let member = gzip(message.as_bytes());
                    let path = format!(
                        "s3/firehose/{}/vigil-logs-{}.gz",
                        stamp(hour, "%Y/%m/%d/%H"),
                        stamp(hour, "%Y-%m-%d-%H")
                    );
                    self.bytes(&path, &member)?
                }
            }
        }
        Ok(())
    }

    fn data_message(&mut self, group: &str, minute_ms: i64, events: &[(i64, String)]) -> String {
        self.seq += 1;
        let stream = if group.starts_with("/aws/lambda/") {
            format!(
                "{}/[$LATEST]{:032x}",
                stamp(minute_ms, "%Y/%m/%d"),
                self.seq % 7
            )
        } else if group == WAF_GROUP {
            "us-east-1_acme-api_0".to_string()
        } else {
            "prod".to_string()
        };
        json!({
            "messageType": "DATA_MESSAGE",
            "owner": ACCOUNT,
            "logGroup": group,
            "logStream": stream,
            "subscriptionFilters": ["vigil"],
            "logEvents": events.iter().enumerate().map(|(i, (ms, message))| json!({
                "id": format!("{:020}{:016}{:020}", ms, self.seq, i),
                "timestamp": ms,
                "message": message,
            })).collect::<Vec<_>>(),
        })
        .to_string()
    }

    fn write_trail_object(&mut self) -> Result<(), GenerateError> {
        let Some(start) = self.trail_start.take() else {
            return Ok(());
        };
        let records: Vec<serde_json::Value> = std::mem::take(&mut self.trail)
            .into_iter()
            .map(|r| serde_json::from_str(&r).unwrap_or(serde_json::Value::Null))
            .collect();
        let body = json!({ "Records": records }).to_string();
        self.seq += 1;
        let path = format!(
            "s3/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{}/{ACCOUNT}_CloudTrail_us-east-1_{}_{:016x}.json.gz",
            stamp(start, "%Y/%m/%d"),
            stamp(start + OBJECT_MS, "%Y%m%dT%H%MZ"),
            self.seq
        );
        let bytes = gzip(body.as_bytes());
        self.bytes(&path, &bytes)?;
        self.close(Path::new(&path))
    }

    fn line(&mut self, rel: &str, line: &str) -> Result<(), GenerateError> {
        let writer = self.file(rel)?;
        let result = writer
            .write_all(line.as_bytes())
            .and_then(|_| writer.write_all(b"\n"));
        result.map_err(|source| GenerateError::Write {
            path: rel.into(),
            source,
        })?;
        self.written.bytes += line.len() as u64 + 1;
        Ok(())
    }

    fn bytes(&mut self, rel: &str, bytes: &[u8]) -> Result<(), GenerateError> {
        self.file(rel)?
            .write_all(bytes)
            .map_err(|source| GenerateError::Write {
                path: rel.into(),
                source,
            })?;
        self.written.bytes += bytes.len() as u64;
        Ok(())
    }

    fn file(&mut self, rel: &str) -> Result<&mut BufWriter<File>, GenerateError> {
        let path = self.root.join(rel);
        if !self.files.contains_key(&path) {
            let err = |source| GenerateError::Write {
                path: path.display().to_string(),
                source,
            };
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(err)?;
            }
            let file = File::options()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(err)?;
            self.written.files += 1;
            self.files
                .insert(path.clone(), BufWriter::with_capacity(256 << 10, file));
        }
        Ok(self.files.get_mut(&path).expect("inserted above"))
    }

    fn close(&mut self, rel: &Path) -> Result<(), GenerateError> {
        let path = self.root.join(rel);
        if let Some(mut w) = self.files.remove(&path) {
            w.flush().map_err(|source| GenerateError::Write {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    fn close_files(&mut self) -> Result<(), GenerateError> {
        for (path, mut w) in std::mem::take(&mut self.files) {
            w.flush().map_err(|source| GenerateError::Write {
                path: path.display().to_string(),
                source,
            })?;
        }
        Ok(())
    }

    /// Writes what is buffered and closes every file.
    pub fn finish(mut self) -> Result<Written, GenerateError> {
        self.write_trail_object()?;
        self.close_files()?;
        Ok(self.written)
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(bytes);
    gz.finish().unwrap_or_default()
}
