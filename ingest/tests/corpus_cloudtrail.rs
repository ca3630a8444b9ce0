//! Every CloudTrail record in the corpus (`testdata/corpus/`) parses, except those that are
//! genuinely invalid, with the fields the corpus documents.

mod common;
use common::*;
use vigil_ingest::Table;

#[test]
fn invictus_s3_objects_parse_whole() {
    let files = files_in(&corpus("invictus-ir-aws-dataset/CloudTrail"));
    assert_eq!(files.len(), 55);
    let (report, batches) = ingest(&files);
    assert_eq!(report.records_read, 2900);
    assert_eq!(report.parsed[&Table::CloudTrail], 2900);
    assert_eq!(
        report.dead_lettered_total(),
        0,
        "{:?}",
        report.dead_lettered
    );
    // 260 distinct event names, as the MANIFEST says.
    let names: std::collections::HashSet<String> =
        non_null(&batches, Table::CloudTrail, "event_name")
            .into_iter()
            .collect();
    assert_eq!(names.len(), 260);
    // 42 service events whose userIdentity has no type keep invokedBy.
    let types = strings(&batches, Table::CloudTrail, "user_identity_type");
    let invoked = strings(&batches, Table::CloudTrail, "user_identity_invoked_by");
    let untyped = types
        .iter()
        .zip(&invoked)
        .filter(|(t, i)| t.is_none() && i.is_some())
        .count();
    assert_eq!(untyped, 42);
    // Non-IP source addresses are kept as text.
    let ips = non_null(&batches, Table::CloudTrail, "src_ip");
    assert!(ips.iter().any(|ip| ip == "AWS Internal"));
    assert_eq!(
        count_eq(
            &batches,
            Table::CloudTrail,
            "error_code",
            "ThrottlingException"
        ),
        102
    );
    // Every row has its time from the record itself.
    assert!(non_null(&batches, Table::CloudTrail, "time_source")
        .iter()
        .all(|s| s == "record"));
}

#[test]
fn stratus_detonations_parse_with_anonymised_values_kept() {
    let files = files_in(&corpus(
        "stratus-red-team-detonation-logs/docs/detonation-logs",
    ));
    assert_eq!(files.len(), 35);
    let (report, batches) = ingest(&files);
    assert_eq!(report.parsed[&Table::CloudTrail], 310);
    assert_eq!(report.dead_lettered_total(), 0);
    let ips = non_null(&batches, Table::CloudTrail, "src_ip");
    assert!(
        ips.iter().any(|ip| ip == "225.01.00.16"),
        "impossible IPs are kept verbatim"
    );
    let errors = non_null(&batches, Table::CloudTrail, "error_code");
    let ct = Table::CloudTrail;
    assert_eq!(
        count_eq(&batches, ct, "error_code", "Client.UnauthorizedOperation"),
        46
    );
    assert_eq!(count_eq(&batches, ct, "error_code", "AccessDenied"), 5);
    // Failed calls are failures; the regions are the fake ones Stratus wrote.
    assert_eq!(count_eq(&batches, ct, "outcome", "failure"), errors.len());
    assert!(non_null(&batches, Table::CloudTrail, "region")
        .iter()
        .any(|r| r == "sagov-westsouth-1r"));
}

#[test]
fn otrf_logstash_records_take_the_wrapper_timestamp() {
    let file = corpus("otrf-security-datasets-aws/datasets/atomic/aws/collection/ec2_proxy_s3_exfiltration_2020-09-14011940.json");
    let (report, batches) = ingest(&[file]);
    assert_eq!(report.parsed[&Table::CloudTrail], 103);
    assert_eq!(report.dead_lettered_total(), 0);
    let sources = non_null(&batches, Table::CloudTrail, "time_source");
    assert!(sources.iter().all(|s| s == "wrapper"), "{sources:?}");
    let times = i64s(&batches, Table::CloudTrail, "event_time");
    // September 2020, not the ingest time.
    assert!(times
        .iter()
        .flatten()
        .all(|t| (1_599_000_000_000..1_601_000_000_000).contains(t)));
}

