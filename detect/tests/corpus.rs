//! The built-in rules against real public CloudTrail captures: every Stratus
//! Red Team technique a rule covers must fire it, and the captures' ordinary
//! activity must stay quiet except where an event really matches a rule.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use vigil_detect::testing::detect_in_memory;
use vigil_detect::{DetectReport, Detector, Finding, RuleSet, Tables};
use vigil_ingest::{IngestOptions, Ingester, MemorySink};
use vigil_test_support::corpus;

mod common;

fn ingest(paths: &[PathBuf]) -> Tables {
    let sink = MemorySink::default();
    let mut ingester =
        Ingester::new(IngestOptions::default(), sink.clone()).with_ingest_time(1_764_000_000_000);
    for p in paths {
        ingester.ingest_path(p).unwrap();
    }
    let report = ingester.finish().unwrap();
    assert!(report.reconciles());
    assert_eq!(report.dead_lettered_total(), 0, "{report:#?}");
    Tables::from_batches(sink.batches()).unwrap()
}

async fn findings(paths: &[PathBuf]) -> Vec<Finding> {
    let tables = ingest(paths);
    detect_in_memory(RuleSet::builtin().unwrap(), &tables)
        .await
        .unwrap()
}

/// The Stratus techniques our rules cover, and the rules each must fire.
const COVERED: &[(&str, &[&str])] = &[
    (
        "aws.credential-access.ec2-get-password-data",
        &["access_denied_burst"],
    ),
    (
        "aws.credential-access.secretsmanager-batch-retrieve-secrets",
        &["secrets_mass_retrieval"],
    ),
    (
        "aws.credential-access.secretsmanager-retrieve-secrets",
        &["secrets_mass_retrieval"],
    ),
    (
        "aws.credential-access.ssm-retrieve-securestring-parameters",
        &["secrets_mass_retrieval"],
    ),
    (
        "aws.defense-evasion.cloudtrail-delete",
        &["cloudtrail_logging_tampered"],
    ),
    (
        "aws.defense-evasion.cloudtrail-event-selectors",
        &["cloudtrail_logging_tampered"],
    ),
    (
        "aws.defense-evasion.cloudtrail-stop",
        &["cloudtrail_logging_tampered"],
    ),
    (
        "aws.defense-evasion.dns-delete-logs",
        &["security_tooling_disabled"],
    ),
    (
        "aws.defense-evasion.organizations-leave",
        &["organization_leave_attempt"],
    ),
    (
        "aws.defense-evasion.vpc-remove-flow-logs",
        &["security_tooling_disabled"],
    ),
    (
        "aws.discovery.ec2-download-user-data",
        &["access_denied_burst"],
    ),
    (
        "aws.exfiltration.ec2-security-group-open-port-22-ingress",
        &["security_group_opened_to_world"],
    ),
    (
        "aws.exfiltration.ec2-share-ami",
        &["resource_shared_externally"],
    ),
    (
        "aws.exfiltration.ec2-share-ebs-snapshot",
        &["resource_shared_externally"],
    ),
    (
        "aws.exfiltration.rds-share-snapshot",
        &["resource_shared_externally"],
    ),
    (
        "aws.initial-access.console-login-without-mfa",
        &["console_login_without_mfa"],
    ),
    ("aws.persistence.iam-backdoor-role", &["iam_policy_changed"]),
    (
        "aws.persistence.iam-backdoor-user",
        &["access_key_created_for_other_user"],
    ),
    (
        "aws.persistence.iam-create-admin-user",
        &[
            "iam_user_created",
            "iam_admin_policy_attached",
            "access_key_created_for_other_user",
        ],
    ),
    (
        "aws.persistence.iam-create-backdoor-role",
        &["iam_admin_policy_attached"],
    ),
    (
        "aws.persistence.iam-create-user-login-profile",
        &["login_profile_changed"],
    ),
    (
        "aws.persistence.lambda-backdoor-function",
        &["lambda_public_permission"],
    ),
    (
        "aws.privilege-escalation.iam-update-user-login-profile",
        &["login_profile_changed"],
    ),
    (
        "aws.credential-access.ec2-steal-instance-credentials",
        &["ssm_shell_command_sent"],
    ),
    (
        "aws.execution.ec2-launch-unusual-instances",
        &["ec2_unusual_instance_type"],
    ),
    ("aws.execution.ec2-user-data", &["ec2_user_data_modified"]),
    (
        "aws.execution.ssm-send-command",
        &["ssm_shell_command_sent"],
    ),
    (
        "aws.execution.ssm-start-session",
        &["ssm_sessions_to_many_instances"],
    ),
    (
        "aws.impact.bedrock-invoke-model",
        &["bedrock_model_access_enabled"],
    ),
    (
        "aws.lateral-movement.ec2-instance-connect",
        &["ec2_instance_connect_many_instances"],
    ),
    (
        "aws.lateral-movement.ec2-serial-console-send-ssh-public-key",
        &["ec2_serial_console_access"],
    ),
    (
        "aws.persistence.lambda-layer-extension",
        &["lambda_layer_added"],
    ),
    (
        "aws.persistence.lambda-overwrite-code",
        &["lambda_code_updated_outside_deployment"],
    ),
    (
        "aws.persistence.rolesanywhere-create-trust-anchor",
        &["rolesanywhere_trust_changed"],
    ),
    (
        "aws.persistence.sts-federation-token",
        &["sts_federation_token_issued"],
    ),
];

