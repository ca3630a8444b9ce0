//! WAF logs: every field of the documented format reaches its column through
//! the lake, every delivery is recognised, malformed records are dead-lettered.

mod common;
use common::*;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use vigil_ingest::{Family, IngestOptions, Ingester, Lake, SourceId, Table};

/// A record with every field AWS documents, each with a value that tells it apart.
const FULL: &str = r#"{"timestamp":1764000000123,"formatVersion":1,
"webaclId":"arn:aws:wafv2:eu-west-1:444455556666:regional/webacl/shop-acl/11112222-3333",
"terminatingRuleId":"AWS-AWSManagedRulesSQLiRuleSet","terminatingRuleType":"MANAGED_RULE_GROUP","action":"BLOCK",
"terminatingRuleMatchDetails":[],
"httpSourceName":"APIGW","httpSourceId":"444455556666:api77:live",
"ruleGroupList":[
 {"ruleGroupId":"AWS#AWSManagedRulesSQLiRuleSet","terminatingRule":{"ruleId":"SQLi_BODY","action":"BLOCK",
  "ruleMatchDetails":[{"conditionType":"SQL_INJECTION","sensitivityLevel":"HIGH","location":"BODY","matchedData":["OR","1"]}]},
  "nonTerminatingMatchingRules":[],"excludedRules":null,"customerConfig":null},
 {"ruleGroupId":"AWS#AWSManagedRulesBotControlRuleSet","terminatingRule":null,
  "nonTerminatingMatchingRules":[{"ruleId":"CategoryHttpLibrary","action":"COUNT","overriddenAction":"BLOCK","ruleMatchDetails":[]}],
  "excludedRules":[{"exclusionType":"EXCLUDED_AS_COUNT","ruleId":"SignalAutomatedBrowser"}],"customerConfig":null},
 {"ruleGroupId":"AWS#AWSManagedRulesCommonRuleSet","terminatingRule":null,"nonTerminatingMatchingRules":[],"excludedRules":null}],
"rateBasedRuleList":[{"rateBasedRuleId":"rb-1","rateBasedRuleName":"per-ip-limit","limitKey":"FORWARDED_IP","maxRateAllowed":100,"evaluationWindowSec":"300",
  "customValues":[{"key":"HEADER","name":"x-tenant","value":"t1"}]}],
"nonTerminatingMatchingRules":[{"ruleId":"count-admin-paths","action":"COUNT","ruleMatchDetails":[]}],
"requestHeadersInserted":[{"name":"x-amzn-waf-verdict","value":"checked"}],"responseCodeSent":418,
"httpRequest":{"clientIp":"192.0.2.44","country":"DE","clientAsn":64500,
 "headers":[{"name":"Host","value":"shop.example"},{"name":"user-agent","value":"curl/8.5.0"},{"name":"Authorization","value":"Bearer s3cr3t"}],
 "uri":"/cart","args":"id=1","httpVersion":"HTTP/2.0","httpMethod":"POST","requestId":"req-0001","fragment":"frag","scheme":"https","host":"shop.example"},
"labels":[{"name":"awswaf:managed:aws:sql-database:SQLi_Body"},{"name":"awswaf:managed:aws:bot-control:bot:category:http_library"}],
"captchaResponse":{"responseCode":405,"solveTimestamp":1763999000,"failureReason":"TOKEN_EXPIRED"},
"challengeResponse":{"responseCode":202,"solveTimestamp":1763999500,"failureReason":"TOKEN_MISSING"},
"ja3Fingerprint":"e7d705a3286e19ea42f587b344ee6865","ja4Fingerprint":"t13d1516h2_8daaf6152771_02713d6af862",
"oversizeFields":["REQUEST_BODY","REQUEST_HEADERS"],"requestBodySize":20000,"requestBodySizeInspectedByWAF":16384,
"cfDistributionTenantId":"tenant-9"}"#;

