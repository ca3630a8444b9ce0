//! What a function is configured with: environment variables, read once.

use std::path::PathBuf;
use std::time::Duration;
use vigil_alerting::config::{DestinationConfig, DestinationKind};
use vigil_alerting::AlertingConfig;
use vigil_detect::rule::RulesConfig;
use vigil_detect::RuleSources;
use vigil_ingest::Lake;
use vigil_pipeline::{Pipeline, PipelineConfig};

use crate::error::AwsError;

/// Longer than any function runs (Lambda's limit is 15 minutes): findings in
/// the outbox for longer were left by a run that stopped before alerting;
/// younger ones may be another invocation's, still being delivered.
const OVERLAPPING_RUN_GRACE: Duration = Duration::from_secs(16 * 60);

/// The lake (`s3://bucket/prefix`, or a local path for tests and laptops).
pub const LAKE_ENV: &str = "VIGIL_LAKE";
/// Extra rule folders, comma-separated (a Lambda layer, say).
pub const RULES_ENV: &str = "VIGIL_RULES";
/// Built-in rule packs to turn on, comma-separated (e.g. `sigma`).
pub const RULE_PACKS_ENV: &str = "VIGIL_RULE_PACKS";
/// A `vigil.toml` whose `[alerting]` and `[rules]` sections are used.
pub const CONFIG_ENV: &str = "VIGIL_CONFIG";
/// The SNS topic findings are published to.
pub const SNS_TOPIC_ENV: &str = "VIGIL_SNS_TOPIC_ARN";
/// A webhook that receives findings, signed with the secret below.
pub const WEBHOOK_URL_ENV: &str = "VIGIL_WEBHOOK_URL";
/// The Secrets Manager secret (ARN or name) holding the webhook's HMAC key.
pub const WEBHOOK_SECRET_ID_ENV: &str = "VIGIL_WEBHOOK_SECRET_ID";
/// The Security Hub product findings are imported as (ASFF), for example
/// `arn:aws:securityhub:<region>:<account>:product/<account>/default`.
pub const SECURITYHUB_PRODUCT_ENV: &str = "VIGIL_SECURITYHUB_PRODUCT_ARN";
/// The SQS queue that keeps deliveries that still failed after retries.
pub const ALERT_DLQ_ENV: &str = "VIGIL_ALERT_DLQ_URL";
/// An endpoint override for every AWS client (tests point it at moto).
pub const AWS_ENDPOINT_ENV: &str = "VIGIL_AWS_ENDPOINT";

/// A function's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub lake: String,
    pub rule_dirs: Vec<PathBuf>,
    /// Built-in rule packs turned on (`VIGIL_RULE_PACKS`, e.g. `sigma`).
    pub rule_packs: Vec<String>,
    /// Values for Sigma's `expand` placeholders (`[rules.placeholders]` of
    /// the `VIGIL_CONFIG` file).
    pub rule_placeholders: vigil_detect::Placeholders,
    pub alerting: AlertingConfig,
    /// `[context]` of the `VIGIL_CONFIG` file, plus `VIGIL_INTEL`,
    /// `VIGIL_GEOIP` and `VIGIL_DIRECTORY`.
    pub context: vigil_context::ContextConfig,
}

impl Settings {
    /// Reads the settings from the environment. With no destination
    /// configured, findings are written as JSON lines to the function's log.
    pub fn from_env() -> Result<Settings, AwsError> {
        Settings::from_variables(|name| std::env::var(name).ok())
    }

