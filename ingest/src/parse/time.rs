//! Timestamp parsing for the formats AWS logs use, into UTC milliseconds.

use chrono::{DateTime, NaiveDateTime};

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// Parses RFC 3339 / ISO 8601 timestamps as CloudTrail and Lambda write them
/// (`2024-07-30T12:00:00Z`, with or without fractional seconds, `Z` or an
/// offset, `T` or a space). A fast path handles the common shapes; anything
/// else goes through chrono.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && b[13] == b':'
        && b[16] == b':'
    {
        let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
        let (h, mi, sec) = (
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
        if (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && sec <= 60 {
            let mut i = 19;
            let mut millis = 0u32;
            if b[i] == b'.' {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    if i - start < 3 {
                        millis = millis * 10 + (b[i] - b'0') as u32;
                    }
                    i += 1;
                }
                let n = i - start;
                if n == 0 {
                    return None;
                }
                for _ in n..3 {
                    millis *= 10;
                }
            }
            let offset_secs: Option<i64> = match &b[i..] {
                b"Z" | b"z" => Some(0),
                [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] => {
                    let hh = digits(&[*hh1, *hh2])? as i64;
                    let mm = digits(&[*mm1, *mm2])? as i64;
                    let off = hh * 3600 + mm * 60;
                    Some(if *sign == b'-' { -off } else { off })
                }
                _ => None,
            };
            if let Some(off) = offset_secs {
                let days = days_from_civil(y as i64, mo, d);
                let secs = days * 86_400 + (h * 3600 + mi * 60 + sec) as i64 - off;
                return Some(secs * 1000 + millis as i64);
            }
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    None
}

/// Parses the Common Log Format time API Gateway writes for
/// `$context.requestTime`: `25/Nov/2026:10:00:00 +0000`.
pub fn parse_clf_ms(s: &str) -> Option<i64> {
    DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|dt| dt.timestamp_millis())
}

/// Parses an epoch number in seconds or milliseconds (told apart by size).
pub fn parse_epoch_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    // Integers (API Gateway's `requestTimeEpoch`) skip the float parser.
    if let Ok(v) = s.parse::<i64>() {
        return (v > 0).then_some(if v < 100_000_000_000 { v * 1000 } else { v });
    }
    let v: f64 = s.parse().ok()?;
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    Some(if v < 1e11 {
        (v * 1000.0) as i64
    } else {
        v as i64
    })
}

/// Any of the above.
pub fn parse_any_ms(s: &str) -> Option<i64> {
    parse_rfc3339_ms(s)
        .or_else(|| parse_clf_ms(s))
        .or_else(|| parse_epoch_ms(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_shapes() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339_ms("2020-09-17T16:44:11Z"),
            Some(1_600_361_051_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2019-01-03T20:52:04.782Z"),
            Some(1_546_548_724_782)
        );
        assert_eq!(
            parse_rfc3339_ms("2019-01-03T20:52:04.7Z"),
            Some(1_546_548_724_700)
        );
        assert_eq!(
            parse_rfc3339_ms("2019-01-03T20:52:04.123456Z"),
            Some(1_546_548_724_123)
        );
        assert_eq!(
            parse_rfc3339_ms("2019-01-03T21:52:04+01:00"),
            Some(1_546_548_724_000)
        );
        assert_eq!(
            parse_rfc3339_ms("2019-01-03 20:52:04"),
            Some(1_546_548_724_000)
        );
        assert_eq!(parse_rfc3339_ms("2025-10-21TT00:52:27Z"), None);
        assert_eq!(parse_rfc3339_ms("not a time"), None);
        // The fast path agrees with chrono on a leap day.
        assert_eq!(
            parse_rfc3339_ms("2024-02-29T23:59:59.999Z"),
            Some(
                DateTime::parse_from_rfc3339("2024-02-29T23:59:59.999Z")
                    .unwrap()
                    .timestamp_millis()
            )
        );
    }

    #[test]
    fn clf_and_epoch() {
        assert_eq!(
            parse_clf_ms("03/Jan/2019:20:52:04 +0000"),
            Some(1_546_548_724_000)
        );
        assert_eq!(parse_epoch_ms("1546548724"), Some(1_546_548_724_000));
        assert_eq!(parse_epoch_ms("1546548724782"), Some(1_546_548_724_782));
        assert_eq!(
            parse_any_ms("03/Jan/2019:20:52:04 +0000"),
            Some(1_546_548_724_000)
        );
    }
}
