//! Sigma values and the string patterns they become: wildcards, escapes,
//! and the modifiers that rewrite a value before it is matched.

use base64::Engine;

/// A value as written in a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Integer(i64),
    /// A number with a fraction, kept as written.
    Real(String),
    Boolean(bool),
    Null,
}

impl Value {
    /// The value as text, as a number or boolean reads in a log record.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Text(s) | Value::Real(s) => Some(s.clone()),
            Value::Integer(i) => Some(i.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            Value::Null => None,
        }
    }

    /// The value as a number, for `gt`/`gte`/`lt`/`lte`.
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::Integer(i) => Some(*i as f64),
            Value::Real(s) | Value::Text(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// One piece of a string pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Literal(String),
    /// `*`: any run of characters.
    AnyRun,
    /// `?`: any one character.
    AnyOne,
}

/// A string pattern: literals and wildcards, matched against a whole value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pattern {
    pub pieces: Vec<Piece>,
}

impl Pattern {
    /// Reads Sigma's wildcards: `*` and `?`, with `\*`, `\?` and `\\` for
    /// the characters themselves; any other backslash is a backslash.
    pub fn parse(text: &str) -> Pattern {
        let mut p = Pattern::default();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&next @ ('*' | '?' | '\\')) => {
                        chars.next();
                        p.push_char(next);
                    }
                    _ => p.push_char('\\'),
                },
                '*' => p.pieces.push(Piece::AnyRun),
                '?' => p.pieces.push(Piece::AnyOne),
                c => p.push_char(c),
            }
        }
        p
    }

    /// A pattern matching exactly `text` (no wildcards).
    pub fn literal(text: &str) -> Pattern {
        let mut p = Pattern::default();
        if !text.is_empty() {
            p.pieces.push(Piece::Literal(text.to_string()));
        }
        p
    }

    fn push_char(&mut self, c: char) {
        if let Some(Piece::Literal(s)) = self.pieces.last_mut() {
            s.push(c);
        } else {
            self.pieces.push(Piece::Literal(c.to_string()));
        }
    }

    pub fn has_wildcards(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Literal(_)))
    }

    /// The literal text, when the pattern has no wildcards.
    pub fn as_literal(&self) -> Option<String> {
        if self.has_wildcards() {
            return None;
        }
        Some(
            self.pieces
                .iter()
                .map(|p| match p {
                    Piece::Literal(s) => s.as_str(),
                    _ => "",
                })
                .collect(),
        )
    }

    pub fn starting_anywhere(mut self) -> Pattern {
        if self.pieces.first() != Some(&Piece::AnyRun) {
            self.pieces.insert(0, Piece::AnyRun);
        }
        self
    }

    pub fn ending_anywhere(mut self) -> Pattern {
        if self.pieces.last() != Some(&Piece::AnyRun) {
            self.pieces.push(Piece::AnyRun);
        }
        self
    }

    /// A SQL LIKE pattern (backslash escapes), for ILIKE or LIKE.
    pub fn to_like(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::AnyRun => out.push('%'),
                Piece::AnyOne => out.push('_'),
                Piece::Literal(s) => {
                    for c in s.chars() {
                        if matches!(c, '%' | '_' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
            }
        }
        out
    }

    /// An anchored regular expression matching what the pattern matches.
    pub fn to_regex(&self, cased: bool) -> String {
        let mut out = String::from(if cased { "(?s)^" } else { "(?is)^" });
        for p in &self.pieces {
            match p {
                Piece::AnyRun => out.push_str(".*"),
                Piece::AnyOne => out.push('.'),
                Piece::Literal(s) => out.push_str(&regex_escape(s)),
            }
        }
        out.push('$');
        out
    }
}

/// Escapes every character a regular expression gives a meaning to.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) || c.is_whitespace() && c != ' ' {
            if c.is_whitespace() {
                out.push_str(&format!("\\x{{{:x}}}", c as u32));
                continue;
            }
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `base64`: the value's Base64 text (a value with wildcards cannot be encoded).
pub fn base64_of(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// `base64offset`: the three texts the value can appear as inside a longer
/// Base64 string, whatever its offset (without the characters that depend on
/// its neighbours), as pySigma computes them.
pub fn base64_offsets(text: &str) -> Vec<String> {
    // (bytes of padding before the text, characters that encode the padding)
    const OFFSETS: [(usize, usize); 3] = [(0, 0), (1, 2), (2, 3)];
    OFFSETS
        .iter()
        .map(|&(padding, start)| {
            let mut padded = vec![b' '; padding];
            padded.extend_from_slice(text.as_bytes());
            let encoded = base64::engine::general_purpose::STANDARD.encode(&padded);
            // The last characters also encode the bytes after the text.
            let cut = match padded.len() % 3 {
                0 => 0,
                1 => 3,
                _ => 2,
            };
            let end = encoded.len().saturating_sub(cut);
            encoded.get(start..end).unwrap_or("").to_string()
        })
        .collect()
}

/// `windash`: every way of writing the value's option dashes (`-`, `/`, and
/// the en, em and horizontal-bar dashes), as pySigma expands them: a dash or
/// slash that begins a word, not one inside it.
pub fn windash_variants(pattern: &Pattern) -> Vec<Pattern> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let mut out = vec![Pattern::default()];
    let mut previous: Option<char> = None;
    for (pi, piece) in pattern.pieces.iter().enumerate() {
        match piece {
            Piece::Literal(s) => {
                let chars: Vec<char> = s.chars().collect();
                for (i, &c) in chars.iter().enumerate() {
                    let next = chars.get(i.saturating_add(1)).copied().or_else(|| {
                        match pattern.pieces.get(pi.saturating_add(1)) {
                            Some(Piece::Literal(n)) => n.chars().next(),
                            _ => None,
                        }
                    });
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    let starts_word = (c == '-' || c == '/') && !word(previous) && word(next);
                    if starts_word && out.len().saturating_mul(DASHES.len()) <= 4096 {
                        out = out
                            .into_iter()
                            .flat_map(|p| {
                                DASHES.iter().map(move |d| {
                                    let mut p = p.clone();
                                    p.push_char(*d);
                                    p
                                })
                            })
                            .collect();
                    } else {
                        for p in &mut out {
                            p.push_char(c);
                        }
                    }
                    previous = Some(c);
                }
            }
            other => {
                for p in &mut out {
                    p.pieces.push(other.clone());
                }
                previous = None;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        let p = Pattern::parse(r"a*b?c\*d\?e\\f\g");
        assert_eq!(p.to_like(), r"a%b_c*d?e\\f\\g");
        assert_eq!(p.to_regex(false), r"(?is)^a.*b.c\*d\?e\\f\\g$");
    }

    #[test]
    fn like_escapes_its_own_wildcards() {
        assert_eq!(Pattern::parse("50%_off").to_like(), r"50\%\_off");
    }

    #[test]
    fn base64_offsets_match_pysigma() {
        // pySigma: SigmaBase64OffsetModifier on "/bin/bash"
        assert_eq!(
            base64_offsets("/bin/bash"),
            vec!["L2Jpbi9iYXNo", "9iaW4vYmFza", "vYmluL2Jhc2"]
        );
    }

    #[test]
    fn windash_expands_option_dashes_only() {
        let v = windash_variants(&Pattern::parse("-enc x-y"));
        assert_eq!(v.len(), 5);
        assert!(v
            .iter()
            .any(|p| p.as_literal().as_deref() == Some("/enc x-y")));
    }
}
