//! End-to-end tests of the `vigil` binary: the README's main command on the
//! sample logs, stdin, and clear failures on bad input.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use std::path::Path;
use std::process::{Command, Stdio};

fn vigil(lake: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vigil"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("--lake")
        .arg(lake)
        .env_remove("VIGIL_LAKE");
    cmd
}

async fn count(ctx: &SessionContext, sql: &str) -> i64 {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    batches[0].column(0).as_primitive::<Int64Type>().value(0)
}

#[tokio::test]
async fn run_on_the_sample_logs_ingests_the_whole_attack_story() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let out = vigil(&lake).args(["run", "sample-logs"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("0 dead-lettered"), "{stdout}");
    assert!(
        stdout.contains("skipped: cloudtrail_digest: 1, control_message: 1"),
        "{stdout}"
    );
    assert!(!stdout.contains("MISMATCH"));

    let ctx = SessionContext::new();
    for table in ["cloudtrail", "apigateway", "lambda"] {
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
    let input = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs/apigateway/http-api-access-clf.log"),
    )
    .unwrap();
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
    let gz = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs/lambda/firehose-orders-search-2026-11-24-09.gz"),
    )
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
    let out = vigil(&dir.path().join("lake"))
        .args(["ingest", "no/such/file.json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot read no/such/file.json") && stderr.contains("No such file"),
        "{stderr}"
    );
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
