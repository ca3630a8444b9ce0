//! `vigil.toml`: where alerts go and which findings go where.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use vigil_detect::{Finding, Severity};

use crate::error::AlertError;

/// The whole `vigil.toml` (only `[alerting]` is read here).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct VigilConfig {
    #[serde(default)]
    pub alerting: AlertingConfig,
}

/// `[alerting]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// Deliveries in flight at once, over all destinations.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: usize,
    /// Attempts per delivery, the first included.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// First backoff; each retry doubles it (full jitter), up to `max_backoff`.
    #[serde(default = "default_base_backoff", with = "humantime_serde_compat")]
    pub base_backoff: Duration,
    #[serde(default = "default_max_backoff", with = "humantime_serde_compat")]
    pub max_backoff: Duration,
    /// Total time one delivery may take, retries included.
    #[serde(default = "default_deadline", with = "humantime_serde_compat")]
    pub deadline: Duration,
    /// Where deliveries that still fail are kept (JSON Lines); the CLI
    /// defaults it to `<lake>/_alerts/deadletter.jsonl` for a local lake.
    #[serde(default = "default_dead_letter")]
    pub dead_letter: PathBuf,
    /// In AWS: keep failed deliveries in this SQS queue instead of a file.
    #[serde(default)]
    pub dead_letter_queue_url: Option<String>,
    /// An endpoint override for that queue (tests point it at moto).
    #[serde(default)]
    pub dead_letter_endpoint_url: Option<String>,
    #[serde(default)]
    pub destinations: Vec<DestinationConfig>,
}

fn default_concurrency() -> usize {
    16
}
fn default_attempts() -> u32 {
    5
}
fn default_base_backoff() -> Duration {
    Duration::from_millis(200)
}
fn default_max_backoff() -> Duration {
    Duration::from_secs(20)
}
fn default_deadline() -> Duration {
    Duration::from_secs(60)
}
fn default_dead_letter() -> PathBuf {
    PathBuf::from("vigil-alerts-deadletter.jsonl")
}

impl Default for AlertingConfig {
    fn default() -> Self {
        AlertingConfig {
            max_concurrency: default_concurrency(),
            max_attempts: default_attempts(),
            base_backoff: default_base_backoff(),
            max_backoff: default_max_backoff(),
            deadline: default_deadline(),
            dead_letter: default_dead_letter(),
            dead_letter_queue_url: None,
            dead_letter_endpoint_url: None,
            destinations: Vec::new(),
        }
    }
}

/// Durations as text (`"10s"`, `"2m"`), through humantime.
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

fn opt_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| humantime::parse_duration(&s).map_err(serde::de::Error::custom))
        .transpose()
}

/// `[[alerting.destinations]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DestinationConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: DestinationKind,
    /// webhook and slack: the URL (HTTPS unless loopback).
    pub url: Option<String>,
    /// slack: the incoming-webhook URL is itself a secret: read it from this variable.
    pub url_env: Option<String>,
    /// webhook: the HMAC secret, from this environment variable...
    pub secret_env: Option<String>,
    /// ...or from this Secrets Manager secret (ARN or name).
    pub secret_id: Option<String>,
    /// sns: the topic ARN (a `.fifo` topic gets group and deduplication ids).
    pub topic_arn: Option<String>,
    /// sns and securityhub: an endpoint override (tests point it at moto).
    pub endpoint_url: Option<String>,
    /// securityhub: the product findings are imported as; for your own
    /// findings, `arn:aws:securityhub:<region>:<account>:product/<account>/default`.
    pub product_arn: Option<String>,
    /// file: the JSON Lines file.
    pub path: Option<PathBuf>,
    /// stdout: `text` (one line per alert, the default), `json` or `ocsf`;
    /// file, webhook and sns: `json` (Vigil's body, the default) or `ocsf`
    /// (an OCSF Detection Finding).
    pub format: Option<String>,
    /// Per-request timeout (webhook, slack, sns); default 10s.
    #[serde(default, deserialize_with = "opt_duration")]
    pub timeout: Option<Duration>,
    /// Routing: only findings at least this severe.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Routing: only these rule ids (all when empty); never these.
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub exclude_rules: Vec<String>,
    /// Routing: only findings with one of these tags (all when empty); never these.
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub exclude_tags: Vec<String>,
    /// Routing: only findings about accounts of these environments (as the
    /// `[context] directory` names them; all when empty); never these.
    #[serde(default)]
    pub environments: Vec<String>,
    #[serde(default)]
    pub exclude_environments: Vec<String>,
    /// Routing: only findings whose principal's owner is in one of these
    /// teams (all when empty).
    #[serde(default)]
    pub teams: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationKind {
    Sns,
    Webhook,
    Slack,
    File,
    Stdout,
    /// AWS Security Hub, findings in ASFF.
    SecurityHub,
}

