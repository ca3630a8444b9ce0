//! `vigil query` and `vigil hunt`: read-only SQL over the lake, one-off,
//! interactive, or from the saved hunts.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_queries::output::{write, Format};
use vigil_queries::{guard, hunts, TimeRange, HUNTING_TABLES};

use crate::output;

#[derive(Args, Debug, Clone)]
pub struct QueryOptions {
    /// Only events of the last DURATION (e.g. 24h): prunes partitions.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub since: Option<String>,
    /// Only events from this time (RFC 3339, or a duration ago such as 2h).
    #[arg(long)]
    pub from: Option<String>,
    /// Only events before this time (RFC 3339, or a duration ago).
    #[arg(long)]
    pub to: Option<String>,
    /// table, csv, json, ndjson or parquet (default: table on a terminal,
    /// else from --output's extension, else ndjson).
    #[arg(long)]
    pub format: Option<Format>,
    /// Write the results to this file instead of standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The SQL (one SELECT). Without it and without -f: an interactive prompt.
    pub sql: Option<String>,
    /// Read the SQL from this file.
    #[arg(short = 'f', long = "file", conflicts_with = "sql")]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub options: QueryOptions,
}

#[derive(Subcommand, Debug)]
pub enum HuntCommand {
    /// The saved hunts and their parameters.
    List,
    /// Run a saved hunt.
    Run {
        name: String,
        /// A parameter, `key=value` (repeatable).
        #[arg(long = "param", value_parser = parse_param)]
        params: Vec<(String, String)>,
        #[command(flatten)]
        options: QueryOptions,
    },
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?}: expected key=value"))
}

/// An RFC 3339 time, or a duration ago (`2h`).
pub fn time_arg(s: &str, now: i64) -> Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    let d = humantime::parse_duration(s)
        .with_context(|| format!("{s:?} is neither an RFC 3339 time nor a duration"))?;
    Ok(now - d.as_millis() as i64)
}

fn range(o: &QueryOptions) -> Result<Option<TimeRange>> {
    let now = chrono::Utc::now().timestamp_millis();
    if let Some(since) = &o.since {
        return Ok(Some(TimeRange::new(time_arg(since, now)?, now + 1)));
    }
    if o.from.is_none() && o.to.is_none() {
        return Ok(None);
    }
    let from = o
        .from
        .as_deref()
        .map(|f| time_arg(f, now))
        .transpose()?
        .unwrap_or(i64::MIN / 2);
    let to =
        o.to.as_deref()
            .map(|t| time_arg(t, now))
            .transpose()?
            .unwrap_or(now + 1);
    if to <= from {
        bail!("--from must be before --to");
    }
    Ok(Some(TimeRange::new(from, to)))
}

fn format_for(o: &QueryOptions) -> Format {
    if let Some(f) = o.format {
        return f;
    }
    if let Some(ext) = o
        .output
        .as_ref()
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
    {
        if let Ok(f) = ext.parse() {
            return f;
        }
    }
    if o.output.is_none() && std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Ndjson
    }
}

