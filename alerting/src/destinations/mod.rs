//! Destinations: one module each, built from their `[[alerting.destinations]]` entry.

pub mod aws_sdk;
pub mod file;
pub mod http;
pub mod securityhub;
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
    SecurityHub(securityhub::SecurityHub),
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
            DestinationKind::SecurityHub => {
                Destination::SecurityHub(securityhub::SecurityHub::new(config).await?)
            }
        })
    }

    /// How many findings one request takes, for destinations that send
    /// them in batches (the dispatcher then calls [`Destination::send_batch`]).
    pub fn batch_size(&self) -> Option<usize> {
        match self {
            Destination::SecurityHub(_) => Some(securityhub::BATCH_SIZE),
            _ => None,
        }
    }

    /// Whether the destination keeps findings up to date (it is sent the
    /// updates of findings already sent, not only new ones).
    pub fn takes_updates(&self) -> bool {
        matches!(self, Destination::SecurityHub(_))
    }

    /// One attempt to deliver a batch: for each finding, `None` when
    /// delivered, else why not; `Err` when the whole attempt failed.
    pub async fn send_batch(
        &self,
        findings: &[&Finding],
        bodies: &[&[u8]],
    ) -> Result<Vec<Option<SendError>>, SendError> {
        match self {
            Destination::SecurityHub(d) => d.send_batch(findings).await,
            other => {
                let mut outcomes = Vec::with_capacity(findings.len());
                for (f, body) in findings.iter().zip(bodies) {
                    outcomes.push(other.send(f, body).await.err());
                }
                Ok(outcomes)
            }
        }
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
            Destination::SecurityHub(d) => match d.send_batch(&[finding]).await?.pop() {
                Some(Some(e)) => Err(e),
                _ => Ok(()),
            },
        }
    }
}
