//! `vigil compact`: merges each hour's small lake files into bigger ones.

use anyhow::{bail, Context, Result};
use clap::Args;
use vigil_ingest::compact::{compact, CompactOptions};
use vigil_ingest::Table;

use crate::commands::query::time_arg;
use crate::output;

#[derive(Args, Debug)]
pub struct CompactArgs {
    /// Only these tables (default: all).
    #[arg(long = "table", value_parser = parse_table)]
    pub tables: Vec<Table>,
    /// Only hours starting at or after this time (RFC 3339, or a duration ago such as 7d).
    #[arg(long)]
    pub from: Option<String>,
    /// Only hours that ended at least this long ago: the current hour is still being written.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub settled: std::time::Duration,
    /// Report what would be merged; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_table(name: &str) -> Result<Table, String> {
    Table::ALL
        .into_iter()
        .find(|t| t.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
            format!(
                "unknown table {name:?}: expected one of {}",
                names.join(", ")
            )
        })
}

pub fn run(lake_location: &str, args: &CompactArgs) -> Result<()> {
    let lake = crate::commands::open_lake(lake_location)?;
    let now = chrono::Utc::now().timestamp_millis();
    let options = CompactOptions {
        tables: if args.tables.is_empty() {
            Table::ALL.to_vec()
        } else {
            args.tables.clone()
        },
        ended_before_ms: now - args.settled.as_millis() as i64,
        from_ms: args.from.as_deref().map(|f| time_arg(f, now)).transpose()?,
        dry_run: args.dry_run,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime
        .block_on(compact(&lake, &options))
        .context("compacting the lake")?;
    output::print_compaction(&report, lake.location(), args.dry_run);
    if report.tables.values().any(|t| !t.skipped.is_empty()) {
        bail!("some hours were left as they are (see above)");
    }
    Ok(())
}
