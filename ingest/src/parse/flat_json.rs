//! A reader of flat JSON objects, the usual shape of an access log: members
//! whose values are strings without escapes, numbers, `true`, `false` or
//! `null`. It reads such a line in one pass; anything else (an escape, a
//! nested value, malformed text) it declines, and serde_json reads the line.
//!
//! Why: serde_json's per-value machinery (a `RawValue` per member, a key
//! deserialised through a visitor) cost about as many instructions as the
//! rest of API Gateway ingest together, on lines that are all flat.

/// A member's value, as the object's text spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlatValue<'a> {
    /// A string's contents (without its quotes; it had no escapes).
    Str(&'a str),
    /// A number, `true` or `false`, as written.
    Literal(&'a str),
    Null,
}

impl<'a> FlatValue<'a> {
    /// The value's text as [`super::raw_text`] gives it: `null`, `""` and
    /// `"-"` (API Gateway's placeholder for a missing value) are `None`.
    pub(crate) fn text(self) -> Option<&'a str> {
        match self {
            FlatValue::Str(s) => super::present(s),
            FlatValue::Literal(t) => Some(t),
            FlatValue::Null => None,
        }
    }
}

/// Calls `member` with each member of the JSON object `text`, in order, or
/// returns `None` at the first thing this reader declines (then some
/// members may have been passed already). When it returns `Some`, `text`
/// is a valid JSON object (with nothing but whitespace after it) and
/// `member` saw every member of it.
pub(crate) fn for_each_member<'a>(
    text: &'a str,
    mut member: impl FnMut(&'a str, FlatValue<'a>),
) -> Option<()> {
    let bytes = text.as_bytes();
    let mut at = skip_whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return only_whitespace_after(bytes, at + 1);
    }
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (key, after_key) = string(text, at + 1)?;
        at = skip_whitespace(bytes, after_key);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_whitespace(bytes, at + 1);
        let (value, after_value) = match bytes.get(at)? {
            b'"' => {
                let (s, end) = string(text, at + 1)?;
                (FlatValue::Str(s), end)
            }
            b'n' => (FlatValue::Null, literal(bytes, at, b"null")?),
            b't' => {
                let end = literal(bytes, at, b"true")?;
                (FlatValue::Literal(text.get(at..end)?), end)
            }
            b'f' => {
                let end = literal(bytes, at, b"false")?;
                (FlatValue::Literal(text.get(at..end)?), end)
            }
            b'-' | b'0'..=b'9' => {
                let end = number(bytes, at)?;
                (FlatValue::Literal(text.get(at..end)?), end)
            }
            _ => return None,
        };
        member(key, value);
        at = skip_whitespace(bytes, after_value);
        match bytes.get(at)? {
            b',' => at = skip_whitespace(bytes, at + 1),
            b'}' => return only_whitespace_after(bytes, at + 1),
            _ => return None,
        }
    }
}

/// JSON's whitespace: space, tab, line feed, carriage return.
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

fn only_whitespace_after(bytes: &[u8], at: usize) -> Option<()> {
    (skip_whitespace(bytes, at) == bytes.len()).then_some(())
}

/// The contents of the string whose first content byte is at `start`, and
/// the index after its closing quote; `None` on an escape, a control
/// character (invalid in JSON) or no closing quote.
fn string(text: &str, start: usize) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    let rest = bytes.get(start..)?;
    let len = rest
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    if rest.get(len) != Some(&b'"') {
        return None;
    }
    // Both ends are at ASCII bytes, so on character boundaries.
    Some((text.get(start..start + len)?, start + len + 1))
}

/// The index after `word` if the text at `at` spells it.
fn literal(bytes: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    bytes
        .get(at..at + word.len())
        .is_some_and(|w| w == word)
        .then_some(at + word.len())
}

/// The index after the JSON number at `at`:
/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number(bytes: &[u8], mut at: usize) -> Option<usize> {
    let digits = |from: usize| -> usize {
        bytes
            .get(from..)
            .and_then(|rest| rest.iter().position(|b| !b.is_ascii_digit()))
            .map_or(bytes.len(), |n| from + n)
    };
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    match bytes.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits(at),
        _ => return None,
    }
    if bytes.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Option<Vec<(&str, FlatValue<'_>)>> {
        let mut out = Vec::new();
        for_each_member(text, |k, v| out.push((k, v)))?;
        Some(out)
    }

    #[test]
    fn reads_strings_numbers_literals_and_whitespace() {
        let got = members(
            " { \"a\" : \"x y\",\"b\":-12.5e+3,\t\"c\":true,\"d\":false,\"e\":null,\"f\":0 }\r\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                ("a", FlatValue::Str("x y")),
                ("b", FlatValue::Literal("-12.5e+3")),
                ("c", FlatValue::Literal("true")),
                ("d", FlatValue::Literal("false")),
                ("e", FlatValue::Null),
                ("f", FlatValue::Literal("0")),
            ]
        );
        assert_eq!(members("{}"), Some(vec![]));
        assert_eq!(
            members("{\"é\":\"ü\"}"),
            Some(vec![("é", FlatValue::Str("ü"))])
        );
    }

    #[test]
    fn declines_what_is_not_a_flat_valid_object() {
        for text in [
            r#"{"a":"x\"y"}"#,
            r#"{"a\u0041":1}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":1e}"#,
            r#"{"a":-}"#,
            r#"{"a":tru}"#,
            r#"{"a":nul}"#,
            r#"{"a":truex}"#,
            r#"{"a":1,}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":1} x"#,
            r#"{"a":1}}"#,
            r#"{"a":"open"#,
            r#"{"a":1"#,
            "{",
            "",
            "[1]",
        ] {
            assert_eq!(members(text), None, "{text}");
        }
    }
}