    /// [`Settings::from_env`] over any source of variables.
    pub fn from_variables(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, AwsError> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let lake = var(LAKE_ENV).ok_or(AwsError::Setting {
            name: LAKE_ENV,
            message: "not set (the lake, e.g. s3://my-lake-bucket/lake)".into(),
        })?;
        let rule_dirs = var(RULES_ENV)
            .map(|v| {
                v.split(',')
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        let (mut alerting, mut rules, mut context) =
            match var(CONFIG_ENV) {
                Some(path) => {
                    let alerting = vigil_alerting::config::load(path.as_ref())?.alerting;
                    let text = std::fs::read_to_string(&path).map_err(|e| AwsError::Setting {
                        name: CONFIG_ENV,
                        message: format!("{path}: {e}"),
                    })?;
                    let rules =
                        RulesConfig::from_config_text(&text).map_err(|e| AwsError::Setting {
                            name: CONFIG_ENV,
                            message: format!("[rules] of {path}: {e}"),
                        })?;
                    let base = std::path::Path::new(&path)
                        .parent()
                        .unwrap_or(std::path::Path::new("."));
                    let context = vigil_context::ContextConfig::from_config_text(&text, base)
                        .map_err(|e| AwsError::Setting {
                            name: CONFIG_ENV,
                            message: format!("[context] of {path}: {e}"),
                        })?;
                    (alerting, rules, context)
                }
                None => (
                    AlertingConfig::default(),
                    RulesConfig::default(),
                    vigil_context::ContextConfig::default(),
                ),
            };
        context.add_from_env(|name| var(name));
        let endpoint = var(AWS_ENDPOINT_ENV);
        if let Some(topic) = var(SNS_TOPIC_ENV) {
            let mut sns = DestinationConfig::new("sns", DestinationKind::Sns);
            sns.topic_arn = Some(topic);
            sns.endpoint_url = endpoint.clone();
            alerting.destinations.push(sns);
        }
        if let Some(url) = var(WEBHOOK_URL_ENV) {
            let mut webhook = DestinationConfig::new("webhook", DestinationKind::Webhook);
            webhook.url = Some(url);
            webhook.secret_id = var(WEBHOOK_SECRET_ID_ENV);
            webhook.endpoint_url = endpoint.clone();
            if webhook.secret_id.is_none() {
                return Err(AwsError::Setting {
                    name: WEBHOOK_SECRET_ID_ENV,
                    message: format!("{WEBHOOK_URL_ENV} is set: webhooks are always signed"),
                });
            }
            alerting.destinations.push(webhook);
        }
        if let Some(product) = var(SECURITYHUB_PRODUCT_ENV) {
            let mut hub = DestinationConfig::new("securityhub", DestinationKind::SecurityHub);
            hub.product_arn = Some(product);
            hub.endpoint_url = endpoint.clone();
            alerting.destinations.push(hub);
        }
        if let Some(queue) = var(ALERT_DLQ_ENV) {
            alerting.dead_letter_queue_url = Some(queue);
            alerting.dead_letter_endpoint_url = endpoint;
        }
        let mut settings = Settings::new(lake, rule_dirs, alerting);
        rules.add_packs(
            var(RULE_PACKS_ENV)
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.is_empty()),
        );
        settings.rule_packs = rules.packs;
        settings.rule_placeholders = rules.placeholders;
        settings.context = context;
        Ok(settings)
    }

    /// Settings for `lake`, filling what `alerting` leaves open: findings go to
    /// the log as JSON when no destination is set, and failed deliveries to
    /// `/tmp` when no queue is (a Lambda's only writable folder).
    pub fn new(lake: String, rule_dirs: Vec<PathBuf>, mut alerting: AlertingConfig) -> Settings {
        if alerting.destinations.is_empty() {
            let mut stdout = DestinationConfig::new("log", DestinationKind::Stdout);
            stdout.format = Some("json".into());
            alerting.destinations.push(stdout);
        }
        if alerting.dead_letter == AlertingConfig::default().dead_letter {
            alerting.dead_letter = std::env::temp_dir().join("vigil-alerts-deadletter.jsonl");
        }
        Settings {
            lake,
            rule_dirs,
            rule_packs: Vec::new(),
            rule_placeholders: Default::default(),
            alerting,
            context: Default::default(),
        }
    }

    /// The pipeline these settings describe: the lake opened (no request is
    /// made) and the rules loaded. A function always alerts.
    pub fn open_pipeline(&self) -> Result<Pipeline, AwsError> {
        let rules = RuleSources {
            dirs: self.rule_dirs.clone(),
            packs: self.rule_packs.clone(),
            placeholders: self.rule_placeholders.clone(),
        }
        .load()?;
        Ok(Pipeline::new(PipelineConfig {
            lake: Lake::open(&self.lake)?,
            rules,
            alerting: self.alerting.clone(),
            send_alerts: true,
            outbox_grace: OVERLAPPING_RUN_GRACE,
            on_settled: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, AwsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_variables(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_config_file_gives_packs_and_placeholders_the_variable_adds_packs() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("vigil.toml");
        std::fs::write(
            &config,
            "[rules]\npacks = [\"sigma\"]\n\n[rules.placeholders]\noffice_ips = [\"198.51.100.0/24\"]\n",
        )
        .unwrap();
        let s = settings(&[
            (LAKE_ENV, "/tmp/lake"),
            (CONFIG_ENV, config.to_str().unwrap()),
            (RULE_PACKS_ENV, "sigma,extra"),
        ])
        .unwrap();
        assert_eq!(s.rule_packs, ["sigma", "extra"]);
        assert_eq!(s.rule_placeholders["office_ips"], ["198.51.100.0/24"]);
    }

    #[test]
    fn a_bad_rules_section_is_an_error_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("vigil.toml");
        std::fs::write(&config, "[rules]\npakcs = [\"sigma\"]\n").unwrap();
        let e = settings(&[
            (LAKE_ENV, "/tmp/lake"),
            (CONFIG_ENV, config.to_str().unwrap()),
        ])
        .unwrap_err()
        .to_string();
        assert!(e.contains(CONFIG_ENV) && e.contains("pakcs"), "{e}");
    }

    #[test]
    fn the_security_hub_variable_adds_a_security_hub_destination() {
        let product = "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default";
        let s = settings(&[
            (LAKE_ENV, "/tmp/lake"),
            (SECURITYHUB_PRODUCT_ENV, product),
            (AWS_ENDPOINT_ENV, "http://127.0.0.1:5000"),
        ])
        .unwrap();
        let hub = s
            .alerting
            .destinations
            .iter()
            .find(|d| d.kind == DestinationKind::SecurityHub)
            .expect("a securityhub destination");
        assert_eq!(hub.product_arn.as_deref(), Some(product));
        assert_eq!(hub.endpoint_url.as_deref(), Some("http://127.0.0.1:5000"));
        s.alerting
            .validate(std::path::Path::new(SECURITYHUB_PRODUCT_ENV))
            .unwrap();
    }
}
