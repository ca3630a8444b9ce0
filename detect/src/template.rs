//! Placeholders in rule SQL (`${threshold}`, `${window_start}`) and titles (`{actor}`).

use serde::Deserialize;
use std::collections::BTreeMap;
use vigil_queries::placeholder::placeholders;
use vigil_queries::TimeRange;

/// Placeholders the engine fills in itself.
pub const BUILTIN_PLACEHOLDERS: [&str; 2] = ["window_start", "window_end"];

/// Title placeholders filled from the finding itself rather than a result column.
pub const FINDING_PLACEHOLDERS: [&str; 1] = ["event_count"];

/// A rule parameter: a number, a boolean, or a string (rendered as a quoted SQL literal).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

impl ParamValue {
    fn sql(&self) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(f) => format!("{f:?}"),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Text(s) => format!("'{}'", s.replace('\'', "''")),
        }
    }
}

/// A SQL timestamp literal of the lake's type (ms, UTC).
pub fn timestamp_sql(ms: i64) -> String {
    format!("arrow_cast({ms}, 'Timestamp(Millisecond, Some(\"UTC\"))')")
}

/// Checks that every placeholder is a parameter or a built-in one.
pub fn check_placeholders(sql: &str, params: &BTreeMap<String, ParamValue>) -> Result<(), String> {
    for (_, _, name) in placeholders(sql) {
        if !params.contains_key(name) && !BUILTIN_PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "the SQL uses ${{{name}}}, which is neither in [params] nor one of {}",
                BUILTIN_PLACEHOLDERS.join(", ")
            ));
        }
    }
    Ok(())
}

/// The SQL with parameters and window bounds substituted.
pub fn render(sql: &str, params: &BTreeMap<String, ParamValue>, window: TimeRange) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut last = 0;
    for (start, end, name) in placeholders(sql) {
        out.push_str(&sql[last..start]);
        match name {
            "window_start" => out.push_str(&timestamp_sql(window.from_ms)),
            "window_end" => out.push_str(&timestamp_sql(window.to_ms)),
            _ => match params.get(name) {
                Some(v) => out.push_str(&v.sql()),
                None => out.push_str(&sql[start..end]),
            },
        }
        last = end;
    }
    out.push_str(&sql[last..]);
    out
}

/// The result columns a title interpolates (`{actor}` → `actor`).
pub fn title_columns(title: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = title;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(name.to_string());
        }
        rest = &rest[start + len + 1..];
    }
    out
}

/// The title with `{column}` replaced by the finding's values (`-` when null).
pub fn render_title(title: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = title.to_string();
    for name in title_columns(title) {
        let v = value(&name).unwrap_or_else(|| "-".into());
        out = out.replace(&format!("{{{name}}}"), &v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_and_window_are_substituted() {
        let params = BTreeMap::from([
            ("threshold".to_string(), ParamValue::Int(10)),
            ("name".to_string(), ParamValue::Text("o'neil".into())),
        ]);
        let sql = "SELECT * FROM t WHERE n >= ${threshold} AND u = ${name} AND event_time >= ${window_start}";
        check_placeholders(sql, &params).unwrap();
        let out = render(sql, &params, TimeRange::new(5, 6));
        assert!(out.contains("n >= 10"), "{out}");
        assert!(out.contains("u = 'o''neil'"), "{out}");
        assert!(out.contains("arrow_cast(5,"), "{out}");
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        assert!(check_placeholders("SELECT ${nope}", &BTreeMap::new())
            .unwrap_err()
            .contains("nope"));
    }

    #[test]
    fn titles_interpolate_columns() {
        let t = render_title("{event_name} by {actor} ({missing})", |c| match c {
            "event_name" => Some("StopLogging".into()),
            "actor" => Some("bob".into()),
            _ => None,
        });
        assert_eq!(t, "StopLogging by bob (-)");
    }
}
