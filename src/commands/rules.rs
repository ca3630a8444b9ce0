//! `vigil rules list | validate | test | coverage`, and loading the rules every command uses.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::Path;
use std::path::PathBuf;
use vigil_detect::rule::RulesConfig;
use vigil_detect::{run_rule_tests, RuleSet, RuleSources};

use crate::output;

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the rules in force (built-in and --rules folders).
    List,
    /// Check rule files: TOML, read-only SQL, durations, tests present, and a
    /// query plan against the lake schemas. Without PATH: the rules in force.
    Validate { paths: Vec<PathBuf> },
    /// Run rules' inline tests; exits non-zero if any fails. Without PATH: the rules in force.
    Test { paths: Vec<PathBuf> },
    /// Print the coverage report (ATT&CK and Stratus Red Team techniques against
    /// rules) as Markdown; `docs/COVERAGE.md` is its output for the built-in rules.
    Coverage {
        /// Write the report to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Where the rules in force come from: the `--rules` folders, the packs of
/// `--pack` and of `[rules] packs`, and `[rules.placeholders]`, from the
/// configuration file given, else `./vigil.toml` if present.
pub fn sources(dirs: &[PathBuf], packs: &[String], config: Option<&Path>) -> Result<RuleSources> {
    let path = crate::commands::config_path(config);
    let mut config = match &path {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            RulesConfig::from_config_text(&text)
                .with_context(|| format!("reading [rules] of {}", p.display()))?
        }
        None => RulesConfig::default(),
    };
    config.add_packs(packs.iter().map(String::as_str));
    Ok(RuleSources {
        dirs: dirs.to_vec(),
        packs: config.packs,
        placeholders: config.placeholders,
    })
}

/// The rules in force.
pub fn load_rules(sources: &RuleSources) -> Result<RuleSet> {
    sources.load().context("loading the rules")
}

fn rules_at(paths: &[PathBuf], sources: &RuleSources) -> Result<RuleSet> {
    if paths.is_empty() {
        return load_rules(sources);
    }
    let mut rules = RuleSet::default();
    for p in paths {
        rules.extend(
            RuleSet::load_dir_with(p, &sources.placeholders)
                .with_context(|| format!("loading rules from {}", p.display()))?,
        )?;
    }
    Ok(rules)
}

pub fn run(command: &RulesCommand, sources: &RuleSources) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    match command {
        RulesCommand::List => {
            let rules = load_rules(sources)?;
            output::print_rules(&rules);
            Ok(())
        }
        RulesCommand::Validate { paths } => {
            let rules = rules_at(paths, sources)?;
            runtime.block_on(rules.check_plans())?;
            for warning in context_warnings(&rules) {
                eprintln!("warning: {warning}");
            }
            println!("{} rule(s) valid", rules.rules.len());
            Ok(())
        }
        RulesCommand::Test { paths } => {
            let rules = rules_at(paths, sources)?;
            runtime.block_on(rules.check_plans())?;
            let mut outcomes = Vec::new();
            for rule in &rules.rules {
                outcomes.extend(runtime.block_on(run_rule_tests(rule)));
            }
            output::print_test_outcomes(&outcomes);
            let failed = outcomes.iter().filter(|o| !o.passed).count();
            if failed > 0 {
                bail!("{failed} of {} rule test(s) failed", outcomes.len());
            }
            Ok(())
        }
        RulesCommand::Coverage { output } => {
            let report = vigil_detect::coverage::markdown(&load_rules(sources)?);
            match output {
                Some(path) => std::fs::write(path, report)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{report}"),
            }
            Ok(())
        }
    }
}

/// Rules that call context functions the configured context cannot answer:
/// they run, but those functions return null.
fn context_warnings(rules: &RuleSet) -> Vec<String> {
    let context = vigil_context::current();
    let mut warnings = Vec::new();
    for rule in &rules.rules {
        let sql = rule.sql(vigil_queries::TimeRange::ALL).to_ascii_lowercase();
        let uses = |name: &str| sql.contains(&format!("{name}("));
        if context.geo.is_empty() {
            let geo: Vec<&str> = vigil_queries::context_functions::GEO_FUNCTIONS
                .into_iter()
                .filter(|f| uses(f))
                .collect();
            if !geo.is_empty() {
                warnings.push(format!(
                    "rule {} uses {} but no GeoIP database is configured ([context] geoip or {}): {} null",
                    rule.id,
                    geo.join(", "),
                    vigil_context::config::GEOIP_ENV,
                    if geo.len() == 1 { "it returns" } else { "they return" }
                ));
            }
        }
        if context.intel.is_empty()
            && (uses("intel_match") || rule.context_tables.contains(&"intel"))
        {
            warnings.push(format!(
                "rule {} uses threat intelligence but no indicator set is configured ([context] intel or {}): it cannot fire",
                rule.id,
                vigil_context::config::INTEL_ENV
            ));
        }
    }
    warnings
}
