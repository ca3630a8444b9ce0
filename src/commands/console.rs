//! `vigil serve` (the web console), `vigil report` (one HTML file) and
//! `vigil findings` (the console's findings and triage on the command line).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use vigil_console::triage::{self, TriageStatus};
use vigil_console::views::{rfc3339, time, FindingFilter};
use vigil_console::{data, Console};
use vigil_detect::state::State;
use vigil_detect::RuleSources;
use vigil_ingest::Lake;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Where to listen. Beyond loopback, cookies are marked Secure: put the
    /// console behind a TLS proxy.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// From this time (RFC 3339, YYYY-MM-DD, or a duration ago such as 7d;
    /// default: seven days before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// To this time (default: the lake's newest data).
    #[arg(long)]
    pub to: Option<String>,
    /// The HTML file to write.
    #[arg(long, default_value = "vigil-report.html")]
    pub out: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum FindingsCommand {
    /// Findings with their triage status, filtered like the console's list.
    List(ListArgs),
    /// One finding: its facts, triage history and samples.
    Show {
        id: String,
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Set a finding's status (open, acknowledged, resolved, false_positive).
    SetStatus {
        id: String,
        status: String,
        /// Why.
        #[arg(long, default_value = "")]
        note: String,
        /// Who (default: $USER).
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// From this time (default: seven days before --to).
    #[arg(long)]
    pub from: Option<String>,
    /// To this time (default: the lake's newest data).
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long)]
    pub rule: Option<String>,
    /// A status, or `active` (open or acknowledged).
    #[arg(long)]
    pub status: Option<String>,
    /// An entity value (IP, principal, account, region, resource).
    #[arg(long)]
    pub entity: Option<String>,
    /// Text in the title, rule, dedup key or an entity.
    #[arg(long)]
    pub text: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Text,
    Json,
}

/// The range of a command: the one asked for, else the seven days up to the
/// lake's newest data.
async fn range(
    lake: &Lake,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<vigil_queries::TimeRange> {
    let now = chrono::Utc::now().timestamp_millis();
    let to = match to {
        Some(t) => vigil_console::time_arg(t, now)?,
        None => data::newest_anywhere(lake).await?.unwrap_or(now),
    };
    let from = match from {
        Some(f) => vigil_console::time_arg(f, now)?,
        None => to - 7 * data::DAY_MS,
    };
    if to <= from {
        bail!("--from must be before --to");
    }
    Ok(vigil_queries::TimeRange::new(from, to))
}

pub fn serve(
    lake_location: &str,
    sources: &RuleSources,
    hunts_dir: Option<&Path>,
    args: &ServeArgs,
) -> Result<()> {
    let lake = crate::commands::open_lake(lake_location)?;
    let rules = crate::commands::rules::load_rules(sources)?;
    let hunts = vigil_queries::hunts::load(hunts_dir).context("loading the saved hunts")?;
    let token = std::env::var("VIGIL_CONSOLE_TOKEN").ok();
    let loopback = args.listen.ip().is_loopback();
    let console = Arc::new(Console::new(lake, rules, hunts, token, !loopback)?);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("listening on {}", args.listen))?;
        let address = listener.local_addr()?;
        let code = console.auth.login_code().unwrap_or_default();
        // The link carries a one-time code, not the token: it is void once
        // used (and after 15 minutes), so it may sit in a terminal's scrollback.
        eprintln!("Vigil console on http://{address}/ (lake {lake_location})");
        eprintln!("Open this link to sign in (once): http://{address}/login?code={code}");
        if !loopback {
            eprintln!("Listening beyond loopback: serve it behind TLS (cookies are Secure).");
        }
        axum::serve(listener, vigil_console::router(console))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("serving the console")
    })
}

