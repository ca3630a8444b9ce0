//! `vigil sigma convert`: a Sigma rule as the SQL Vigil runs, or as a Vigil rule file.

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum SigmaCommand {
    /// Print a Sigma detection rule as one SELECT over the lake (standard
    /// output holds the query alone: `vigil sigma convert r.yml > r.sql &&
    /// vigil query -f r.sql`), or as a Vigil rule file to edit.
    Convert {
        rule: PathBuf,
        #[arg(long, value_enum, default_value_t = ConvertFormat::Sql)]
        format: ConvertFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConvertFormat {
    Sql,
    Toml,
}

pub fn run(command: &SigmaCommand) -> Result<()> {
    let SigmaCommand::Convert { rule, format } = command;
    let text =
        std::fs::read_to_string(rule).with_context(|| format!("reading {}", rule.display()))?;
    let compiled = vigil_sigma::compile(&text, &rule.display().to_string(), &Default::default())?;
    // The rules that report: a correlation's, not the rules it reads.
    let reporting = compiled.iter().filter(|c| c.reports).count();
    if reporting > 1 && matches!(format, ConvertFormat::Sql) {
        bail!(
            "{} holds {reporting} rules that report; convert them one file at a time (or use --format toml)",
            rule.display()
        );
    }
    let stem = rule
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    for (i, c) in compiled.iter().enumerate().filter(|(_, c)| c.reports) {
        match format {
            ConvertFormat::Sql => println!("{}", c.sql),
            ConvertFormat::Toml => {
                let id = if compiled.len() > 1 {
                    vigil_detect::sigma::rule_id(&format!("{stem}_{}", i + 1))
                } else {
                    vigil_detect::sigma::rule_id(&stem)
                };
                print!("{}", vigil_detect::sigma::rule_toml(c, &id, None));
                println!(
                    "\n# Add [[tests]]: one that fires and one that stays quiet (see docs/RULES.md)."
                );
            }
        }
    }
    eprintln!("{}: {reporting} rule(s) converted", rule.display());
    Ok(())
}
