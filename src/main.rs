//! `vigil`: the command line, and under the Lambda runtime the `bootstrap`.
//!
//! This file only parses arguments and hands them to a command module.

mod commands;
mod output;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

// Ingest builds and frees tens of megabytes of Arrow buffers per batch, and
// parsing allocates per record: mimalloc keeps both off the kernel's page-fault
// path (the parse benchmark went from 216 to 317 MiB/s with it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v2's `mi_option_e` (mimalloc.h);
/// libmimalloc-sys does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory with the process for a second before mimalloc gives
/// it back to the kernel (its default: 10 ms). Ingest frees a batch's Arrow
/// and Parquet buffers every few tens of milliseconds and allocates the next
/// batch's right after: given back, every page came again as a page fault
/// the kernel zeroes (15 % of the CPU of a CloudTrail ingest in `perf`,
/// 70,000 faults per 600 MB). Costs about 20 MB of peak RSS. A delay set
/// in mimalloc's own variable is left as it is.
fn keep_freed_memory_for_reuse() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: sets one of mimalloc's options, a plain store of an integer.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1000);
    }
}

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
    /// Merge each hour's small lake files into bigger ones (fewer files to open per query).
    Compact(commands::compact::CompactArgs),
    /// Print the lake's table schemas as Markdown.
    Schema,
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
    match runtime.block_on(vigil_serverless::runtime::run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// Turns transparent huge pages off for this process, as mimalloc's
/// `MIMALLOC_ALLOW_THP=0` would. mimalloc asks for huge pages on its
/// segments; writing the lake frees and reallocates its batch buffers over
/// and over, and each first touch then had the kernel zero a whole 2 MiB
/// page (`clear_page_erms`, up to a quarter of a CloudTrail ingest's CPU in
/// `perf`). Queries keep them: their scans gain from fewer TLB misses.
fn disable_transparent_huge_pages() {
    // SAFETY: a prctl that sets a flag of this process; no memory is touched.
    let result = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    if result != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "transparent huge pages left on");
    }
}

impl Command {
    /// Commands that parse logs or rewrite lake files.
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
}

/// Output piped into `head` and the like: end quietly when the reader goes
/// away, as other Unix tools do, instead of failing on the next print.
fn exit_quietly_on_broken_pipe() {
    // SAFETY: restoring the default action of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    keep_freed_memory_for_reuse();
    if vigil_serverless::runtime::in_lambda() {
        return lambda_main();
    }
    exit_quietly_on_broken_pipe();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    if cli.command.writes_the_lake() {
        disable_transparent_huge_pages();
    }
    let result = match cli.command {
        Command::Run(args) => {
            commands::run::run(&cli.lake, &cli.rules, cli.config.as_deref(), &args)
        }
        Command::Ingest(args) => commands::ingest::run(&cli.lake, &args),
        Command::Compact(args) => commands::compact::run(&cli.lake, &args),
        Command::Detect(args) => {
            commands::detect::run(&cli.lake, &cli.rules, cli.config.as_deref(), &args)
        }
        Command::Alerts(command) => {
            commands::alerts::run(&command, cli.config.as_deref(), &cli.lake)
        }
        Command::Query(args) => commands::query::run_query(&cli.lake, &args),
        Command::Hunt(command) => {
            commands::query::run_hunt(&cli.lake, cli.hunts.as_deref(), &command)
        }
        Command::Rules(command) => commands::rules::run(&command, &cli.rules),
        Command::Subscribe(args) => commands::subscribe::run(&args),
        Command::Tail(args) => {
            commands::tail::run(&cli.lake, &cli.rules, cli.config.as_deref(), &args)
        }
        Command::Backfill(args) => {
            commands::backfill::run(&cli.lake, &cli.rules, cli.config.as_deref(), &args)
        }
        Command::Generate(args) => commands::generate::run_generate(&args),
        Command::Score(args) => commands::generate::run_score(&cli.lake, &args),
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
    fn commands_that_write_the_lake_run_without_transparent_huge_pages() {
        use clap::Parser;
        let command = |args: &[&str]| super::Cli::try_parse_from(args).unwrap().command;
        assert!(command(&["vigil", "ingest", "x"]).writes_the_lake());
        assert!(command(&["vigil", "run", "x"]).writes_the_lake());
        assert!(command(&["vigil", "compact"]).writes_the_lake());
        assert!(!command(&["vigil", "query", "SELECT 1"]).writes_the_lake());
        assert!(!command(&["vigil", "detect"]).writes_the_lake());

        super::disable_transparent_huge_pages();
        // SAFETY: reads a flag of this process.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
    }

    fn purge_delay() -> std::os::raw::c_long {
        // SAFETY: reads one of mimalloc's options.
        unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) }
    }

    /// The option number is mimalloc's purge delay: mimalloc fills that
    /// option from `MIMALLOC_PURGE_DELAY` when the process loads, so this
    /// test runs itself again in a process with the variable set.
    #[test]
    fn the_option_set_is_mimallocs_purge_delay() {
        const EXPECT: &str = "VIGIL_TEST_EXPECT_PURGE_DELAY";
        if let Ok(expected) = std::env::var(EXPECT) {
            assert_eq!(purge_delay().to_string(), expected);
            super::keep_freed_memory_for_reuse();
            assert_eq!(purge_delay().to_string(), expected, "the variable wins");
            return;
        }
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "tests::the_option_set_is_mimallocs_purge_delay"])
            .env("MIMALLOC_PURGE_DELAY", "4321")
            .env(EXPECT, "4321")
            .output()
            .unwrap();
        assert!(
            child.status.success(),
            "the child test failed: {}",
            String::from_utf8_lossy(&child.stdout)
        );
    }

    #[test]
    fn freed_memory_is_kept_a_second_unless_mimallocs_variable_says_otherwise() {
        super::keep_freed_memory_for_reuse();
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Ok(value) => assert_eq!(purge_delay().to_string(), value),
            Err(_) => assert_eq!(purge_delay(), 1000),
        }
    }
}
