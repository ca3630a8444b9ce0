//! The OCSF mappings over real lakes (the sample story and the corpus of
//! public captures): every exported event valid against the OCSF 1.1.0
//! schema (the oracle: `scripts/ocsf-validate.py`), counts that reconcile
//! with the tables, Security Lake's layout, and the class, activity and
//! status each kind of record gets.

use futures::StreamExt;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use serde_json::Value;
use vigil_ingest::{IngestOptions, Ingester, Lake};
use vigil_queries::ocsf::export::{export, ExportReport, ExportTarget};
use vigil_queries::ocsf::{EventClass, MAPPINGS};
use vigil_queries::output::rows;
use vigil_queries::{guard, hunting_session, HUNTING_TABLES};
use vigil_test_support::{corpus, in_checkout, sample_logs};

/// The venv Python with ocsf-json-schema and jsonschema, as `scripts/test.sh` sets it.
const PYTHON_ENV: &str = "VIGIL_TEST_PYTHON";

fn lake_of(paths: &[PathBuf]) -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let mut ingester = Ingester::new(IngestOptions::default(), lake.writer().unwrap());
    for p in paths {
        ingester.ingest_path(p).unwrap();
    }
    assert!(ingester.finish().unwrap().reconciles());
    (dir, lake)
}

async fn query(lake: &Lake, sql: &str) -> Vec<serde_json::Map<String, Value>> {
    guard::check(sql, &HUNTING_TABLES).unwrap();
    let ctx = hunting_session(lake, None).await.unwrap();
    vigil_queries::ocsf::register_views_for(&ctx, sql)
        .await
        .unwrap();
    let batches = ctx
        .sql_with_options(sql, guard::sql_options())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows(&batches).unwrap()
}

async fn count(lake: &Lake, sql: &str) -> u64 {
    let rows = query(lake, sql).await;
    rows[0].values().next().unwrap().as_u64().unwrap()
}

async fn ndjson(lake: &Lake, path: &Path) -> ExportReport {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let report = export(lake, None, ExportTarget::Ndjson(&mut file))
        .await
        .unwrap();
    std::io::Write::flush(&mut file).unwrap();
    report
}

#[tokio::test]
#[ignore = "needs ocsf-json-schema in a venv (VIGIL_TEST_PYTHON): run scripts/test.sh"]
async fn every_exported_event_validates_against_the_ocsf_schema() {
    let python = std::env::var(PYTHON_ENV)
        .unwrap_or_else(|_| panic!("{PYTHON_ENV} is set by scripts/test.sh"));
    let (_dir, lake) = lake_of(&[sample_logs(""), corpus("")]);
    let out = tempfile::tempdir().unwrap();
    let events = out.path().join("events.ndjson");
    let report = ndjson(&lake, &events).await;
    let result = std::process::Command::new(python)
        .arg(in_checkout("scripts/ocsf-validate.py"))
        .arg(&events)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&result.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        )
    });
    assert!(result.status.success(), "{summary:#}");
    assert_eq!(summary["invalid"], 0, "{summary:#}");
    assert_eq!(summary["events"].as_u64().unwrap(), report.exported());
    // Every class has events from the real captures and the samples.
    for class in EventClass::ALL {
        let n = summary["per_class"][class.uid().to_string()]
            .as_u64()
            .unwrap_or(0);
        assert!(n > 0, "no {} events: {summary:#}", class.name());
    }
}

#[tokio::test]
async fn export_counts_reconcile_with_the_tables() {
    let (_dir, lake) = lake_of(&[sample_logs(""), corpus("")]);
    let out = tempfile::tempdir().unwrap();
    let events = out.path().join("events.ndjson");
    let report = ndjson(&lake, &events).await;
    let lines = std::fs::read_to_string(&events).unwrap().lines().count() as u64;
    assert_eq!(lines, report.exported());
    // Each table's records are in exactly one mapping's scope: the
    // CloudTrail classes split the table without overlap or gap.
    let mut per_table: BTreeMap<&str, u64> = BTreeMap::new();
    for m in MAPPINGS {
        let c = report.sources[m.source];
        assert_eq!(c.records, c.exported + c.not_mappable(), "{}", m.source);
        *per_table.entry(m.table.name()).or_default() += c.records;
    }
    for (table, records) in per_table {
        let rows = count(&lake, &format!("SELECT count(*) AS n FROM {table}")).await;
        assert_eq!(records, rows, "{table}");
    }
    // What cannot be mapped is the corpus's odd records (Lambda event
    // payloads read as API Gateway or CloudTrail records, Lambda lines with
    // no function), never most of a table.
    for m in MAPPINGS {
        let c = report.sources[m.source];
        assert!(c.exported > 0, "{}: {c:?}", m.source);
        assert!(c.not_mappable() * 4 < c.records, "{}: {c:?}", m.source);
    }
}

