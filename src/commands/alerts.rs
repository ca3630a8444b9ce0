//! `vigil alerts test | redrive`, and the alerting setup of the commands that detect.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use vigil_alerting::config::{load, VigilConfig};
use vigil_alerting::{AlertingConfig, Dispatcher};
use vigil_detect::finding::Entities;
use vigil_detect::{Finding, FindingStatus, Severity};

use crate::output;

#[derive(Subcommand, Debug)]
pub enum AlertsCommand {
    /// Send a sample finding to one destination.
    Test {
        #[arg(long)]
        destination: String,
    },
    /// Re-send the deliveries in the dead-letter; what fails again stays there.
    Redrive,
}

/// `vigil.toml`: the one given, else `./vigil.toml` if present, else defaults.
pub fn config(path: Option<&Path>) -> Result<VigilConfig> {
    match crate::commands::config_path(path) {
        Some(p) => Ok(load(&p)?),
        None => Ok(VigilConfig::default()),
    }
}

/// Where local alert files go: `<lake>/_alerts/` for a local lake, `./` otherwise.
fn alerts_dir(lake: &str) -> PathBuf {
    if lake.starts_with("s3://") {
        PathBuf::from(".")
    } else {
        Path::new(lake.strip_prefix("file://").unwrap_or(lake)).join("_alerts")
    }
}

/// The alerting configuration in force: the configured destinations, or the
/// local default (stdout and a JSON Lines file).
pub fn alerting(config_path: Option<&Path>, lake: &str) -> Result<AlertingConfig> {
    let mut config = config(config_path)?.alerting;
    let dir = alerts_dir(lake);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    if config.destinations.is_empty() {
        let defaults = AlertingConfig::local_default(&dir);
        config.destinations = defaults.destinations;
    }
    if config.dead_letter == AlertingConfig::default().dead_letter {
        config.dead_letter = dir.join("deadletter.jsonl");
    }
    Ok(config)
}

/// Where failed deliveries go, for messages.
pub fn dead_letter_location(config: &AlertingConfig) -> String {
    config
        .dead_letter_queue_url
        .clone()
        .unwrap_or_else(|| config.dead_letter.display().to_string())
}

fn sample_finding() -> Finding {
    let now = chrono::Utc::now().timestamp_millis();
    Finding {
        finding_id: format!("test-{now}"),
        rule_id: "vigil_alerts_test".into(),
        title: "Vigil test alert: this destination works".into(),
        severity: Severity::Info,
        status: FindingStatus::New,
        first_seen: now,
        last_seen: now,
        event_count: 1,
        dedup_key: "test".into(),
        entities: Entities {
            actor: Some("vigil alerts test".into()),
            ..Entities::default()
        },
        tags: vec!["test".into()],
        window_start: now,
        window_end: now,
        fields: Default::default(),
        samples: Vec::new(),
        detected_at: now,
        context: Default::default(),
    }
}

pub fn run(command: &AlertsCommand, config_path: Option<&Path>, lake: &str) -> Result<()> {
    let config = alerting(config_path, lake)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = match command {
        AlertsCommand::Test { destination } => runtime.block_on(async {
            let dispatcher = Dispatcher::new(&config).await?.only(destination)?;
            dispatcher.deliver(&[sample_finding()]).await
        })?,
        AlertsCommand::Redrive => {
            runtime.block_on(async { Dispatcher::new(&config).await?.redrive().await })?
        }
    };
    output::print_deliveries(&report, &dead_letter_location(&config));
    if report.dead_lettered() > 0 {
        bail!(
            "{} deliveries failed (kept in {})",
            report.dead_lettered(),
            dead_letter_location(&config)
        );
    }
    Ok(())
}
