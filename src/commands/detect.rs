//! `vigil detect`: run the rules over the lake, for a time range or the windows due now.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use vigil_detect::engine::ModeFilter;
use vigil_detect::RuleSources;
use vigil_pipeline::RunReport;
use vigil_queries::TimeRange;

use crate::commands::rules::load_rules;
use crate::commands::{open_lake, pipeline};
use crate::output;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Streaming,
    Scheduled,
    All,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum FormatArg {
    /// A table for people.
    #[default]
    Table,
    /// One finding per line as JSON.
    Json,
}

#[derive(Args, Debug)]
pub struct DetectArgs {
    /// Run over the last DURATION (e.g. 24h, 90m).
    #[arg(long, conflicts_with_all = ["from", "to", "due"])]
    pub since: Option<String>,
    /// Start of the range (RFC 3339, e.g. 2026-11-24T08:00:00Z).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// End of the range, exclusive (RFC 3339).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Run each scheduled rule over the windows due since its checkpoint
    /// (what a scheduler calls every few minutes).
    #[arg(long)]
    pub due: bool,
    /// Only these rules (repeatable).
    // Its own id: the field's name would be the global `--rules DIR`'s.
    #[arg(long = "rule", id = "rule", value_name = "ID")]
    pub rules: Vec<String>,
    /// Which rules to run.
    #[arg(long, value_enum, default_value = "all")]
    pub mode: ModeArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: FormatArg,
    /// Take this instant as now (RFC 3339): for --since and --due, to replay
    /// or benchmark a scheduled run.
    #[arg(long)]
    pub now: Option<String>,
    /// Print the time spent reading the lake and in each rule.
    #[arg(long)]
    pub timings: bool,
    /// Detect but send no alerts.
    #[arg(long)]
    pub no_alerts: bool,
}

fn parse_time(s: &str) -> Result<i64> {
    Ok(DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("{s:?} is not an RFC 3339 time (e.g. 2026-11-24T08:00:00Z)"))?
        .timestamp_millis())
}

/// The range the arguments ask for (default: the last 24 hours).
fn range(args: &DetectArgs, now_ms: i64) -> Result<TimeRange> {
    if let (Some(from), Some(to)) = (&args.from, &args.to) {
        let r = TimeRange::new(parse_time(from)?, parse_time(to)?);
        if r.is_empty() {
            bail!("--from must be before --to");
        }
        return Ok(r);
    }
    let since = args.since.as_deref().unwrap_or("24h");
    let d = humantime::parse_duration(since)
        .with_context(|| format!("--since {since:?}: expected a duration such as 24h or 90m"))?;
    Ok(TimeRange::new(now_ms - d.as_millis() as i64, now_ms))
}

pub fn run(
    lake_location: &str,
    rule_sources: &RuleSources,
    config_path: Option<&std::path::Path>,
    args: &DetectArgs,
) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let mut rules = load_rules(rule_sources)?;
    rules.select(&args.rules)?;
    let (format, timings) = (args.format, args.timings);
    let print_settled = move |report: &RunReport| {
        output::print_findings(&report.findings, &report.detect, format);
        if timings {
            output::print_timings(&report.detect);
        }
    };
    let pipeline = pipeline::open(
        &runtime,
        open_lake(lake_location)?,
        rules,
        pipeline::OpenOptions {
            on_settled: Some(Box::new(print_settled)),
            ..pipeline::OpenOptions::new(config_path, !args.no_alerts)
        },
    )?;
    let now = match &args.now {
        Some(t) => parse_time(t)?,
        None => Utc::now().timestamp_millis(),
    };
    let range = range(args, now)?;
    let modes = match args.mode {
        ModeArg::Streaming => ModeFilter::Streaming,
        ModeArg::Scheduled => ModeFilter::Scheduled,
        ModeArg::All => ModeFilter::All,
    };
    let report = runtime.block_on(async {
        match args.due {
            true => pipeline.detect_due(now).await,
            false => pipeline.detect_range(range, modes, now).await,
        }
    })?;
    pipeline::finish(&pipeline, report)
}
