//! End-to-end tests of the `vigil` binary: the README's main command on the
//! sample logs, stdin, and clear failures on bad input.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use vigil_test_support::{in_checkout, sample_logs};

mod common;
use common::{fail, succeed, vigil};

/// The values of `key` in the JSON lines of a command's output.
fn values_of(stdout: &str, key: &str) -> std::collections::BTreeSet<String> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()[key]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn count(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn run_on_the_sample_logs_ingests_the_whole_attack_story() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let stdout = succeed(vigil(&lake).args(["run", "sample-logs"]));
    assert!(stdout.contains("0 dead-lettered"), "{stdout}");
    assert!(
        stdout.contains("skipped: cloudtrail_digest: 1, control_message: 1"),
        "{stdout}"
    );
    assert!(!stdout.contains("MISMATCH"));

    let ctx = SessionContext::new();
    for table in ["cloudtrail", "apigateway", "lambda", "waf"] {
        ctx.register_parquet(
            table,
            lake.join(table).to_str().unwrap(),
            ParquetReadOptions::default(),
        )
        .await
        .unwrap();
    }
    let attacker = "'203.0.113.66'";
    // 401 burst on POST /login.
    assert_eq!(
        count(&ctx, &format!("SELECT count(*) FROM apigateway WHERE src_ip = {attacker} AND status = 401 AND resource_path = '/login'")).await,
        40
    );
    // Password spray: failed console sign-ins for many users, and for root.
    assert_eq!(
        count(&ctx, &format!("SELECT count(DISTINCT user_identity_user_name) FROM cloudtrail WHERE src_ip = {attacker} AND event_name = 'ConsoleLogin' AND outcome = 'failure'")).await,
        8
    );
    assert_eq!(count(&ctx, "SELECT count(*) FROM cloudtrail WHERE event_name = 'ConsoleLogin' AND user_identity_type = 'Root' AND outcome = 'failure'").await, 1);
    // Then bob signs in without MFA and escalates.
    for event in [
        "CreateAccessKey",
        "AttachUserPolicy",
        "PutBucketPolicy",
        "StopLogging",
    ] {
        assert_eq!(
            count(&ctx, &format!("SELECT count(*) FROM cloudtrail WHERE event_name = '{event}' AND actor = 'arn:aws:iam::111122223333:user/bob' AND outcome = 'success'")).await,
            1,
            "{event}"
        );
    }
    assert!(
        count(
            &ctx,
            "SELECT count(*) FROM cloudtrail WHERE request_parameters LIKE '%AdministratorAccess%'"
        )
        .await
            == 1
    );
    // The GET /search spike: hundreds in five minutes against a handful before.
    let spike = count(&ctx, "SELECT count(*) FROM apigateway WHERE resource_path = '/search' AND event_time >= '2026-11-24T09:35:00Z' AND event_time < '2026-11-24T09:40:00Z'").await;
    let before = count(&ctx, "SELECT count(*) FROM apigateway WHERE resource_path = '/search' AND event_time >= '2026-11-24T09:00:00Z' AND event_time < '2026-11-24T09:05:00Z'").await;
    assert!(
        spike >= 600 && before < 20,
        "spike {spike}, before {before}"
    );
    // Lambda timeouts during the spike.
    assert_eq!(count(&ctx, "SELECT count(*) FROM lambda WHERE record_type = 'timeout' AND function_name = 'orders-search'").await, 3);
    // The web ACL blocked the injection probes, then the rest of the login burst.
    assert_eq!(
        count(&ctx, &format!("SELECT count(*) FROM waf WHERE src_ip = {attacker} AND terminating_rule_group_id = 'AWS#AWSManagedRulesSQLiRuleSet' AND outcome = 'blocked'")).await,
        15
    );
    assert_eq!(
        count(
            &ctx,
            "SELECT count(*) FROM waf WHERE terminating_rule_type = 'RATE_BASED'"
        )
        .await,
        20
    );
    // What it let through is in API Gateway's logs under the same request id;
    // stage v1 has no WAF record at all.
    let allowed = count(
        &ctx,
        "SELECT count(*) FROM waf WHERE outcome = 'allowed' AND http_source_name = 'APIGW'",
    )
    .await;
    let joined = count(&ctx, "SELECT count(*) FROM waf w JOIN apigateway a ON w.request_id = a.request_id WHERE w.outcome = 'allowed'").await;
    assert!(allowed > 300 && joined == allowed, "{joined} of {allowed}");
    assert_eq!(
        count(&ctx, "SELECT count(*) FROM apigateway a WHERE a.stage = 'v1' AND a.request_id IN (SELECT request_id FROM waf)").await,
        0
    );
}

