//! Sigma rules for Vigil: a Sigma 2 detection rule (YAML) compiled to one
//! read-only SQL `SELECT` over a lake table, with the rule's metadata.
//!
//! The SQL runs on DataFusion with Vigil's functions (`json_match`,
//! `json_str`, `cidr_contains`, from `vigil-queries`). Matching follows
//! Sigma, not SQL: case-insensitive unless `cased`, a field a record lacks
//! never matches and `not` of it does, numbers match their text.

#![forbid(unsafe_code)]
// Every byte this crate reads may be an attacker's: no unwrap or expect on
// what input decides (a panic would lose the rest of a batch).
#![deny(clippy::unwrap_used, clippy::expect_used)]
// Nor an index out of bounds or an overflow (a fuzzed timespan once did).
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

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

use correlation::{Correlation, Reads};
use detection::{parse_detection, Detection};
use error::Problem;

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
    /// How far before a window's end the data it reads reaches: the
    /// timespan, plus that of the correlations it reads in a chain.
    pub history_seconds: u64,
    /// [`Compiled::sql`] with windows ending from `${window_start}` only.
    pub scheduled_sql: String,
}

/// One Sigma file to compile: its text and the name its errors give it.
#[derive(Debug, Clone, Copy)]
pub struct SigmaFile<'a> {
    pub text: &'a str,
    pub name: &'a str,
}

/// Compiles every rule in `text` (a YAML stream; `file` names it in errors).
pub fn compile(
    text: &str,
    file: &str,
    placeholders: &Placeholders,
) -> Result<Vec<Compiled>, SigmaError> {
    compile_files(&[SigmaFile { text, name: file }], placeholders)
        .pop()
        .unwrap_or_else(|| Ok(Vec::new()))
}

/// A compiled rule, with what a correlation needs to find and read it.
struct Entry {
    /// The file it came from (an index into the files compiled).
    file: usize,
    /// Its `name`, by which correlations read it (or by its id).
    name: Option<String>,
    compiled: Compiled,
    /// A correlation's query as another correlation reads it (its tables
    /// named apart) and its group-by fields.
    firings: Option<(String, Vec<String>)>,
}

impl Entry {
    fn answers_to(&self, reference: &str) -> bool {
        self.name.as_deref() == Some(reference)
            || self.compiled.rule.id.as_deref() == Some(reference)
    }
}

