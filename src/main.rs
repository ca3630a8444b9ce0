//! `vigil`: the command line, and under the Lambda runtime the `bootstrap`.
//!
//! This file only parses arguments and hands them to a command module.

// Unsafe code only where a C interface must be called: `memory` (mimalloc's
// options, prctl) and the SIGPIPE reset below; every library crate forbids it.
#![deny(unsafe_code)]

mod commands;
mod memory;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Serverless security log analytics for AWS: ingest → lake → detect → alert.
#[derive(Parser, Debug)]
#[command(name = "vigil", version, about)]
struct Cli {
    /// The lake: a local folder or s3://bucket/prefix.
    #[arg(
        long,
        global = true,
        env = "VIGIL_LAKE",
        default_value = "./vigil-lake"
    )]
    lake: String,

    /// More logging (-v info, -vv debug); logs go to stderr.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    /// A folder of your own rule files, loaded next to the built-in ones (repeatable).
    #[arg(
        long = "rules",
        global = true,
        env = "VIGIL_RULES",
        value_delimiter = ','
    )]
    rules: Vec<std::path::PathBuf>,

    /// A built-in rule pack to turn on, e.g. `sigma` (repeatable; also
    /// `[rules] packs` in vigil.toml).
    #[arg(
        long = "pack",
        global = true,
        env = "VIGIL_RULE_PACKS",
        value_delimiter = ','
    )]
    packs: Vec<String>,

    /// A folder of your own saved hunts (`*.sql`), next to the built-in ones.
    #[arg(long, global = true, env = "VIGIL_HUNTS")]
    hunts: Option<std::path::PathBuf>,

    /// The configuration file (default: ./vigil.toml if present).
    #[arg(long, global = true, env = "VIGIL_CONFIG")]
    config: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The main job: ingest the given logs into the lake, run the detection
    /// rules (streaming on each batch, scheduled over the span ingested) and
    /// print the findings.
    Run(commands::run::RunArgs),
    /// Ingest logs (files, folders, or - for stdin) into the lake.
    Ingest(commands::ingest::IngestArgs),
    /// Run the detection rules over the lake.
    Detect(commands::detect::DetectArgs),
    /// Ad hoc SQL over the lake (one SELECT), or an interactive prompt.
    Query(commands::query::QueryArgs),
    /// Saved hunts: list them, or run one.
    #[command(subcommand)]
    Hunt(commands::query::HuntCommand),
    /// Test alert destinations and re-send failed deliveries.
    #[command(subcommand)]
    Alerts(commands::alerts::AlertsCommand),
    /// List, validate and test detection rules.
    #[command(subcommand)]
    Rules(commands::rules::RulesCommand),
    /// Sigma rules: convert one to the SQL Vigil runs, or to a Vigil rule file.
    #[command(subcommand)]
    Sigma(commands::sigma::SigmaCommand),
    /// Merge each hour's small lake files into bigger ones (fewer files to open per query).
    Compact(commands::compact::CompactArgs),
    /// Print the lake's table schemas as Markdown.
    Schema,
    /// The web console over the lake: findings, triage, pipeline health,
    /// hunts and rule coverage (prints a one-time login link).
    Serve(commands::console::ServeArgs),
    /// The overview and findings of a time range as one self-contained HTML file.
    Report(commands::console::ReportArgs),
    /// Findings and their triage: list, show, set-status.
    #[command(subcommand)]
    Findings(commands::console::FindingsCommand),
    /// The context of `[context]` (threat intelligence, GeoIP, the directory):
    /// what is loaded, and what it says about the values given.
    Context(commands::context::ContextArgs),
    /// Export the lake's events in another format (OCSF).
    #[command(subcommand)]
    Export(commands::export::ExportCommand),
    /// Subscribe CloudWatch Logs groups to the ingest function (idempotent).
    Subscribe(commands::subscribe::SubscribeArgs),
    /// Pull a log group's events into the pipeline, without Lambda.
    Tail(commands::tail::TailArgs),
    /// Replay CloudTrail objects from S3 into the lake (resumable).
    Backfill(commands::backfill::BackfillArgs),
    /// Write synthetic logs with labelled attack scenarios (labels.jsonl).
    Generate(commands::generate::GenerateArgs),
    /// Compare the lake's findings with the labels of `vigil generate`.
    Score(commands::generate::ScoreArgs),
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Under Lambda: JSON log lines on stdout (CloudWatch keeps them), each with
/// the runtime's span and so the request id.
fn init_lambda_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VIGIL_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_ansi(false)
        .without_time()
        .init();
}

