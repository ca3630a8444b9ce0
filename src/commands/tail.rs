//! `vigil tail`: a log group through the pipeline, without Lambda.

use anyhow::Result;
use clap::Args;
use std::path::Path;
use std::time::Duration;
use tokio::sync::watch;
use vigil_aws::tail::{self, TailOptions};
use vigil_detect::RuleSources;

use crate::commands::query::time_arg;
use crate::commands::rules::load_rules;
use crate::commands::{open_lake, pipeline};

#[derive(Args, Debug)]
pub struct TailArgs {
    /// The log group to read.
    #[arg(long)]
    pub log_group: String,
    /// Keep polling for new events (Ctrl-C stops after the batch in hand and prints the totals; the cursor is saved after each batch).
    #[arg(long)]
    pub follow: bool,
    /// With no saved cursor, start here (RFC 3339, or a duration ago such as 1h).
    #[arg(long, default_value = "15m")]
    pub since: String,
    /// Only events matching this CloudWatch Logs filter pattern.
    #[arg(long)]
    pub filter_pattern: Option<String>,
    /// Time between polls with --follow.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub poll: Duration,
    /// Look again this far before the newest event taken, for events that reach the log group late (out of time order across streams).
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub late: Duration,
    /// An endpoint override for CloudWatch Logs (e.g. a local emulator).
    #[arg(long, env = "VIGIL_AWS_ENDPOINT")]
    pub endpoint_url: Option<String>,
}

pub fn run(
    lake: &str,
    rule_sources: &RuleSources,
    config_path: Option<&Path>,
    args: &TailArgs,
) -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let runtime = tokio::runtime::Runtime::new()?;
    let rules = load_rules(rule_sources)?;
    let pipeline = pipeline::open(
        &runtime,
        open_lake(lake)?,
        rules,
        pipeline::OpenOptions::new(config_path, true),
    )?;
    let options = TailOptions {
        log_group: args.log_group.clone(),
        filter_pattern: args.filter_pattern.clone(),
        start_ms: Some(time_arg(&args.since, now)?),
        follow: args.follow,
        poll_interval: args.poll,
        late: args.late,
    };
    let report = runtime.block_on(async {
        let client = vigil_aws::clients::logs_client(args.endpoint_url.as_deref()).await;
        tail::tail(&client, &pipeline, &options, stop_on_ctrl_c(), |r| {
            eprintln!(
                "{} events in {} batches: {} parsed, {} dead-lettered, {} findings, {} alerts",
                r.events, r.batches, r.parsed, r.dead_lettered, r.findings, r.alerts
            )
        })
        .await
    })?;
    println!(
        "{}: {} new events ({} parsed, {} dead-lettered), {} findings, {} alerts",
        args.log_group,
        report.events,
        report.parsed,
        report.dead_lettered,
        report.findings,
        report.alerts
    );
    Ok(())
}

/// Turns true on the first Ctrl-C, so that tail ends after the batch in hand
/// (its cursor saved, its totals printed); a second Ctrl-C quits at once.
fn stop_on_ctrl_c() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping after the batch in hand (Ctrl-C again to quit at once)");
            let _ = stop.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    stopped
}
