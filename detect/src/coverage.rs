//! The coverage report (`docs/COVERAGE.md`): ATT&CK techniques and Stratus
//! Red Team techniques against the rules that detect them, made from the
//! rules' tags and references so that it cannot drift from them.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::rule::RuleSet;

const STRATUS_PREFIX: &str = "Stratus Red Team: ";

/// The report, as Markdown.
pub fn markdown(rules: &RuleSet) -> String {
    let mut by_technique: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut by_tactic: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut by_stratus: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for rule in &rules.rules {
        for tag in &rule.tags {
            let Some(name) = tag.strip_prefix("attack.") else {
                continue;
            };
            if is_technique(name) {
                by_technique
                    .entry(name.to_ascii_uppercase())
                    .or_default()
                    .push(&rule.id);
            } else {
                by_tactic
                    .entry(name.to_string())
                    .or_default()
                    .push(&rule.id);
            }
        }
        for reference in &rule.references {
            if let Some(technique) = reference.strip_prefix(STRATUS_PREFIX) {
                by_stratus.entry(technique).or_default().push(&rule.id);
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Detection coverage\n\n\
         Made by `vigil rules coverage` from the built-in rules' ATT&CK tags and \
         references; a test fails when this file differs from what the command writes.\n\n\
         {} rules: {} streaming, {} scheduled. {} ATT&CK techniques, {} Stratus Red Team techniques.\n",
        rules.rules.len(),
        rules
            .rules
            .iter()
            .filter(|r| r.schedule().is_none())
            .count(),
        rules
            .rules
            .iter()
            .filter(|r| r.schedule().is_some())
            .count(),
        by_technique.len(),
        by_stratus.len(),
    );
    let table = |out: &mut String, title: &str, head: &str, rows: Vec<(String, Vec<&str>)>| {
        let _ = writeln!(out, "## {title}\n\n| {head} | rules |\n|---|---|");
        for (key, mut ids) in rows {
            ids.sort_unstable();
            ids.dedup();
            let ids: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
            let _ = writeln!(out, "| {key} | {} |", ids.join(", "));
        }
        out.push('\n');
    };
    table(
        &mut out,
        "ATT&CK techniques",
        "technique",
        by_technique
            .into_iter()
            .map(|(t, ids)| {
                let page = t.replace('.', "/");
                (
                    format!("[{t}](https://attack.mitre.org/techniques/{page}/)"),
                    ids,
                )
            })
            .collect(),
    );
    table(
        &mut out,
        "ATT&CK tactics",
        "tactic",
        by_tactic.into_iter().collect(),
    );
    table(
        &mut out,
        "Stratus Red Team techniques",
        "technique",
        by_stratus
            .into_iter()
            .map(|(t, ids)| (format!("`{t}`"), ids))
            .collect(),
    );
    let mut rules_table =
        String::from("## Rules\n\n| rule | severity | mode | techniques |\n|---|---|---|---|\n");
    let mut sorted: Vec<_> = rules.rules.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    for rule in sorted {
        let techniques: Vec<String> = rule
            .tags
            .iter()
            .filter_map(|t| t.strip_prefix("attack."))
            .filter(|t| is_technique(t))
            .map(|t| t.to_ascii_uppercase())
            .collect();
        let _ = writeln!(
            rules_table,
            "| `{}` | {} | {} | {} |",
            rule.id,
            rule.severity,
            rule.mode_name(),
            techniques.join(", ")
        );
    }
    out.push_str(&rules_table);
    out
}

/// `t1098.001` and the like (tactics are words).
fn is_technique(tag: &str) -> bool {
    let mut chars = tag.chars();
    chars.next().is_some_and(|c| c == 't' || c == 'T')
        && chars.next().is_some_and(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn techniques_are_told_from_tactics() {
        assert!(is_technique("t1098.001"));
        assert!(!is_technique("persistence"));
        assert!(!is_technique("defense_evasion"));
    }
}