impl DestinationConfig {
    /// A destination of `kind` named `name` with nothing else set.
    pub fn new(name: &str, kind: DestinationKind) -> Self {
        DestinationConfig {
            name: name.into(),
            kind,
            url: None,
            url_env: None,
            secret_env: None,
            secret_id: None,
            topic_arn: None,
            endpoint_url: None,
            product_arn: None,
            path: None,
            format: None,
            timeout: None,
            min_severity: None,
            rules: Vec::new(),
            exclude_rules: Vec::new(),
            tags: Vec::new(),
            exclude_tags: Vec::new(),
            environments: Vec::new(),
            exclude_environments: Vec::new(),
            teams: Vec::new(),
        }
    }

    /// Does this destination want this finding?
    pub fn routes(&self, f: &Finding) -> bool {
        self.min_severity.is_none_or(|min| f.severity >= min)
            && (self.rules.is_empty() || self.rules.contains(&f.rule_id))
            && !self.exclude_rules.contains(&f.rule_id)
            && (self.tags.is_empty() || f.tags.iter().any(|t| self.tags.contains(t)))
            && !f.tags.iter().any(|t| self.exclude_tags.contains(t))
            && self.routes_environment(f)
            && (self.teams.is_empty()
                || f.context
                    .owner
                    .as_ref()
                    .and_then(|o| o.team.as_ref())
                    .is_some_and(|t| self.teams.contains(t)))
    }

    fn routes_environment(&self, f: &Finding) -> bool {
        let environment = f
            .context
            .account
            .as_ref()
            .and_then(|a| a.environment.as_ref());
        (self.environments.is_empty() || environment.is_some_and(|e| self.environments.contains(e)))
            && !environment.is_some_and(|e| self.exclude_environments.contains(e))
    }

    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(Duration::from_secs(10))
    }

    /// The body this destination sends, from `format` (refused when the
    /// destination does not take it).
    pub fn body_format(&self) -> Result<crate::payload::BodyFormat, String> {
        use crate::payload::BodyFormat;
        let text_allowed = self.kind == DestinationKind::Stdout;
        let bodies_allowed = matches!(
            self.kind,
            DestinationKind::Stdout
                | DestinationKind::File
                | DestinationKind::Webhook
                | DestinationKind::Sns
        );
        match self.format.as_deref() {
            None => Ok(BodyFormat::Vigil),
            Some("text") if text_allowed => Ok(BodyFormat::Vigil),
            Some("json") if bodies_allowed => Ok(BodyFormat::Vigil),
            Some("ocsf") if bodies_allowed => Ok(BodyFormat::Ocsf),
            Some(other) => Err(format!(
                "destination {:?} ({:?}) does not take format {other:?} ({})",
                self.name,
                self.kind,
                if text_allowed {
                    "text, json or ocsf"
                } else if bodies_allowed {
                    "json or ocsf"
                } else {
                    "it has a format of its own"
                }
            )),
        }
    }
}

impl AlertingConfig {
    /// The local default: alerts on stdout and appended to `<dir>/alerts.jsonl`,
    /// failures to `<dir>/deadletter.jsonl`.
    pub fn local_default(dir: &Path) -> AlertingConfig {
        let mut file = DestinationConfig::new("alerts-file", DestinationKind::File);
        file.path = Some(dir.join("alerts.jsonl"));
        AlertingConfig {
            destinations: vec![
                DestinationConfig::new("stdout", DestinationKind::Stdout),
                file,
            ],
            dead_letter: dir.join("deadletter.jsonl"),
            ..AlertingConfig::default()
        }
    }