#[test]
fn ingest_reads_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = vigil(&dir.path().join("lake"))
        .args(["ingest", "-", "--no-progress"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = std::fs::read(sample_logs("apigateway/http-api-access-clf.log")).unwrap();
    let lines = input.iter().filter(|c| **c == b'\n').count();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), &input).unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("{lines} records read = {lines} parsed")),
        "{stdout}"
    );
}

#[test]
fn a_truncated_gzip_fails_clearly_after_keeping_what_it_could() {
    let dir = tempfile::tempdir().unwrap();
    let gz = std::fs::read(sample_logs(
        "lambda/firehose-orders-search-2026-11-24-09.gz",
    ))
    .unwrap();
    let cut = dir.path().join("cut.gz");
    std::fs::write(&cut, &gz[..gz.len() - 40]).unwrap();
    let out = vigil(&dir.path().join("lake"))
        .arg("ingest")
        .arg(&cut)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains("ended early"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(stdout.contains("dead-lettered"), "{stdout}");
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = fail(vigil(&dir.path().join("lake")).args(["ingest", "no/such/file.json"]));
    assert!(
        stderr.contains("cannot read no/such/file.json") && stderr.contains("No such file"),
        "{stderr}"
    );
}

#[test]
fn compact_merges_the_small_files_and_queries_answer_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    succeed(vigil(&lake).args(["ingest", "--no-progress", "sample-logs"]));
    let count = |lake: &Path| {
        let csv = succeed(vigil(lake).args([
            "query",
            "--format",
            "csv",
            "SELECT count(*) AS n FROM events",
        ]));
        csv.lines().nth(1).unwrap().to_string()
    };
    let before = count(&lake);
    let dry = succeed(vigil(&lake).args(["compact", "--dry-run", "--table", "apigateway"]));
    assert!(
        dry.contains("Would compact") && dry.contains("apigateway"),
        "{dry}"
    );
    assert!(!dry.contains("cloudtrail"), "{dry}");
    let done = succeed(vigil(&lake).args(["compact"]));
    assert!(done.contains("Compacted"), "{done}");
    assert!(lake.join("_state/merged/apigateway").is_dir());
    assert_eq!(count(&lake), before);
    let again = succeed(vigil(&lake).args(["ingest", "--no-progress", "sample-logs"]));
    assert!(again.contains("not stored again"), "{again}");
    assert_eq!(count(&lake), before);
    let bad = fail(vigil(&lake).args(["compact", "--table", "nope"]));
    assert!(bad.contains("unknown table"), "{bad}");
}

#[test]
fn schema_prints_every_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = vigil(&dir.path().join("lake"))
        .arg("schema")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for table in ["`cloudtrail`", "`apigateway`", "`lambda`", "`deadletter`"] {
        assert!(stdout.contains(table), "{table}");
    }
}

/// Each step of the sample attack story, as the rule that must report it.
const STORY: &[(&str, &str)] = &[
    ("apigw_auth_failure_burst", "203.0.113.66"),
    ("console_login_failures_by_ip", "203.0.113.66"),
    ("password_spray", "203.0.113.66"),
    ("root_console_login_failure", "203.0.113.66"),
    ("console_login_without_mfa", "bob"),
    ("access_key_created_for_other_user", "alice"),
    ("iam_admin_policy_attached", "bob"),
    ("s3_bucket_policy_changed", "acme-invoices"),
    ("cloudtrail_logging_tampered", "management-events"),
    ("apigw_route_traffic_spike", "GET /search"),
    ("lambda_error_spike", "orders-search"),
    ("waf_blocked_burst", "203.0.113.66"),
    ("waf_attack_rule_groups", "AWSManagedRulesSQLiRuleSet"),
    ("waf_evasion_after_block", "203.0.113.66"),
    ("waf_unprotected_api_traffic", "stage v1"),
    ("waf_flagged_client_on_auth_route", "/login"),
    ("waf_rate_limit_triggered", "login-rate-limit"),
    ("waf_web_acl_removed", "DisassociateWebACL"),
    // The context of the checkout's vigil.toml (sample-context/).
    ("intel_indicator_match", "sample-abuse-list"),
    ("baseline_new_country_or_asn", "\"new_value\":\"NL\""),
    ("baseline_new_sensitive_service", "iam.amazonaws.com"),
    ("baseline_new_sensitive_service", "cloudtrail.amazonaws.com"),
];

