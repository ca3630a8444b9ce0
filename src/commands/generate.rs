//! `vigil generate` and `vigil score`: synthetic logs with labelled
//! scenarios, and how well the lake's findings match the labels.

use anyhow::{Context, Result};
use clap::Args;
use comfy_table::Table;
use std::path::PathBuf;
use std::time::Instant;
use vigil_generate::{GenerateOptions, OutputFormat};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// Everyday events to generate (all families), besides the scenarios.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Days of traffic.
    #[arg(long, default_value_t = 1)]
    pub days: u32,
    /// A timeline of this many hours instead of --days (at least 7 with scenarios).
    #[arg(long)]
    pub hours: Option<u32>,
    /// Where to write the logs and labels.jsonl.
    #[arg(long)]
    pub out: PathBuf,
    /// The same seed gives the same bytes.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// ndjson (plain records), cloudwatch (subscription events) or s3
    /// (CloudTrail objects and Firehose files).
    #[arg(long, default_value = "ndjson")]
    pub format: OutputFormat,
    /// The first day (RFC 3339; default 2026-11-01).
    #[arg(long)]
    pub start: Option<String>,
    /// Only everyday traffic, no attack scenarios.
    #[arg(long)]
    pub no_scenarios: bool,
}

pub fn run_generate(args: &GenerateArgs) -> Result<()> {
    let mut options = GenerateOptions {
        events: args.events,
        days: args.days,
        hours: args.hours,
        seed: args.seed,
        format: args.format,
        out: args.out.clone(),
        scenarios: !args.no_scenarios,
        ..GenerateOptions::default()
    };
    if let Some(start) = &args.start {
        options.start_ms = chrono::DateTime::parse_from_rfc3339(start)
            .with_context(|| format!("--start {start:?}: expected RFC 3339"))?
            .timestamp_millis();
    }
    let started = Instant::now();
    let report = vigil_generate::generate(&options)?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} events ({} CloudTrail, {} API Gateway, {} Lambda lines, {} WAF) and {} scenarios in {:.1} s: {} files, {:.1} MB under {}; labels in {}",
        report.events(),
        report.cloudtrail,
        report.apigateway,
        report.lambda_lines,
        report.waf,
        report.scenarios,
        secs,
        report.written.files,
        report.written.bytes as f64 / 1e6,
        args.out.display(),
        report.labels.display()
    );
    Ok(())
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// The labels `vigil generate` wrote.
    #[arg(long)]
    pub labels: PathBuf,
    /// Print the score as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run_score(lake: &str, args: &ScoreArgs) -> Result<()> {
    let lake = crate::commands::open_lake(lake)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let score = runtime.block_on(vigil_generate::score(&lake, &args.labels))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&score)?);
        return Ok(());
    }
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header([
        "rule",
        "scenarios expecting it",
        "found",
        "recall",
        "matching findings",
        "false positives",
    ]);
    for (rule, r) in &score.rules {
        let recall = if r.expected == 0 {
            "-".to_string()
        } else {
            format!("{:.2}", r.found as f64 / r.expected as f64)
        };
        table.add_row([
            rule.clone(),
            r.expected.to_string(),
            r.found.to_string(),
            recall,
            r.true_positives.to_string(),
            r.false_positives.to_string(),
        ]);
    }
    println!("{table}");
    println!(
        "recall {:.2} ({} of {} scenarios found), {} false positives among {} findings",
        score.recall(),
        score.scenarios_found,
        score.scenarios,
        score.false_positives,
        score.findings
    );
    for id in &score.missed {
        println!("missed: {id}");
    }
    for f in &score.unexplained {
        println!(
            "false positive: {} {} ({})",
            f.rule_id,
            f.finding_id,
            f.keys.join(", ")
        );
    }
    Ok(())
}
