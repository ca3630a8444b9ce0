//! `[context]` for the command line: loading what `vigil.toml` and the environment name, and `vigil context`.

use anyhow::{Context as _, Result};
use clap::Args;
use std::path::Path;
use vigil_context::reload::Reloader;
use vigil_context::{ContextConfig, LookupKind};

/// `[context]` of the configuration file, plus `VIGIL_INTEL`, `VIGIL_GEOIP`
/// and `VIGIL_DIRECTORY`.
pub fn config(config: Option<&Path>) -> Result<ContextConfig> {
    let mut context = match super::config_path(config) {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let base = path.parent().unwrap_or(Path::new("."));
            ContextConfig::from_config_text(&text, base)
                .with_context(|| format!("reading [context] of {}", path.display()))?
        }
        None => ContextConfig::default(),
    };
    context.add_from_env(|name| std::env::var(name).ok());
    Ok(context)
}

/// Loads the context and puts it in force for this process (nothing to do
/// when none is configured). A long-running command (`keep_reloading`)
/// then also checks its files for changes every `reload_every`.
pub fn install(config_file: Option<&Path>, keep_reloading: bool) -> Result<()> {
    let config = config(config_file)?;
    if config.is_empty() {
        return Ok(());
    }
    let loaded = vigil_context::reload::load_blocking(&config).context("loading [context]")?;
    loaded.report.log("loaded");
    vigil_context::install(loaded.context);
    if keep_reloading {
        let reloader = Reloader::resume(config, loaded.fingerprints);
        std::thread::Builder::new()
            .name("context-reload".into())
            .spawn(move || reload_forever(reloader))
            .context("starting the context's reload thread")?;
    }
    Ok(())
}

/// Checks the context's files every `reload_every`, for the life of the
/// process; a set that no longer loads leaves the one in force.
fn reload_forever(mut reloader: Reloader) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "the context will not be reloaded");
            return;
        }
    };
    loop {
        std::thread::sleep(reloader.every());
        runtime.block_on(reloader.refresh());
    }
}

/// `vigil context`: what the context holds, and what it says about values.
#[derive(Args, Debug)]
pub struct ContextArgs {
    /// Values to look up: every indicator kind for intel, GeoIP for
    /// addresses, the directory for account ids and ARNs.
    pub values: Vec<String>,
}

pub fn run(config_file: Option<&Path>, args: &ContextArgs) -> Result<()> {
    let config = config(config_file)?;
    if config.is_empty() {
        println!(
            "no context configured: name files in [context] of vigil.toml, or in {}, {} or {}",
            vigil_context::config::INTEL_ENV,
            vigil_context::config::GEOIP_ENV,
            vigil_context::config::DIRECTORY_ENV
        );
    }
    let loaded = vigil_context::reload::load_blocking(&config).context("loading [context]")?;
    for line in loaded.report.lines() {
        println!("{line}");
    }
    let c = &loaded.context;
    if !config.is_empty() {
        println!(
            "{} indicator(s), version {}; {} GeoIP database(s); directory {}",
            c.intel.len(),
            if c.intel.version().is_empty() {
                "-"
            } else {
                c.intel.version()
            },
            c.geo.describe().len(),
            if c.directory.is_empty() {
                "empty"
            } else {
                "loaded"
            }
        );
    }
    const KINDS: [(&str, LookupKind); 7] = [
        ("ip", LookupKind::Ip),
        ("domain", LookupKind::Domain),
        ("url", LookupKind::Url),
        ("user_agent", LookupKind::UserAgent),
        ("access_key", LookupKind::AccessKey),
        ("arn", LookupKind::Arn),
        ("account", LookupKind::Account),
    ];
    for value in &args.values {
        let mut said = false;
        for (name, kind) in KINDS {
            if let Some(hit) = c.intel.lookup(kind, value) {
                println!(
                    "{value}: intel ({name}) {} from {} (confidence {}, tags {})",
                    hit.value,
                    hit.source,
                    hit.confidence.map_or("-".to_string(), |c| c.to_string()),
                    if hit.tags.is_empty() {
                        "-".to_string()
                    } else {
                        hit.tags.join(",")
                    }
                );
                said = true;
                break;
            }
        }
        if let Some(facts) = c.geo.facts(value).filter(|f| !f.is_empty()) {
            println!("{value}: geoip {}", serde_json::to_string(&facts)?);
            said = true;
        }
        let finding = c.finding_context(None, Some(value), Some(value));
        if let Some(account) = &finding.account {
            println!("{value}: account {}", serde_json::to_string(account)?);
            said = true;
        }
        if let Some(owner) = &finding.owner {
            println!("{value}: owner {}", serde_json::to_string(owner)?);
            said = true;
        }
        if !said {
            println!("{value}: nothing known");
        }
    }
    Ok(())
}
