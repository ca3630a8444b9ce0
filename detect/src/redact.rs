//! Removes secrets (Authorization, cookies, tokens, passwords, keys) from sample events.

use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

/// What a removed secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Is this JSON key one whose value is a secret?
fn sensitive_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const EXACT: [&str; 12] = [
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "cookies",
        "secretaccesskey",
        "secretstring",
        "secretbinary",
        "privatekey",
        "apikey",
        "xapikey",
        "credentials",
    ];
    EXACT.contains(&k.as_str())
        || k.ends_with("token")
        || k.ends_with("password")
        || k.ends_with("passwd")
        || k.ends_with("secret")
}

fn text_patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            // Authorization: Bearer xyz / Basic xyz / AWS4-HMAC-SHA256 Credential=...
            (
                r#"(?i)\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:bearer |basic |aws4-hmac-sha256 )?[^"'\r\n]+"#,
                "${1}[REDACTED]",
            ),
            // Cookie headers carry sessions.
            (r#"(?i)\b((?:set-)?cookie["']?\s*[:=]\s*["']?)[^"'\r\n]+"#, "${1}[REDACTED]"),
            // key=value and key: value pairs (query strings, log lines, form bodies).
            (
                r#"(?i)\b([a-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key[_-]?secret)["']?\s*[:=]\s*["']?)[^\s"'&,;}]+"#,
                "${1}[REDACTED]",
            ),
            // Bare JWTs.
            (r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*", "[REDACTED]"),
        ]
        .into_iter()
        .map(|(p, r)| (Regex::new(p).expect("valid redaction pattern"), r))
        .collect()
    })
}

/// Redacts secrets in free text.
pub fn redact_text(text: &str) -> String {
    let mut out = text.to_string();
    for (re, replacement) in text_patterns() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *replacement).into_owned();
        }
    }
    out
}

fn redact_value(value: &mut Value) {
    match value {
        // A header as a name/value pair (WAF's `httpRequest.headers`).
        Value::Object(map)
            if map
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(sensitive_key)
                && map.get("value").is_some_and(|v| !v.is_null()) =>
        {
            map.insert("value".into(), Value::String(REDACTED.into()));
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if sensitive_key(k) && !v.is_null() {
                    *v = Value::String(REDACTED.into());
                } else {
                    redact_value(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(s) => {
            let r = redact_text(s);
            if r != *s {
                *s = r;
            }
        }
        _ => {}
    }
}

/// Redacts a sample event: JSON by key (and by pattern inside string values),
/// anything else by pattern.
pub fn redact(sample: &str) -> String {
    let trimmed = sample.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(mut value) = serde_json::from_str::<Value>(sample) {
            redact_value(&mut value);
            return value.to_string();
        }
    }
    redact_text(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_secrets_are_redacted_by_key() {
        let out = redact(
            r#"{"headers":{"Authorization":"Bearer abc.def","Cookie":"sid=42"},"requestParameters":{"password":"hunter2","userName":"bob"},"credentials":{"sessionToken":"IQo"},"x":null}"#,
        );
        for secret in ["abc.def", "sid=42", "hunter2", "IQo"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("\"userName\":\"bob\""), "{out}");
        assert!(out.contains("\"x\":null"), "{out}");
    }

    #[test]
    fn headers_logged_as_name_value_pairs_are_redacted_by_name() {
        let out = redact(
            r#"{"httpRequest":{"headers":[{"name":"Authorization","value":"Basic dXNlcjpwYXNz"},{"name":"cookie","value":"sid=42"},{"name":"X-Api-Key","value":"K9"},{"name":"User-Agent","value":"curl/8"}]}}"#,
        );
        for secret in ["dXNlcjpwYXNz", "sid=42", "K9"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("curl/8"), "{out}");
    }

    #[test]
    fn text_secrets_are_redacted_by_pattern() {
        let out = redact("GET /login?user=bob&password=hunter2&api_key=K1 Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig");
        for secret in ["hunter2", "K1", "eyJhbGciOi"] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("user=bob"), "{out}");
    }

    #[test]
    fn secrets_inside_json_strings_are_redacted() {
        let out = redact(r#"{"path":"/prod/login?token=s3cr3t&x=1"}"#);
        assert!(!out.contains("s3cr3t") && out.contains("x=1"), "{out}");
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        let line = "REPORT RequestId: 1 Duration: 3.00 ms";
        assert_eq!(redact(line), line);
    }
}