    /// Checks what can be checked without sending: names, required fields, URLs.
    pub fn validate(&self, path: &Path) -> Result<(), AlertError> {
        let err = |message: String| AlertError::Config {
            path: path.to_path_buf(),
            message,
        };
        let mut names = std::collections::BTreeSet::new();
        for d in &self.destinations {
            if !names.insert(d.name.as_str()) {
                return Err(err(format!("two destinations are named {:?}", d.name)));
            }
            d.body_format().map_err(err)?;
            let need = |field: &str, v: bool| {
                if v {
                    Ok(())
                } else {
                    Err(err(format!(
                        "destination {:?} ({:?}) needs {field}",
                        d.name, d.kind
                    )))
                }
            };
            match d.kind {
                DestinationKind::Webhook => {
                    need("url", d.url.is_some())?;
                    need(
                        "secret_env or secret_id",
                        d.secret_env.is_some() || d.secret_id.is_some(),
                    )?;
                    check_url(d.url.as_deref().unwrap_or_default())
                        .map_err(|m| err(format!("destination {:?}: {m}", d.name)))?;
                }
                DestinationKind::Slack => {
                    need("url_env (or url)", d.url.is_some() || d.url_env.is_some())?;
                    if let Some(url) = &d.url {
                        check_url(url)
                            .map_err(|m| err(format!("destination {:?}: {m}", d.name)))?;
                    }
                }
                DestinationKind::Sns => need("topic_arn", d.topic_arn.is_some())?,
                DestinationKind::SecurityHub => {
                    need("product_arn", d.product_arn.is_some())?;
                    crate::asff::Product::from_arn(d.product_arn.as_deref().unwrap_or_default())
                        .map_err(|m| err(format!("destination {:?}: {m}", d.name)))?;
                }
                DestinationKind::File => need("path", d.path.is_some())?,
                DestinationKind::Stdout => {}
            }
        }
        if self.max_concurrency == 0 || self.max_attempts == 0 {
            return Err(err(
                "max_concurrency and max_attempts must be at least 1".into()
            ));
        }
        Ok(())
    }
}

/// HTTPS, or plain HTTP to a loopback address only.
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("bad URL {url:?}: {e}"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(format!("plain HTTP is refused except to loopback: {url}"))
            }
        }
        other => Err(format!("unsupported URL scheme {other}")),
    }
}

/// Loads `vigil.toml`.
pub fn load(path: &Path) -> Result<VigilConfig, AlertError> {
    let text = std::fs::read_to_string(path).map_err(|e| AlertError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    parse(&text, path)
}

/// Reads `vigil.toml`'s text (`path` names it in errors).
pub fn parse(text: &str, path: &Path) -> Result<VigilConfig, AlertError> {
    let config: VigilConfig = toml::from_str(text).map_err(|e| AlertError::Config {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    config.alerting.validate(path)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_shape_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.toml");
        std::fs::write(
            &path,
            r#"
[[alerting.destinations]]
name = "soc-webhook"
type = "webhook"
url = "https://hooks.example.com/vigil"
secret_env = "VIGIL_WEBHOOK_SECRET"
min_severity = "medium"
"#,
        )
        .unwrap();
        let config = load(&path).unwrap();
        let d = &config.alerting.destinations[0];
        assert_eq!(d.kind, DestinationKind::Webhook);
        assert_eq!(d.min_severity, Some(Severity::Medium));
        assert_eq!(config.alerting.max_attempts, 5);
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        assert!(check_url("https://hooks.example.com/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://[::1]:8080/x").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://hooks.example.com/x")
            .unwrap_err()
            .contains("refused"));
        assert!(check_url("ftp://x").is_err());
    }

    #[test]
    fn destinations_route_by_the_accounts_environment_and_the_owners_team() {
        use vigil_context::{AccountInfo, FindingContext, OwnerInfo};
        let mut finding = vigil_detect::Finding {
            finding_id: "f".into(),
            rule_id: "r".into(),
            title: "t".into(),
            severity: Severity::High,
            status: vigil_detect::FindingStatus::New,
            first_seen: 0,
            last_seen: 0,
            event_count: 1,
            dedup_key: "k".into(),
            entities: Default::default(),
            tags: vec![],
            window_start: 0,
            window_end: 0,
            fields: Default::default(),
            samples: vec![],
            detected_at: 0,
            context: FindingContext::default(),
        };
        let mut paging = DestinationConfig::new("pager", DestinationKind::Stdout);
        paging.environments = vec!["prod".into()];
        let mut quiet = DestinationConfig::new("chat", DestinationKind::Stdout);
        quiet.exclude_environments = vec!["prod".into()];
        let mut platform = DestinationConfig::new("platform", DestinationKind::Stdout);
        platform.teams = vec!["platform".into()];
        // Nothing known: only destinations that do not ask.
        assert!(!paging.routes(&finding) && quiet.routes(&finding) && !platform.routes(&finding));
        finding.context.account = Some(AccountInfo {
            id: "111122223333".into(),
            name: Some("acme-prod".into()),
            environment: Some("prod".into()),
        });
        finding.context.owner = Some(OwnerInfo {
            principal: "bob".into(),
            owner: None,
            team: Some("platform".into()),
        });
        assert!(paging.routes(&finding) && !quiet.routes(&finding) && platform.routes(&finding));
        finding.context.account.as_mut().unwrap().environment = Some("dev".into());
        assert!(!paging.routes(&finding) && quiet.routes(&finding));
    }
}
