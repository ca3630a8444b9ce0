//! Sigma rules for Vigil: a Sigma 2 detection rule (YAML) compiled to one
//! read-only SQL `SELECT` over a lake table, with the rule's metadata.
//!
//! The SQL runs on DataFusion with Vigil's functions (`json_match`,
//! `json_str`, `cidr_contains`, from `vigil-queries`). Matching follows
//! Sigma, not SQL: case-insensitive unless `cased`, a field a record lacks
//! never matches and `not` of it does, numbers match their text.

pub mod condition;
pub mod detection;
pub mod error;
pub mod logsource;
pub mod sql;
pub mod value;

use yaml_rust2::{Yaml, YamlLoader};

pub use error::SigmaError;
pub use logsource::Source;
pub use sql::Placeholders;

use detection::{parse_detection, Detection};

/// A Sigma detection rule, read and checked.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    pub id: Option<String>,
    pub title: String,
    pub status: Option<String>,
    pub description: Option<String>,
    pub references: Vec<String>,
    pub author: Option<String>,
    pub license: Option<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    /// `informational`, `low`, `medium`, `high` or `critical`.
    pub level: Option<String>,
    pub source: Source,
    pub detection: Detection,
}

/// A compiled rule: its metadata and its query.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub rule: SigmaRule,
    /// The rows are the matching records (`event_time`, `event_id`, the
    /// entity columns and `raw`).
    pub sql: String,
    /// The boolean expression alone (the `WHERE` clause).
    pub predicate: String,
}

/// Compiles every rule in `text` (a YAML stream; `file` names it in errors).
pub fn compile(
    text: &str,
    file: &str,
    placeholders: &Placeholders,
) -> Result<Vec<Compiled>, SigmaError> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| SigmaError::Yaml {
        file: file.to_string(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for doc in docs.iter().filter(|d| !d.is_null()) {
        let name = doc["title"]
            .as_str()
            .or(doc["id"].as_str())
            .unwrap_or("")
            .to_string();
        let invalid = |message: String| SigmaError::Invalid {
            file: file.to_string(),
            rule: name.clone(),
            message,
        };
        if !doc["correlation"].is_badvalue() {
            return Err(invalid("correlation rules are not supported yet".into()));
        }
        let rule = read_rule(doc).map_err(invalid)?;
        let predicate = predicate(&rule, placeholders).map_err(invalid)?;
        let sql = format!(
            "SELECT event_time, event_id, account_id, region, actor, src_ip, action, raw FROM {} WHERE {predicate}",
            rule.source.table()
        );
        out.push(Compiled {
            rule,
            sql,
            predicate,
        });
    }
    if out.is_empty() {
        return Err(SigmaError::Invalid {
            file: file.to_string(),
            rule: String::new(),
            message: "the file holds no rule".into(),
        });
    }
    Ok(out)
}

fn predicate(rule: &SigmaRule, placeholders: &Placeholders) -> Result<String, String> {
    let names: Vec<String> = rule
        .detection
        .selections
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let compiler = sql::Compiler {
        source: rule.source,
        selections: &rule.detection.selections,
        placeholders,
    };
    let mut any = Vec::new();
    for text in &rule.detection.conditions {
        let c = condition::parse_condition(text, &names)?;
        any.push(compiler.condition(&c)?);
    }
    Ok(if any.len() == 1 {
        any.remove(0)
    } else {
        format!("({})", any.join(" OR "))
    })
}

fn text(doc: &Yaml, key: &str) -> Result<Option<String>, String> {
    match &doc[key] {
        Yaml::BadValue | Yaml::Null => Ok(None),
        Yaml::String(s) => Ok(Some(s.clone())),
        Yaml::Integer(i) => Ok(Some(i.to_string())),
        other => Err(format!("`{key}` must be text, not {other:?}")),
    }
}

fn texts(doc: &Yaml, key: &str) -> Result<Vec<String>, String> {
    match &doc[key] {
        Yaml::BadValue | Yaml::Null => Ok(Vec::new()),
        Yaml::String(s) => Ok(vec![s.clone()]),
        Yaml::Array(list) => list
            .iter()
            .map(|i| match i {
                Yaml::String(s) => Ok(s.clone()),
                Yaml::Integer(n) => Ok(n.to_string()),
                other => Err(format!("`{key}` must list texts, not {other:?}")),
            })
            .collect(),
        other => Err(format!("`{key}` must be a list, not {other:?}")),
    }
}

fn read_rule(doc: &Yaml) -> Result<SigmaRule, String> {
    if !matches!(doc, Yaml::Hash(_)) {
        return Err("a rule must be a YAML map".into());
    }
    let title = text(doc, "title")?.ok_or("the rule has no `title`")?;
    let logsource = &doc["logsource"];
    if !matches!(logsource, Yaml::Hash(_)) {
        return Err("the rule has no `logsource` map".into());
    }
    let source = Source::of(
        logsource["product"].as_str(),
        logsource["service"].as_str(),
        logsource["category"].as_str(),
    )?;
    if doc["detection"].is_badvalue() {
        return Err("the rule has no `detection`".into());
    }
    let detection = parse_detection(&doc["detection"])?;
    let level = text(doc, "level")?;
    if let Some(l) = &level {
        if !["informational", "low", "medium", "high", "critical"].contains(&l.as_str()) {
            return Err(format!(
                "`level` {l:?} is not informational, low, medium, high or critical"
            ));
        }
    }
    Ok(SigmaRule {
        id: text(doc, "id")?,
        title,
        status: text(doc, "status")?,
        description: text(doc, "description")?,
        references: texts(doc, "references")?,
        author: text(doc, "author")?,
        license: text(doc, "license")?,
        tags: texts(doc, "tags")?,
        falsepositives: texts(doc, "falsepositives")?,
        level,
        source,
        detection,
    })
}
