//! Saved hunts: `queries/hunts/*.sql` files with a header of `-- title:`,
//! `-- description:` and `-- param: name = default : meaning` lines.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::QueryError;

/// The hunts shipped with Vigil (embedded, so the binary carries them).
const BUILTIN: &[(&str, &str)] = &[
    (
        "assumed_role_chains",
        include_str!("../hunts/assumed_role_chains.sql"),
    ),
    (
        "console_logins",
        include_str!("../hunts/console_logins.sql"),
    ),
    (
        "denied_calls_by_principal",
        include_str!("../hunts/denied_calls_by_principal.sql"),
    ),
    (
        "errors_by_route",
        include_str!("../hunts/errors_by_route.sql"),
    ),
    (
        "findings_by_rule",
        include_str!("../hunts/findings_by_rule.sql"),
    ),
    ("ip_activity", include_str!("../hunts/ip_activity.sql")),
    ("ip_context", include_str!("../hunts/ip_context.sql")),
    (
        "lambda_cold_starts_timeouts",
        include_str!("../hunts/lambda_cold_starts_timeouts.sql"),
    ),
    (
        "leaked_access_key",
        include_str!("../hunts/leaked_access_key.sql"),
    ),
    (
        "new_iam_principals",
        include_str!("../hunts/new_iam_principals.sql"),
    ),
    (
        "principal_activity",
        include_str!("../hunts/principal_activity.sql"),
    ),
    (
        "principal_first_seen",
        include_str!("../hunts/principal_first_seen.sql"),
    ),
    (
        "resources_made_public",
        include_str!("../hunts/resources_made_public.sql"),
    ),
    (
        "slowest_routes",
        include_str!("../hunts/slowest_routes.sql"),
    ),
    ("top_talkers", include_str!("../hunts/top_talkers.sql")),
    (
        "waf_client_path",
        include_str!("../hunts/waf_client_path.sql"),
    ),
    (
        "waf_count_matches",
        include_str!("../hunts/waf_count_matches.sql"),
    ),
    (
        "waf_top_blocked",
        include_str!("../hunts/waf_top_blocked.sql"),
    ),
];

/// A hunt parameter and its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub default: String,
    pub meaning: String,
}

/// A saved hunt.
#[derive(Debug, Clone)]
pub struct Hunt {
    pub name: String,
    pub title: String,
    pub description: String,
    pub params: Vec<Param>,
    pub sql: String,
}

impl Hunt {
    /// Parses a hunt file's text.
    pub fn parse(name: &str, text: &str) -> Result<Hunt, QueryError> {
        let err = |message: String| QueryError::Hunt {
            name: name.into(),
            message,
        };
        let mut hunt = Hunt {
            name: name.into(),
            title: String::new(),
            description: String::new(),
            params: Vec::new(),
            sql: String::new(),
        };
        for line in text.lines() {
            let Some(header) = line.trim().strip_prefix("--") else {
                continue;
            };
            let header = header.trim();
            if let Some(t) = header.strip_prefix("title:") {
                hunt.title = t.trim().into();
            } else if let Some(d) = header.strip_prefix("description:") {
                hunt.description = d.trim().into();
            } else if let Some(p) = header.strip_prefix("param:") {
                let (decl, meaning) = p.split_once(" : ").unwrap_or((p, ""));
                let (pname, default) = decl.split_once('=').ok_or_else(|| {
                    err(format!("parameter line {line:?} needs `name = default`"))
                })?;
                hunt.params.push(Param {
                    name: pname.trim().into(),
                    default: default.trim().into(),
                    meaning: meaning.trim().into(),
                });
            }
        }
        if hunt.title.is_empty() {
            return Err(err("the header needs a `-- title:` line".into()));
        }
        hunt.sql = text.into();
        for (_, _, placeholder) in crate::placeholder::placeholders(&hunt.sql) {
            if !hunt.params.iter().any(|p| p.name == placeholder) {
                return Err(err(format!(
                    "the SQL uses ${{{placeholder}}}, which no `-- param:` line declares"
                )));
            }
        }
        Ok(hunt)
    }

    /// The SQL with parameters filled in: numbers as they are, anything else
    /// as a quoted SQL string (so a value can never become SQL).
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, QueryError> {
        for k in values.keys() {
            if !self.params.iter().any(|p| &p.name == k) {
                return Err(QueryError::Hunt {
                    name: self.name.clone(),
                    message: format!(
                        "no parameter {k} (it has: {})",
                        self.params
                            .iter()
                            .map(|p| p.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
        let mut sql = self.sql.clone();
        for p in &self.params {
            let v = values.get(&p.name).unwrap_or(&p.default);
            let literal = if v.parse::<f64>().is_ok() && !v.is_empty() {
                v.clone()
            } else {
                format!("'{}'", v.replace('\'', "''"))
            };
            sql = sql.replace(&format!("${{{}}}", p.name), &literal);
        }
        Ok(sql)
    }
}

/// The built-in hunts plus `*.sql` files in `dir` (which override by name).
pub fn load(dir: Option<&Path>) -> Result<Vec<Hunt>, QueryError> {
    let mut hunts: BTreeMap<String, Hunt> = BTreeMap::new();
    for (name, text) in BUILTIN {
        hunts.insert(name.to_string(), Hunt::parse(name, text)?);
    }
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(QueryError::Io)?;
        for entry in entries {
            let path = entry.map_err(QueryError::Io)?.path();
            if path.extension().is_some_and(|e| e == "sql") {
                let name = path
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                let text = std::fs::read_to_string(&path).map_err(QueryError::Io)?;
                hunts.insert(name.clone(), Hunt::parse(&name, &text)?);
            }
        }
    }
    Ok(hunts.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_hunt_parses() {
        let hunts = load(None).unwrap();
        assert!(hunts.len() >= 12);
        assert!(hunts.iter().all(|h| !h.description.is_empty()));
    }

    #[test]
    fn parameters_are_quoted_so_they_stay_values() {
        let h = Hunt::parse("x", "-- title: t\n-- param: ip = 1.2.3.4 : an ip\n-- param: n = 5\nSELECT * FROM events WHERE src_ip = ${ip} LIMIT ${n}").unwrap();
        let sql = h
            .render(&BTreeMap::from([(
                "ip".to_string(),
                "x' OR '1'='1".to_string(),
            )]))
            .unwrap();
        assert!(sql.contains("src_ip = 'x'' OR ''1''=''1'"), "{sql}");
        assert!(sql.contains("LIMIT 5"), "{sql}");
        assert!(h
            .render(&BTreeMap::from([("nope".to_string(), "1".to_string())]))
            .is_err());
    }

    #[test]
    fn an_undeclared_placeholder_is_an_error() {
        assert!(Hunt::parse("x", "-- title: t\nSELECT ${ip}").is_err());
    }
}
