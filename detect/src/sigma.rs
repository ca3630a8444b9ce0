//! Sigma rules as Vigil rules: a compiled Sigma rule written as a Vigil rule
//! file (TOML), so that it is loaded, checked, run and tested as one.

use std::path::{Path, PathBuf};

use vigil_sigma::{Compiled, Placeholders, SigmaFile};

use crate::error::RuleError;
use crate::rule::Rule;

/// The Vigil rule id of the `index`th of the `count` rules compiled from the
/// Sigma file at `path`: `sigma_<file stem>`, and `_<index + 1>` after it
/// when the file holds several.
pub fn rule_id(path: &Path, index: usize, count: usize) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let name = if count > 1 {
        format!("{stem}_{}", index + 1)
    } else {
        stem
    };
    let id: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("sigma_{id}")
}

/// The Vigil severity of a Sigma `level`.
fn severity(level: Option<&str>) -> &'static str {
    match level {
        Some("informational") => "info",
        Some("low") => "low",
        Some("high") => "high",
        Some("critical") => "critical",
        _ => "medium",
    }
}

/// A Vigil rule file (TOML) for `compiled`: a streaming rule returning the
/// matching records. `tests` (TOML `[[tests]]` tables) are appended.
pub fn rule_toml(compiled: &Compiled, id: &str, tests: Option<&str>) -> String {
    let rule = &compiled.rule;
    let mut doc = toml::Table::new();
    let text = |s: &str| toml::Value::String(s.to_string());
    let list = |v: &[String]| toml::Value::Array(v.iter().map(|s| text(s)).collect());
    doc.insert("id".into(), text(id));
    doc.insert("title".into(), text(&rule.title));
    let mut description = rule
        .description
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string();
    // Who wrote it, under which licence, and how mature its authors say it
    // is (Sigma's `status`: stable, test, experimental...).
    let provenance: Vec<String> = [
        rule.author.as_ref().map(|a| format!("by {a}")),
        rule.license.clone(),
        rule.status.as_ref().map(|s| format!("status {s}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !provenance.is_empty() {
        description.push_str(&format!(" (Sigma rule {})", provenance.join(", ")));
    }
    doc.insert("description".into(), text(description.trim()));
    doc.insert("severity".into(), text(severity(rule.level.as_deref())));
    match &compiled.correlation {
        None => {
            doc.insert("mode".into(), text("streaming"));
            doc.insert("sql".into(), text(&compiled.sql));
        }
        Some(c) => {
            // Windows of at most five minutes, each reading the timespan
            // before it too (and those of the correlations a chain reads),
            // so that every event anchors one window.
            let window = c.timespan_seconds.min(300);
            doc.insert("mode".into(), text("scheduled"));
            doc.insert("window".into(), text(&format!("{window}s")));
            doc.insert("every".into(), text(&format!("{window}s")));
            doc.insert(
                "lookback".into(),
                text(&format!("{}s", window + c.history_seconds)),
            );
            let mut dedup = toml::Table::new();
            dedup.insert("columns".into(), list(&c.group_by));
            dedup.insert(
                "period".into(),
                text(&format!("{}s", c.timespan_seconds.max(60))),
            );
            doc.insert("dedup".into(), toml::Value::Table(dedup));
            doc.insert("sql".into(), text(&c.scheduled_sql));
        }
    }
    doc.insert("tags".into(), list(&rule.tags));
    let mut references = Vec::new();
    if let Some(sigma_id) = &rule.id {
        references.push(format!("Sigma: {} ({sigma_id})", rule.title));
    }
    references.extend(rule.references.iter().cloned());
    doc.insert("references".into(), list(&references));
    let mut runbook = String::from("Known false positives (from the Sigma rule):\n");
    if rule.falsepositives.is_empty() {
        runbook.push_str("- none listed\n");
    }
    for f in &rule.falsepositives {
        runbook.push_str(&format!("- {f}\n"));
    }
    doc.insert("runbook".into(), text(&runbook));
    let mut out = toml::to_string(&doc).unwrap_or_default();
    if let Some(tests) = tests {
        out.push('\n');
        out.push_str(tests);
    }
    out
}

/// One Sigma file to load: where it is, its text, and the `[[tests]]` of
/// its sidecar (`name.tests.toml` next to `name.yml`) when there is one.
pub struct SigmaSource {
    pub path: PathBuf,
    pub text: String,
    pub tests: Option<String>,
}

/// Reads the Sigma rules of several files together (a correlation may read
/// the rules of another file), each file's rules or its first error. A
/// sidecar's tests belong to the file's first rule that reports.
pub fn parse_sigma_files(
    files: &[SigmaSource],
    placeholders: &Placeholders,
) -> Vec<Result<Vec<Rule>, RuleError>> {
    let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
    let inputs: Vec<SigmaFile> = files
        .iter()
        .zip(&names)
        .map(|(f, name)| SigmaFile {
            text: &f.text,
            name,
        })
        .collect();
    vigil_sigma::compile_files(&inputs, placeholders)
        .into_iter()
        .zip(files)
        .map(|(result, file)| {
            let error = |message: String| RuleError {
                path: file.path.clone(),
                line: 1,
                message,
            };
            let compiled = result.map_err(|e| error(e.to_string()))?;
            let mut tests = file.tests.as_deref();
            compiled
                .iter()
                .enumerate()
                .filter(|(_, c)| c.reports)
                .map(|(i, c)| {
                    let id = rule_id(&file.path, i, compiled.len());
                    let toml_text = rule_toml(c, &id, tests.take());
                    Rule::parse_translated(&file.path, &toml_text)
                        .map_err(|e| error(format!("as a Vigil rule: {}", e.message)))
                })
                .collect()
        })
        .collect()
}