/// Each column of the `waf` table (and the common ones) with the value `FULL` gives it.
const EXPECTED: &[(&str, &str)] = &[
    ("event_time", "2025-11-24T16:00:00.123Z"),
    ("time_source", "record"),
    ("event_id", "req-0001"),
    ("account_id", "444455556666"),
    ("region", "eu-west-1"),
    ("src_ip", "192.0.2.44"),
    ("action", "BLOCK"),
    ("outcome", "blocked"),
    ("format_version", "1"),
    (
        "web_acl_id",
        "arn:aws:wafv2:eu-west-1:444455556666:regional/webacl/shop-acl/11112222-3333",
    ),
    ("web_acl_name", "shop-acl"),
    ("terminating_rule_id", "AWS-AWSManagedRulesSQLiRuleSet"),
    ("terminating_rule_type", "MANAGED_RULE_GROUP"),
    ("terminating_rule_group_id", "AWS#AWSManagedRulesSQLiRuleSet"),
    ("terminating_group_rule_id", "SQLi_BODY"),
    (
        "terminating_rule_match_details",
        r#"[{"conditionType":"SQL_INJECTION","sensitivityLevel":"HIGH","location":"BODY","matchedData":["OR","1"]}]"#,
    ),
    (
        "matched_rule_groups",
        "AWS#AWSManagedRulesSQLiRuleSet,AWS#AWSManagedRulesBotControlRuleSet",
    ),
    (
        "non_terminating_rule_ids",
        "count-admin-paths,CategoryHttpLibrary",
    ),
    (
        "non_terminating_matching_rules",
        r#"[{"ruleId":"count-admin-paths","action":"COUNT","ruleMatchDetails":[]}]"#,
    ),
    ("rate_based_rule_name", "per-ip-limit"),
    ("rate_limit_key", "FORWARDED_IP"),
    ("http_source_name", "APIGW"),
    ("http_source_id", "444455556666:api77:live"),
    ("api_id", "api77"),
    ("stage", "live"),
    ("country", "DE"),
    ("client_asn", "64500"),
    ("uri", "/cart"),
    ("args", "id=1"),
    ("http_method", "POST"),
    ("http_version", "HTTP/2.0"),
    ("scheme", "https"),
    ("fragment", "frag"),
    ("host", "shop.example"),
    ("request_id", "req-0001"),
    ("user_agent", "curl/8.5.0"),
    (
        "labels",
        "awswaf:managed:aws:sql-database:SQLi_Body,awswaf:managed:aws:bot-control:bot:category:http_library",
    ),
    ("ja3_fingerprint", "e7d705a3286e19ea42f587b344ee6865"),
    ("ja4_fingerprint", "t13d1516h2_8daaf6152771_02713d6af862"),
    ("captcha_response_code", "405"),
    ("captcha_failure_reason", "TOKEN_EXPIRED"),
    ("captcha_solve_time", "2025-11-24T15:43:20Z"),
    ("challenge_response_code", "202"),
    ("challenge_failure_reason", "TOKEN_MISSING"),
    ("challenge_solve_time", "2025-11-24T15:51:40Z"),
    (
        "request_headers_inserted",
        r#"[{"name":"x-amzn-waf-verdict","value":"checked"}]"#,
    ),
    ("response_code_sent", "418"),
    ("oversize_fields", "REQUEST_BODY,REQUEST_HEADERS"),
    ("request_body_size", "20000"),
    ("request_body_size_inspected", "16384"),
    ("cf_distribution_tenant_id", "tenant-9"),
];

/// The record on one line, as WAF writes it.
fn one_line(record: &str) -> String {
    record.replace('\n', "")
}

