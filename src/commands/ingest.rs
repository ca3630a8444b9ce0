//! `vigil ingest`: logs into the lake, with progress and a summary.

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigil_ingest::{Family, IngestOptions, IngestReport, Ingester, Limits};
use vigil_pipeline::{feed, PipelineInput, Progress, ProgressFn};

use crate::output;

#[derive(Args, Debug)]
pub struct IngestArgs {
    /// Files or folders to ingest; `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,

    /// Parse every record as this family instead of detecting it
    /// (cloudtrail, apigateway, lambda, waf).
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
    let lake = crate::commands::open_lake(lake_location)?;
    // Drives object downloads: none from the command line, but `feed` is
    // the pipeline's, which reads S3 objects too.
    let runtime = tokio::runtime::Runtime::new()?;
    let display = IngestDisplay::start(args);
    let mut ingester = Ingester::new(options(args), lake.writer()?);
    let failed = feed(
        &mut ingester,
        inputs(args),
        runtime.handle(),
        display.progress().as_ref(),
    );
    let report = ingester.finish().context("writing the lake")?;
    display.finish(&report, lake.location());
    crate::commands::pipeline::check_inputs(&failed)?;
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

/// The inputs the arguments name (`-` is standard input).
pub fn inputs(args: &IngestArgs) -> Vec<PipelineInput> {
    args.paths
        .iter()
        .map(|path| match path.as_os_str() == "-" {
            true => PipelineInput::Stdin,
            false => PipelineInput::Path(path.clone()),
        })
        .collect()
}

/// An ingest's progress spinner (on a terminal), and its summary at the end.
pub struct IngestDisplay {
    bar: Option<ProgressBar>,
    started: Instant,
}

impl IngestDisplay {
    pub fn start(args: &IngestArgs) -> IngestDisplay {
        let bar = (!args.no_progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        IngestDisplay {
            bar,
            started: Instant::now(),
        }
    }

    /// What moves the spinner, if there is one.
    pub fn progress(&self) -> Option<ProgressFn> {
        let bar = self.bar.clone()?;
        let started = self.started;
        Some(Arc::new(move |p: Progress| {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            let mb = p.bytes as f64 / 1e6;
            bar.set_message(format!(
                "input {}/{}, {} records, {mb:.1} MB, {:.1} MB/s",
                p.input + 1,
                p.inputs,
                p.records,
                mb / secs
            ));
        }))
    }

    /// Clears the spinner and prints the summary.
    pub fn finish(&self, report: &IngestReport, lake_location: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        output::print_ingest_summary(report, lake_location, self.started.elapsed());
    }
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