#[test]
fn run_reports_every_step_of_the_sample_attack_story() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let stdout = succeed(vigil(&lake).args(["run", "sample-logs", "--output", "json"]));
    let findings: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (rule, needle) in STORY {
        let hit = findings.iter().any(|f| {
            f["rule_id"] == *rule && f.to_string().contains(needle) && f["status"] == "new"
        });
        assert!(hit, "no {rule} finding about {needle}: {stdout}");
    }
    // The bearer tokens the WAF records' headers carry are redacted in the samples.
    assert!(
        findings
            .iter()
            .any(|f| f["rule_id"] == "waf_evasion_after_block"
                && f.to_string().contains("Authorization")),
        "{stdout}"
    );
    assert!(!stdout.contains("eyJhbGciOiJSUzI1NiJ9"), "{stdout}");
    // Findings about the attacker's address say where it is and whose
    // network; those about bob, whose account and who owns him.
    let new_country = findings
        .iter()
        .find(|f| f["rule_id"] == "baseline_new_country_or_asn")
        .unwrap();
    assert_eq!(
        new_country["context"]["src_ip"]["country"], "NL",
        "{new_country}"
    );
    assert_eq!(
        new_country["context"]["src_ip"]["asn"], 64500,
        "{new_country}"
    );
    assert_eq!(new_country["context"]["account"]["environment"], "prod");
    assert_eq!(new_country["context"]["owner"]["owner"], "bob@acme.example");
    assert!(
        stdout.contains("[NL, Amsterdam, AS64500 Example Hosting B.V."),
        "{stdout}"
    );
    // The quiet morning around the story stays quiet: no finding about the ordinary clients.
    for f in &findings {
        let text = f.to_string();
        assert!(
            !text.contains("ci-deployer") && !text.contains("\"carol\""),
            "noise finding: {text}"
        );
    }
    // Findings landed in the lake's findings table, and each new one was
    // alerted once to the default destinations: stdout and a JSON Lines file.
    let findings_dir = lake.join("findings");
    assert!(findings_dir.exists());
    let alerts_file = lake.join("_alerts/alerts.jsonl");
    let alerts = std::fs::read_to_string(&alerts_file).unwrap();
    assert_eq!(alerts.lines().count(), findings.len());
    assert!(alerts
        .lines()
        .all(|l| l.contains("\"schema\":\"vigil.finding/v1\"")));
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ALERT ")).count(),
        findings.len()
    );

    // Running detection again over the same lake re-alerts nothing.
    let again = succeed(vigil(&lake).args([
        "detect",
        "--from",
        "2026-11-24T08:00:00Z",
        "--to",
        "2026-11-24T10:00:00Z",
        "--format",
        "json",
    ]));
    assert!(
        again
            .lines()
            .filter(|l| l.starts_with('{'))
            .all(|l| !l.contains("\"status\":\"new\"")),
        "{again}"
    );
    assert_eq!(
        std::fs::read_to_string(&alerts_file)
            .unwrap()
            .lines()
            .count(),
        findings.len(),
        "no alert is sent twice"
    );
}

