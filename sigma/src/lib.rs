//! Sigma rules for Vigil: a Sigma 2 detection rule (YAML) compiled to one
//! read-only SQL `SELECT` over a lake table, with the rule's metadata.
//!
//! The SQL runs on DataFusion with Vigil's functions (`json_match`,
//! `json_str`, `cidr_contains`, from `vigil-queries`). Matching follows
//! Sigma, not SQL: case-insensitive unless `cased`, a field a record lacks
//! never matches and `not` of it does, numbers match their text.

pub mod condition;
pub mod correlation;
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
    /// A detection rule: the matching records (`event_time`, `event_id`,
    /// the entity columns and `raw`). A correlation: the groups and windows
    /// that fire, sliding over all the data read.
    pub sql: String,
    /// A detection rule's boolean expression alone (the `WHERE` clause).
    pub predicate: String,
    /// Whether the rule reports on its own: false for a detection rule a
    /// correlation reads without `generate: true`.
    pub reports: bool,
    pub correlation: Option<CompiledCorrelation>,
}

/// What a scheduled run of a correlation needs.
#[derive(Debug, Clone)]
pub struct CompiledCorrelation {
    pub group_by: Vec<String>,
    pub timespan_seconds: u64,
    /// [`Compiled::sql`] with windows ending from `${window_start}` only.
    pub scheduled_sql: String,
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
    let mut out: Vec<Compiled> = Vec::new();
    let mut names: Vec<Option<String>> = Vec::new();
    let mut correlations = Vec::new();
    for doc in docs.iter().filter(|d| !d.is_null()) {
        let invalid = invalid_in(file, doc);
        if !doc["correlation"].is_badvalue() {
            correlations.push(doc);
            continue;
        }
        let mut rule = read_rule(doc).map_err(&invalid)?;
        // The legacy `selection | count() [by field] > N` over `timeframe`
        // is read as an event_count correlation over the selection.
        let legacy = match rule.detection.conditions.as_slice() {
            [only] => correlation::legacy_count(only, rule.detection.timeframe.as_deref())
                .map_err(&invalid)?,
            _ => None,
        };
        if let Some((base, _)) = &legacy {
            rule.detection.conditions = vec![base.clone()];
        }
        let predicate = predicate(&rule, placeholders).map_err(&invalid)?;
        let sql = format!(
            "SELECT event_time, event_id, account_id, region, actor, src_ip, action, raw FROM {} WHERE {predicate}",
            rule.source.table()
        );
        names.push(doc["name"].as_str().map(str::to_string));
        if let Some((_, c)) = legacy {
            let referenced = [correlation::Referenced {
                name: "selection",
                source: rule.source,
                predicate: &predicate,
            }];
            let sql = c.sql(&referenced, None).map_err(&invalid)?;
            let scheduled_sql = c
                .sql(&referenced, Some("${window_start}"))
                .map_err(&invalid)?;
            out.push(Compiled {
                rule,
                sql,
                predicate,
                reports: true,
                correlation: Some(CompiledCorrelation {
                    group_by: c.group_by.clone(),
                    timespan_seconds: c.timespan_seconds,
                    scheduled_sql,
                }),
            });
            continue;
        }
        out.push(Compiled {
            rule,
            sql,
            predicate,
            reports: true,
            correlation: None,
        });
    }
    for doc in correlations {
        let invalid = invalid_in(file, doc);
        let c = correlation::parse(doc).map_err(&invalid)?;
        let mut referenced = Vec::new();
        let mut indexes = Vec::new();
        for r in &c.rules {
            let i = (0..out.len())
                .find(|&i| names[i].as_deref() == Some(r.as_str()) || out[i].rule.id.as_deref() == Some(r.as_str()))
                .ok_or_else(|| {
                    invalid(format!(
                        "the correlation reads rule {r:?}, which is not a detection rule of this file (by name or id)"
                    ))
                })?;
            indexes.push(i);
        }
        for &i in &indexes {
            referenced.push(correlation::Referenced {
                name: names[i]
                    .as_deref()
                    .or(out[i].rule.id.as_deref())
                    .unwrap_or(""),
                source: out[i].rule.source,
                predicate: &out[i].predicate,
            });
        }
        let sql = c.sql(&referenced, None).map_err(&invalid)?;
        let scheduled_sql = c
            .sql(&referenced, Some("${window_start}"))
            .map_err(&invalid)?;
        let source = out[indexes[0]].rule.source;
        if !c.generate {
            for &i in &indexes {
                out[i].reports = false;
            }
        }
        let meta = read_metadata(doc, source).map_err(&invalid)?;
        out.push(Compiled {
            rule: meta,
            sql,
            predicate: String::new(),
            reports: true,
            correlation: Some(CompiledCorrelation {
                group_by: c.group_by.clone(),
                timespan_seconds: c.timespan_seconds,
                scheduled_sql,
            }),
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

/// The error for a problem in the rule `doc` of `file`, named by its title
/// (or id).
fn invalid_in<'a>(file: &'a str, doc: &'a Yaml) -> impl Fn(String) -> SigmaError + 'a {
    move |message| SigmaError::Invalid {
        file: file.to_string(),
        rule: doc["title"]
            .as_str()
            .or(doc["id"].as_str())
            .unwrap_or("")
            .to_string(),
        message,
    }
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

fn level(doc: &Yaml) -> Result<Option<String>, String> {
    let level = text(doc, "level")?;
    if let Some(l) = &level {
        if !["informational", "low", "medium", "high", "critical"].contains(&l.as_str()) {
            return Err(format!(
                "`level` {l:?} is not informational, low, medium, high or critical"
            ));
        }
    }
    Ok(level)
}

/// A rule's metadata, with no detection yet (a correlation's table is
/// that of the rules it reads).
fn read_metadata(doc: &Yaml, source: Source) -> Result<SigmaRule, String> {
    Ok(SigmaRule {
        id: text(doc, "id")?,
        title: text(doc, "title")?.ok_or("the rule has no `title`")?,
        status: text(doc, "status")?,
        description: text(doc, "description")?,
        references: texts(doc, "references")?,
        author: text(doc, "author")?,
        license: text(doc, "license")?,
        tags: texts(doc, "tags")?,
        falsepositives: texts(doc, "falsepositives")?,
        level: level(doc)?,
        source,
        detection: Detection {
            selections: Vec::new(),
            conditions: Vec::new(),
            timeframe: None,
        },
    })
}

fn read_rule(doc: &Yaml) -> Result<SigmaRule, String> {
    if !matches!(doc, Yaml::Hash(_)) {
        return Err("a rule must be a YAML map".into());
    }
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
    Ok(SigmaRule {
        detection,
        ..read_metadata(doc, source)?
    })
}
