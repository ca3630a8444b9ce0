//! A structural JSON scanner over a byte stream: splits top-level values and
//! array elements into byte slices without parsing them, so that a huge
//! `{"Records":[...]}` streams one record at a time and one bad element does
//! not lose its neighbours.

use std::io::{self, BufRead};

/// How a scanned value ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scanned {
    /// The value's full length in bytes (more than was kept if it was cut).
    pub len: u64,
    /// True if the value was longer than the kept limit.
    pub cut: bool,
    /// True if the input ended inside the value.
    pub truncated: bool,
}

/// Reads JSON structure from a buffered reader.
pub struct JsonStream<R> {
    reader: R,
    offset: u64,
}

impl<R: BufRead> JsonStream<R> {
    pub fn new(reader: R) -> Self {
        JsonStream { reader, offset: 0 }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn into_inner(self) -> R {
        self.reader
    }

    fn consume(&mut self, n: usize) {
        self.reader.consume(n);
        self.offset += n as u64;
    }

    /// Skips whitespace; returns the next byte (not consumed) and whether a
    /// newline was skipped on the way.
    pub fn peek_non_ws(&mut self) -> io::Result<(Option<u8>, bool)> {
        let mut newline = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok((None, newline));
            }
            match buf.iter().position(|c| !c.is_ascii_whitespace()) {
                Some(i) => {
                    let (skipped, rest) = buf.split_at(i);
                    newline |= skipped.contains(&b'\n');
                    let c = rest.first().copied();
                    self.consume(i);
                    return Ok((c, newline));
                }
                None => {
                    let n = buf.len();
                    newline |= buf.contains(&b'\n');
                    self.consume(n);
                }
            }
        }
    }

    /// Consumes one byte (after a peek).
    pub fn skip_byte(&mut self) {
        self.consume(1);
    }

    /// Reads one JSON value (object, array, string or scalar) starting at the
    /// next non-whitespace byte, appending at most `max` bytes of it to `out`.
    pub fn read_value(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Scanned> {
        let (first, _) = self.peek_non_ws()?;
        match first {
            None => Ok(Scanned {
                len: 0,
                cut: false,
                truncated: true,
            }),
            Some(b'{' | b'[' | b'"') => self.scan(out, max, 0, false),
            Some(_) => self.read_scalar(out, max),
        }
    }

    /// Continues scanning a value whose opening bytes were already consumed,
    /// at nesting `depth` (used after reading an object's first key).
    pub fn continue_value(
        &mut self,
        out: &mut Vec<u8>,
        max: usize,
        depth: u32,
    ) -> io::Result<Scanned> {
        self.scan(out, max, depth, false)
    }

    // The scanner's loop indexes `buf` only below `i < buf.len()` (its
    // condition) or at positions memchr found in it, and slices it at most
    // to `i`; `get` on each byte would cost this hottest loop for nothing.
    #[expect(
        clippy::indexing_slicing,
        reason = "indices bounded by the loop condition or memchr"
    )]
    fn scan(
        &mut self,
        out: &mut Vec<u8>,
        max: usize,
        mut depth: u32,
        mut in_str: bool,
    ) -> io::Result<Scanned> {
        let start_len = out.len();
        let mut len = 0u64;
        let mut escaped = false;
        let mut cut = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(Scanned {
                    len,
                    cut,
                    truncated: true,
                });
            }
            let mut i = 0;
            let mut done = false;
            while i < buf.len() {
                if in_str {
                    if escaped {
                        escaped = false;
                        i += 1;
                        continue;
                    }
                    match memchr::memchr2(b'"', b'\\', &buf[i..]) {
                        None => {
                            i = buf.len();
                            continue;
                        }
                        Some(p) => {
                            i += p;
                            if buf[i] == b'\\' {
                                escaped = true;
                            } else {
                                in_str = false;
                                if depth == 0 {
                                    i += 1;
                                    done = true;
                                    break;
                                }
                            }
                            i += 1;
                            continue;
                        }
                    }
                }
                match buf[i] {
                    b'"' => in_str = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            i += 1;
                            done = true;
                            break;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            let room = max.saturating_sub(out.len() - start_len);
            if room >= i {
                out.extend_from_slice(&buf[..i]);
            } else {
                out.extend_from_slice(&buf[..room]);
                cut = true;
            }
            len += i as u64;
            self.consume(i);
            if done {
                return Ok(Scanned {
                    len,
                    cut,
                    truncated: false,
                });
            }
        }
    }

    fn read_scalar(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Scanned> {
        let start_len = out.len();
        let mut len = 0u64;
        let mut cut = false;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(Scanned {
                    len,
                    cut,
                    truncated: false,
                });
            }
            let end = buf.iter().position(|c| {
                matches!(c, b',' | b']' | b'}' | b'{' | b'[') || c.is_ascii_whitespace()
            });
            // A stray delimiter where a value should start is taken as a
            // one-byte value, so that the caller always makes progress.
            let end = end.map(|e| if e == 0 && len == 0 { 1 } else { e });
            let n = end.unwrap_or(buf.len());
            let room = max.saturating_sub(out.len() - start_len);
            out.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            cut |= n > room;
            len += n as u64;
            self.consume(n);
            if end.is_some() {
                return Ok(Scanned {
                    len,
                    cut,
                    truncated: false,
                });
            }
        }
    }

    /// Reads a JSON string token (with its quotes) into `out`; the caller has
    /// peeked `"`. Keys are short: `max` bounds them.
    pub fn read_string(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Scanned> {
        self.scan(out, max, 0, false)
    }

    /// Reads the rest of the current line, keeping at most `max` bytes of it
    /// in `out` (without the line break). Returns the line's full length
    /// without its line break (`\n` or `\r\n`), or `None` at the end of input.
    pub fn read_line(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<Option<u64>> {
        let start_len = out.len();
        let mut len = 0u64;
        let mut last = 0u8;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok((len > 0).then_some(len));
            }
            let (n, done) = match memchr::memchr(b'\n', buf) {
                Some(p) => (p, true),
                None => (buf.len(), false),
            };
            let room = max.saturating_sub(out.len() - start_len);
            out.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
            if let Some(&byte) = n.checked_sub(1).and_then(|k| buf.get(k)) {
                last = byte;
            }
            len += n as u64;
            self.consume(n + done as usize);
            if done {
                if last == b'\r' {
                    len -= 1;
                    if out.len() - start_len > len as usize {
                        out.pop();
                    }
                }
                return Ok(Some(len));
            }
        }
    }
}

