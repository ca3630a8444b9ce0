//! What webhook and Slack deliveries share: a client, and how an HTTP answer is classified.

use std::time::Duration;

use crate::retry::{parse_retry_after, SendError};

/// A client for one destination: its timeout, no redirects (a redirect could
/// carry a signed body somewhere else).
pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("vigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// 2xx is delivered; 408, 429 and 5xx are retried (429 honouring
/// `Retry-After`); other answers are permanent failures.
pub async fn classify(result: Result<reqwest::Response, reqwest::Error>) -> Result<(), SendError> {
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            return Err(SendError::Retryable {
                message: format!("request failed: {}", describe(&e)),
                retry_after: None,
            })
        }
    };
    let status = response.status();
    if status.is_success() {
        // Read the body so that a reset mid-response is seen as a failure.
        return match response.bytes().await {
            Ok(_) => Ok(()),
            Err(e) => Err(SendError::Retryable {
                message: format!("response broke off: {}", describe(&e)),
                retry_after: None,
            }),
        };
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()));
    let message = format!("HTTP {status}");
    if status.as_u16() == 408 || status.as_u16() == 429 || status.is_server_error() {
        Err(SendError::Retryable {
            message,
            retry_after,
        })
    } else {
        Err(SendError::Permanent { message })
    }
}

/// An error without its URL (a Slack URL is a secret).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection refused or unreachable"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "transport"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}