/// Compiles several files together, so that a correlation may read rules
/// of its own file (by name or id) and of the others (by id, or by a name
/// only one of them uses), and correlations may read correlations (a
/// chain). One result per file, in order; each file's rules in the order
/// detection rules, then correlations.
#[expect(
    clippy::indexing_slicing,
    reason = "`f` and `entry.file` index `files`, and `results`, `streams` and `out` hold one item per file"
)]
pub fn compile_files(
    files: &[SigmaFile],
    placeholders: &Placeholders,
) -> Vec<Result<Vec<Compiled>, SigmaError>> {
    let mut results: Vec<Result<(), SigmaError>> = files.iter().map(|_| Ok(())).collect();
    let mut streams: Vec<Vec<Yaml>> = Vec::new();
    for (f, file) in files.iter().enumerate() {
        match YamlLoader::load_from_str(file.text) {
            Ok(docs) => streams.push(docs),
            Err(e) => {
                results[f] = Err(SigmaError::Yaml {
                    file: file.name.to_string(),
                    message: e.to_string(),
                });
                streams.push(Vec::new());
            }
        }
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut pending: Vec<(usize, &Yaml)> = Vec::new();
    for (f, docs) in streams.iter().enumerate() {
        for doc in docs.iter().filter(|d| !d.is_null()) {
            if !doc["correlation"].is_badvalue() {
                pending.push((f, doc));
                continue;
            }
            match compile_detection(doc, placeholders) {
                Ok(compiled) => entries.push(Entry {
                    file: f,
                    name: doc["name"].as_str().map(str::to_string),
                    compiled,
                    firings: None,
                }),
                Err(message) => fail(&mut results[f], invalid_in(files[f].name, doc)(message)),
            }
        }
    }
    // Rules read by a correlation, and those of them also read by one
    // with `generate: true` (which report on their own all the same).
    let mut read = std::collections::HashSet::new();
    let mut generated = std::collections::HashSet::new();
    // Correlations in the order their rules become available, so that a
    // chain compiles from its innermost link.
    while !pending.is_empty() {
        let mut waiting = Vec::new();
        let mut progressed = false;
        for (f, doc) in pending {
            let invalid = invalid_in(files[f].name, doc);
            let correlation = match correlation::parse(doc) {
                Ok(c) => c,
                Err(message) => {
                    fail(&mut results[f], invalid(message));
                    progressed = true;
                    continue;
                }
            };
            let found: Option<Vec<usize>> = correlation
                .rules
                .iter()
                .map(|r| find_rule(&entries, f, r))
                .collect();
            let Some(reads) = found else {
                waiting.push((f, doc));
                continue;
            };
            progressed = true;
            let prefix = format!("sigma_c{}", entries.len());
            match compile_correlation(doc, &correlation, &reads, &entries, &prefix) {
                Ok((compiled, firings_sql)) => {
                    read.extend(reads.iter().copied());
                    if correlation.generate {
                        generated.extend(reads.iter().copied());
                    }
                    entries.push(Entry {
                        file: f,
                        name: doc["name"].as_str().map(str::to_string),
                        compiled,
                        firings: Some((firings_sql, correlation.group_by)),
                    });
                }
                Err(message) => fail(&mut results[f], invalid(message)),
            }
        }
        if !progressed {
            // What is left reads rules that do not exist, or each other.
            for (f, doc) in &waiting {
                let Ok(c) = correlation::parse(doc) else {
                    continue;
                };
                let missing = c
                    .rules
                    .iter()
                    .find(|r| find_rule(&entries, *f, r).is_none())
                    .cloned()
                    .unwrap_or_default();
                let cycle = waiting.iter().any(|(_, other)| {
                    other["name"].as_str() == Some(missing.as_str())
                        || other["id"].as_str() == Some(missing.as_str())
                });
                let message = if cycle {
                    format!("the correlation reads {missing:?}, a correlation that reads it back (a cycle)")
                } else {
                    format!(
                        "the correlation reads rule {missing:?}, which is no rule of this file (by name or id) nor of the files loaded with it (by id, or by a name only one of them uses)"
                    )
                };
                fail(&mut results[*f], invalid_in(files[*f].name, doc)(message));
            }
            break;
        }
        pending = waiting;
    }
    let mut out: Vec<Vec<Compiled>> = files.iter().map(|_| Vec::new()).collect();
    for (i, mut entry) in entries.into_iter().enumerate() {
        entry.compiled.reports = !read.contains(&i) || generated.contains(&i);
        out[entry.file].push(entry.compiled);
    }
    results
        .into_iter()
        .zip(out)
        .zip(files)
        .map(|((result, compiled), file)| {
            result?;
            if compiled.is_empty() {
                return Err(SigmaError::Invalid {
                    file: file.name.to_string(),
                    rule: String::new(),
                    message: "the file holds no rule".into(),
                });
            }
            Ok(compiled)
        })
        .collect()
}

/// Keeps a file's first error.
fn fail(result: &mut Result<(), SigmaError>, error: SigmaError) {
    if result.is_ok() {
        *result = Err(error);
    }
}

/// The rule a correlation of file `file` means by `reference`: one of its
/// own file by name or id, else one of another file by id, else by a name
/// only one rule has.
fn find_rule(entries: &[Entry], file: usize, reference: &str) -> Option<usize> {
    let only = |matches: Vec<usize>| match matches.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    entries
        .iter()
        .position(|e| e.file == file && e.answers_to(reference))
        .or_else(|| {
            only(
                (entries.iter().enumerate())
                    .filter(|(_, e)| e.compiled.rule.id.as_deref() == Some(reference))
                    .map(|(i, _)| i)
                    .collect(),
            )
        })
        .or_else(|| {
            only(
                (entries.iter().enumerate())
                    .filter(|(_, e)| e.name.as_deref() == Some(reference))
                    .map(|(i, _)| i)
                    .collect(),
            )
        })
}

/// A detection rule (a legacy `| count()` condition becomes an event_count
/// correlation over the rule's own selection).
fn compile_detection(doc: &Yaml, placeholders: &Placeholders) -> Result<Compiled, Problem> {
    let mut rule = read_rule(doc)?;
    let legacy = match rule.detection.conditions.as_slice() {
        [only] => correlation::legacy_count(only, rule.detection.timeframe.as_deref())?,
        _ => None,
    };
    if let Some((base, _)) = &legacy {
        rule.detection.conditions = vec![base.clone()];
    }
    let predicate = predicate(&rule, placeholders)?;
    let Some((_, c)) = legacy else {
        let sql = format!(
            "SELECT event_time, event_id, account_id, region, actor, src_ip, action, raw FROM {} WHERE {predicate}",
            rule.source.table()
        );
        return Ok(Compiled {
            rule,
            sql,
            predicate,
            reports: true,
            correlation: None,
        });
    };
    let referenced = [correlation::Referenced {
        name: "selection",
        source: rule.source,
        reads: Reads::Records {
            predicate: &predicate,
        },
    }];
    let (sql, correlation) = correlation_queries(&c, &referenced, c.timespan_seconds)?;
    Ok(Compiled {
        rule,
        sql,
        predicate,
        reports: true,
        correlation: Some(correlation),
    })
}

/// A correlation's sliding query over `referenced`, and what a scheduled run
/// of it needs (its data reaching `history_seconds` before a window's end).
fn correlation_queries(
    c: &Correlation,
    referenced: &[correlation::Referenced],
    history_seconds: u64,
) -> Result<(String, CompiledCorrelation), Problem> {
    let sql = c.sql(referenced, None, "sigma")?;
    let scheduled_sql = c.sql(referenced, Some("${window_start}"), "sigma")?;
    Ok((
        sql,
        CompiledCorrelation {
            group_by: c.group_by.clone(),
            timespan_seconds: c.timespan_seconds,
            history_seconds,
            scheduled_sql,
        },
    ))
}

/// A correlation over the rules `reads` (indexes into `entries`): the rule,
/// and its query as another correlation reads it (tables named `prefix_*`).
fn compile_correlation(
    doc: &Yaml,
    c: &Correlation,
    reads: &[usize],
    entries: &[Entry],
    prefix: &str,
) -> Result<(Compiled, String), Problem> {
    let read_entries: Vec<&Entry> = reads.iter().filter_map(|&i| entries.get(i)).collect();
    let first = read_entries
        .first()
        .ok_or("the correlation reads no rule")?;
    let referenced: Vec<correlation::Referenced> = read_entries
        .iter()
        .map(|e| correlation::Referenced {
            name: e
                .name
                .as_deref()
                .or(e.compiled.rule.id.as_deref())
                .unwrap_or(""),
            source: e.compiled.rule.source,
            reads: match &e.firings {
                Some((sql, group_by)) => Reads::Firings { sql, group_by },
                None => Reads::Records {
                    predicate: &e.compiled.predicate,
                },
            },
        })
        .collect();
    let firings_sql = c.sql(&referenced, None, prefix)?;
    let inner_history = read_entries
        .iter()
        .filter(|e| e.firings.is_some())
        .filter_map(|e| e.compiled.correlation.as_ref())
        .map(|inner| inner.history_seconds)
        .max()
        .unwrap_or(0);
    let (sql, correlation) = correlation_queries(
        c,
        &referenced,
        c.timespan_seconds.saturating_add(inner_history),
    )?;
    let rule = read_metadata(doc, first.compiled.rule.source)?;
    Ok((
        Compiled {
            rule,
            sql,
            predicate: String::new(),
            reports: true,
            correlation: Some(correlation),
        },
        firings_sql,
    ))
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
