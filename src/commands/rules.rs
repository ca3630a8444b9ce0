//! `vigil rules list | validate | test | coverage`, and loading the rules every command uses.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use vigil_detect::{run_rule_tests, RuleSet};

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

/// The built-in rules plus every rule file under `user_dirs`.
pub fn load_rules(user_dirs: &[PathBuf]) -> Result<RuleSet> {
    let mut rules = RuleSet::builtin().context("loading the built-in rules")?;
    for dir in user_dirs {
        let more = RuleSet::load_dir(dir)
            .with_context(|| format!("loading rules from {}", dir.display()))?;
        rules.extend(more)?;
    }
    Ok(rules)
}

fn rules_at(paths: &[PathBuf], user_dirs: &[PathBuf]) -> Result<RuleSet> {
    if paths.is_empty() {
        return load_rules(user_dirs);
    }
    let mut rules = RuleSet::default();
    for p in paths {
        rules.extend(
            RuleSet::load_dir(p).with_context(|| format!("loading rules from {}", p.display()))?,
        )?;
    }
    Ok(rules)
}

pub fn run(command: &RulesCommand, user_dirs: &[PathBuf]) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    match command {
        RulesCommand::List => {
            let rules = load_rules(user_dirs)?;
            output::print_rules(&rules);
            Ok(())
        }
        RulesCommand::Validate { paths } => {
            let rules = rules_at(paths, user_dirs)?;
            runtime.block_on(rules.check_plans())?;
            println!("{} rule(s) valid", rules.rules.len());
            Ok(())
        }
        RulesCommand::Test { paths } => {
            let rules = rules_at(paths, user_dirs)?;
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
            let report = vigil_detect::coverage::markdown(&load_rules(user_dirs)?);
            match output {
                Some(path) => std::fs::write(path, report)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{report}"),
            }
            Ok(())
        }
    }
}
