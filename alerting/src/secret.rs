//! Secrets (webhook keys, Slack URLs) from the environment or Secrets Manager;
//! they never reach a log line.

use std::fmt;

use crate::config::DestinationConfig;
use crate::error::AlertError;

/// A secret value; `Debug` and `Display` print `[redacted]`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

fn from_env(destination: &str, var: &str) -> Result<Secret, AlertError> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(Secret(v)),
        _ => Err(AlertError::Secret {
            destination: destination.into(),
            message: format!("environment variable {var} is not set"),
        }),
    }
}

async fn from_secrets_manager(
    destination: &str,
    id: &str,
    endpoint: Option<&str>,
) -> Result<Secret, AlertError> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(e) = endpoint {
        loader = loader.endpoint_url(e);
    }
    let client = aws_sdk_secretsmanager::Client::new(&loader.load().await);
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| AlertError::Secret {
            destination: destination.into(),
            message: format!(
                "Secrets Manager {id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            ),
        })?;
    out.secret_string()
        .map(|s| Secret(s.to_string()))
        .ok_or_else(|| AlertError::Secret {
            destination: destination.into(),
            message: format!("Secrets Manager {id} has no string value"),
        })
}

/// The HMAC secret of a webhook destination.
pub async fn signing_secret(d: &DestinationConfig) -> Result<Secret, AlertError> {
    match (&d.secret_env, &d.secret_id) {
        (Some(var), _) => from_env(&d.name, var),
        (None, Some(id)) => from_secrets_manager(&d.name, id, d.endpoint_url.as_deref()).await,
        (None, None) => Err(AlertError::Secret {
            destination: d.name.clone(),
            message: "needs secret_env or secret_id".into(),
        }),
    }
}

/// The URL of a Slack destination (a secret when it comes from `url_env`).
pub fn slack_url(d: &DestinationConfig) -> Result<Secret, AlertError> {
    match (&d.url_env, &d.url) {
        (Some(var), _) => from_env(&d.name, var),
        (None, Some(url)) => Ok(Secret(url.clone())),
        (None, None) => Err(AlertError::Secret {
            destination: d.name.clone(),
            message: "needs url_env or url".into(),
        }),
    }
}