#[test]
fn detect_runs_only_the_named_rules_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    succeed(vigil(&lake).args(["ingest", "--no-progress", "sample-logs"]));
    let detect = |rules: &[&str]| {
        let mut cmd = vigil(&lake);
        cmd.args([
            "detect",
            "--from",
            "2026-11-24T08:00:00Z",
            "--to",
            "2026-11-24T10:00:00Z",
            "--no-alerts",
            "--format",
            "json",
        ]);
        for rule in rules {
            cmd.args(["--rule", rule]);
        }
        cmd
    };
    let stdout = succeed(&mut detect(&[
        "password_spray",
        "cloudtrail_logging_tampered",
    ]));
    let rules = values_of(&stdout, "rule_id");
    assert_eq!(
        rules.into_iter().collect::<Vec<_>>(),
        vec!["cloudtrail_logging_tampered", "password_spray"]
    );
    let stderr = fail(&mut detect(&["no_such_rule"]));
    assert!(stderr.contains("no_such_rule"), "{stderr}");
}

/// Writes `dir/vigil.toml`: quick retries, a signed webhook `hook` at `url`
/// (its secret in the variable `secret_env`) and a JSON Lines file `file`.
fn hook_and_file_config(dir: &Path, url: &str, secret_env: &str, file: &Path) -> PathBuf {
    let config = dir.join("vigil.toml");
    std::fs::write(
        &config,
        format!(
            r#"[alerting]
max_attempts = 2
base_backoff = "10ms"
deadline = "3s"

[[alerting.destinations]]
name = "hook"
type = "webhook"
url = "{url}"
secret_env = "{secret_env}"

[[alerting.destinations]]
name = "file"
type = "file"
path = "{}"
"#,
            file.display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn alerts_test_and_redrive_account_for_failed_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    // A webhook nobody listens on, and a file.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = hook_and_file_config(
        dir.path(),
        &format!("http://127.0.0.1:{port}/hook"),
        "VIGIL_CLI_TEST_SECRET",
        &dir.path().join("out.jsonl"),
    );
    let run = |args: &[&str]| {
        vigil(&lake)
            .arg("--config")
            .arg(&config)
            .args(args)
            .env("VIGIL_CLI_TEST_SECRET", "s3cret-value")
            .output()
            .unwrap()
    };
    let ok = run(&["alerts", "test", "--destination", "file"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(std::fs::read_to_string(dir.path().join("out.jsonl"))
        .unwrap()
        .contains("vigil_alerts_test"));

    let failed = run(&["alerts", "test", "--destination", "hook"]);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1 deliveries failed"), "{stderr}");
    assert!(
        !stderr.contains("s3cret-value"),
        "the secret never shows: {stderr}"
    );
    let dead_letter = lake.join("_alerts/deadletter.jsonl");
    assert_eq!(
        std::fs::read_to_string(&dead_letter)
            .unwrap()
            .lines()
            .count(),
        1
    );

    // Still down: redrive fails and keeps the delivery.
    let again = run(&["alerts", "redrive"]);
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&dead_letter)
            .unwrap()
            .lines()
            .count(),
        1
    );

    let missing = vigil(&lake)
        .arg("--config")
        .arg(&config)
        .args(["alerts", "test", "--destination", "hook"])
        .env_remove("VIGIL_CLI_TEST_SECRET")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("VIGIL_CLI_TEST_SECRET is not set"));
}

