//! `vigil subscribe`: subscription filters from log groups to the ingest function.

use anyhow::{bail, Result};
use clap::Args;
use comfy_table::Table;
use vigil_aws::subscribe::{self, Action, SubscribeOptions};

#[derive(Args, Debug)]
pub struct SubscribeArgs {
    /// A log group to subscribe (repeatable).
    #[arg(long = "log-group", required_unless_present = "prefix")]
    pub log_groups: Vec<String>,
    /// Every log group whose name starts with this.
    #[arg(long)]
    pub prefix: Option<String>,
    /// The ingest function's ARN (or a Kinesis stream / Firehose delivery stream).
    #[arg(long)]
    pub destination_arn: String,
    /// For Kinesis and Firehose destinations: the role CloudWatch Logs assumes.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// A CloudWatch Logs filter pattern; by default every event is forwarded.
    #[arg(long, default_value = "")]
    pub filter_pattern: String,
    /// The subscription filter's name (re-running updates it in place).
    #[arg(long, default_value = "vigil")]
    pub filter_name: String,
    /// Show what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// An endpoint override for CloudWatch Logs (e.g. a local emulator).
    #[arg(long, env = "VIGIL_AWS_ENDPOINT")]
    pub endpoint_url: Option<String>,
}

pub fn run(args: &SubscribeArgs) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let changes = runtime.block_on(async {
        let client = vigil_aws::clients::logs_client(args.endpoint_url.as_deref()).await;
        subscribe::subscribe(
            &client,
            &SubscribeOptions {
                log_groups: args.log_groups.clone(),
                prefix: args.prefix.clone(),
                destination_arn: args.destination_arn.clone(),
                role_arn: args.role_arn.clone(),
                filter_name: args.filter_name.clone(),
                filter_pattern: args.filter_pattern.clone(),
                dry_run: args.dry_run,
            },
        )
        .await
    })?;
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["log group", if args.dry_run { "would" } else { "done" }]);
    for c in &changes {
        let action = match &c.action {
            Action::Create => "create".to_string(),
            Action::Update => "update".to_string(),
            Action::Unchanged => "unchanged".to_string(),
            Action::Skip(why) => format!("skip: {why}"),
        };
        table.add_row([c.log_group.clone(), action]);
    }
    println!("{table}");
    if changes.iter().all(|c| matches!(c.action, Action::Skip(_))) {
        bail!("no log group was subscribed");
    }
    Ok(())
}