#[test]
fn plaso_insight_events_and_old_versions() {
    let (report, batches) = ingest(&[corpus("plaso-testdata/test_data/aws_cloudtrail.json")]);
    assert_eq!(report.parsed[&Table::CloudTrail], 9);
    assert_eq!(
        count_eq(
            &batches,
            Table::CloudTrail,
            "event_type",
            "AwsCloudTrailInsight"
        ),
        2
    );
    let insight_details = non_null(&batches, Table::CloudTrail, "insight_details");
    assert_eq!(insight_details.len(), 2);
    // Insight events name the API they are about.
    assert_eq!(non_null(&batches, Table::CloudTrail, "event_name").len(), 9);
    assert!(non_null(&batches, Table::CloudTrail, "error_code")
        .contains(&"TrailNotFoundException".to_string()));
    // The URL-encoded policy document is kept byte for byte.
    let responses = non_null(&batches, Table::CloudTrail, "response_elements");
    assert!(responses
        .iter()
        .any(|p| p.contains(r#""assumeRolePolicyDocument":"%7B%0A%20%20%22Version%22"#)));
}

#[test]
fn mozilla_inputs_parse_and_genuinely_invalid_lines_are_dead_lettered() {
    let (report, batches) = ingest(&[corpus(
        "mozilla-foxsec-testdata/src/test/resources/testdata/cloudtrail_buffer1.txt",
    )]);
    // Four records and one line that is not an event.
    assert_eq!(report.parsed[&Table::CloudTrail], 4);
    // `{"not-an-event": true}` is not a record of any family.
    assert_eq!(report.dead_lettered.get("unrecognized_format"), Some(&1));
    assert!(non_null(&batches, Table::CloudTrail, "src_ip").contains(&"256.44.44.11".to_string()));

    // CloudTrail inside GCP Cloud Logging `jsonPayload` envelopes.
    let dir = corpus("mozilla-foxsec-testdata/src/test/resources/testdata");
    let wrapped: Vec<_> = [
        "authprof_awscorr1a.txt",
        "authprof_awscorr1b.txt",
        "authprof_awscorr2.txt",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let (report, batches) = ingest(&wrapped);
    assert_eq!(
        report.dead_lettered_total(),
        0,
        "{:?}",
        report.dead_lettered
    );
    assert!(report.parsed[&Table::CloudTrail] >= 3);
    assert!(non_null(&batches, Table::CloudTrail, "event_name").contains(&"AssumeRole".to_string()));

    // A stray `}` after the record: the record parses, the junk is dead-lettered.
    let (report, _) = ingest(&[dir.join("authprof_critobj4.txt")]);
    assert_eq!(report.parsed[&Table::CloudTrail], 1);
    assert_eq!(report.dead_lettered_total(), 1);
}

#[test]
fn datadog_exports_recover_records_around_a_missing_comma() {
    let files = files_in(&corpus("cloudtrail2sightings-datadog-export/unzipped"));
    let (report, batches) = ingest(&files);
    assert_eq!(report.parsed[&Table::CloudTrail], 15, "{report:#?}");
    assert_eq!(report.dead_lettered_total(), 0);
    // sourceIPAddress was remapped to network.client.ip by the exporter.
    assert_eq!(non_null(&batches, Table::CloudTrail, "src_ip").len(), 15);
    assert_eq!(
        non_null(&batches, Table::CloudTrail, "user_agent").len(),
        15
    );
}

#[test]
fn lambda_runtime_cloudtrail_fixtures_parse() {
    let dir = corpus("aws-lambda-rust-runtime-fixtures/lambda-events/src/fixtures");
    let files: Vec<_> = ["assumed-role", "unknown-federate", "unknown-user-auth"]
        .iter()
        .map(|n| dir.join(format!("example-cloudwatch-cloudtrail-{n}.json")))
        .collect();
    let (report, batches) = ingest(&files);
    assert_eq!(report.parsed[&Table::CloudTrail], 3);
    let types = non_null(&batches, Table::CloudTrail, "user_identity_type");
    assert!(types.contains(&"Unknown".to_string()) && types.contains(&"AssumedRole".to_string()));
    assert!(non_null(&batches, Table::CloudTrail, "event_name")
        .contains(&"UserAuthentication".to_string()));
}

#[test]
fn cloudtrail_through_cloudwatch_logs_keeps_the_log_group() {
    let (report, batches) = ingest(&[corpus(
        "datadog-forwarder-cwlogs-fixtures/aws/logs_monitoring/tools/integration_tests/snapshots/cloudwatch_log_cloudtrail.json",
    )]);
    assert!(report.parsed[&Table::CloudTrail] >= 1);
    assert_eq!(report.dead_lettered_total(), 0);
    let refs = non_null(&batches, Table::CloudTrail, "source_ref");
    assert!(refs
        .iter()
        .all(|r| r.starts_with("aws-cloudtrail-logs-123456789123-c81b5193/")));
}

#[test]
fn awsdocs_console_login_examples_have_the_right_outcome() {
    // The CloudTrail user guide's JSON blocks: records and {"Records":[...]} objects.
    let text = std::fs::read_to_string(corpus(
        "awsdocs-format-examples/aws-cloudtrail-user-guide.code_blocks.ndjson",
    ))
    .unwrap();
    let mut failures = 0;
    let mut successes = 0;
    for line in text.lines() {
        let block: serde_json::Value = serde_json::from_str(line).unwrap();
        let Some(json) = block.get("json") else {
            continue;
        };
        if json.get("eventName").and_then(|n| n.as_str()) != Some("ConsoleLogin") {
            continue;
        }
        let (report, batches) = ingest_bytes(json.to_string().as_bytes());
        assert_eq!(
            report.parsed.get(&Table::CloudTrail),
            Some(&1),
            "{}",
            block["heading"]
        );
        let outcome = non_null(&batches, Table::CloudTrail, "outcome").remove(0);
        let expected = json["responseElements"]["ConsoleLogin"]
            .as_str()
            .unwrap_or("Success");
        assert_eq!(
            outcome == "failure",
            expected == "Failure",
            "{}",
            block["heading"]
        );
        if outcome == "failure" {
            failures += 1
        } else {
            successes += 1
        }
    }
    assert!(
        failures >= 2 && successes >= 4,
        "{failures} failures, {successes} successes"
    );
}