/// Every Parquet file under `dir`.
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn parquet_export_is_laid_out_as_security_lake_custom_sources() {
    let (_dir, lake) = lake_of(&[sample_logs("")]);
    let out = tempfile::tempdir().unwrap();
    let root = out.path().to_str().unwrap();
    let report = export(&lake, None, ExportTarget::SecurityLake { root })
        .await
        .unwrap();
    assert!(report.exported() > 1000, "{report:?}");
    let layout = regex::Regex::new(
        r"^ext/([a-z-]{1,20})/region=([a-z0-9-]+)/accountId=([0-9]{12}|unknown)/eventDay=(2026[0-9]{4})/[^/]+\.parquet$",
    )
    .unwrap();
    let mut rows_per_source: BTreeMap<String, u64> = BTreeMap::new();
    for file in parquet_files(out.path()) {
        let rel = file.strip_prefix(out.path()).unwrap().to_str().unwrap();
        let parts = layout
            .captures(rel)
            .unwrap_or_else(|| panic!("{rel} is not in Security Lake's layout"));
        let source = parts[1].to_string();
        // CloudTrail and WAF records always say their account (a WAF
        // record in its web ACL's ARN); access logs and Lambda lines read
        // from files may not (no `$context.accountId`, no log group).
        if &parts[3] == "unknown" {
            assert!(
                ["vigil-apigw-http", "vigil-lambda-app"].contains(&source.as_str()),
                "{rel}"
            );
        }
        let mapping = MAPPINGS
            .iter()
            .find(|m| m.source == source)
            .unwrap_or_else(|| panic!("{source} is no mapping's source"));
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(&file).unwrap(),
        )
        .unwrap()
        .build()
        .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            // The partition values are in the path, not in the file.
            for column in ["region", "accountId", "eventDay"] {
                assert!(batch.column_by_name(column).is_none(), "{rel}: {column}");
            }
            // One class per source, as Security Lake requires, and the
            // partition the event's own cloud says.
            let classes = batch.column_by_name("class_uid").unwrap();
            let classes =
                arrow::compute::cast(classes, &arrow::datatypes::DataType::Int64).unwrap();
            let classes = classes.as_primitive::<arrow::datatypes::Int64Type>();
            assert!(classes
                .iter()
                .all(|c| c == Some(i64::from(mapping.class.uid()))));
            let cloud = batch.column_by_name("cloud").unwrap().as_struct();
            let region = arrow::compute::cast(
                cloud.column_by_name("region").unwrap(),
                &arrow::datatypes::DataType::Utf8,
            )
            .unwrap();
            let region = region.as_string::<i32>();
            assert!(
                (0..region.len()).all(|i| if region.is_null(i) {
                    &parts[2] == "unknown"
                } else {
                    region.value(i) == &parts[2]
                }),
                "{rel}"
            );
            *rows_per_source.entry(source.clone()).or_default() += batch.num_rows() as u64;
        }
    }
    for m in MAPPINGS {
        let exported = report.sources[m.source].exported;
        assert_eq!(
            rows_per_source.get(m.source).copied().unwrap_or(0),
            exported,
            "{}",
            m.source
        );
    }
}

#[tokio::test]
async fn cloudtrail_records_get_the_class_activity_and_status_they_are() {
    let (_dir, lake) = lake_of(&[sample_logs("")]);
    let signins = query(
        &lake,
        "SELECT status, user['name'] AS name, user['uid'] AS uid, count(*) AS n FROM ocsf_authentication \
         WHERE api['operation'] = 'ConsoleLogin' GROUP BY 1, 2, 3 ORDER BY 1, 2",
    )
    .await;
    // The story's failed sign-ins have no errorCode: their response says
    // Failure. CloudTrail's empty principal ids are no uid.
    let failures: u64 = signins
        .iter()
        .filter(|r| r["status"] == "Failure")
        .map(|r| r["n"].as_u64().unwrap())
        .sum();
    assert_eq!(failures, 10, "{signins:?}");
    assert!(signins.iter().all(|r| r["uid"] != ""), "{signins:?}");
    assert!(signins
        .iter()
        .any(|r| r["status"] == "Success" && r["name"] == "bob"));
    let attach = query(
        &lake,
        "SELECT activity_id, activity_name, type_uid, user['name'] AS target, policy['uid'] AS policy, actor['user']['name'] AS actor \
         FROM ocsf_account_change WHERE api['operation'] = 'AttachUserPolicy'",
    )
    .await;
    assert_eq!(attach.len(), 1, "{attach:?}");
    assert_eq!(attach[0]["activity_id"], 7);
    assert_eq!(attach[0]["activity_name"], "Attach Policy");
    assert_eq!(attach[0]["type_uid"], 300107);
    assert_eq!(attach[0]["target"], "bob");
    assert_eq!(
        attach[0]["policy"],
        "arn:aws:iam::aws:policy/AdministratorAccess"
    );
    // Reads are Read, in API Activity; no record is in two classes.
    let reads = query(
        &lake,
        "SELECT DISTINCT activity_name FROM ocsf_api_activity WHERE api['operation'] IN ('DescribeInstances', 'ListBuckets')",
    )
    .await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["activity_name"], "Read");
    let classes = count(
        &lake,
        "SELECT count(*) AS n FROM (SELECT metadata['uid'] FROM ocsf_api_activity \
         INTERSECT SELECT metadata['uid'] FROM ocsf_authentication)",
    )
    .await;
    assert_eq!(classes, 0);
}