pub fn report(lake_location: &str, args: &ReportArgs) -> Result<()> {
    let lake = crate::commands::open_lake(lake_location)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let html = runtime.block_on(async {
        let range = range(&lake, args.from.as_deref(), args.to.as_deref()).await?;
        Ok::<_, anyhow::Error>(vigil_console::report::render(&lake, range).await?)
    })?;
    std::fs::write(&args.out, html).with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

pub fn findings(lake_location: &str, command: &FindingsCommand) -> Result<()> {
    let lake = crate::commands::open_lake(lake_location)?;
    let state = State::Lake(lake.clone());
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            FindingsCommand::List(args) => list(&lake, &state, args).await,
            FindingsCommand::Show { id, format } => show(&lake, &state, id, *format).await,
            FindingsCommand::SetStatus {
                id,
                status,
                note,
                by,
            } => {
                let status: TriageStatus = status.parse()?;
                data::finding(&lake, id, &BTreeMap::new()).await?;
                let by = by
                    .clone()
                    .or_else(|| std::env::var("USER").ok())
                    .unwrap_or_else(|| "cli".into());
                let record = triage::set_status(
                    &state,
                    id,
                    status,
                    note,
                    &by,
                    chrono::Utc::now().timestamp_millis(),
                )
                .await?;
                println!(
                    "{id}: {status} ({} change(s) in its history)",
                    record.history.len()
                );
                Ok(())
            }
        }
    })
}

async fn list(lake: &Lake, state: &State, args: &ListArgs) -> Result<()> {
    let range = range(lake, args.from.as_deref(), args.to.as_deref()).await?;
    let triage = triage::load_all(state).await?;
    let ctx = data::session(lake, range).await?;
    let all = data::findings(&ctx, &triage).await?;
    let filter = FindingFilter {
        severity: args.severity.clone(),
        rule: args.rule.clone(),
        status: args.status.clone(),
        entity: args.entity.clone(),
        q: args.text.clone(),
        ..Default::default()
    };
    let kept: Vec<_> = all.iter().filter(|f| filter.keeps(f)).collect();
    match args.format {
        ListFormat::Json => {
            for f in &kept {
                println!("{}", serde_json::to_string(f)?);
            }
        }
        ListFormat::Text => {
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header([
                    "finding",
                    "severity",
                    "status",
                    "rule",
                    "title",
                    "last seen (UTC)",
                    "events",
                ]);
            for f in &kept {
                let status = if f.status.reopened {
                    "open (reopened)".to_string()
                } else {
                    f.status.status.to_string()
                };
                table.add_row([
                    f.finding_id.clone(),
                    f.severity.clone(),
                    status,
                    f.rule_id.clone(),
                    triage::truncate(&f.title, 80).to_string(),
                    time(f.last_seen),
                    f.event_count.to_string(),
                ]);
            }
            println!("{table}");
            eprintln!(
                "{} of {} finding(s) from {} to {}",
                kept.len(),
                all.len(),
                rfc3339(range.from_ms),
                rfc3339(range.to_ms)
            );
        }
    }
    Ok(())
}

async fn show(lake: &Lake, state: &State, id: &str, format: ListFormat) -> Result<()> {
    let record = triage::load(state, id).await?;
    let by_id: BTreeMap<String, _> = [(id.to_ascii_lowercase(), record.clone())].into();
    let d = data::finding(lake, id, &by_id).await?;
    if format == ListFormat::Json {
        let mut value = serde_json::to_value(&d)?;
        value["history"] = serde_json::to_value(&record.history)?;
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let f = &d.summary;
    println!("{} [{}] {}", f.finding_id, f.severity, f.title);
    println!("rule:        {}", f.rule_id);
    println!(
        "status:      {}{}",
        f.status.status,
        if f.status.reopened {
            " (reopened: it fired again after it was resolved)"
        } else {
            ""
        }
    );
    println!("first seen:  {}", time(f.first_seen));
    println!("last seen:   {}", time(f.last_seen));
    println!("events:      {}", f.event_count);
    for (k, v) in &f.entities {
        println!("{k:<12} {v}");
    }
    if !d.attack.tactics.is_empty() || !d.attack.techniques.is_empty() {
        println!(
            "ATT&CK:      {}",
            d.attack
                .tactics
                .iter()
                .chain(&d.attack.techniques)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    if !record.history.is_empty() {
        println!("history:");
        for h in &record.history {
            println!(
                "  {} {} by {}{}",
                time(h.at),
                h.status,
                h.by,
                if h.note.is_empty() {
                    String::new()
                } else {
                    format!(": {}", h.note)
                }
            );
        }
    }
    for (i, s) in d.samples.iter().enumerate() {
        println!("sample {}:\n{s}", i + 1);
    }
    Ok(())
}
