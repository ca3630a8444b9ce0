//! The timeline: minute by minute over the days asked for, everyday traffic
//! on a daily curve plus the scenarios planted in it.

use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

use crate::background::{access_log, cloudtrail_record, invocation, request, usual};
use crate::error::GenerateError;
use crate::identity::{weighted, FUNCTIONS};
use crate::output::{Output, OutputFormat, Written};
use crate::scenarios::{plant, Event, Label, ScenarioKind};

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// Share of the events per family (Lambda events are log lines, about four per invocation).
const CLOUDTRAIL_SHARE: f64 = 0.3;
const API_SHARE: f64 = 0.5;
const LAMBDA_LINES_PER_INVOCATION: f64 = 4.0;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Everyday events to generate, all families together.
    pub events: u64,
    pub days: u32,
    /// A timeline shorter than a day (hours), instead of `days`.
    pub hours: Option<u32>,
    /// Start of the first day (Unix ms, aligned down to a day).
    pub start_ms: i64,
    pub seed: u64,
    pub format: OutputFormat,
    pub out: PathBuf,
    /// Plant every scenario kind once a day.
    pub scenarios: bool,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            events: 100_000,
            days: 1,
            hours: None,
            start_ms: 1_793_491_200_000, // 2026-11-01T00:00:00Z
            seed: 7,
            format: OutputFormat::Ndjson,
            out: PathBuf::from("generated"),
            scenarios: true,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GenerateReport {
    pub cloudtrail: u64,
    pub apigateway: u64,
    pub lambda_lines: u64,
    /// WAF records: one per request to the protected stage, and the blocked ones.
    pub waf: u64,
    pub scenarios: usize,
    pub written: Written,
    pub labels: PathBuf,
}

impl GenerateReport {
    pub fn events(&self) -> u64 {
        self.cloudtrail + self.apigateway + self.lambda_lines + self.waf
    }
}

/// Relative traffic at a time of day: low at night, peak mid-afternoon (UTC).
fn daily_curve(ms: i64) -> f64 {
    let hour = (ms.rem_euclid(DAY)) as f64 / 3_600_000.0;
    1.0 + 0.6 * (std::f64::consts::TAU * (hour - 8.0) / 24.0).sin()
}

/// Where each scenario goes: one of each kind per day (or per timeline, if
/// shorter), each in its own slot after the first hour (so spike rules have
/// a baseline), aligned to five minutes.
fn schedule(rng: &mut fastrand::Rng, start: i64, minutes: i64) -> Vec<(ScenarioKind, i64)> {
    let mut planned = Vec::new();
    let mut day_start = start;
    while day_start < start + minutes * MINUTE {
        let day_end = (day_start + DAY).min(start + minutes * MINUTE);
        let mut kinds = ScenarioKind::ALL.to_vec();
        rng.shuffle(&mut kinds);
        let usable = day_end - day_start - 3_600_000 - 15 * MINUTE;
        let slot = usable / kinds.len() as i64;
        for (i, kind) in kinds.into_iter().enumerate() {
            let from = day_start + 3_600_000 + i as i64 * slot;
            let at = from + rng.i64(0..(slot - 10 * MINUTE).max(1));
            planned.push((kind, at - at.rem_euclid(5 * MINUTE)));
        }
        day_start += DAY;
    }
    planned
}

/// The web ACL's record of an API request it let through, if it covers the
/// request's stage.
fn judge(out: &mut Output, report: &mut GenerateReport, access_log: &str) {
    if let Some((ms, line)) = crate::firewall::record_of_access_log(access_log) {
        out.push(Event::Waf { ms, line });
        report.waf += 1;
    }
}

