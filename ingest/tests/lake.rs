//! The lake, read back by DataFusion: same counts and values as the input,
//! Hive partitions by event hour, deterministic object names, nothing half-written.
//! The S3 variant runs against moto's server on 127.0.0.1.

mod common;
use common::*;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use std::path::Path;
use vigil_ingest::{IngestOptions, IngestReport, Ingester, Lake, Table};

fn ingest_into(lake: &Lake, paths: &[std::path::PathBuf], options: IngestOptions) -> IngestReport {
    let mut ingester = Ingester::new(options, lake.writer().unwrap()).with_ingest_time(INGEST_TIME);
    for p in paths {
        ingester.ingest_path(p).unwrap();
    }
    let report = ingester.finish().unwrap();
    assert!(report.reconciles(), "{report:#?}");
    report
}

async fn register(ctx: &SessionContext, lake: &Lake) {
    for table in Table::INGESTED {
        let url = lake.table_url(table);
        let opts = ParquetReadOptions::default().table_partition_cols(vec![
            ("date".into(), datafusion::arrow::datatypes::DataType::Utf8),
            ("hour".into(), datafusion::arrow::datatypes::DataType::Utf8),
        ]);
        // A table with no rows has no folder: skip it.
        if ctx
            .register_parquet(table.name(), &url, opts)
            .await
            .is_err()
        {
            continue;
        }
    }
}

async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

async fn count(ctx: &SessionContext, sql: &str) -> i64 {
    let b = query(ctx, sql).await;
    b[0].column(0)
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .value(0)
}

/// A column as strings, whatever string type the reader chose (Utf8View, dictionary...).
fn text(b: &RecordBatch, i: usize) -> Vec<Option<String>> {
    let col = datafusion::arrow::compute::cast(
        b.column(i),
        &datafusion::arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let col = col.as_string::<i32>();
    (0..col.len())
        .map(|r| col.is_valid(r).then(|| col.value(r).to_string()))
        .collect()
}

fn parquet_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn round_trip_through_the_lake_keeps_counts_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let report = ingest_into(&lake, &[sample("")], IngestOptions::default());
    let ctx = SessionContext::new();
    register(&ctx, &lake).await;
    for table in [Table::CloudTrail, Table::ApiGateway, Table::Lambda] {
        let n = count(&ctx, &format!("SELECT count(*) FROM {}", table.name())).await;
        assert_eq!(n as u64, report.parsed[&table], "{table}");
    }

    // CloudTrail: every input record's eventID, eventName and requestParameters come back.
    let mut expected = Vec::new();
    for f in files_in(&sample("cloudtrail")) {
        let bytes = std::fs::read(&f).unwrap();
        let bytes = if f.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut out)
                .unwrap();
            out
        } else {
            bytes
        };
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(records) = doc.get("Records").and_then(|r| r.as_array()) {
            for r in records {
                expected.push((
                    r["eventID"].as_str().unwrap().to_string(),
                    r["eventName"].as_str().unwrap().to_string(),
                    r["requestParameters"].clone(),
                ));
            }
        }
    }
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    let rows = query(
        &ctx,
        "SELECT event_id, event_name, request_parameters FROM cloudtrail ORDER BY event_id",
    )
    .await;
    let mut got = Vec::new();
    for b in &rows {
        let (ids, names, params) = (text(b, 0), text(b, 1), text(b, 2));
        for i in 0..b.num_rows() {
            let p = match &params[i] {
                None => serde_json::Value::Null,
                Some(p) => serde_json::from_str(p).unwrap(),
            };
            got.push((ids[i].clone().unwrap(), names[i].clone().unwrap(), p));
        }
    }
    assert_eq!(got, expected);

    // Partitions: each file's rows fall in the hour its folder names.
    let bad = count(
        &ctx,
        "SELECT count(*) FROM apigateway WHERE date <> to_char(event_time, '%Y-%m-%d') OR hour <> to_char(event_time, '%H')",
    )
    .await;
    assert_eq!(bad, 0);
    // The sample morning spans 08:00-10:00 UTC on 2026-11-24.
    let hours = query(
        &ctx,
        "SELECT DISTINCT date, hour FROM apigateway ORDER BY hour",
    )
    .await;
    let hours: Vec<String> = hours
        .iter()
        .flat_map(|b| {
            let (d, h) = (text(b, 0), text(b, 1));
            (0..b.num_rows())
                .map(move |i| format!("{} {}", d[i].clone().unwrap(), h[i].clone().unwrap()))
        })
        .collect();
    assert_eq!(hours, vec!["2026-11-24 08", "2026-11-24 09"]);
}

