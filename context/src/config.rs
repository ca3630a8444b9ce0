//! `[context]` of `vigil.toml` (and the `VIGIL_INTEL`, `VIGIL_GEOIP`, `VIGIL_DIRECTORY` variables), and loading what it names.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ContextError;
use crate::intel::formats::{self, CsvColumns, IntelFormat, SetSpec};
use crate::source::{self, Fingerprint};
use crate::{Context, Directory, GeoDatabases, IndicatorKind, IntelSet};

pub const INTEL_ENV: &str = "VIGIL_INTEL";
pub const GEOIP_ENV: &str = "VIGIL_GEOIP";
pub const DIRECTORY_ENV: &str = "VIGIL_DIRECTORY";

/// `[context]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    /// Indicator sets: a path or `s3://` URL, or a table saying how to read it.
    #[serde(default)]
    pub intel: Vec<IntelEntry>,
    /// MaxMind DB files (City, Country, ASN).
    #[serde(default)]
    pub geoip: Vec<String>,
    /// Account and owner files (CSV or TOML).
    #[serde(default)]
    pub directory: Vec<String>,
    /// How often a long-running process (the Lambda handlers, `vigil serve`,
    /// `vigil tail`) checks the files for changes.
    #[serde(default = "default_reload_every", with = "humantime_serde")]
    pub reload_every: Duration,
}

fn default_reload_every() -> Duration {
    Duration::from_secs(300)
}

impl Default for ContextConfig {
    fn default() -> Self {
        ContextConfig {
            intel: Vec::new(),
            geoip: Vec::new(),
            directory: Vec::new(),
            reload_every: default_reload_every(),
        }
    }
}

mod humantime_serde {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

/// One indicator set of `intel = [...]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum IntelEntry {
    Location(String),
    Described(Box<IntelSetConfig>),
}

/// An indicator set described in full.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntelSetConfig {
    pub path: String,
    /// The source name its indicators carry (default: the file's name).
    pub name: Option<String>,
    /// `plain`, `csv`, `stix` or `misp` (default: from the name and contents).
    pub format: Option<IntelFormat>,
    /// Every indicator's kind, when the file does not say.
    pub kind: Option<String>,
    #[serde(default)]
    pub columns: Option<CsvColumns>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub confidence: Option<u8>,
}

impl IntelEntry {
    pub fn location(&self) -> &str {
        match self {
            IntelEntry::Location(l) => l,
            IntelEntry::Described(d) => &d.path,
        }
    }

    fn spec(&self) -> Result<SetSpec, String> {
        let location = self.location();
        let file_name = location.rsplit('/').next().unwrap_or(location).to_string();
        Ok(match self {
            IntelEntry::Location(_) => SetSpec {
                source: file_name,
                format: None,
                kind: None,
                columns: CsvColumns::default(),
                tags: Vec::new(),
                confidence: None,
            },
            IntelEntry::Described(d) => SetSpec {
                source: d.name.clone().unwrap_or(file_name),
                format: d.format,
                kind: match &d.kind {
                    None => None,
                    Some(k) => Some(IndicatorKind::parse(k).ok_or_else(|| {
                        format!("unknown kind {k:?} ({})", crate::LookupKind::NAMES)
                    })?),
                },
                columns: d.columns.clone().unwrap_or_default(),
                tags: d.tags.clone(),
                confidence: d.confidence,
            },
        })
    }

    fn resolve(&mut self, base: &Path) {
        let location = match self {
            IntelEntry::Location(l) => l,
            IntelEntry::Described(d) => &mut d.path,
        };
        *location = resolve(base, location);
    }
}

/// A relative path is relative to the configuration file's folder.
fn resolve(base: &Path, location: &str) -> String {
    if location.starts_with("s3://") || Path::new(location).is_absolute() {
        location.to_string()
    } else {
        base.join(location).to_string_lossy().into_owned()
    }
}

fn split_list(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(String::from)
}

impl ContextConfig {
    /// Reads the `[context]` section of a vigil.toml's text; relative paths
    /// are taken from `base` (the file's folder).
    pub fn from_config_text(text: &str, base: &Path) -> Result<ContextConfig, toml::de::Error> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            context: ContextConfig,
        }
        let mut config = toml::from_str::<File>(text)?.context;
        for entry in &mut config.intel {
            entry.resolve(base);
        }
        for location in config.geoip.iter_mut().chain(config.directory.iter_mut()) {
            *location = resolve(base, location);
        }
        Ok(config)
    }

    /// Adds the files the environment names (comma-separated lists).
    pub fn add_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if let Some(v) = lookup(INTEL_ENV) {
            self.intel.extend(split_list(&v).map(IntelEntry::Location));
        }
        if let Some(v) = lookup(GEOIP_ENV) {
            self.geoip.extend(split_list(&v));
        }
        if let Some(v) = lookup(DIRECTORY_ENV) {
            self.directory.extend(split_list(&v));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.intel.is_empty() && self.geoip.is_empty() && self.directory.is_empty()
    }

    /// Every file named, in order.
    pub fn locations(&self) -> Vec<String> {
        self.intel
            .iter()
            .map(|e| e.location().to_string())
            .chain(self.geoip.iter().cloned())
            .chain(self.directory.iter().cloned())
            .collect()
    }

    /// Reads and indexes every file named.
    pub async fn load(&self) -> Result<Loaded, ContextError> {
        let mut fingerprints = BTreeMap::new();
        let mut report = LoadReport::default();
        let mut indicators = Vec::new();
        let mut digest = Sha256::new();
        for entry in &self.intel {
            let location = entry.location();
            let spec = entry.spec().map_err(|reason| ContextError::Format {
                location: location.to_string(),
                reason,
            })?;
            let (bytes, fingerprint) = source::read(location).await?;
            digest.update(&bytes);
            fingerprints.insert(location.to_string(), fingerprint);
            let parsed =
                formats::parse(location, &bytes, &spec).map_err(|reason| ContextError::Format {
                    location: location.to_string(),
                    reason,
                })?;
            report.intel.push(SetReport {
                location: location.to_string(),
                source: spec.source.clone(),
                indicators: parsed.indicators.len(),
                skipped: parsed.skipped,
            });
            indicators.extend(parsed.indicators);
        }
        let version = if self.intel.is_empty() {
            String::new()
        } else {
            hex::encode(digest.finalize().get(..6).unwrap_or_default())
        };
        let (intel, rejected) = IntelSet::build(indicators, version);
        report.rejected = rejected;
        let mut databases = Vec::new();
        for location in &self.geoip {
            let (bytes, fingerprint) = source::read(location).await?;
            fingerprints.insert(location.clone(), fingerprint);
            databases.push((location.clone(), bytes));
        }
        let geo = GeoDatabases::open(databases)?;
        report.geoip = geo.describe();
        let mut directory = Directory::default();
        for location in &self.directory {
            let (bytes, fingerprint) = source::read(location).await?;
            fingerprints.insert(location.clone(), fingerprint);
            directory.add_file(location, &bytes)?;
        }
        Ok(Loaded {
            context: Arc::new(Context {
                intel,
                geo,
                directory,
            }),
            fingerprints,
            report,
        })
    }
}

