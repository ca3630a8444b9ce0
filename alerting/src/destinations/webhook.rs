//! Signed webhooks: HTTPS POST of the finding JSON with an HMAC signature and an idempotency key.

use vigil_detect::Finding;

use crate::config::{check_url, DestinationConfig};
use crate::error::AlertError;
use crate::retry::SendError;
use crate::secret::{signing_secret, Secret};
use crate::signature::{sign, IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};

#[derive(Debug)]
pub struct Webhook {
    url: String,
    secret: Secret,
    client: reqwest::Client,
}

impl Webhook {
    pub async fn new(config: &DestinationConfig) -> Result<Webhook, AlertError> {
        let err = |message: String| AlertError::Destination {
            destination: config.name.clone(),
            message,
        };
        let url = config.url.clone().ok_or_else(|| err("needs url".into()))?;
        check_url(&url).map_err(err)?;
        Ok(Webhook {
            url,
            secret: signing_secret(config).await?,
            client: super::http::client(config.timeout()).map_err(err)?,
        })
    }

    pub async fn send(&self, finding: &Finding, body: &[u8]) -> Result<(), SendError> {
        let timestamp = chrono::Utc::now().timestamp();
        let signature = sign(self.secret.expose().as_bytes(), timestamp, body);
        let result = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(IDEMPOTENCY_HEADER, &finding.finding_id)
            .body(body.to_vec())
            .send()
            .await;
        super::http::classify(result).await
    }
}