#[tokio::test]
async fn every_documented_field_reaches_its_column_through_the_lake() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let mut ingester = Ingester::new(IngestOptions::default(), lake.writer().unwrap())
        .with_ingest_time(INGEST_TIME);
    ingester
        .ingest_bytes(one_line(FULL).as_bytes(), SourceId::new("full", "full"))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert!(report.reconciles(), "{report:#?}");
    assert_eq!(report.parsed[&Table::Waf], 1, "{report:#?}");

    let ctx = SessionContext::new();
    ctx.register_parquet(
        "waf",
        &lake.table_url(Table::Waf),
        ParquetReadOptions::default(),
    )
    .await
    .unwrap();
    let schema = vigil_ingest::schema::schema(Table::Waf);
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            datafusion::arrow::datatypes::DataType::List(_) => {
                format!("array_to_string({0}, ',') AS {0}", f.name())
            }
            datafusion::arrow::datatypes::DataType::Timestamp(..) => {
                format!("to_char({0}, '%Y-%m-%dT%H:%M:%S%.3fZ') AS {0}", f.name())
            }
            _ => format!("CAST({0} AS VARCHAR) AS {0}", f.name()),
        })
        .collect();
    let batches = ctx
        .sql(&format!("SELECT {} FROM waf", columns.join(", ")))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let row = &batches[0];
    let value = |name: &str| -> Option<String> {
        let column = row.column(row.schema().index_of(name).unwrap());
        let column =
            datafusion::arrow::compute::cast(column, &datafusion::arrow::datatypes::DataType::Utf8)
                .unwrap();
        let text = column.as_string::<i32>();
        text.is_valid(0).then(|| text.value(0).to_string())
    };
    for (name, expected) in EXPECTED {
        let got = value(name).unwrap_or_default();
        // Solve times are whole seconds: the formatter adds `.000`.
        let got = got.replace(".000Z", "Z");
        assert_eq!(&got, expected, "{name}");
    }
    // The headers are kept whole, credentials included (findings redact them).
    let headers = value("headers").unwrap();
    assert!(headers.contains("\"Authorization\"") && headers.contains("s3cr3t"));
    let groups = value("rule_group_list").unwrap();
    assert!(groups.contains("EXCLUDED_AS_COUNT"), "{groups}");
    assert!(value("rate_based_rule_list").unwrap().contains("x-tenant"));
    // WAF knows no caller.
    assert_eq!(value("actor"), None);
    // Every column is checked above or named here.
    let checked: Vec<&str> = EXPECTED
        .iter()
        .map(|(n, _)| *n)
        .chain([
            "headers",
            "rule_group_list",
            "rate_based_rule_list",
            "actor",
            "source_ref",
            "raw",
        ])
        .collect();
    for f in schema.fields() {
        assert!(
            checked.contains(&f.name().as_str()),
            "{} unchecked",
            f.name()
        );
    }
}

#[test]
fn records_are_recognised_in_every_delivery() {
    // A CloudWatch Logs subscription from an aws-waf-logs-* group.
    let (report, batches) = ingest(&[sample(
        "waf/cloudwatch-subscription-aws-waf-logs-orders-api.json",
    )]);
    assert_eq!(report.parsed[&Table::Waf], 6, "{report:#?}");
    assert_eq!(count_eq(&batches, Table::Waf, "outcome", "challenged"), 6);
    // S3 objects as WAF writes them (gzip NDJSON under AWSLogs/<account>/WAFLogs/).
    let (report, batches) = ingest(&[sample("waf/AWSLogs")]);
    assert!(report.parsed[&Table::Waf] > 300, "{report:#?}");
    assert_eq!(report.dead_lettered_total(), 0);
    assert!(count_eq(&batches, Table::Waf, "outcome", "blocked") >= 40);
    // Firehose output: records back to back, no separator.
    let line = one_line(FULL);
    let (report, _) = ingest_bytes(format!("{line}{line}{line}").as_bytes());
    assert_eq!(report.parsed[&Table::Waf], 3, "{report:#?}");
}