#[test]
fn rules_test_passes_on_the_builtin_rules_and_list_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = succeed(vigil(dir.path()).args(["rules", "test"]));
    assert!(
        stdout.contains("password_spray") && stdout.contains("pass"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let list = vigil(dir.path()).args(["rules", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(list.contains("scheduled 10m every 5m"), "{list}");
}

#[test]
fn a_user_rule_folder_loads_and_a_bad_rule_fails_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("my-rules");
    std::fs::create_dir_all(&rules).unwrap();
    let builtin =
        std::fs::read_to_string(in_checkout("detect/rules/cloudtrail/iam_user_created.toml"))
            .unwrap();
    std::fs::write(
        rules.join("mine.toml"),
        builtin.replace("id = \"iam_user_created\"", "id = \"my_iam_user_created\""),
    )
    .unwrap();
    let stdout = succeed(
        vigil(dir.path())
            .args(["--rules"])
            .arg(&rules)
            .args(["rules", "test"]),
    );
    assert!(stdout.contains("my_iam_user_created"), "{stdout}");

    std::fs::write(
        rules.join("evil.toml"),
        builtin
            .replace("id = \"iam_user_created\"", "id = \"evil\"")
            .replace(
                "  AND error_code IS NULL\n'''",
                "  AND error_code IS NULL;\nDROP TABLE cloudtrail\n'''",
            ),
    )
    .unwrap();
    let stderr = fail(vigil(dir.path()).args(["rules", "validate"]).arg(&rules));
    assert!(
        stderr.contains("evil.toml:") && stderr.contains("one SELECT"),
        "{stderr}"
    );
}

#[test]
fn a_failing_rule_test_makes_rules_test_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("my-rules");
    std::fs::create_dir_all(&rules).unwrap();
    let builtin =
        std::fs::read_to_string(in_checkout("detect/rules/cloudtrail/iam_user_created.toml"))
            .unwrap();
    // The rule now ignores CreateUser, so its positive test fails.
    let broken = builtin
        .replace("id = \"iam_user_created\"", "id = \"broken\"")
        .replace("event_name = 'CreateUser'", "event_name = 'CreateUsers'");
    std::fs::write(rules.join("broken.toml"), broken).unwrap();
    let out = vigil(dir.path())
        .args(["rules", "test"])
        .arg(&rules)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL: expected 1 finding(s), got 0"),
        "{stdout}"
    );
}

