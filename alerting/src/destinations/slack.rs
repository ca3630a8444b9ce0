//! Slack incoming webhooks: a Block Kit message with the title, severity, entities and a hunting hint.

use serde_json::{json, Value};
use vigil_detect::Finding;

use crate::config::{check_url, DestinationConfig};
use crate::error::AlertError;
use crate::payload::hunt_hint;
use crate::retry::SendError;
use crate::secret::{slack_url, Secret};

#[derive(Debug)]
pub struct Slack {
    url: Secret,
    client: reqwest::Client,
}

impl Slack {
    pub fn new(config: &DestinationConfig) -> Result<Slack, AlertError> {
        let err = |message: String| AlertError::Destination {
            destination: config.name.clone(),
            message,
        };
        let url = slack_url(config)?;
        // The URL is a secret: say what is wrong without echoing it.
        check_url(url.expose())
            .map_err(|_| err("the Slack URL must be HTTPS (or loopback HTTP)".into()))?;
        Ok(Slack {
            url,
            client: super::http::client(config.timeout()).map_err(err)?,
        })
    }

    pub async fn send(&self, finding: &Finding) -> Result<(), SendError> {
        let body = serde_json::to_vec(&message(finding)).unwrap_or_default();
        let result = self
            .client
            .post(self.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        super::http::classify(result).await
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// The Block Kit message for a finding.
pub fn message(f: &Finding) -> Value {
    let mut entities = Vec::new();
    for (name, v) in [
        ("Actor", &f.entities.actor),
        ("Source IP", &f.entities.src_ip),
        ("Account", &f.entities.account_id),
        ("Region", &f.entities.region),
        ("Resource", &f.entities.resource),
    ] {
        if let Some(v) = v {
            entities.push(json!({"type": "mrkdwn", "text": format!("*{name}*\n`{v}`")}));
        }
    }
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": format!("[{}] {}", f.severity.as_str().to_uppercase(), truncate(&f.title, 140))}}),
        json!({"type": "section", "fields": [
            {"type": "mrkdwn", "text": format!("*Severity*\n{}", f.severity)},
            {"type": "mrkdwn", "text": format!("*Rule*\n`{}`", f.rule_id)},
            {"type": "mrkdwn", "text": format!("*Events*\n{}", f.event_count)},
            {"type": "mrkdwn", "text": format!("*Seen*\n{} → {}", time(f.first_seen), time(f.last_seen))},
        ]}),
    ];
    if !entities.is_empty() {
        blocks.push(
            json!({"type": "section", "fields": entities.into_iter().take(10).collect::<Vec<_>>()}),
        );
    }
    if let Some(summary) = f.context.summary() {
        // Plain text: the directory and the databases are data, not markup.
        blocks.push(json!({"type": "context", "elements": [
            {"type": "plain_text", "text": truncate(&summary, 300)}
        ]}));
    }
    blocks.push(json!({"type": "context", "elements": [
        {"type": "mrkdwn", "text": format!("Hunt: `{}` · finding `{}` · {}", hunt_hint(f), f.finding_id, f.tags.join(" "))}
    ]}));
    json!({"text": format!("[{}] {}", f.severity, f.title), "blocks": blocks})
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}
