//! `vigil export ocsf`: the lake's events as OCSF 1.1.0, for Amazon Security
//! Lake (Parquet, one custom source per class) or any OCSF consumer (NDJSON).

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use vigil_queries::ocsf::export::{export, ExportReport, ExportTarget};
use vigil_queries::TimeRange;

use crate::commands::query::time_arg;

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// The lake's events as OCSF 1.1.0 (docs/OCSF.md): Parquet in Security
    /// Lake's custom-source layout, or NDJSON.
    Ocsf(OcsfArgs),
}

#[derive(Args, Debug)]
pub struct OcsfArgs {
    /// Only events at or after this time (RFC 3339, or a duration ago such as 7d).
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this time (RFC 3339, or a duration ago).
    #[arg(long)]
    pub to: Option<String>,
    /// parquet: a folder or s3://bucket[/prefix] that gets
    /// `ext/<source>/region=…/accountId=…/eventDay=…/`; ndjson: a file, or - for standard output.
    #[arg(long)]
    pub out: String,
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: OcsfFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcsfFormat {
    Parquet,
    Ndjson,
}

pub fn run(lake_location: &str, command: &ExportCommand) -> Result<()> {
    let ExportCommand::Ocsf(args) = command;
    let lake = crate::commands::open_lake(lake_location)?;
    let now = chrono::Utc::now().timestamp_millis();
    let from = args.from.as_deref().map(|f| time_arg(f, now)).transpose()?;
    let to = args.to.as_deref().map(|t| time_arg(t, now)).transpose()?;
    let range = (from.is_some() || to.is_some()).then(|| {
        TimeRange::new(
            from.unwrap_or(TimeRange::ALL.from_ms),
            to.unwrap_or(TimeRange::ALL.to_ms),
        )
    });
    if range.is_some_and(|r| r.is_empty()) {
        bail!("--from is not before --to");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let report = match args.format {
        OcsfFormat::Parquet => {
            if args.out == "-" {
                bail!("Parquet goes to a folder or s3:// prefix; use --format ndjson for standard output");
            }
            runtime.block_on(export(&lake, range, ExportTarget::SecurityLake { root: &args.out }))
        }
        OcsfFormat::Ndjson if args.out == "-" => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let report = runtime.block_on(export(&lake, range, ExportTarget::Ndjson(&mut out)));
            std::io::Write::flush(&mut out)?;
            report
        }
        OcsfFormat::Ndjson => {
            let file = std::fs::File::create(&args.out)
                .with_context(|| format!("creating {}", args.out))?;
            let mut out = std::io::BufWriter::new(file);
            let report = runtime.block_on(export(&lake, range, ExportTarget::Ndjson(&mut out)));
            std::io::Write::flush(&mut out)?;
            report
        }
    }
    .context("exporting the lake as OCSF")?;
    print_report(&report, &args.out);
    Ok(())
}

/// The counts by source, on standard error (standard output may be the events).
fn print_report(report: &ExportReport, out: &str) {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header(["source", "class", "records", "exported", "not mappable"]);
    for mapping in vigil_queries::ocsf::MAPPINGS {
        let counts = report.sources[mapping.source];
        table.add_row([
            mapping.source.to_string(),
            format!("{} ({})", mapping.class.name(), mapping.class.uid()),
            counts.records.to_string(),
            counts.exported.to_string(),
            counts.not_mappable().to_string(),
        ]);
    }
    eprintln!("{table}");
    eprintln!(
        "{} OCSF events from {} hours to {out}; {} records not mappable (lacking a value their class requires, see docs/OCSF.md)",
        report.exported(),
        report.hours,
        report.not_mappable()
    );
}