#[test]
fn query_writes_every_format_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    succeed(vigil(&lake).args(["ingest", "sample-logs"]));
    let sql = "SELECT src_ip, count(*) AS n FROM apigateway WHERE status = 401 GROUP BY src_ip ORDER BY n DESC LIMIT 1";
    let csv = vigil(&lake)
        .args(["query", sql, "--format", "csv"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&csv.stdout).lines().next(),
        Some("src_ip,n")
    );
    assert!(String::from_utf8_lossy(&csv.stdout).contains("203.0.113.66,40"));
    // Piped: NDJSON by default, keys in column order.
    let nd = vigil(&lake).args(["query", sql]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&nd.stdout).trim(),
        r#"{"src_ip":"203.0.113.66","n":40}"#
    );
    // A Parquet file, from the extension.
    let out = dir.path().join("top.parquet");
    succeed(vigil(&lake).args(["query", sql, "--output"]).arg(&out));
    assert_eq!(&std::fs::read(&out).unwrap()[..4], b"PAR1");
    // -f and --since: the sample day is long past, so the last hour is empty.
    let file = dir.path().join("q.sql");
    std::fs::write(&file, "SELECT count(*) AS n FROM events").unwrap();
    let recent = vigil(&lake)
        .args(["query", "-f"])
        .arg(&file)
        .args(["--since", "1h"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&recent.stdout).trim(), r#"{"n":0}"#);
    let day = vigil(&lake)
        .args(["query", "-f"])
        .arg(&file)
        .args([
            "--from",
            "2026-11-24T09:00:00Z",
            "--to",
            "2026-11-24T10:00:00Z",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&day.stdout).contains("\"n\":"),
        "{}",
        String::from_utf8_lossy(&day.stderr)
    );

    for (bad, why) in [
        ("DELETE FROM cloudtrail", "read-only SELECT"),
        ("SELECT * FROM secrets", "unknown table secrets"),
        ("SELECT * FROM cloudtrail WHERE (", "does not parse"),
        ("SELECT nope FROM cloudtrail", "nope"),
    ] {
        let out = vigil(&lake).args(["query", bad]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains(why),
            "{bad}: {stderr}"
        );
    }
    let empty = vigil(&dir.path().join("empty"))
        .args(["query", "SELECT 1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&empty.stderr).contains("holds no data yet"));
}

#[test]
fn hunts_list_and_run_with_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    assert!(vigil(&lake)
        .args(["ingest", "sample-logs"])
        .output()
        .unwrap()
        .status
        .success());
    let list = vigil(&lake).args(["hunt", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("ip_activity") && list.contains("ip (203.0.113.66)"),
        "{list}"
    );
    let run = succeed(vigil(&lake).args([
        "hunt",
        "run",
        "leaked_access_key",
        "--param",
        "key=AKIAALICENEWKEY",
        "--format",
        "csv",
    ]));
    // Nobody used alice's new key in the sample: only the header.
    assert_eq!(run.lines().count(), 1);
    let bad = vigil(&lake)
        .args(["hunt", "run", "ip_activity", "--param", "nope=1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no parameter nope"));
}

#[test]
fn output_piped_into_a_reader_that_went_away_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["hunt", "list"][..], &["schema"], &["rules", "list"]] {
        // The reader is gone before the first line is printed, like `| head -0`.
        let mut child = vigil(&dir.path().join("lake"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn findings_settled_but_not_alerted_are_alerted_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = dir.path().join("out.jsonl");
    let config = hook_and_file_config(
        dir.path(),
        "http://127.0.0.1:9/hook",
        "VIGIL_CLI_OUTBOX_SECRET",
        &out,
    );
    // The webhook's secret is missing: the run settles its findings, then
    // fails before delivering any of them.
    let first = vigil(&lake)
        .arg("--config")
        .arg(&config)
        .args(["run", "sample-logs", "--output", "json"])
        .env_remove("VIGIL_CLI_OUTBOX_SECRET")
        .output()
        .unwrap();
    assert!(!first.status.success());
    assert!(String::from_utf8_lossy(&first.stderr).contains("VIGIL_CLI_OUTBOX_SECRET"));
    let settled = String::from_utf8_lossy(&first.stdout)
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"status\":\"new\""))
        .count();
    assert!(settled >= 5, "{}", String::from_utf8_lossy(&first.stdout));
    assert!(!out.exists());

    // The next run finds nothing new, yet alerts what the first one settled
    // (the file gets them; the webhook, unreachable, dead-letters them).
    let detect = |lake: &Path| {
        vigil(lake)
            .arg("--config")
            .arg(&config)
            .args([
                "detect",
                "--from",
                "2026-11-24T08:00:00Z",
                "--to",
                "2026-11-24T10:00:00Z",
            ])
            .env("VIGIL_CLI_OUTBOX_SECRET", "s3cret-value")
            .output()
            .unwrap()
    };
    detect(&lake);
    let alerted = || std::fs::read_to_string(&out).unwrap().lines().count();
    assert_eq!(alerted(), settled);
    // Once alerted, they are not alerted again.
    detect(&lake);
    assert_eq!(alerted(), settled);
}

#[test]
fn a_sigma_rule_converts_to_a_query_vigil_query_runs_and_to_a_rule_vigil_loads() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    succeed(vigil(&lake).arg("ingest").arg("sample-logs/cloudtrail"));
    let rule = dir.path().join("console_without_mfa.yml");
    std::fs::write(
        &rule,
        "title: Console login without MFA\nid: 0d5e4b8a-5a55-4c5f-8e11-6c1d2b0f7a01\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  selection:\n    eventName: ConsoleLogin\n    additionalEventData.MFAUsed: 'no'\n  condition: selection\nlevel: medium\n",
    )
    .unwrap();
    // Standard output is the query and nothing else.
    let sql = succeed(vigil(&lake).args(["sigma", "convert"]).arg(&rule));
    assert!(
        sql.trim().starts_with("SELECT ") && sql.trim().lines().count() == 1,
        "{sql}"
    );
    let sql_file = dir.path().join("r.sql");
    std::fs::write(&sql_file, &sql).unwrap();
    let rows = succeed(
        vigil(&lake)
            .args(["query", "--format", "ndjson", "-f"])
            .arg(&sql_file),
    );
    let ids = values_of(&rows, "event_id");
    // The same records as a plain query over the typed columns selects.
    let plain = succeed(vigil(&lake).args([
        "query",
        "--format",
        "ndjson",
        "SELECT DISTINCT event_id FROM cloudtrail WHERE event_name = 'ConsoleLogin' AND lower(json_str(additional_event_data, 'MFAUsed')) = 'no'",
    ]));
    let want = values_of(&plain, "event_id");
    assert!(
        !want.is_empty(),
        "the sample logs hold a console login without MFA"
    );
    assert_eq!(ids, want);

    // As a rule in a --rules folder it loads and fires.
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::copy(&rule, rules.join("console_without_mfa.yml")).unwrap();
    let out = succeed(vigil(&lake).arg("--rules").arg(&rules).args([
        "detect",
        "--from",
        "2000-01-01T00:00:00Z",
        "--to",
        "2100-01-01T00:00:00Z",
        "--no-alerts",
        "--rule",
        "sigma_console_without_mfa",
    ]));
    assert!(out.contains("sigma_console_without_mfa"), "{out}");
}

