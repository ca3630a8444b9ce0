//! Every built-in rule names the public rules it is modelled on by their
//! exact ids, in the forms docs/RULES.md gives; the Sigma and Stratus Red
//! Team ones are checked against the public corpus.

use std::collections::BTreeMap;
use vigil_detect::RuleSet;
use vigil_test_support::corpus;

mod common;
use common::stratus_techniques;

/// SigmaHQ web rules the API Gateway rules are modelled on. The corpus holds
/// SigmaHQ's AWS rules only; these were read in SigmaHQ/sigma (rules/web/).
const SIGMA_WEB_RULES: &[(&str, &str)] = &[
    (
        "19aa4f58-94ca-45ff-bc34-92e533c0994a",
        "Suspicious User-Agents Related To Recon Tools",
    ),
    (
        "5513deaf-f49a-46c2-a6c8-3f111b5cb453",
        "SQL Injection Strings In URI",
    ),
    (
        "7745c2ea-24a5-4290-b680-04359cb84b35",
        "Path Traversal Exploitation Attempts",
    ),
    (
        "65354b83-a2ea-4ea6-8414-3ab38be0d409",
        "Cross Site Scripting Strings",
    ),
];

/// Sigma rule id → title, from the corpus's SigmaHQ AWS rules.
fn sigma_corpus() -> BTreeMap<String, String> {
    let mut rules = BTreeMap::new();
    let mut dirs = vec![corpus("sigma-aws-rules")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yml") {
                let text = std::fs::read_to_string(&path).unwrap();
                let field = |key: &str| {
                    text.lines()
                        .find_map(|l| l.strip_prefix(key))
                        .map(|v| v.trim().to_string())
                };
                if let (Some(id), Some(title)) = (field("id: "), field("title: ")) {
                    rules.insert(id, title);
                }
            }
        }
    }
    rules
}

/// `Title (id)` split into its parts.
fn title_and_id(text: &str) -> Option<(&str, &str)> {
    let open = text.rfind(" (")?;
    let id = text[open + 2..].strip_suffix(')')?;
    Some((&text[..open], id))
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

#[test]
fn references_name_real_public_rules_by_exact_id() {
    let rules = RuleSet::builtin().unwrap();
    let sigma = sigma_corpus();
    assert!(
        sigma.len() >= 57,
        "{} Sigma rules in the corpus",
        sigma.len()
    );
    let web: BTreeMap<&str, &str> = SIGMA_WEB_RULES.iter().copied().collect();
    let stratus = stratus_techniques();
    let mut problems = Vec::new();
    for rule in &rules.rules {
        let mut problem = |m: String| problems.push(format!("{}: {m}", rule.id));
        if rule.references.is_empty() {
            problem("no references".into());
        }
        for reference in &rule.references {
            let Some((kind, what)) = reference.split_once(": ") else {
                problem(format!("{reference:?} is not `Kind: id`"));
                continue;
            };
            match kind {
                "Sigma" => match title_and_id(what) {
                    Some((title, id)) => {
                        let known = sigma.get(id).map(String::as_str).or(web.get(id).copied());
                        if known != Some(title) {
                            problem(format!(
                                "Sigma rule {id} is {known:?} in SigmaHQ, not {title:?}"
                            ));
                        }
                    }
                    None => problem(format!("{reference:?}: Sigma references are `Title (id)`")),
                },
                "Stratus Red Team" => {
                    if !stratus.contains(what) {
                        problem(format!("{what:?} is not a Stratus Red Team technique id"));
                    }
                }
                "Panther" => {
                    let rule_id = what
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c));
                    if !rule_id || !what.contains('.') {
                        problem(format!("{what:?} is not a Panther RuleID"));
                    }
                }
                "Elastic" => {
                    if !title_and_id(what).is_some_and(|(_, id)| is_uuid(id)) {
                        problem(format!("{what:?}: Elastic references are `Name (rule_id)`"));
                    }
                }
                // splunk/security_content detections: `Name (id)`.
                "Splunk" => {
                    if !title_and_id(what).is_some_and(|(_, id)| is_uuid(id)) {
                        problem(format!("{what:?}: Splunk references are `Name (id)`"));
                    }
                }
                "MITRE ATT&CK" => {
                    let technique = what.split(' ').next().unwrap_or_default();
                    let tag = format!("attack.{}", technique.to_ascii_lowercase());
                    if !technique.starts_with('T') || !rule.tags.contains(&tag) {
                        problem(format!(
                            "{technique:?} is not one of the rule's ATT&CK tags"
                        ));
                    }
                }
                other => problem(format!("{other:?} is not a kind of reference")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_rule_has_attack_tags() {
    let rules = RuleSet::builtin().unwrap();
    for rule in &rules.rules {
        assert!(
            rule.tags.iter().any(|t| t.starts_with("attack.t")),
            "{} has no ATT&CK technique tag",
            rule.id
        );
    }
}

#[test]
fn coverage_report_is_what_the_rules_say() {
    let rules = RuleSet::builtin().unwrap();
    let expected = vigil_detect::coverage::markdown(&rules);
    let path = vigil_test_support::in_checkout("docs/COVERAGE.md");
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == expected,
        "docs/COVERAGE.md is out of date: run `vigil rules coverage --output docs/COVERAGE.md`"
    );
    assert!(expected.contains(
        "`aws.persistence.lambda-overwrite-code` | `lambda_code_updated_outside_deployment`"
    ));
}
