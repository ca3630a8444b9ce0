//! Selections and conditions as one SQL boolean expression, with Sigma's
//! semantics: case-insensitive unless `cased`, wildcards, a field a record
//! lacks never matches (and `not` of it does), numbers match their text.

use std::collections::BTreeMap;

use crate::condition::Condition;
use crate::detection::{FieldMatch, Modifier, Selection};
use crate::error::Problem;
use crate::logsource::{FieldRef, Kind, Source};
use crate::value::{base64_of, base64_offsets, windash_variants, Pattern, Value};

/// Placeholder values for `expand` (`%name%` → its values).
pub type Placeholders = BTreeMap<String, Vec<String>>;

/// Compiles conditions to SQL over one table.
pub struct Compiler<'a> {
    pub source: Source,
    pub selections: &'a [(String, Selection)],
    pub placeholders: &'a Placeholders,
}

/// A SQL text literal. A `${` in it is split across two literals joined
/// by `||`, so that Vigil's rule templating (`${param}`) never reads a
/// value's text as a parameter.
pub fn quote(text: &str) -> String {
    let literal = format!("'{}'", text.replace('\'', "''"));
    if literal.contains("${") {
        format!("({})", literal.replace("${", "$' || '{"))
    } else {
        literal
    }
}

impl Compiler<'_> {
    pub fn condition(&self, c: &Condition) -> Result<String, Problem> {
        Ok(match c {
            Condition::Selection(name) => {
                let (_, sel) = self
                    .selections
                    .iter()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| format!("no selection {name:?}"))?;
                self.selection(sel)
                    .map_err(|e| format!("selection {name:?}: {e}"))?
            }
            // Sigma's two-valued logic: a comparison with an absent field is
            // false, so its negation is true (SQL would say NULL).
            Condition::Not(inner) => format!("NOT coalesce({}, false)", self.condition(inner)?),
            Condition::And(items) => join(
                items
                    .iter()
                    .map(|i| self.condition(i))
                    .collect::<Result<_, _>>()?,
                "AND",
            ),
            Condition::Or(items) => join(
                items
                    .iter()
                    .map(|i| self.condition(i))
                    .collect::<Result<_, _>>()?,
                "OR",
            ),
        })
    }

    fn selection(&self, sel: &Selection) -> Result<String, Problem> {
        match sel {
            Selection::Fields(maps) => {
                let mut alternatives = Vec::new();
                for map in maps {
                    let all = map
                        .iter()
                        .map(|m| self.field_match(m))
                        .collect::<Result<Vec<_>, _>>()?;
                    alternatives.push(join(all, "AND"));
                }
                Ok(join(alternatives, "OR"))
            }
            Selection::Keywords(words) => {
                // Anywhere in the record: the `raw` text.
                let mut any = Vec::new();
                for w in words {
                    let text = w.text().ok_or("a keyword cannot be null")?;
                    let p = Pattern::parse(&text).starting_anywhere().ending_anywhere();
                    any.push(format!("raw ILIKE {}", quote(&p.to_like())));
                }
                Ok(join(any, "OR"))
            }
        }
    }

    fn field_match(&self, m: &FieldMatch) -> Result<String, Problem> {
        let field = self.source.resolve(&m.field)?;
        let mut values = m.values.clone();
        if m.has(Modifier::Expand) {
            values = self.expand(&values)?;
        }
        let predicates = if m.has(Modifier::Exists) {
            let want = match values.as_slice() {
                [Value::Boolean(b)] => *b,
                _ => return Err(format!("{}|exists takes true or false", m.field)),
            };
            vec![if want {
                present(&field)
            } else {
                format!("NOT {}", present(&field))
            }]
        } else if let Some(op) = comparison(m) {
            values
                .iter()
                .map(|v| {
                    let n = v
                        .number()
                        .ok_or_else(|| format!("{}|{op} needs a number, not {v:?}", m.field))?;
                    Ok(format!("{} {op} {n}", number_of(&field)))
                })
                .collect::<Result<Vec<_>, Problem>>()?
        } else if m.has(Modifier::FieldRef) {
            values
                .iter()
                .map(|v| self.field_ref(m, &field, v))
                .collect::<Result<Vec<_>, _>>()?
        } else if m.has(Modifier::Cidr) {
            values
                .iter()
                .map(|v| {
                    let block = v.text().ok_or("cidr needs an address block")?;
                    Ok(format!(
                        "cidr_contains({}, {})",
                        quote(&block),
                        text_of(&field)
                    ))
                })
                .collect::<Result<Vec<_>, Problem>>()?
        } else if m.has(Modifier::Re) {
            let mut flags = String::new();
            for (modifier, flag) in [
                (Modifier::IgnoreCase, 'i'),
                (Modifier::Multiline, 'm'),
                (Modifier::DotAll, 's'),
            ] {
                if m.has(modifier) {
                    flags.push(flag);
                }
            }
            values
                .iter()
                .map(|v| {
                    let re = v.text().ok_or("re needs a regular expression")?;
                    let re = if flags.is_empty() {
                        re
                    } else {
                        format!("(?{flags}){re}")
                    };
                    // The query engine compiles it with Rust's regex crate:
                    // say so now, naming the rule, rather than when it runs.
                    if let Err(e) = regex::Regex::new(&re) {
                        return Err(format!(
                            "the regular expression {re:?} is not one Vigil runs (Rust regex syntax: no look-around or back-references): {}",
                            e.to_string().lines().last().unwrap_or_default().trim()
                        ));
                    }
                    Ok(regex_match(&field, &re))
                })
                .collect::<Result<Vec<_>, Problem>>()?
        } else {
            let mut out = Vec::new();
            for v in &values {
                out.extend(self.string_match(m, &field, v)?);
            }
            out
        };
        Ok(join(
            predicates,
            if m.has(Modifier::All) { "AND" } else { "OR" },
        ))
    }

    /// Equality, wildcards, `contains`/`startswith`/`endswith` and the
    /// encodings: one or more predicates (more for base64offset, windash).
    fn string_match(
        &self,
        m: &FieldMatch,
        field: &FieldRef,
        v: &Value,
    ) -> Result<Vec<String>, Problem> {
        if *v == Value::Null {
            return Ok(vec![format!("NOT {}", present(field))]);
        }
        if let (
            Value::Boolean(b),
            FieldRef::Column {
                column,
                kind: Kind::Boolean,
            },
        ) = (v, field)
        {
            return Ok(vec![format!("{column} = {b}")]);
        }
        if let (
            Value::Integer(_) | Value::Real(_),
            FieldRef::Column {
                column,
                kind: Kind::Number,
            },
        ) = (v, field)
        {
            return Ok(vec![format!("{column} = {}", v.text().unwrap_or_default())]);
        }
        let text = v.text().unwrap_or_default();
        let numeric = matches!(v, Value::Integer(_) | Value::Real(_) | Value::Boolean(_));
        let mut patterns = vec![if numeric {
            Pattern::literal(&text)
        } else {
            Pattern::parse(&text)
        }];
        for modifier in &m.modifiers {
            patterns = match modifier {
                Modifier::Base64 | Modifier::Base64Offset => {
                    let mut out = Vec::new();
                    for p in &patterns {
                        let literal = p.as_literal().ok_or_else(|| {
                            format!(
                                "{}: a value with wildcards cannot be base64-encoded",
                                m.field
                            )
                        })?;
                        if *modifier == Modifier::Base64 {
                            out.push(Pattern::literal(&base64_of(&literal)));
                        } else {
                            out.extend(
                                base64_offsets(&literal).iter().map(|t| Pattern::literal(t)),
                            );
                        }
                    }
                    out
                }
                Modifier::WinDash => patterns.iter().flat_map(windash_variants).collect(),
                Modifier::Contains => patterns
                    .into_iter()
                    .map(|p| p.starting_anywhere().ending_anywhere())
                    .collect(),
                Modifier::StartsWith => {
                    patterns.into_iter().map(Pattern::ending_anywhere).collect()
                }
                Modifier::EndsWith => patterns
                    .into_iter()
                    .map(Pattern::starting_anywhere)
                    .collect(),
                _ => patterns,
            };
        }
        let cased = m.has(Modifier::Cased);
        Ok(patterns
            .iter()
            .map(|p| pattern_match(field, p, cased))
            .collect())
    }

    fn field_ref(&self, m: &FieldMatch, field: &FieldRef, v: &Value) -> Result<String, Problem> {
        let other_name = v.text().ok_or("fieldref needs a field name")?;
        let other = self.source.resolve(&other_name)?;
        let (a, b) = if m.has(Modifier::Cased) {
            (text_of(field), text_of(&other))
        } else {
            (
                format!("lower({})", text_of(field)),
                format!("lower({})", text_of(&other)),
            )
        };
        Ok(if m.has(Modifier::Contains) {
            format!("strpos({a}, {b}) > 0")
        } else if m.has(Modifier::StartsWith) {
            format!("starts_with({a}, {b})")
        } else if m.has(Modifier::EndsWith) {
            format!("ends_with({a}, {b})")
        } else {
            format!("{a} = {b}")
        })
    }

    fn expand(&self, values: &[Value]) -> Result<Vec<Value>, Problem> {
        let mut out = Vec::new();
        for v in values {
            let text = v.text().unwrap_or_default();
            let name = text.trim().trim_matches('%');
            if !(text.trim().starts_with('%') && text.trim().ends_with('%')) {
                out.push(v.clone());
                continue;
            }
            let found = self
                .placeholders
                .get(name)
                .ok_or_else(|| format!("placeholder %{name}% has no value (set it under [sigma.placeholders] in the configuration)"))?;
            out.extend(found.iter().map(|s| Value::Text(s.clone())));
        }
        Ok(out)
    }
}