/// A loaded context, the versions of the files it came from, and what was read.
pub struct Loaded {
    pub context: Arc<Context>,
    pub fingerprints: BTreeMap<String, Fingerprint>,
    pub report: LoadReport,
}

/// What loading read: indicators per set and what was left out, and the databases.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub intel: Vec<SetReport>,
    /// Indicators refused when indexing (bad addresses, expressions that do not compile).
    pub rejected: Vec<String>,
    /// Each GeoIP database's location and type.
    pub geoip: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct SetReport {
    pub location: String,
    pub source: String,
    pub indicators: usize,
    pub skipped: BTreeMap<String, usize>,
}

impl LoadReport {
    /// Logs [`LoadReport::lines`], each after `what` (`loaded`, `reloaded`).
    pub fn log(&self, what: &str) {
        for line in self.lines() {
            tracing::info!("{what}: {line}");
        }
    }

    /// One line per set or database, for logs and `vigil context`.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for set in &self.intel {
            let mut line = format!(
                "intel {} ({}): {} indicator(s)",
                set.location, set.source, set.indicators
            );
            if !set.skipped.is_empty() {
                let skipped: Vec<String> = set
                    .skipped
                    .iter()
                    .map(|(reason, n)| format!("{n} × {reason}"))
                    .collect();
                line.push_str(&format!("; skipped {}", skipped.join(", ")));
            }
            lines.push(line);
        }
        for rejected in &self.rejected {
            lines.push(format!("intel: refused {rejected}"));
        }
        for (location, kind) in &self.geoip {
            lines.push(format!("geoip {location}: {kind}"));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_reads_paths_relative_to_the_file_and_adds_the_environment() {
        let text = r#"
[alerting]
max_attempts = 2
[context]
intel = ["lists/bad.txt", { path = "s3://feeds/misp.csv", format = "misp", name = "misp" }]
geoip = ["/abs/City.mmdb"]
directory = ["accounts.csv"]
reload_every = "10m"
"#;
        let mut c = ContextConfig::from_config_text(text, Path::new("/etc/vigil")).unwrap();
        c.add_from_env(|k| (k == GEOIP_ENV).then(|| "a.mmdb, b.mmdb".to_string()));
        assert_eq!(
            c.locations(),
            [
                "/etc/vigil/lists/bad.txt",
                "s3://feeds/misp.csv",
                "/abs/City.mmdb",
                "a.mmdb",
                "b.mmdb",
                "/etc/vigil/accounts.csv"
            ]
        );
        assert_eq!(c.reload_every, Duration::from_secs(600));
        assert!(
            ContextConfig::from_config_text("[context]\nintel = [1]\n", Path::new(".")).is_err()
        );
        assert!(ContextConfig::from_config_text("[context]\nbogus = 1\n", Path::new(".")).is_err());
        assert!(ContextConfig::from_config_text("", Path::new("."))
            .unwrap()
            .is_empty());
    }

    #[tokio::test]
    async fn loading_reads_every_file_and_versions_the_intel() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.txt"),
            "203.0.113.66\nnot-an-indicator here\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("accounts.csv"),
            "account_id,name,environment\n111122223333,prod-main,prod\n",
        )
        .unwrap();
        let text = "[context]\nintel = [\"bad.txt\"]\ndirectory = [\"accounts.csv\"]\n";
        let config = ContextConfig::from_config_text(text, dir.path()).unwrap();
        let loaded = config.load().await.unwrap();
        let c = &loaded.context;
        assert_eq!(c.intel.len(), 1);
        assert_eq!(c.intel.version().len(), 12);
        assert_eq!(
            c.directory.account("111122223333").unwrap().name.as_deref(),
            Some("prod-main")
        );
        assert_eq!(loaded.fingerprints.len(), 2);
        let lines = loaded.report.lines();
        assert!(
            lines[0].contains("1 indicator(s); skipped 1 ×"),
            "{lines:?}"
        );
        let missing =
            ContextConfig::from_config_text("[context]\ngeoip = [\"nope.mmdb\"]\n", dir.path())
                .unwrap()
                .load()
                .await
                .err()
                .unwrap();
        assert!(missing.to_string().contains("nope.mmdb"), "{missing}");
    }
}