#[test]
fn a_streaming_rule_that_fails_stops_the_run_with_its_own_error() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("my-rules");
    std::fs::create_dir_all(&rules).unwrap();
    let builtin = std::fs::read_to_string(in_checkout(
        "detect/rules/cloudtrail/cloudtrail_logging_tampered.toml",
    ))
    .unwrap();
    // Plans (so it loads), fails on the sample story's StopLogging record.
    std::fs::write(
        rules.join("broken.toml"),
        builtin
            .replace(
                "id = \"cloudtrail_logging_tampered\"",
                "id = \"broken_at_run_time\"",
            )
            .replace(
                "'PutInsightSelectors')",
                "'PutInsightSelectors')\n  AND 1 / (length(event_name) - length(event_name)) > 0",
            ),
    )
    .unwrap();
    let stderr = fail(
        vigil(&dir.path().join("lake"))
            .arg("--rules")
            .arg(&rules)
            .args(["run", "--no-alerts"])
            .arg(sample_logs("")),
    );
    assert!(
        stderr.contains("rule broken_at_run_time: query failed")
            && stderr.contains("Divide by zero"),
        "{stderr}"
    );
}

#[test]
fn run_writes_ocsf_findings_and_export_writes_ocsf_events() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let findings = dir.path().join("findings.ocsf.jsonl");
    succeed(
        vigil(&lake)
            .args(["run", "sample-logs", "--no-progress", "--ocsf-findings"])
            .arg(&findings),
    );
    // One Detection Finding per finding the run alerted on.
    let alerted = std::fs::read_to_string(lake.join("_alerts/alerts.jsonl"))
        .unwrap()
        .lines()
        .count();
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&findings)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        alerted > 10 && events.len() == alerted,
        "{alerted} {}",
        events.len()
    );
    assert!(events
        .iter()
        .all(|e| e["class_uid"] == 2004 && e["finding_info"]["uid"].is_string()));

    // The lake's events as OCSF NDJSON on stdout, the counts on stderr.
    let out = vigil(&lake)
        .args(["export", "ocsf", "--format", "ndjson", "--out", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let exported: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(exported.len() > 1000, "{stderr}");
    assert!(
        stderr.contains(&format!("{} OCSF events", exported.len())),
        "{stderr}"
    );
    let classes: std::collections::BTreeSet<i64> = exported
        .iter()
        .map(|e| e["class_uid"].as_i64().unwrap())
        .collect();
    assert_eq!(
        classes,
        [3001, 3002, 4002, 6002, 6003].into_iter().collect(),
        "{stderr}"
    );
    // Parquet needs a folder.
    let err = fail(vigil(&lake).args(["export", "ocsf", "--out", "-"]));
    assert!(err.contains("--format ndjson"), "{err}");
}

#[test]
fn rules_validate_warns_about_rules_whose_context_is_not_configured() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.toml");
    std::fs::write(&empty, "").unwrap();
    let out = vigil(dir.path())
        .arg("--config")
        .arg(&empty)
        .args(["rules", "validate"])
        .arg(in_checkout("detect/rules"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "warnings do not fail: {stderr}");
    for expected in [
        "rule baseline_new_country_or_asn uses geo_country, geo_asn but no GeoIP database is configured",
        "rule impossible_travel_access_key uses geo_country, geo_distance_km but no GeoIP database",
        "rule intel_indicator_match uses threat intelligence but no indicator set is configured",
    ] {
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
    }
    // The checkout's vigil.toml names a database and a set: nothing to warn about.
    let out = vigil(dir.path())
        .args(["rules", "validate"])
        .arg(in_checkout("detect/rules"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning:"), "{stderr}");
}
