//! Parsers, one module per log family, from raw record bytes into Arrow builders.
//!
//! A parser first decodes the whole record (borrowing from it where it can),
//! and only then appends one row, so a failure never leaves a half-written row.

pub mod apigateway;
pub mod cloudtrail;
mod flat_json;
pub mod lambda;
pub mod time;
pub mod waf;

use serde_json::value::RawValue;
use std::borrow::Cow;

use crate::schema::CommonColumns;

/// What a parser knows about a record besides its bytes: the envelope it came in.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecordContext<'a> {
    /// Log group/stream, S3 key or file path.
    pub source_ref: &'a str,
    /// From the envelope: the subscription payload's `owner`, the S3 key's account.
    pub account_id: Option<&'a str>,
    /// From the envelope, when it says.
    pub region: Option<&'a str>,
    /// The CloudWatch Logs group, when the record came through one.
    pub log_group: Option<&'a str>,
    /// The CloudWatch Logs event id, when the record came through one.
    pub log_event_id: Option<&'a str>,
    /// The envelope's timestamp for this record (CloudWatch Logs event time), ms.
    pub envelope_time_ms: Option<i64>,
    /// The time of ingestion, ms: the last-resort event time.
    pub ingest_time_ms: i64,
    /// The family the envelope or the user says this record is; parsers are
    /// more lenient when told (any text in a Lambda log group is a Lambda log).
    pub family_hint: Option<crate::family::Family>,
}

/// Why a parser did not produce a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The record is well-formed but belongs to another family.
    NotThisFamily,
    /// The record is malformed; `reason` is the dead-letter reason code.
    Invalid {
        reason: &'static str,
        detail: String,
    },
}

impl ParseError {
    pub(crate) fn invalid(reason: &'static str, detail: impl Into<String>) -> Self {
        ParseError::Invalid {
            reason,
            detail: detail.into(),
        }
    }

    pub(crate) fn json(err: serde_json::Error) -> Self {
        let reason = if err.is_eof() {
            "truncated_json"
        } else {
            "invalid_json"
        };
        ParseError::invalid(reason, err.to_string())
    }
}

/// What came of an event: `success`, `failure` or `unknown`; for a request
/// a firewall judged, `allowed`, `blocked` or `challenged`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Unknown,
    Allowed,
    Blocked,
    Challenged,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
            Outcome::Allowed => "allowed",
            Outcome::Blocked => "blocked",
            Outcome::Challenged => "challenged",
        }
    }
}

/// Where a row's `event_time` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    Record,
    Wrapper,
    Envelope,
    Ingest,
}

impl TimeSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TimeSource::Record => "record",
            TimeSource::Wrapper => "wrapper",
            TimeSource::Envelope => "envelope",
            TimeSource::Ingest => "ingest",
        }
    }
}

/// The common columns of one row, before they are appended.
#[derive(Debug, Default)]
pub struct Common<'a> {
    pub event_time: Option<(i64, TimeSource)>,
    pub event_id: Option<Cow<'a, str>>,
    pub account_id: Option<Cow<'a, str>>,
    pub region: Option<Cow<'a, str>>,
    pub src_ip: Option<Cow<'a, str>>,
    pub actor: Option<Cow<'a, str>>,
    pub action: Option<Cow<'a, str>>,
    pub outcome: Option<Outcome>,
}

impl Common<'_> {
    /// Appends the common columns, filling what the record lacks from the envelope.
    pub fn append(&self, cols: &mut CommonColumns, ctx: &RecordContext<'_>, raw: &str) {
        let (time, source) = self
            .event_time
            .or_else(|| ctx.envelope_time_ms.map(|t| (t, TimeSource::Envelope)))
            .unwrap_or((ctx.ingest_time_ms, TimeSource::Ingest));
        cols.event_time.append_value(time);
        cols.time_source.append_value(source.as_str());
        cols.event_id
            .append_option(self.event_id.as_deref().or(ctx.log_event_id));
        cols.account_id
            .append_option(self.account_id.as_deref().or(ctx.account_id));
        cols.region
            .append_option(self.region.as_deref().or(ctx.region));
        cols.src_ip.append_option(self.src_ip.as_deref());
        cols.actor.append_option(self.actor.as_deref());
        cols.action.append_option(self.action.as_deref());
        cols.outcome
            .append_value(self.outcome.unwrap_or(Outcome::Unknown).as_str());
        cols.source_ref.append_value(ctx.source_ref);
        cols.raw.append_value(raw);
    }
}