/// The Lambda `bootstrap`: the runtime loop of the handler `_HANDLER` names.
fn lambda_main() -> ExitCode {
    init_lambda_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(vigil_aws::runtime::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

impl Command {
    /// Commands that parse logs or rewrite lake files (they run without
    /// transparent huge pages: see [`memory`]).
    fn writes_the_lake(&self) -> bool {
        matches!(
            self,
            Command::Run(_)
                | Command::Ingest(_)
                | Command::Compact(_)
                | Command::Tail(_)
                | Command::Backfill(_)
        )
    }

    /// Commands that detect, hunt or show findings: they run with the
    /// context of `[context]` in force. (Rule tests do not: each declares
    /// the indicators it needs.)
    fn uses_context(&self) -> bool {
        matches!(
            self,
            Command::Run(_)
                | Command::Detect(_)
                | Command::Query(_)
                | Command::Hunt(_)
                | Command::Tail(_)
                | Command::Backfill(_)
                | Command::Serve(_)
                | Command::Report(_)
                | Command::Rules(commands::rules::RulesCommand::Validate { .. })
        )
    }
}

/// Output piped into `head` and the like: end quietly when the reader goes
/// away, as other Unix tools do, instead of failing on the next print.
#[allow(unsafe_code)]
fn exit_quietly_on_broken_pipe() {
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    memory::keep_freed_memory_for_reuse();
    if vigil_aws::runtime::in_lambda() {
        // A function's memory size is set, and billed, for its peak RSS;
        // huge pages inflated it by a third (see `memory`).
        memory::disable_transparent_huge_pages();
        return lambda_main();
    }
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    if cli.command.writes_the_lake() {
        memory::disable_transparent_huge_pages();
    }
    if cli.command.uses_context() {
        let long_running = matches!(cli.command, Command::Serve(_) | Command::Tail(_));
        if let Err(e) = commands::context::install(cli.config.as_deref(), long_running) {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    }
    let sources = || commands::rules::sources(&cli.rules, &cli.packs, cli.config.as_deref());
    let result =
        match cli.command {
            Command::Run(args) => sources()
                .and_then(|s| commands::run::run(&cli.lake, &s, cli.config.as_deref(), &args)),
            Command::Ingest(args) => commands::ingest::run(&cli.lake, &args),
            Command::Compact(args) => commands::compact::run(&cli.lake, &args),
            Command::Sigma(command) => {
                sources().and_then(|s| commands::sigma::run(&command, &s.placeholders))
            }
            Command::Detect(args) => sources()
                .and_then(|s| commands::detect::run(&cli.lake, &s, cli.config.as_deref(), &args)),
            Command::Alerts(command) => {
                commands::alerts::run(&command, cli.config.as_deref(), &cli.lake)
            }
            Command::Query(args) => commands::query::run_query(&cli.lake, &args),
            Command::Hunt(command) => {
                commands::query::run_hunt(&cli.lake, cli.hunts.as_deref(), &command)
            }
            Command::Rules(command) => sources().and_then(|s| commands::rules::run(&command, &s)),
            Command::Subscribe(args) => commands::subscribe::run(&args),
            Command::Tail(args) => sources()
                .and_then(|s| commands::tail::run(&cli.lake, &s, cli.config.as_deref(), &args)),
            Command::Backfill(args) => sources()
                .and_then(|s| commands::backfill::run(&cli.lake, &s, cli.config.as_deref(), &args)),
            Command::Generate(args) => commands::generate::run_generate(&args),
            Command::Score(args) => commands::generate::run_score(&cli.lake, &args),
            Command::Export(command) => commands::export::run(&cli.lake, &command),
            Command::Serve(args) => sources()
                .and_then(|s| commands::console::serve(&cli.lake, &s, cli.hunts.as_deref(), &args)),
            Command::Report(args) => commands::console::report(&cli.lake, &args),
            Command::Findings(command) => commands::console::findings(&cli.lake, &command),
            Command::Context(args) => commands::context::run(cli.config.as_deref(), &args),
            Command::Schema => {
                print!(
                    "{}",
                    vigil_ingest::schema::schema_markdown(&Default::default())
                );
                Ok(())
            }
        };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's definition checks over the whole command tree (duplicate
    /// flags, bad defaults...), run here rather than at a user's first call.
    /// (They do not see a subcommand field sharing a global's id: see
    /// tests/cli.rs for `detect --rule`.)
    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn commands_that_write_the_lake_are_told_apart() {
        use clap::Parser;
        let command = |args: &[&str]| super::Cli::try_parse_from(args).unwrap().command;
        assert!(command(&["vigil", "ingest", "x"]).writes_the_lake());
        assert!(command(&["vigil", "run", "x"]).writes_the_lake());
        assert!(command(&["vigil", "compact"]).writes_the_lake());
        assert!(!command(&["vigil", "query", "SELECT 1"]).writes_the_lake());
        assert!(!command(&["vigil", "detect"]).writes_the_lake());
    }
}