/// The first key of a JSON object held in memory, if the bytes start with one.
pub fn first_key(bytes: &[u8]) -> Option<&str> {
    let s = crate::family::trim_ascii_start(bytes);
    let s = crate::family::trim_ascii_start(s.strip_prefix(b"{")?);
    let s = s.strip_prefix(b"\"")?;
    let end = memchr::memchr2(b'"', b'\\', s)?;
    let (key, rest) = s.split_at(end);
    if rest.first() != Some(&b'"') {
        return None;
    }
    std::str::from_utf8(key).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(input: &str) -> Vec<String> {
        let mut js = JsonStream::new(input.as_bytes());
        assert_eq!(js.peek_non_ws().unwrap().0, Some(b'['));
        js.skip_byte();
        let mut out = Vec::new();
        loop {
            match js.peek_non_ws().unwrap().0 {
                Some(b']') | None => break,
                Some(b',') => js.skip_byte(),
                Some(_) => {
                    let mut v = Vec::new();
                    let s = js.read_value(&mut v, 1 << 20).unwrap();
                    assert!(!s.truncated);
                    out.push(String::from_utf8(v).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn splits_elements_with_tricky_strings() {
        let got = elements(r#"[ {"a":"}]\"{"}, {"b":[1,{"c":2}]} ,"x\\",  42, true ]"#);
        assert_eq!(
            got,
            vec![
                r#"{"a":"}]\"{"}"#,
                r#"{"b":[1,{"c":2}]}"#,
                r#""x\\""#,
                "42",
                "true"
            ]
        );
    }

    #[test]
    fn stray_delimiters_make_progress() {
        assert_eq!(elements(r#"[}, :"x"}]"#), vec!["}", r#":"x""#, "}"]);
    }

    #[test]
    fn tolerates_a_missing_comma() {
        assert_eq!(
            elements(r#"[{"a":1}{"b":2}]"#),
            vec![r#"{"a":1}"#, r#"{"b":2}"#]
        );
    }

    #[test]
    fn cuts_long_values_but_reports_their_length() {
        let input = format!(r#"{{"k":"{}"}}"#, "x".repeat(1000));
        let mut js = JsonStream::new(input.as_bytes());
        let mut v = Vec::new();
        let s = js.read_value(&mut v, 10).unwrap();
        assert!(s.cut && !s.truncated);
        assert_eq!(s.len, input.len() as u64);
        assert_eq!(v.len(), 10);
    }

    #[test]
    fn reports_truncation() {
        let mut js = JsonStream::new(&b"{\"a\": [1, 2"[..]);
        let mut v = Vec::new();
        assert!(js.read_value(&mut v, 100).unwrap().truncated);
    }

    #[test]
    fn first_keys() {
        assert_eq!(first_key(b" {\n \"Records\": []}"), Some("Records"));
        assert_eq!(first_key(b"[1]"), None);
        assert_eq!(first_key(b"{}"), None);
    }
}
