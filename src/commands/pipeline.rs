//! The pipeline `run`, `detect`, `tail` and `backfill` share, opened from the
//! command line's lake, rules and `vigil.toml`, and the end of their runs.

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::time::Duration;
use vigil_alerting::DestinationConfig;
use vigil_detect::RuleSet;
use vigil_ingest::Lake;
use vigil_pipeline::{FailedInput, Pipeline, PipelineConfig, RunReport, SettledHook};

use crate::commands::{alerts, ingest};
use crate::output;

/// How a command opens the pipeline, beyond its lake and rules.
pub struct OpenOptions<'a> {
    /// `vigil.toml` (`[alerting]` and the rest); the local defaults without one.
    pub config_path: Option<&'a Path>,
    /// Deliver the run's alerts (`--no-alerts` turns this off).
    pub send_alerts: bool,
    /// Prints what a run found before its alerts go out.
    pub on_settled: Option<SettledHook>,
    /// Destinations the command line adds to those of `vigil.toml` (or the
    /// local defaults), e.g. `vigil run --ocsf-findings`.
    pub extra_destinations: Vec<DestinationConfig>,
}

impl<'a> OpenOptions<'a> {
    pub fn new(config_path: Option<&'a Path>, send_alerts: bool) -> Self {
        OpenOptions {
            config_path,
            send_alerts,
            on_settled: None,
            extra_destinations: Vec::new(),
        }
    }
}

/// Opens the pipeline over `rules` (their plans checked against the lake's
/// tables first, for a clear error before any work). One command runs at a
/// time, so it delivers whatever earlier runs left in the outbox.
pub fn open(
    runtime: &tokio::runtime::Runtime,
    lake: Lake,
    rules: RuleSet,
    options: OpenOptions,
) -> Result<Pipeline> {
    let mut alerting = alerts::alerting(options.config_path, lake.location())?;
    alerting.destinations.extend(options.extra_destinations);
    runtime.block_on(rules.check_plans())?;
    Ok(Pipeline::new(PipelineConfig {
        lake,
        rules,
        alerting,
        send_alerts: options.send_alerts,
        outbox_grace: Duration::ZERO,
        on_settled: options.on_settled,
    }))
}

/// The end of a run (its findings printed by `on_settled`): prints its deliveries, then
/// fails if alerting could not be done, if an input could not be read, if
/// counts do not reconcile, or if deliveries failed (what could be done was
/// done first: the lake written, findings settled and alerted).
pub fn finish(pipeline: &Pipeline, report: RunReport) -> Result<()> {
    let dead_letter = alerts::dead_letter_location(pipeline.alerting());
    output::print_deliveries(&report.delivery, &dead_letter);
    let report = report
        .alerted()
        .context("alerting (the findings wait for the next run)")?;
    check_inputs(&report.failed_inputs)?;
    ingest::check(&report.ingest)?;
    if report.delivery.dead_lettered() > 0 {
        bail!(
            "{} alert deliveries failed (kept in {dead_letter})",
            report.delivery.dead_lettered()
        );
    }
    Ok(())
}

/// Fails if an input could not be read at all.
pub fn check_inputs(failed: &[FailedInput]) -> Result<()> {
    match failed {
        [] => Ok(()),
        [only] => bail!("{}", only.error),
        [first, rest @ ..] => bail!(
            "{} (and {} more input(s) could not be read)",
            first.error,
            rest.len()
        ),
    }
}
