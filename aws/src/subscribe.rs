//! `vigil subscribe`: points CloudWatch Logs subscription filters at the
//! ingest function (or a Kinesis / Firehose destination), idempotently.

use aws_sdk_cloudwatchlogs::Client;
use serde::Serialize;

use crate::clients::aws_error;
use crate::error::AwsError;

/// A log group holds at most this many subscription filters.
const MAX_FILTERS_PER_GROUP: usize = 2;

/// What to subscribe, and to what.
#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    /// Log groups by name...
    pub log_groups: Vec<String>,
    /// ...and every log group whose name starts with this.
    pub prefix: Option<String>,
    pub destination_arn: String,
    /// Kinesis and Firehose destinations need a role CloudWatch Logs assumes.
    pub role_arn: Option<String>,
    /// The filter's name: updating it is how a re-run stays idempotent.
    pub filter_name: String,
    /// CloudWatch Logs filter pattern; empty forwards everything.
    pub filter_pattern: String,
    /// Report what would change, change nothing.
    pub dry_run: bool,
}

/// What happened (or, on a dry run, would happen) to one log group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    Skip(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub log_group: String,
    pub action: Action,
}

/// Creates or updates the filter on each log group. A group already holding
/// two other filters, or the destination function's own log group (which
/// would feed the function its own logs forever), is skipped with a reason.
pub async fn subscribe(
    client: &Client,
    options: &SubscribeOptions,
) -> Result<Vec<Change>, AwsError> {
    let own_group = options
        .destination_arn
        .strip_prefix("arn:")
        .and_then(|arn| arn.split(':').nth(5).filter(|_| arn.contains(":lambda:")))
        .map(|function| format!("/aws/lambda/{function}"));
    let mut groups = options.log_groups.clone();
    if let Some(prefix) = &options.prefix {
        groups.extend(groups_with_prefix(client, prefix).await?);
    }
    groups.sort();
    groups.dedup();
    if groups.is_empty() {
        return Err(AwsError::Api {
            operation: "DescribeLogGroups",
            message: "no log group matches".into(),
        });
    }
    let mut changes = Vec::new();
    for group in groups {
        let action = if own_group.as_deref() == Some(group.as_str()) {
            Action::Skip("the destination function's own log group".into())
        } else {
            plan(client, &group, options).await?
        };
        if !options.dry_run && matches!(action, Action::Create | Action::Update) {
            client
                .put_subscription_filter()
                .log_group_name(&group)
                .filter_name(&options.filter_name)
                .filter_pattern(&options.filter_pattern)
                .destination_arn(&options.destination_arn)
                .set_role_arn(options.role_arn.clone())
                .send()
                .await
                .map_err(|e| aws_error("PutSubscriptionFilter", e))?;
        }
        changes.push(Change {
            log_group: group,
            action,
        });
    }
    Ok(changes)
}

async fn groups_with_prefix(client: &Client, prefix: &str) -> Result<Vec<String>, AwsError> {
    let mut pages = client
        .describe_log_groups()
        .log_group_name_prefix(prefix)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("DescribeLogGroups", e))?;
        names.extend(
            page.log_groups()
                .iter()
                .filter_map(|g| g.log_group_name().map(str::to_string)),
        );
    }
    Ok(names)
}

async fn plan(
    client: &Client,
    group: &str,
    options: &SubscribeOptions,
) -> Result<Action, AwsError> {
    let existing = client
        .describe_subscription_filters()
        .log_group_name(group)
        .send()
        .await
        .map_err(|e| aws_error("DescribeSubscriptionFilters", e))?;
    let filters = existing.subscription_filters();
    match filters
        .iter()
        .find(|f| f.filter_name() == Some(options.filter_name.as_str()))
    {
        Some(f)
            if f.destination_arn() == Some(options.destination_arn.as_str())
                && f.filter_pattern().unwrap_or("") == options.filter_pattern =>
        {
            Ok(Action::Unchanged)
        }
        Some(_) => Ok(Action::Update),
        None if filters.len() >= MAX_FILTERS_PER_GROUP => Ok(Action::Skip(format!(
            "already has {} subscription filters (the most a log group may have)",
            filters.len()
        ))),
        None => Ok(Action::Create),
    }
}