#[tokio::test]
async fn reingesting_rewrites_the_same_objects() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    // Small batches, so that one input makes several batches per hour.
    let options = IngestOptions {
        batch_rows: 100,
        ..IngestOptions::default()
    };
    let input = [sample("apigateway/rest-api-access-prod.ndjson")];
    let first = ingest_into(&lake, &input, options.clone());
    let files_first = parquet_files(dir.path());
    let second = ingest_into(&lake, &input, options);
    let files_second = parquet_files(dir.path());
    assert_eq!(
        files_first, files_second,
        "the same input maps to the same objects"
    );
    // The writer gathers an input's batches of one hour into one file: the
    // sample's two hours make two objects, not one per 100-row batch.
    assert_eq!(files_first.len(), 2, "{files_first:?}");
    assert!(first.parsed.values().sum::<u64>() > 200);
    assert_eq!(first.parsed, second.parsed);
    for f in &files_first {
        let rel = f
            .strip_prefix(dir.path())
            .unwrap()
            .to_string_lossy()
            .to_string();
        let parts: Vec<&str> = rel.split('/').collect();
        assert_eq!(parts.len(), 4, "{rel}");
        assert_eq!(parts[0], "apigateway");
        assert!(
            parts[1].starts_with("date=2026-11-24") && parts[2].starts_with("hour="),
            "{rel}"
        );
        assert!(
            parts[3].ends_with(".parquet"),
            "no temporary file is left behind: {rel}"
        );
    }
    let ctx = SessionContext::new();
    register(&ctx, &lake).await;
    let n = count(&ctx, "SELECT count(*) FROM apigateway").await;
    assert_eq!(
        n as u64,
        first.parsed[&Table::ApiGateway],
        "no duplicate rows after a re-ingest"
    );
}

#[tokio::test]
async fn dead_letters_are_queryable_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let input = dir.path().join("mixed.log");
    std::fs::write(&input, b"not a log line\n{\"eventVersion\":\"1.0\",\"eventName\":\"X\",\"eventTime\":\"2024-01-01T00:00:00Z\"}\n\xff\xfe\n").unwrap();
    let lake_dir = dir.path().join("lake");
    let lake2 = Lake::open(lake_dir.to_str().unwrap()).unwrap();
    let report = ingest_into(&lake2, &[input], IngestOptions::default());
    drop(lake);
    assert_eq!(report.dead_lettered_total(), 2);
    let ctx = SessionContext::new();
    register(&ctx, &lake2).await;
    let rows = query(
        &ctx,
        "SELECT reason, raw_length FROM deadletter ORDER BY record_index",
    )
    .await;
    let reasons: Vec<String> = rows.iter().flat_map(|b| text(b, 0)).flatten().collect();
    assert_eq!(reasons, vec!["unrecognized_format", "invalid_utf8"]);
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn s3_lake_on_moto_matches_the_local_lake() {
    let bucket = format!("vigil-lake-test-{}", std::process::id());
    let endpoint = vigil_test_support::create_moto_bucket(&bucket).await;
    std::env::set_var(vigil_ingest::lake::S3_ENDPOINT_ENV, &endpoint);
    let location = format!("s3://{bucket}/lake");
    let s3 = Lake::open(&location).unwrap();
    let input = [sample("cloudtrail"), sample("lambda")];
    let s3_report = tokio::task::spawn_blocking({
        let s3 = s3.clone();
        let input = input.clone();
        move || ingest_into(&s3, &input, IngestOptions::default())
    })
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let local = Lake::open(dir.path().to_str().unwrap()).unwrap();
    let local_report = ingest_into(&local, &input, IngestOptions::default());
    assert_eq!(s3_report.parsed, local_report.parsed);
    assert_eq!(s3_report.files_written, local_report.files_written);

    // The same object keys on both sides.
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    let keys: Vec<String> = s3
        .store()
        .list(Some(&object_store::path::Path::from("lake")))
        .map_ok(|m| {
            m.location
                .to_string()
                .trim_start_matches("lake/")
                .to_string()
        })
        .try_collect()
        .await
        .unwrap();
    let mut keys = keys;
    keys.sort();
    let local_keys: Vec<String> = parquet_files(dir.path())
        .iter()
        .map(|p| {
            p.strip_prefix(dir.path())
                .unwrap()
                .to_string_lossy()
                .to_string()
        })
        .collect();
    assert_eq!(keys, local_keys);

    // DataFusion reads the S3 lake and gets the same answers.
    let ctx = SessionContext::new();
    let url = url::Url::parse(&format!("s3://{bucket}")).unwrap();
    ctx.register_object_store(&url, s3.store());
    register(&ctx, &s3).await;
    let local_ctx = SessionContext::new();
    register(&local_ctx, &local).await;
    for sql in [
        "SELECT count(*) FROM cloudtrail",
        "SELECT count(*) FROM cloudtrail WHERE outcome = 'failure'",
        "SELECT count(*) FROM lambda WHERE record_type = 'report'",
    ] {
        assert_eq!(
            count(&ctx, sql).await,
            count(&local_ctx, sql).await,
            "{sql}"
        );
    }
    assert!(count(&ctx, "SELECT count(*) FROM cloudtrail").await > 100);
}
