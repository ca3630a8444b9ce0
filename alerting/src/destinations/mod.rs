//! Destinations: one module each, built from their `[[alerting.destinations]]` entry.

pub mod file;
pub mod http;
pub mod slack;
pub mod sns;
pub mod stdout;
pub mod webhook;

use vigil_detect::Finding;

use crate::config::{DestinationConfig, DestinationKind};
use crate::error::AlertError;
use crate::retry::SendError;

/// A ready destination.
#[derive(Debug)]
pub enum Destination {
    Stdout(stdout::Stdout),
    File(file::File),
    Webhook(webhook::Webhook),
    Slack(slack::Slack),
    Sns(sns::Sns),
}

impl Destination {
    /// Builds a destination, resolving its secrets.
    pub async fn build(config: &DestinationConfig) -> Result<Destination, AlertError> {
        config
            .body_format()
            .map_err(|message| AlertError::Destination {
                destination: config.name.clone(),
                message,
            })?;
        Ok(match config.kind {
            DestinationKind::Stdout => Destination::Stdout(stdout::Stdout::new(config)),
            DestinationKind::File => Destination::File(file::File::new(config)?),
            DestinationKind::Webhook => Destination::Webhook(webhook::Webhook::new(config).await?),
            DestinationKind::Slack => Destination::Slack(slack::Slack::new(config)?),
            DestinationKind::Sns => Destination::Sns(sns::Sns::new(config).await?),
        })
    }

    /// One attempt to deliver `finding` (its body is `body`, in the
    /// destination's format).
    pub async fn send(&self, finding: &Finding, body: &[u8]) -> Result<(), SendError> {
        match self {
            Destination::Stdout(d) => d.send(finding, body),
            Destination::File(d) => d.send(body),
            Destination::Webhook(d) => d.send(finding, body).await,
            Destination::Slack(d) => d.send(finding).await,
            Destination::Sns(d) => d.send(finding, body).await,
        }
    }
}
