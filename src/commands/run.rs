//! `vigil run`: the main job. Ingest into the lake with the streaming rules on
//! every batch, then the scheduled rules over the time span ingested, then report.

use anyhow::{Context, Result};
use chrono::Utc;
use clap::Args;
use vigil_detect::engine::{ModeFilter, Source};
use vigil_detect::RuleSources;
use vigil_detect::{streaming_pass, DetectReport, Detector};
use vigil_ingest::{Ingester, Lake};

use crate::commands::alerts;
use crate::commands::detect::FormatArg;
use crate::commands::ingest::{self, IngestArgs};
use crate::commands::rules::load_rules;
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
}

pub fn run(
    lake_location: &str,
    rule_sources: &RuleSources,
    config_path: Option<&std::path::Path>,
    args: &RunArgs,
) -> Result<()> {
    let lake = Lake::open(lake_location)
        .with_context(|| format!("opening the lake at {lake_location}"))?;
    let alerting = crate::commands::alerts::alerting(config_path, lake_location)?;
    let rules = load_rules(rule_sources)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(rules.check_plans())?;
    let detector = Detector::for_lake(rules, lake.clone()).with_outbox(!args.no_alerts);
    // Findings an earlier run settled but did not get to alert.
    let backlog = if args.no_alerts {
        Vec::new()
    } else {
        runtime.block_on(detector.undelivered(None))?
    };
    let (sink, pass) = streaming_pass(lake.writer()?, detector.clone(), runtime.handle());
    let ingester = Ingester::new(ingest::options(&args.ingest), sink);
    let ingested = ingest::ingest(ingester, &args.ingest, lake.location());
    // A rule that failed stopped the ingest too: its own error says more.
    let streamed = runtime.block_on(pass.results())?;
    let ingest_report = ingested?;
    let (mut candidates, mut report, span) = (streamed.candidates, streamed.report, streamed.span);
    let now = Utc::now().timestamp_millis();
    let findings = runtime.block_on(async {
        if let Some(span) = span {
            let mut scheduled = DetectReport::default();
            candidates.extend(
                detector
                    .over_range(span, Source::Lake, ModeFilter::Scheduled, &mut scheduled)
                    .await?,
            );
            Detector::merge_report(&mut report, scheduled);
        }
        detector.settle(candidates, now, &mut report).await
    })?;
    println!();
    output::print_findings(&findings, &report, args.output);
    let delivered = if args.no_alerts {
        None
    } else {
        Some(alerts::deliver(
            &runtime, &alerting, &detector, backlog, &findings,
        )?)
    };
    ingest::check(&ingest_report)?;
    if let Some(d) = delivered.filter(|d| d.dead_lettered() > 0) {
        anyhow::bail!(
            "{} alert deliveries failed (kept in {})",
            d.dead_lettered(),
            crate::commands::alerts::dead_letter_location(&alerting)
        );
    }
    Ok(())
}
