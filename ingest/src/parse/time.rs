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
    if let Some(ms) = fast_rfc3339_ms(s.as_bytes()) {
        return Some(ms);
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

/// The common shapes: `YYYY-MM-DD(T| )hh:mm:ss[.fff…](Z|±hh:mm)`.
fn fast_rfc3339_ms(b: &[u8]) -> Option<i64> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T' | b' ', h0, h1, b':', i0, i1, b':', s0, s1, rest @ ..] =
        b
    else {
        return None;
    };
    let (y, mo, d) = (
        digits(&[*y0, *y1, *y2, *y3])?,
        digits(&[*m0, *m1])?,
        digits(&[*d0, *d1])?,
    );
    let (h, mi, sec) = (
        digits(&[*h0, *h1])?,
        digits(&[*i0, *i1])?,
        digits(&[*s0, *s1])?,
    );
    if !((1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && sec <= 60) {
        return None;
    }
    let (millis, zone) = match rest {
        [b'.', fraction @ ..] => {
            let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let (digits_in, zone) = fraction.split_at(n);
            // Milliseconds: the first three digits, padded with zeros.
            let millis = digits_in
                .iter()
                .chain(std::iter::repeat(&b'0'))
                .take(3)
                .fold(0u32, |ms, c| ms * 10 + u32::from(c - b'0'));
            (millis, zone)
        }
        zone => (0, zone),
    };
    let offset_secs: i64 = match zone {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2] => {
            let hh = i64::from(digits(&[*hh1, *hh2])?);
            let mm = i64::from(digits(&[*mm1, *mm2])?);
            let off = hh * 3600 + mm * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset_secs;
    Some(secs * 1000 + i64::from(millis))
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
