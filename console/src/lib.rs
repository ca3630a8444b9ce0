//! Vigil's console: `vigil serve`, web pages over the lake (local or S3) to
//! triage findings, watch the pipeline's health, run hunts and see the rules'
//! ATT&CK coverage; and `vigil report`, the overview and findings as one
//! self-contained HTML file.
//!
//! Pages are rendered on the server from templates compiled into the binary
//! (no script at all; charts are SVG made here). Every value from a log
//! record is escaped. Sign-in: a token, a one-time login link, session
//! cookies, CSRF tokens on every change (see [`auth`]).

#![forbid(unsafe_code)]

pub mod auth;
pub mod chart;
pub mod data;
pub mod error;
pub mod jobs;
pub mod report;
pub mod server;
pub mod templates;
pub mod triage;
pub mod views;

pub use error::ConsoleError;
pub use server::{router, Console};

/// An instant from a page or form: RFC 3339, a date (`2025-11-24`, midnight
/// UTC), or a duration ago (`24h`).
pub fn time_arg(s: &str, now_ms: i64) -> Result<i64, ConsoleError> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(t.and_utc().timestamp_millis());
    }
    humantime_ago(s, now_ms).ok_or_else(|| {
        ConsoleError::BadRequest(format!(
            "{:?} is not a time (RFC 3339, YYYY-MM-DD, or a duration ago such as 24h)",
            triage::truncate(s, 80)
        ))
    })
}

/// `30m`, `24h`, `7d` ago.
fn humantime_ago(s: &str, now_ms: i64) -> Option<i64> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = n.parse().ok()?;
    let ms = match unit.trim() {
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return None,
    };
    Some(now_ms - n.checked_mul(ms)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_as_people_write_them() {
        let now = 10 * 86_400_000;
        assert_eq!(time_arg("1970-01-02", now).unwrap(), 86_400_000);
        assert_eq!(time_arg("1970-01-02T00:00:01Z", now).unwrap(), 86_401_000);
        assert_eq!(time_arg("1970-01-02 00:00:01", now).unwrap(), 86_401_000);
        assert_eq!(time_arg("2d", now).unwrap(), 8 * 86_400_000);
        assert!(time_arg("yesterday", now).is_err());
        assert!(time_arg("99999999999999999d", now).is_err());
    }
}