#[test]
fn a_header_an_attacker_names_after_another_family_does_not_move_the_record() {
    let record = one_line(FULL).replace(
        r#"{"name":"Host","value":"shop.example"}"#,
        r#"{"name":"eventVersion","value":"1.08"},{"name":"eventName","value":"x"},{"name":"httpMethod","value":"GET"}"#,
    );
    let (report, batches) = ingest_bytes(record.as_bytes());
    assert_eq!(report.parsed.get(&Table::Waf), Some(&1), "{report:#?}");
    assert_eq!(rows(&batches, Table::CloudTrail), 0);
}

#[test]
fn a_cloudtrail_record_whose_parameters_name_waf_keys_is_still_cloudtrail() {
    // The first record of an input, so no family is sticky yet.
    let record = r#"{"eventVersion":"1.09","eventTime":"2026-11-24T09:00:00Z","eventSource":"s3.amazonaws.com","eventName":"PutObjectTagging","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory"},"requestParameters":{"tagging":{"webaclId":"x","terminatingRuleId":"y","httpRequest":"z"}},"eventID":"e-1"}"#;
    let (report, batches) = ingest_bytes(record.as_bytes());
    assert_eq!(
        report.parsed.get(&Table::CloudTrail),
        Some(&1),
        "{report:#?}"
    );
    assert_eq!(rows(&batches, Table::Waf), 0);
}

#[test]
fn the_key_or_the_format_option_names_the_family() {
    assert_eq!(
        Family::from_object_key("logs/AWSLogs/1/WAFLogs/us-east-1/acl/2026/11/24/09/05/x.log.gz"),
        Some(Family::Waf)
    );
    assert_eq!(
        Family::from_object_key(
            "firehose/2026/11/24/09/aws-waf-logs-shop-1-2026-11-24-09-00-00-abcd"
        ),
        Some(Family::Waf)
    );
    assert_eq!(
        Family::from_object_key("AWSLogs/1/CloudTrail/x.json.gz"),
        None
    );
    assert_eq!("waf".parse::<Family>(), Ok(Family::Waf));
    assert_eq!(
        Family::from_log_group("aws-waf-logs-orders-api"),
        Some(Family::Waf)
    );
    // Told it is WAF, a record of another family is dead-lettered as not WAF.
    let options = IngestOptions {
        format: Some(Family::Waf),
        ..IngestOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.json");
    std::fs::write(&path, r#"{"eventVersion":"1.08","eventName":"X"}"#).unwrap();
    let (report, batches) = ingest_with(&[path], options);
    assert_eq!(report.dead_lettered.get("unrecognized_format"), Some(&1));
    assert_eq!(
        strings(&batches, Table::DeadLetter, "family"),
        vec![Some("waf".to_string())]
    );
}

#[test]
fn malformed_records_are_dead_lettered_with_a_reason() {
    let line = one_line(FULL);
    let truncated = &line[..line.len() / 2];
    let no_request = line.replace("\"httpRequest\"", "\"httpRequestX\"");
    let bad_labels = line.replace(
        r#""labels":[{"name":"awswaf:managed:aws:sql-database:SQLi_Body"},"#,
        r#""labels":[{"name":7},"#,
    );
    let bad_groups = line.replace(r#""ruleGroupList":["#, r#""ruleGroupList":[7,"#);
    // A good record first: an input whose first value breaks off is read as one document.
    let input = format!("{line}\n{truncated}\n{no_request}\n{bad_labels}\n{bad_groups}\n");
    let (report, batches) = ingest_bytes(input.as_bytes());
    assert_eq!(report.parsed.get(&Table::Waf), Some(&1), "{report:#?}");
    assert_eq!(report.dead_lettered_total(), 4, "{report:#?}");
    let reasons = strings(&batches, Table::DeadLetter, "reason");
    for reason in ["missing_field", "invalid_field"] {
        assert!(reasons.contains(&Some(reason.to_string())), "{reasons:?}");
    }
    for family in strings(&batches, Table::DeadLetter, "family") {
        assert_eq!(family.as_deref(), Some("waf"));
    }
}