#[tokio::test]
async fn waf_records_carry_the_verdict_and_the_apis_response() {
    let (_dir, lake) = lake_of(&[sample_logs("")]);
    let by_disposition = query(
        &lake,
        "SELECT disposition_id, disposition, action, http_response['code'] AS code, count(*) AS n \
         FROM ocsf_http_activity WHERE metadata['product']['name'] = 'AWS WAF' GROUP BY 1, 2, 3, 4 ORDER BY 1, 4",
    )
    .await;
    let blocked: Vec<_> = by_disposition
        .iter()
        .filter(|r| r["disposition"] == "Blocked")
        .collect();
    assert!(!blocked.is_empty(), "{by_disposition:?}");
    assert!(blocked
        .iter()
        .all(|r| r["disposition_id"] == 2 && r["action"] == "Denied" && r["code"] == 403));
    // An allowed request's response is the API's: the same status as the
    // API Gateway record with the same request id.
    let mismatched = count(
        &lake,
        "SELECT count(*) AS n FROM ocsf_http_activity w JOIN apigateway a ON w.http_request['uid'] = a.request_id \
         WHERE w.metadata['product']['name'] = 'AWS WAF' AND w.disposition = 'Allowed' AND w.http_response['code'] <> a.status",
    )
    .await;
    assert_eq!(mismatched, 0);
    let joined = count(
        &lake,
        "SELECT count(*) AS n FROM ocsf_http_activity WHERE metadata['product']['name'] = 'AWS WAF' AND disposition = 'Allowed'",
    )
    .await;
    assert!(joined > 100, "{joined}");
    // API Gateway's own records: the method is the activity.
    let methods = query(
        &lake,
        "SELECT DISTINCT http_request['http_method'] AS method, activity_id FROM ocsf_http_activity \
         WHERE metadata['product']['name'] = 'Amazon API Gateway' ORDER BY 1",
    )
    .await;
    let expected: BTreeMap<&str, i64> = [("GET", 3), ("POST", 6), ("PUT", 7), ("DELETE", 2)].into();
    let seen: BTreeSet<String> = methods
        .iter()
        .filter_map(|r| r["method"].as_str().map(String::from))
        .collect();
    assert!(seen.contains("GET") && seen.contains("POST"), "{methods:?}");
    for r in &methods {
        if let Some(id) = r["method"].as_str().and_then(|m| expected.get(m)) {
            assert_eq!(r["activity_id"], *id, "{r:?}");
        }
    }
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn parquet_export_to_s3_writes_the_same_layout() {
    use object_store::ObjectStore;
    let bucket = format!("vigil-ocsf-{}", std::process::id());
    let endpoint = vigil_test_support::create_moto_bucket(&bucket).await;
    std::env::set_var(vigil_ingest::lake::S3_ENDPOINT_ENV, &endpoint);
    let (_dir, lake) = lake_of(&[sample_logs("")]);
    let root = format!("s3://{bucket}/security-lake");
    let report = export(&lake, None, ExportTarget::SecurityLake { root: &root })
        .await
        .unwrap();
    let store = vigil_ingest::s3_store(&bucket).unwrap();
    let mut keys: Vec<String> = store
        .list(Some(&object_store::path::Path::from("security-lake/ext")))
        .map(|o| o.unwrap().location.to_string())
        .collect::<Vec<_>>()
        .await;
    keys.sort();
    let layout = regex::Regex::new(
        r"^security-lake/ext/vigil-[a-z-]+/region=[a-z0-9-]+/accountId=([0-9]{12}|unknown)/eventDay=[0-9]{8}/[^/]+\.parquet$",
    )
    .unwrap();
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| layout.is_match(k)), "{keys:?}");
    let sources: BTreeSet<&str> = keys.iter().map(|k| k.split('/').nth(2).unwrap()).collect();
    let exported: BTreeSet<&str> = MAPPINGS
        .iter()
        .filter(|m| report.sources[m.source].exported > 0)
        .map(|m| m.source)
        .collect();
    assert_eq!(sources, exported);
}

#[tokio::test]
async fn sessions_get_the_ocsf_views_when_a_query_names_one() {
    let (_dir, lake) = lake_of(&[sample_logs("apigateway")]);
    let ctx = hunting_session(&lake, None).await.unwrap();
    let views: Vec<&str> = EventClass::ALL.iter().map(|c| c.view()).collect();
    vigil_queries::ocsf::register_views_for(&ctx, "SELECT count(*) FROM apigateway")
        .await
        .unwrap();
    for view in &views {
        assert!(!ctx.table_exist(*view).unwrap(), "{view}");
    }
    vigil_queries::ocsf::register_views_for(&ctx, "SELECT count(*) FROM OCSF_HTTP_ACTIVITY")
        .await
        .unwrap();
    for view in &views {
        assert!(ctx.table_exist(*view).unwrap(), "{view}");
    }
    // Twice is harmless.
    vigil_queries::ocsf::register_views_for(&ctx, "SELECT 1 FROM ocsf_api_activity")
        .await
        .unwrap();
}