/// The text of a JSON value: strings unescaped (borrowed when they can be),
/// other values as their JSON text; `null`, `""` and `"-"` (API Gateway's
/// placeholder for a missing value) are `None`.
pub(crate) fn raw_text(v: &RawValue) -> Option<Cow<'_, str>> {
    let text = v.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            let s: Cow<'_, str> = if memchr::memchr(b'\\', text.as_bytes()).is_some() {
                Cow::Owned(serde_json::from_str::<String>(text).ok()?)
            } else {
                Cow::Borrowed(
                    text.get(1..text.len().saturating_sub(1))
                        .unwrap_or_default(),
                )
            };
            present(s)
        }
        Some(b'n') if text == "null" => None,
        _ => Some(Cow::Borrowed(text)),
    }
}

/// A string value unless it is empty or `"-"` (API Gateway's placeholder
/// for a missing value): the rule every reader of values applies.
pub(crate) fn present<S: AsRef<str>>(s: S) -> Option<S> {
    let text = s.as_ref();
    (!text.is_empty() && text != "-").then_some(s)
}

/// JSON strings borrowed from the record. serde's own `Option<Cow<str>>`
/// always allocates (its borrowing applies to a bare `Cow` only): on
/// CloudTrail that was a heap allocation per field per record.
pub(crate) mod text {
    use serde::de::{Deserialize, Deserializer, Error, Visitor};
    use std::borrow::Cow;
    use std::fmt;
    use std::ops::Deref;

    /// A JSON string, borrowed unless it had escapes: the type of the
    /// parsers' text fields (`Option<Text<'a>>`: null or missing is `None`;
    /// a value of another type fails the record, which is dead-lettered).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Text<'a>(pub Cow<'a, str>);

    impl Deref for Text<'_> {
        type Target = str;
        fn deref(&self) -> &str {
            &self.0
        }
    }

    impl<'a> From<Text<'a>> for Cow<'a, str> {
        fn from(text: Text<'a>) -> Cow<'a, str> {
            text.0
        }
    }

    struct TextVisitor;

    impl<'de> Visitor<'de> for TextVisitor {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or null")
        }
        fn visit_borrowed_str<E: Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E: Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(TextVisitor)
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_str(TextVisitor)?
                .map(Text)
                .ok_or_else(|| D::Error::custom("expected a string"))
        }
    }
}

/// Accepts `true`/`false` as JSON booleans or as strings (CloudTrail logs both);
/// anything else is `None` rather than an error.
pub(crate) mod lenient_bool {
    use serde::de::{Deserializer, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    struct LenientBool;

    impl<'de> Visitor<'de> for LenientBool {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean or \"true\"/\"false\"")
        }
        fn visit_bool<E: Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(match v.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            })
        }
        fn visit_i64<E: Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(LenientBool)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_option(LenientBool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_borrows_unless_the_string_has_escapes() {
        #[derive(serde::Deserialize)]
        #[serde(bound(deserialize = "'de: 'a"))]
        struct T<'a> {
            a: Option<text::Text<'a>>,
        }
        let t: T<'_> = serde_json::from_str(r#"{"a":"plain"}"#).unwrap();
        assert!(matches!(t.a, Some(text::Text(Cow::Borrowed("plain")))));
        let t: T<'_> = serde_json::from_str(r#"{"a":"say \"hi\""}"#).unwrap();
        assert!(matches!(t.a.as_ref(), Some(text::Text(Cow::Owned(s))) if s == "say \"hi\""));
        let t: T<'_> = serde_json::from_str(r#"{"a":null}"#).unwrap();
        assert!(t.a.is_none());
        let t: T<'_> = serde_json::from_str("{}").unwrap();
        assert!(t.a.is_none());
        assert!(serde_json::from_str::<T<'_>>(r#"{"a":1}"#).is_err());
    }

    #[test]
    fn raw_text_unescapes_and_drops_placeholders() {
        let v: &RawValue = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(raw_text(v).as_deref(), Some("a\"b"));
        let v: &RawValue = serde_json::from_str(r#""-""#).unwrap();
        assert_eq!(raw_text(v), None);
        let v: &RawValue = serde_json::from_str("401").unwrap();
        assert_eq!(raw_text(v).as_deref(), Some("401"));
        let v: &RawValue = serde_json::from_str("null").unwrap();
        assert_eq!(raw_text(v), None);
    }
}