/// Runs one read-only query; a spinner shows once it has taken a second.
async fn execute(ctx: &SessionContext, sql: &str, limit: Option<usize>) -> Result<Results> {
    guard::check_query(sql, &HUNTING_TABLES)
        .map_err(|r| anyhow::anyhow!("line {}: {}", r.line, r.message))?;
    let started = std::time::Instant::now();
    vigil_queries::ocsf::register_views_for(ctx, sql).await?;
    let run = async {
        let mut df = ctx.sql_with_options(sql, guard::sql_options()).await?;
        if let Some(n) = limit {
            df = df.limit(0, Some(n))?;
        }
        let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
        df.collect().await.map(|batches| Results {
            schema,
            batches,
            took: started.elapsed(),
        })
    };
    tokio::pin!(run);
    let result = match tokio::time::timeout(Duration::from_secs(1), &mut run).await {
        Ok(r) => r,
        Err(_) => {
            let bar = std::io::stderr().is_terminal().then(|| {
                let bar = ProgressBar::new_spinner();
                bar.set_style(
                    ProgressStyle::with_template("{spinner} {elapsed} running the query")
                        .expect("valid template"),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                bar
            });
            let r = run.await;
            if let Some(bar) = bar {
                bar.finish_and_clear();
            }
            r
        }
    };
    result.map_err(|e| anyhow::anyhow!("{}", first_lines(&e.to_string())))
}

/// A query's rows and their schema.
struct Results {
    schema: datafusion::arrow::datatypes::SchemaRef,
    batches: Vec<RecordBatch>,
    /// Planning and execution time.
    took: Duration,
}

fn first_lines(s: &str) -> String {
    s.lines().take(3).collect::<Vec<_>>().join("\n")
}

async fn session(lake_location: &str, o: &QueryOptions) -> Result<SessionContext> {
    let lake = crate::commands::open_lake(lake_location)?;
    if vigil_queries::lake_is_empty(&lake).await? {
        bail!(
            "the lake at {} holds no data yet: run `vigil ingest PATH` (or `vigil run PATH`) first",
            lake.location()
        );
    }
    Ok(vigil_queries::hunting_session(&lake, range(o)?).await?)
}

fn emit(results: &Results, o: &QueryOptions) -> Result<()> {
    let started = std::time::Instant::now();
    let batches = &results.batches;
    let format = format_for(o);
    match &o.output {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            write(results.schema.clone(), batches, format, &mut file)?;
        }
        None => {
            let stdout = std::io::stdout();
            write(results.schema.clone(), batches, format, &mut stdout.lock())?;
        }
    }
    if format == Format::Table || o.output.is_some() {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        eprintln!(
            "{rows} row(s) in {:.3}s (+{:.3}s to write)",
            results.took.as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub fn run_query(lake_location: &str, args: &QueryArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let sql = match (&args.sql, &args.file) {
        (Some(sql), _) => Some(sql.clone()),
        (None, Some(f)) => {
            Some(std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?)
        }
        (None, None) => None,
    };
    let ctx = runtime.block_on(session(lake_location, &args.options))?;
    match sql {
        Some(sql) => {
            let results = runtime.block_on(execute(&ctx, &sql, args.options.limit))?;
            emit(&results, &args.options)
        }
        None => interactive(&runtime, &ctx, &args.options),
    }
}

/// A prompt with history (`~/.vigil_history`); a statement ends with `;`.
fn interactive(
    runtime: &tokio::runtime::Runtime,
    ctx: &SessionContext,
    o: &QueryOptions,
) -> Result<()> {
    let mut editor = rustyline::DefaultEditor::new()?;
    let history = std::env::var_os("HOME").map(|h| Path::new(&h).join(".vigil_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    eprintln!(
        "Vigil SQL over the lake: tables {}. End a statement with ';', quit with \\q.",
        HUNTING_TABLES.join(", ")
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "vigil> "
        } else {
            "   ..> "
        };
        let line = match editor.readline(prompt) {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if buffer.is_empty() && matches!(line.trim(), "\\q" | "exit" | "quit") {
            break;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if !line.trim_end().ends_with(';') {
            continue;
        }
        let sql = std::mem::take(&mut buffer);
        let _ = editor.add_history_entry(sql.trim());
        match runtime.block_on(execute(ctx, sql.trim().trim_end_matches(';'), o.limit)) {
            Ok(results) => {
                let opts = QueryOptions {
                    format: Some(o.format.unwrap_or(Format::Table)),
                    output: None,
                    ..o.clone()
                };
                if let Err(e) = emit(&results, &opts) {
                    eprintln!("error: {e:#}");
                }
            }
            Err(e) => eprintln!("error: {e:#}"),
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(())
}

pub fn run_hunt(lake_location: &str, hunt_dir: Option<&Path>, command: &HuntCommand) -> Result<()> {
    let all = hunts::load(hunt_dir)?;
    match command {
        HuntCommand::List => {
            output::print_hunts(&all);
            Ok(())
        }
        HuntCommand::Run {
            name,
            params,
            options,
        } => {
            let hunt = all
                .iter()
                .find(|h| &h.name == name)
                .with_context(|| format!("no hunt named {name} (`vigil hunt list` shows them)"))?;
            let values: BTreeMap<String, String> = params.iter().cloned().collect();
            let sql = hunt.render(&values)?;
            let runtime = tokio::runtime::Runtime::new()?;
            let ctx = runtime.block_on(session(lake_location, options))?;
            let results = runtime
                .block_on(execute(&ctx, &sql, options.limit))
                .with_context(|| format!("hunt {name}"))?;
            emit(&results, options)
        }
    }
}
