//! A finding in the AWS Security Finding Format (ASFF), as Security Hub's
//! `BatchImportFindings` takes it: the same `Id` for every version of a
//! finding (Security Hub updates it in place), ATT&CK tactics as `Types`,
//! the finding's resource (else its account) as `Resources`.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Network, NetworkDirection, Partition, RecordState, Resource, Severity,
    SeverityLabel, Workflow, WorkflowStatus,
};
use vigil_detect::attack::AttackTags;
use vigil_detect::Finding;

use crate::payload::hunt_hint;

/// The ASFF version Security Hub takes.
pub const SCHEMA_VERSION: &str = "2018-10-08";

/// Where a finding goes: the product it is imported as (for a custom
/// integration, the account's own `product/<account>/default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub arn: String,
    pub partition: String,
    pub region: String,
    pub account: String,
}

impl Product {
    /// Reads `arn:<partition>:securityhub:<region>:<account>:product/<owner>/<name>`.
    pub fn from_arn(arn: &str) -> Result<Product, String> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        match parts.as_slice() {
            ["arn", partition, "securityhub", region, account, resource]
                if resource.starts_with("product/")
                    && !region.is_empty()
                    && account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Product {
                    arn: arn.to_string(),
                    partition: partition.to_string(),
                    region: region.to_string(),
                    account: account.to_string(),
                })
            }
            _ => Err(format!(
                "product_arn {arn:?} is not a Security Hub product ARN \
                 (arn:aws:securityhub:<region>:<account>:product/<account>/default)"
            )),
        }
    }
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// At most `max` characters of `s`.
fn cap(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn label(s: vigil_detect::Severity) -> SeverityLabel {
    use vigil_detect::Severity as S;
    match s {
        S::Info => SeverityLabel::Informational,
        S::Low => SeverityLabel::Low,
        S::Medium => SeverityLabel::Medium,
        S::High => SeverityLabel::High,
        S::Critical => SeverityLabel::Critical,
    }
}

/// `Types`: `TTPs/<tactic>` (and `/<technique>` for each technique the
/// rule names) in Security Hub's taxonomy; `Unusual Behaviors` when the rule
/// names no tactic.
pub fn types(f: &Finding) -> Vec<String> {
    let attack = AttackTags::from_tags(&f.tags);
    let mut types = Vec::new();
    for tactic in &attack.tactics {
        types.push(format!("TTPs/{}", tactic.name));
        for t in &attack.techniques {
            let name = t.name.map(|n| format!(" - {n}")).unwrap_or_default();
            types.push(format!("TTPs/{}/{}{name}", tactic.name, t.id));
        }
    }
    if types.is_empty() {
        types.push("Unusual Behaviors".to_string());
    }
    types.truncate(50);
    types
}

/// The ASFF resource type of an ARN Security Hub has a type for, else `Other`.
fn resource_type(arn: &str) -> &'static str {
    use vigil_queries::functions::arn_part;
    let (Some(service), kind) = (arn_part(arn, "service"), arn_part(arn, "resource_type")) else {
        return "Other";
    };
    match (service, kind.unwrap_or_default()) {
        ("s3", _) => "AwsS3Bucket",
        ("iam", "user") => "AwsIamUser",
        ("iam", "role") => "AwsIamRole",
        ("iam", "policy") => "AwsIamPolicy",
        ("lambda", "function") => "AwsLambdaFunction",
        ("kms", "key") => "AwsKmsKey",
        ("cloudtrail", "trail") => "AwsCloudTrailTrail",
        ("secretsmanager", "secret") => "AwsSecretsManagerSecret",
        ("wafv2", _) => "AwsWafv2WebAcl",
        _ => "Other",
    }
}

/// `f` as an ASFF finding of `product`.
pub fn finding(f: &Finding, product: &Product) -> AwsSecurityFinding {
    let account = f
        .entities
        .account_id
        .clone()
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| product.account.clone());
    let region = f
        .entities
        .region
        .clone()
        .unwrap_or_else(|| product.region.clone());
    let resource = match &f.entities.resource {
        Some(r) => Resource::builder().r#type(resource_type(r)).id(cap(r, 512)),
        None => Resource::builder()
            .r#type("AwsAccount")
            .id(format!("AWS::::Account:{account}")),
    }
    .partition(Partition::from(product.partition.as_str()))
    .region(&region)
    .build();
    let mut fields = vec![
        ("vigil/rule_id", f.rule_id.clone()),
        ("vigil/dedup_key", f.dedup_key.clone()),
        ("vigil/event_count", f.event_count.to_string()),
        (
            "vigil/window",
            format!("{}/{}", iso(f.window_start), iso(f.window_end)),
        ),
        ("vigil/hunt", hunt_hint(f)),
        ("vigil/tags", f.tags.join(",")),
    ];
    if let Some(actor) = &f.entities.actor {
        fields.push(("vigil/actor", actor.clone()));
    }
    if let Some(ip) = &f.entities.src_ip {
        fields.push(("vigil/src_ip", ip.clone()));
    }
    if let Some(sample) = f.samples.first() {
        fields.push(("vigil/sample", sample.clone()));
    }
    let mut builder = AwsSecurityFinding::builder()
        .schema_version(SCHEMA_VERSION)
        .id(&f.finding_id)
        .product_arn(&product.arn)
        .generator_id(cap(&format!("vigil/{}", f.rule_id), 512))
        .aws_account_id(account)
        .set_types(Some(types(f)))
        .created_at(iso(f.first_seen))
        .updated_at(iso(f.detected_at))
        .first_observed_at(iso(f.first_seen))
        .last_observed_at(iso(f.last_seen))
        .severity(
            Severity::builder()
                .label(label(f.severity))
                .original(f.severity.as_str())
                .build(),
        )
        .title(cap(&f.title, 256))
        .description(cap(&crate::ocsf::description(f), 1024))
        .resources(resource)
        .region(region)
        .product_name("Vigil")
        .company_name("Vigil")
        .record_state(RecordState::Active)
        .workflow(Workflow::builder().status(WorkflowStatus::New).build());
    for (key, value) in fields {
        builder = builder.product_fields(key, cap(&value, 2048));
    }
    if let Some(ip) = f.entities.src_ip.as_deref() {
        let network = match ip.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(_)) => Some(Network::builder().source_ipv4(ip)),
            Ok(std::net::IpAddr::V6(_)) => Some(Network::builder().source_ipv6(ip)),
            Err(_) => None,
        };
        if let Some(network) = network {
            builder = builder.network(network.direction(NetworkDirection::In).build());
        }
    }
    builder.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_arns_are_read_and_checked() {
        let p = Product::from_arn(
            "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default",
        )
        .unwrap();
        assert_eq!(
            (p.partition.as_str(), p.region.as_str(), p.account.as_str()),
            ("aws", "eu-west-1", "111122223333")
        );
        for bad in [
            "arn:aws:sns:eu-west-1:111122223333:topic",
            "arn:aws:securityhub:eu-west-1:1111:product/1111/default",
            "securityhub",
        ] {
            assert!(Product::from_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_types_come_from_the_arn() {
        assert_eq!(resource_type("arn:aws:s3:::acme-invoices"), "AwsS3Bucket");
        assert_eq!(
            resource_type("arn:aws:iam::111122223333:user/bob"),
            "AwsIamUser"
        );
        assert_eq!(
            resource_type("arn:aws:lambda:us-east-1:111122223333:function:orders"),
            "AwsLambdaFunction"
        );
        assert_eq!(resource_type("/search"), "Other");
    }
}