#[tokio::test]
async fn every_covered_stratus_technique_fires_its_rules() {
    let labelled = common::stratus_techniques();
    let mut missing = Vec::new();
    for (technique, rules) in COVERED {
        assert!(
            labelled.contains(*technique),
            "{technique} is not a labelled Stratus technique"
        );
        let file = corpus(format!(
            "stratus-red-team-detonation-logs/docs/detonation-logs/{technique}.json"
        ));
        let fired: BTreeSet<String> = findings(&[file])
            .await
            .into_iter()
            .map(|f| f.rule_id)
            .collect();
        for rule in *rules {
            if !fired.contains(*rule) {
                missing.push(format!(
                    "{technique}: {rule} did not fire (fired: {fired:?})"
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// An ordinary AWS CLI user agent, in place of Stratus Red Team's own
/// (`stratus-red-team_<uuid>`): an attacker does not announce its tool.
const COMMON_USER_AGENT: &str =
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.167.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off";

/// The detonations no built-in rule should report, and why.
/// Each entry names a technique and why no rule should report it; today
/// every one of the 35 detonations is reported.
const QUIET_BY_DESIGN: &[(&str, &str)] = &[];

#[tokio::test]
async fn stratus_detonations_fire_with_a_common_user_agent() {
    let dir = tempfile::tempdir().unwrap();
    let logs = corpus("stratus-red-team-detonation-logs/docs/detonation-logs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 35, "the corpus holds 35 detonation logs");
    let mut fired = Vec::new();
    let mut silent = Vec::new();
    for file in &files {
        let technique = file.file_stem().unwrap().to_string_lossy().to_string();
        let mut records: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        let ids: BTreeSet<String> = records
            .iter()
            .filter_map(|r| r["eventID"].as_str().map(String::from))
            .collect();
        for r in &mut records {
            if r.get("userAgent").is_some() {
                r["userAgent"] = serde_json::Value::from(COMMON_USER_AGENT);
            }
        }
        let disguised = dir.path().join(format!("{technique}.json"));
        std::fs::write(&disguised, serde_json::to_string(&records).unwrap()).unwrap();
        let found = findings(&[disguised]).await;
        assert!(
            found
                .iter()
                .all(|f| f.rule_id != "cloudtrail_suspicious_user_agent"),
            "{technique}: the user agent was replaced"
        );
        // A finding about the technique's own events: one of its samples is
        // one of the detonation's records.
        let about_it = found
            .iter()
            .filter(|f| {
                f.samples
                    .iter()
                    .any(|s| ids.iter().any(|id| s.contains(id.as_str())))
            })
            .map(|f| f.rule_id.clone())
            .collect::<BTreeSet<_>>();
        if about_it.is_empty() {
            silent.push(technique);
        } else {
            fired.push((technique, about_it));
        }
    }
    let expected_silent: Vec<String> = QUIET_BY_DESIGN.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(silent, expected_silent, "fired: {fired:#?}");
    assert!(fired.len() >= 33, "{} of 35 fired: {fired:#?}", fired.len());
}

#[tokio::test]
async fn each_covered_technique_is_a_finding_with_entities_and_redacted_samples() {
    let file = corpus("stratus-red-team-detonation-logs/docs/detonation-logs/aws.persistence.iam-backdoor-user.json");
    let found = findings(&[file]).await;
    let f = found
        .iter()
        .find(|f| f.rule_id == "access_key_created_for_other_user")
        .expect("fires");
    assert_eq!(
        f.entities.resource.as_deref(),
        Some("stratus-red-team-backdoor-u-user")
    );
    assert_eq!(
        f.entities.actor.as_deref(),
        Some("arn:aws:iam::946986569305:user/christophe")
    );
    assert_eq!(f.entities.account_id.as_deref(), Some("946986569305"));
    assert_eq!(f.samples.len(), 1);
    assert!(f.samples[0].contains("CreateAccessKey"));
    assert_eq!(f.event_count, 1);
}

fn invictus_files() -> Vec<PathBuf> {
    let dir = corpus("invictus-ir-aws-dataset/CloudTrail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn otrf_cloudgoat_capture_stays_quiet() {
    // CloudGoat cloud_breach_s3: instance-role keys listing and syncing S3.
    // No rule covers plain S3 reads with valid credentials, so nothing fires.
    let file = corpus("otrf-security-datasets-aws/datasets/atomic/aws/collection/ec2_proxy_s3_exfiltration_2020-09-14011940.json");
    let found = findings(&[file]).await;
    assert!(
        found.is_empty(),
        "{:#?}",
        found.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn invictus_capture_fires_only_on_the_stratus_activity_in_it() {
    let found = findings(&invictus_files()).await;
    let mut by_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &found {
        *by_rule.entry(f.rule_id.as_str()).or_default() += 1;
    }
    // The capture is Stratus Red Team detonations wrapped in Terraform set-up
    // and tear-down by one user. Every finding below is a real match:
    let expected: BTreeMap<&str, usize> = [
        // The detonations themselves (the same techniques as the Stratus logs above).
        // get-password-data and download-user-data, from roles whose calls were
        // mostly refused; bert-jan's own refusals are a small share of the
        // Terraform run around them, and the leave attempt has its own rule.
        ("access_denied_burst", 2),
        ("access_key_created_for_other_user", 2), // iam-backdoor-user, iam-create-admin-user
        // cloudtrail-delete/-stop/-event-selectors trails, and two failed
        // attempts on trails already gone (TrailNotFoundException).
        ("cloudtrail_logging_tampered", 4),
        ("console_login_without_mfa", 1), // console-login-without-mfa
        ("iam_admin_policy_attached", 2), // create-admin-user, create-backdoor-role
        ("iam_user_created", 4),          // the four users the techniques create
        ("lambda_public_permission", 1),  // lambda-backdoor-function
        ("login_profile_changed", 2),     // create-user-login-profile (two users)
        ("organization_leave_attempt", 1), // organizations-leave (denied)
        ("resource_shared_externally", 3), // share-ami, share-ebs-snapshot, rds-share-snapshot
        ("secrets_mass_retrieval", 1),    // secretsmanager-retrieve-secrets
        ("security_group_opened_to_world", 1), // open-port-22-ingress
        ("security_tooling_disabled", 1), // vpc-remove-flow-logs
        ("ec2_unusual_instance_type", 2), // ec2-launch-unusual-instances (denied p2.xlarge)
        ("lambda_code_updated_outside_deployment", 1), // lambda-overwrite-code
        ("log_group_deleted_or_retention_cut", 1), // vpc-remove-flow-logs' log group
        ("rolesanywhere_trust_changed", 2), // rolesanywhere-create-trust-anchor
        ("seq_iam_user_backdoor", 1),     // iam-create-admin-user, as one sequence
        ("ssm_shell_command_sent", 1),    // ssm-send-command
        // The detonations' refusals (get-password-data, download-user-data)
        // followed by the next technique's CreateUser, by the same user.
        ("seq_denied_burst_then_privileged_success", 1),
        // Terraform creating and removing the techniques' roles, policies and
        // buckets: IAM and bucket policy changes are what these rules report.
        ("iam_policy_changed", 24),
        ("s3_bucket_policy_changed", 4),
        ("s3_bucket_deleted", 5), // the tear-down deleting the techniques' buckets
        ("vpc_route_added", 6),   // Terraform building the techniques' VPCs
        ("ec2_user_data_downloaded", 1), // ec2-download-user-data (refused reads count too)
        // Stratus's own user agent, which the rule lists as an attack tool.
        ("cloudtrail_suspicious_user_agent", 7),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        by_rule,
        expected,
        "{:#?}",
        found
            .iter()
            .map(|f| (&f.rule_id, &f.title))
            .collect::<Vec<_>>()
    );
    // Nothing fired on the account's ordinary traffic: every finding is about
    // a Stratus resource, a Stratus session, or the Terraform user driving it.
    for f in &found {
        let about = format!("{} {:?} {:?}", f.title, f.entities, f.fields);
        assert!(
            about.contains("stratus")
                || about.contains("bert-jan")
                || about.contains("malicious-iam-user")
                || about.contains("exfiltration"),
            "unexplained finding: {about}"
        );
    }
}

/// Every streaming rule over each capture, as a warm process runs them
/// (plans made once, for the first capture, and reused), must find exactly
/// what rules planned for that capture alone find, in any order of captures.
#[tokio::test]
async fn prepared_streaming_plans_find_what_plans_made_per_batch_find() {
    let mut inputs: Vec<PathBuf> = COVERED
        .iter()
        .map(|(technique, _)| {
            corpus(format!(
                "stratus-red-team-detonation-logs/docs/detonation-logs/{technique}.json"
            ))
        })
        .collect();
    inputs.push(vigil_test_support::sample_logs(
        "apigateway/rest-api-access-prod.ndjson",
    ));
    inputs.push(vigil_test_support::sample_logs(
        "waf/cloudwatch-subscription-aws-waf-logs-orders-api.json",
    ));
    let batches: Vec<Tables> = inputs
        .iter()
        .map(|p| ingest(std::slice::from_ref(p)))
        .collect();
    let reference_detector =
        Detector::in_memory(RuleSet::builtin().unwrap()).planning_every_batch();
    let mut reference = Vec::new();
    for tables in &batches {
        let mut report = DetectReport::default();
        reference.push(
            reference_detector
                .streaming(tables, &mut report)
                .await
                .unwrap(),
        );
    }
    let fired: BTreeSet<&str> = reference
        .iter()
        .flatten()
        .map(|c| c.rule_id.as_str())
        .collect();
    assert!(
        fired.len() >= 15,
        "too few rules fired to compare: {fired:?}"
    );

    let warm = Detector::in_memory(RuleSet::builtin().unwrap());
    let order: Vec<usize> = (0..batches.len()).chain((0..batches.len()).rev()).collect();
    for i in order {
        let mut report = DetectReport::default();
        let found = warm.streaming(&batches[i], &mut report).await.unwrap();
        assert_eq!(found, reference[i], "{}", inputs[i].display());
    }
}
