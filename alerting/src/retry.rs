//! The one retry policy of every destination: exponential backoff with full
//! jitter, a bounded number of attempts, a total deadline, and `Retry-After`.

use std::time::Duration;

/// How a failed attempt should be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth another attempt (timeouts, connection errors, 408, 429, 5xx);
    /// the server may say when.
    Retryable {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Will fail again (other 4xx, bad configuration).
    Permanent { message: String },
}

impl SendError {
    pub fn message(&self) -> &str {
        match self {
            SendError::Retryable { message, .. } | SendError::Permanent { message } => message,
        }
    }
}

/// Attempts, backoff and deadline.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    pub deadline: Duration,
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (after `attempt` failures, 1-based):
    /// uniformly random in `[0, min(max, base * 2^(attempt-1))]`, but never
    /// shorter than what the server asked for.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max_backoff);
        let jittered = Duration::from_nanos(fastrand::u64(
            0..=exp.as_nanos().min(u64::MAX as u128) as u64,
        ));
        match retry_after {
            Some(after) => jittered.max(after),
            None => jittered,
        }
    }
}

/// Parses `Retry-After`: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    (at.with_timezone(&chrono::Utc) - now).to_std().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            deadline: Duration::from_secs(10),
        }
    }

    #[test]
    fn backoff_is_jittered_below_an_exponential_cap() {
        let p = policy();
        for attempt in 1..10 {
            let cap = Duration::from_millis(100 * (1 << (attempt - 1))).min(Duration::from_secs(1));
            for _ in 0..100 {
                assert!(p.backoff(attempt, None) <= cap);
            }
        }
        // Full jitter: not always the cap.
        assert!((0..100).any(|_| p.backoff(4, None) < Duration::from_millis(400)));
    }

    #[test]
    fn retry_after_is_honoured() {
        assert!(policy().backoff(1, Some(Duration::from_secs(3))) >= Duration::from_secs(3));
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
