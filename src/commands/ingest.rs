//! `vigil ingest`: logs into the lake, with progress and a summary.

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use vigil_ingest::{Family, IngestOptions, IngestReport, Ingester, Lake, Limits};

use crate::output;

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Files or folders to ingest; `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Parse every record as this family instead of detecting it
    /// (cloudtrail, apigateway, lambda).
    #[arg(long)]
    pub format: Option<Family>,

    /// The largest record kept; larger ones are dead-lettered.
    #[arg(long, default_value_t = Limits::default().max_record_bytes)]
    pub max_record_bytes: usize,

    /// Rows per Parquet batch.
    #[arg(long, default_value_t = IngestOptions::default().batch_rows)]
    pub batch_rows: usize,

    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

pub fn run(lake_location: &str, args: &IngestArgs) -> Result<()> {
    let lake = Lake::open(lake_location)
        .with_context(|| format!("opening the lake at {lake_location}"))?;
    let ingester = Ingester::new(options(args), lake.writer()?);
    let report = ingest(ingester, args, lake.location())?;
    check(&report)
}

/// The ingest options the arguments ask for.
pub fn options(args: &IngestArgs) -> IngestOptions {
    IngestOptions {
        limits: Limits {
            max_record_bytes: args.max_record_bytes,
            ..Limits::default()
        },
        format: args.format,
        batch_rows: args.batch_rows.max(1),
        ..IngestOptions::default()
    }
}

/// Feeds every input to `ingester` with a progress spinner, finishes it and
/// prints the summary.
pub fn ingest(
    mut ingester: Ingester,
    args: &IngestArgs,
    lake_location: &str,
) -> Result<IngestReport> {
    let started = Instant::now();
    let bar = (!args.no_progress && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let mut done_bytes = 0u64;
    for (i, path) in args.paths.iter().enumerate() {
        if let Some(bar) = &bar {
            let bar = bar.clone();
            let files = args.paths.len();
            let base = done_bytes;
            ingester.on_progress(Box::new(move |report, bytes| {
                let secs = started.elapsed().as_secs_f64().max(1e-3);
                let mb = (base + bytes) as f64 / 1e6;
                bar.set_message(format!(
                    "input {}/{files}, {} records, {mb:.1} MB, {:.1} MB/s",
                    i + 1,
                    report.records_read,
                    mb / secs
                ));
            }));
        }
        if path.as_os_str() == "-" {
            ingester.ingest_stdin()?;
        } else {
            ingester
                .ingest_path(path)
                .with_context(|| format!("ingesting {}", path.display()))?;
        }
        done_bytes = ingester.report().bytes_read;
    }
    let report = ingester.finish().context("writing the lake")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    output::print_ingest_summary(&report, lake_location, started.elapsed());
    Ok(report)
}

/// Fails when counts do not reconcile or an input ended early.
pub fn check(report: &IngestReport) -> Result<()> {
    if !report.reconciles() {
        bail!("record counts do not reconcile: this is a bug, please report it");
    }
    if !report.input_errors.is_empty() {
        bail!(
            "{} input(s) ended early (what was read is in the lake, the rest in the dead-letter table)",
            report.input_errors.len()
        );
    }
    Ok(())
}
