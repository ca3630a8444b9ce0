//! The condition language: selection names, `and`, `or`, `not`,
//! parentheses, `1 of X*`, `all of X*`, `1 of them`, `all of them`.

use crate::error::Problem;

/// A parsed condition, selections resolved to their names.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Selection(String),
    Not(Box<Condition>),
    And(Vec<Condition>),
    Or(Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Open,
    Close,
}

fn tokenize(text: &str) -> Result<Vec<Token>, Problem> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            tokens.push(Token::Word(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        match c {
            '(' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Open);
            }
            ')' => {
                flush(&mut word, &mut tokens);
                tokens.push(Token::Close);
            }
            '|' => {
                return Err(format!(
                    "the condition {text:?} has an aggregation (`|`) Vigil does not read: write it as a Sigma correlation rule"
                ))
            }
            c if c.is_whitespace() => flush(&mut word, &mut tokens),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut tokens);
    Ok(tokens)
}

/// Parses `text` against the selection names (in the order written).
pub fn parse_condition(text: &str, names: &[String]) -> Result<Condition, Problem> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
        names,
        text,
    };
    let c = parser.or()?;
    if parser.at != parser.tokens.len() {
        return Err(format!(
            "the condition {text:?} has something left after position {}",
            parser.at
        ));
    }
    Ok(c)
}

/// How deep parentheses and `not`s may nest in a condition: the parser
/// recurses once per level, and no real rule nests more than a few.
pub const MOST_NESTING: usize = 32;

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    /// Parentheses and `not`s open around the token at `at`.
    depth: usize,
    names: &'a [String],
    text: &'a str,
}

impl Parser<'_> {
    /// Moves past the token at `at`.
    #[expect(
        clippy::arithmetic_side_effects,
        reason = "`at` counts tokens of a Vec in memory, far below usize::MAX"
    )]
    fn advance(&mut self) {
        self.at += 1;
    }

    /// Opens one more level of nesting, refusing the one past the limit.
    fn nest(&mut self) -> Result<(), Problem> {
        if self.depth >= MOST_NESTING {
            return Err(format!(
                "the condition {:?} nests more than {MOST_NESTING} levels deep",
                self.text
            ));
        }
        self.depth = self.depth.saturating_add(1);
        Ok(())
    }

    fn unnest(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.at) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn or(&mut self) -> Result<Condition, Problem> {
        let mut terms = vec![self.and()?];
        while self.peek_word().as_deref() == Some("or") {
            self.advance();
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Condition::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Condition, Problem> {
        let mut terms = vec![self.not()?];
        while self.peek_word().as_deref() == Some("and") {
            self.advance();
            terms.push(self.not()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Condition::And(terms)
        })
    }

    fn not(&mut self) -> Result<Condition, Problem> {
        if self.peek_word().as_deref() == Some("not") {
            self.advance();
            self.nest()?;
            let inner = self.not()?;
            self.unnest();
            return Ok(Condition::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Condition, Problem> {
        let text = self.text;
        match self.tokens.get(self.at).cloned() {
            Some(Token::Open) => {
                self.advance();
                self.nest()?;
                let inner = self.or()?;
                self.unnest();
                if self.tokens.get(self.at) != Some(&Token::Close) {
                    return Err(format!(
                        "the condition {text:?} has an unclosed parenthesis"
                    ));
                }
                self.advance();
                Ok(inner)
            }
            Some(Token::Word(w)) => {
                self.advance();
                let lower = w.to_ascii_lowercase();
                if (lower == "1" || lower == "any" || lower == "all")
                    && self.peek_word().as_deref() == Some("of")
                {
                    self.advance();
                    let Some(Token::Word(target)) = self.tokens.get(self.at).cloned() else {
                        return Err(format!(
                            "the condition {text:?} has `of` without selections"
                        ));
                    };
                    self.advance();
                    let chosen = self.select(&target)?;
                    let items = chosen.into_iter().map(Condition::Selection).collect();
                    return Ok(if lower == "all" {
                        Condition::And(items)
                    } else {
                        Condition::Or(items)
                    });
                }
                if ["and", "or", "not", "of"].contains(&lower.as_str()) {
                    return Err(format!(
                        "the condition {text:?} has {w:?} where a selection belongs"
                    ));
                }
                if !self.names.contains(&w) {
                    return Err(format!(
                        "the condition {text:?} names {w:?}, which is not a selection of the rule"
                    ));
                }
                Ok(Condition::Selection(w))
            }
            Some(Token::Close) => Err(format!("the condition {text:?} has an unmatched `)`")),
            None => Err(format!("the condition {text:?} ends too early")),
        }
    }

    /// The selections `1 of X` / `all of X` ranges over.
    fn select(&self, target: &str) -> Result<Vec<String>, Problem> {
        let chosen: Vec<String> = if target == "them" {
            self.names
                .iter()
                .filter(|n| !n.starts_with('_'))
                .cloned()
                .collect()
        } else if let Some(prefix) = target.strip_suffix('*') {
            self.names
                .iter()
                .filter(|n| n.starts_with(prefix))
                .cloned()
                .collect()
        } else {
            self.names
                .iter()
                .filter(|n| *n == target)
                .cloned()
                .collect()
        };
        if chosen.is_empty() {
            return Err(format!(
                "the condition {:?} has `of {target}`, which names no selection",
                self.text
            ));
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn precedence_not_and_or() {
        let c = parse_condition("a or not b and c", &names(&["a", "b", "c"])).unwrap();
        assert_eq!(
            c,
            Condition::Or(vec![
                Condition::Selection("a".into()),
                Condition::And(vec![
                    Condition::Not(Box::new(Condition::Selection("b".into()))),
                    Condition::Selection("c".into())
                ])
            ])
        );
    }

    #[test]
    fn of_forms() {
        let n = names(&["sel_a", "sel_b", "filter", "_hidden"]);
        assert_eq!(
            parse_condition("1 of sel_*", &n).unwrap(),
            Condition::Or(vec![
                Condition::Selection("sel_a".into()),
                Condition::Selection("sel_b".into())
            ])
        );
        match parse_condition("all of them", &n).unwrap() {
            Condition::And(v) => assert_eq!(v.len(), 3),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn mistakes_are_named() {
        let n = names(&["a"]);
        assert!(parse_condition("a and b", &n)
            .unwrap_err()
            .contains("\"b\""));
        assert!(parse_condition("(a", &n).unwrap_err().contains("unclosed"));
        assert!(parse_condition("1 of x*", &n)
            .unwrap_err()
            .contains("names no selection"));
        assert!(parse_condition("a | count() > 5", &n)
            .unwrap_err()
            .contains("correlation"));
        assert!(parse_condition("a and", &n).is_err());
    }
}