/// Generates the logs and `labels.jsonl` under `options.out`.
pub fn generate(options: &GenerateOptions) -> Result<GenerateReport, GenerateError> {
    let minutes = match options.hours {
        Some(h) => h as i64 * 60,
        None => options.days as i64 * 1440,
    };
    // An hour of baseline first, then a slot of at least 12 minutes per
    // scenario (each lasts at most 6), and room at the end for late windows.
    let scenario_room = 3 * 60 + ScenarioKind::ALL.len() as i64 * 12;
    if options.scenarios && minutes < scenario_room {
        return Err(GenerateError::Options(format!(
            "the timeline must be at least {} hours to hold the scenarios",
            (scenario_room + 59) / 60
        )));
    }
    if minutes == 0 {
        return Err(GenerateError::Options("the timeline is empty".into()));
    }
    std::fs::create_dir_all(&options.out).map_err(|source| GenerateError::Write {
        path: options.out.display().to_string(),
        source,
    })?;
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let start = options.start_ms - options.start_ms.rem_euclid(DAY);
    let total_weight: f64 = (0..minutes).map(|m| daily_curve(start + m * MINUTE)).sum();

    let n = options.events as f64;
    let per_weight = [
        n * CLOUDTRAIL_SHARE / total_weight,
        n * API_SHARE / total_weight,
        n * (1.0 - CLOUDTRAIL_SHARE - API_SHARE) / LAMBDA_LINES_PER_INVOCATION / total_weight,
    ];

    let mut planted: Vec<Event> = Vec::new();
    let mut labels: Vec<Label> = Vec::new();
    if options.scenarios {
        for (n, (kind, at)) in schedule(&mut rng, start, minutes).into_iter().enumerate() {
            // Floods and outages are sized against the traffic they land in.
            let api_requests_per_minute = per_weight[1] * daily_curve(at);
            let (events, label) = plant(&mut rng, n, kind, at, api_requests_per_minute);
            planted.extend(events);
            labels.push(label);
        }
    }
    planted.sort_by_key(Event::ms);
    labels.sort_by_key(|l| l.start_ms);
    let mut planted = planted.into_iter().peekable();
    let mut carry = [0.0f64; 3];
    let mut out = Output::new(&options.out, options.format);
    let mut report = GenerateReport::default();
    for m in 0..minutes {
        let minute = start + m * MINUTE;
        let w = daily_curve(minute);
        let mut counts = [0u64; 3];
        for f in 0..3 {
            carry[f] += per_weight[f] * w;
            counts[f] = carry[f].floor() as u64;
            carry[f] -= counts[f] as f64;
        }
        for _ in 0..counts[0] {
            let ms = minute + rng.i64(0..MINUTE);
            out.push(Event::CloudTrail {
                ms,
                record: cloudtrail_record(&mut rng, ms),
            });
            report.cloudtrail += 1;
        }
        for _ in 0..counts[1] {
            let ms = minute + rng.i64(0..MINUTE);
            let r = request(&mut rng);
            let line = access_log(&mut rng, ms, &r);
            judge(&mut out, &mut report, &line);
            out.push(Event::ApiGateway { ms, line });
            report.apigateway += 1;
        }
        for _ in 0..counts[2] {
            let f = &FUNCTIONS[weighted(&mut rng, &FUNCTIONS, |f| f.weight)];
            let ms = minute + rng.i64(0..MINUTE);
            let ending = usual(&mut rng, f);
            let cold = rng.u32(0..100) == 0;
            for (ms, line) in invocation(&mut rng, f, ms, ending, cold) {
                out.push(Event::Lambda {
                    function: f.name,
                    ms,
                    line,
                });
                report.lambda_lines += 1;
            }
        }
        while let Some(e) = planted.next_if(|e| e.ms() < minute + MINUTE) {
            match &e {
                Event::CloudTrail { .. } => report.cloudtrail += 1,
                Event::ApiGateway { line, .. } => {
                    judge(&mut out, &mut report, line);
                    report.apigateway += 1
                }
                Event::Lambda { .. } => report.lambda_lines += 1,
                Event::Waf { .. } => report.waf += 1,
            }
            out.push(e);
        }
        out.end_minute(minute)?;
    }
    report.written = out.finish()?;
    report.scenarios = labels.len();
    report.labels = options.out.join("labels.jsonl");
    let err = |source| GenerateError::Write {
        path: report.labels.display().to_string(),
        source,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(&report.labels).map_err(err)?);
    for label in &labels {
        let line =
            serde_json::to_string(label).map_err(|e| GenerateError::Options(e.to_string()))?;
        writeln!(file, "{line}").map_err(err)?;
    }
    file.flush().map_err(err)?;
    Ok(report)
}
