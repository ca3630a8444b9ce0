//! `vigil sigma convert`: a Sigma rule as the SQL Vigil runs, or as a Vigil rule file.

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use std::path::PathBuf;
use vigil_detect::Placeholders;
use vigil_sigma::SigmaFile;

#[derive(Subcommand, Debug)]
pub enum SigmaCommand {
    /// Print a Sigma rule as one SELECT over the lake (standard output
    /// holds the query alone: `vigil sigma convert r.yml > r.sql && vigil
    /// query -f r.sql`), or as a Vigil rule file to edit. Further files
    /// hold rules a correlation of the first reads.
    Convert {
        rule: PathBuf,
        /// Files with the rules a correlation in RULE reads (by id or name).
        #[arg(value_name = "READS")]
        reads: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = ConvertFormat::Sql)]
        format: ConvertFormat,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ConvertFormat {
    Sql,
    Toml,
}

pub fn run(command: &SigmaCommand, placeholders: &Placeholders) -> Result<()> {
    let SigmaCommand::Convert {
        rule,
        reads,
        format,
    } = command;
    let paths: Vec<&PathBuf> = std::iter::once(rule).chain(reads).collect();
    let mut texts = Vec::new();
    for path in &paths {
        texts.push(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        );
    }
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let files: Vec<SigmaFile> = texts
        .iter()
        .zip(&names)
        .map(|(text, name)| SigmaFile { text, name })
        .collect();
    // The first file's rules; the others only lend it the rules it reads.
    let mut results = vigil_sigma::compile_files(&files, placeholders).into_iter();
    let compiled = results.next().unwrap_or_else(|| Ok(Vec::new()))?;
    for other in results {
        other?;
    }
    // The rules that report: a correlation's, not the rules it reads.
    let reporting = compiled.iter().filter(|c| c.reports).count();
    if reporting > 1 && matches!(format, ConvertFormat::Sql) {
        bail!(
            "{} holds {reporting} rules that report; convert them one file at a time (or use --format toml)",
            rule.display()
        );
    }
    for (i, c) in compiled.iter().enumerate().filter(|(_, c)| c.reports) {
        match format {
            ConvertFormat::Sql => println!("{}", c.sql),
            ConvertFormat::Toml => {
                let id = vigil_detect::sigma::rule_id(rule, i, compiled.len());
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
