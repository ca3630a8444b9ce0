//! `vigil backfill`: CloudTrail objects already in S3 into the lake, resumable.

use anyhow::{bail, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use vigil_aws::backfill::{self, BackfillOptions};
use vigil_detect::RuleSources;
use vigil_queries::TimeRange;

use crate::commands::query::time_arg;
use crate::commands::rules::load_rules;
use crate::commands::{open_lake, pipeline};

#[derive(Args, Debug)]
pub struct BackfillArgs {
    /// Where the trail's objects are: s3://bucket/prefix.
    pub source: String,
    /// Start of the event time range (RFC 3339, or a duration ago such as 7d).
    #[arg(long)]
    pub from: String,
    /// End of the range, exclusive (default: now).
    #[arg(long)]
    pub to: Option<String>,
    /// Objects per batch (the resume point moves after each).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Record findings in the lake but send no alerts.
    #[arg(long)]
    pub no_alerts: bool,
}

pub fn run(
    lake: &str,
    rule_sources: &RuleSources,
    config_path: Option<&Path>,
    args: &BackfillArgs,
) -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let range = TimeRange::new(
        time_arg(&args.from, now)?,
        args.to.as_deref().map_or(Ok(now), |t| time_arg(t, now))?,
    );
    if range.is_empty() {
        bail!("--from must be before --to");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let rules = load_rules(rule_sources)?;
    let pipeline = pipeline::open(
        &runtime,
        open_lake(lake)?,
        rules,
        pipeline::OpenOptions::new(config_path, !args.no_alerts),
    )?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} objects {msg} ({elapsed})")
                .expect("valid template"),
        );
        bar
    });
    let options = BackfillOptions {
        source: args.source.clone(),
        range,
        objects_per_batch: args.batch,
    };
    let report = runtime.block_on(backfill::backfill(&pipeline, &options, |r| {
        if let Some(bar) = &bar {
            bar.set_length(r.objects_in_range);
            bar.set_position(r.objects_resumed + r.objects_done);
            bar.set_message(format!("{} records, {} findings", r.records, r.findings));
        }
    }))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!(
        "{}: {} objects in range ({} already done), {} ingested ({:.1} MB, {} records, {} dead-lettered); {} findings, {} alerts",
        args.source,
        report.objects_in_range,
        report.objects_resumed,
        report.objects_done,
        report.bytes as f64 / 1e6,
        report.records,
        report.dead_lettered,
        report.findings,
        report.alerts
    );
    Ok(())
}
