//! `vigil run`: the main job. Ingest into the lake with the streaming rules on
//! every batch, then the scheduled rules over the time span ingested, then
//! settle, alert and report.

use anyhow::Result;
use chrono::Utc;
use clap::Args;
use std::sync::Arc;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_detect::RuleSources;
use vigil_pipeline::{IngestRun, RunReport};

use crate::commands::detect::FormatArg;
use crate::commands::ingest::{self, IngestArgs, IngestDisplay};
use crate::commands::rules::load_rules;
use crate::commands::{open_lake, pipeline};
use crate::output;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub ingest: IngestArgs,
    /// How findings are printed.
    #[arg(long = "output", value_enum, default_value = "table")]
    pub output: FormatArg,
    /// Detect but send no alerts.
    #[arg(long)]
    pub no_alerts: bool,
    /// Also append each new finding to this file as an OCSF 1.1.0 Detection
    /// Finding, one JSON a line (as a `file` destination with `format = "ocsf"`).
    #[arg(long, value_name = "FILE")]
    pub ocsf_findings: Option<std::path::PathBuf>,
}

pub fn run(
    lake_location: &str,
    rule_sources: &RuleSources,
    config_path: Option<&std::path::Path>,
    args: &RunArgs,
) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let rules = load_rules(rule_sources)?;
    // The summary names the lake as opening it resolves it (an absolute path).
    let lake = open_lake(lake_location)?;
    let shown = lake.location().to_string();
    let display = Arc::new(IngestDisplay::start(&args.ingest));
    let progress = display.progress();
    let format = args.output;
    let print_settled = move |report: &RunReport| {
        display.finish(&report.ingest, &shown);
        println!();
        output::print_findings(&report.findings, &report.detect, format);
    };
    let mut options = pipeline::OpenOptions::new(config_path, !args.no_alerts);
    options.on_settled = Some(Box::new(print_settled));
    if let Some(path) = &args.ocsf_findings {
        let mut file = DestinationConfig::new("ocsf-findings", DestinationKind::File);
        file.path = Some(path.clone());
        file.format = Some("ocsf".into());
        options.extra_destinations.push(file);
    }
    let pipeline = pipeline::open(&runtime, lake, rules, options)?;
    let run = IngestRun {
        options: ingest::options(&args.ingest),
        scheduled_over_span: true,
        progress,
        ..IngestRun::default()
    };
    let now = Utc::now().timestamp_millis();
    let report = runtime.block_on(pipeline.ingest(ingest::inputs(&args.ingest), run, now))?;
    pipeline::finish(&pipeline, report)
}