fn comparison(m: &FieldMatch) -> Option<&'static str> {
    [
        (Modifier::Gt, ">"),
        (Modifier::Gte, ">="),
        (Modifier::Lt, "<"),
        (Modifier::Lte, "<="),
    ]
    .into_iter()
    .find(|(modifier, _)| m.has(*modifier))
    .map(|(_, op)| op)
}

fn join(parts: Vec<String>, op: &str) -> String {
    match parts.len() {
        0 => "false".into(),
        1 => parts.into_iter().next().unwrap_or_default(),
        _ => format!("({})", parts.join(&format!(" {op} "))),
    }
}

fn json_keys(path: &[String]) -> String {
    path.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
}

/// The field as one text value (the first, for a path through an array).
pub fn text_of(field: &FieldRef) -> String {
    match field {
        FieldRef::Column {
            column,
            kind: Kind::Text,
        } => column.to_string(),
        FieldRef::Column { column, .. } => format!("CAST({column} AS VARCHAR)"),
        FieldRef::Json { column, path } => format!("json_str({column}, {})", json_keys(path)),
    }
}

fn number_of(field: &FieldRef) -> String {
    match field {
        FieldRef::Column {
            column,
            kind: Kind::Number,
        } => column.to_string(),
        other => format!("TRY_CAST({} AS DOUBLE)", text_of(other)),
    }
}

/// The field has a (non-null) value.
fn present(field: &FieldRef) -> String {
    match field {
        FieldRef::Column { column, .. } => format!("({column} IS NOT NULL)"),
        FieldRef::Json { column, path } => format!(
            "(json_match({column}, '(?s)^.*$', {}) IS NOT NULL)",
            json_keys(path)
        ),
    }
}

fn pattern_match(field: &FieldRef, p: &Pattern, cased: bool) -> String {
    match field {
        FieldRef::Json { column, path } => {
            format!(
                "json_match({column}, {}, {})",
                quote(&p.to_regex(cased)),
                json_keys(path)
            )
        }
        column => {
            let op = if cased { "LIKE" } else { "ILIKE" };
            format!("{} {op} {}", text_of(column), quote(&p.to_like()))
        }
    }
}

fn regex_match(field: &FieldRef, re: &str) -> String {
    match field {
        FieldRef::Json { column, path } => {
            format!("json_match({column}, {}, {})", quote(re), json_keys(path))
        }
        column => format!("regexp_like({}, {})", text_of(column), quote(re)),
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quotes_are_doubled_and_template_markers_split() {
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(
            quote("ua/${project.version}"),
            "('ua/$' || '{project.version}')"
        );
    }
}
