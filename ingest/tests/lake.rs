//! The lake, read back by DataFusion: same counts and values as the input,
//! Hive partitions by event hour, deterministic object names, nothing half-written.
//! The S3 variant runs against moto's server on 127.0.0.1.

mod common;
use common::*;
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use std::path::Path;
use vigil_ingest::compact::{compact, CompactOptions};
use vigil_ingest::{IngestOptions, IngestReport, Ingester, Lake, Table};

/// An empty lake in a temporary folder (removed when the folder is dropped).
fn local_lake() -> (tempfile::TempDir, Lake) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
    (dir, lake)
}

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

#[tokio::test]
async fn round_trip_through_the_lake_keeps_counts_and_values() {
    let (_dir, lake) = local_lake();
    let report = ingest_into(&lake, &[sample("")], IngestOptions::default());
    let ctx = SessionContext::new();
    register(&ctx, &lake).await;
    for table in Table::LOGS {
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
    let (dir, lake) = local_lake();
    // Small batches, so that one input makes several batches per hour.
    let options = IngestOptions {
        batch_rows: 100,
        ..IngestOptions::default()
    };
    let input = [sample("apigateway/rest-api-access-prod.ndjson")];
    let first = ingest_into(&lake, &input, options.clone());
    let files_first = vigil_test_support::files_under(dir.path());
    let second = ingest_into(&lake, &input, options);
    let files_second = vigil_test_support::files_under(dir.path());
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
    let (dir, lake) = local_lake();
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
    let local_keys: Vec<String> = vigil_test_support::files_under(dir.path())
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

    // Compaction on S3 (list, get, put, head, delete there): the same
    // merge as on the local lake, the same answers, and a retried delivery
    // brings no merged file back.
    let on_s3 = compact(&s3, &compact_all()).await.unwrap();
    let on_local = compact(&local, &compact_all()).await.unwrap();
    assert_eq!(
        format!("{:?}", on_s3.tables),
        format!("{:?}", on_local.tables)
    );
    assert!(
        on_s3.tables.values().any(|t| t.files_merged > 0),
        "{on_s3:?}"
    );
    let lake_files = || async {
        let mut keys: Vec<String> = s3
            .store()
            .list(Some(&object_store::path::Path::from("lake")))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await
            .unwrap();
        keys.retain(|k| !k.starts_with("lake/_state/"));
        keys.sort();
        keys
    };
    let compacted = lake_files().await;
    let retried = tokio::task::spawn_blocking({
        let s3 = s3.clone();
        move || ingest_into(&s3, &input, IngestOptions::default())
    })
    .await
    .unwrap();
    assert_eq!(retried.parsed, s3_report.parsed);
    assert_eq!(lake_files().await, compacted);
    for sql in [
        "SELECT count(*) FROM cloudtrail",
        "SELECT count(*) FROM lambda",
    ] {
        assert_eq!(
            count(&ctx, sql).await,
            count(&local_ctx, sql).await,
            "{sql}"
        );
    }
}

/// Compaction over every hour that has ended by now.
fn compact_all() -> CompactOptions {
    CompactOptions {
        tables: Table::ALL.to_vec(),
        ended_before_ms: i64::MAX,
        from_ms: None,
        dry_run: false,
    }
}

/// The event tables' rows (table, time, raw record), sorted: what a
/// compaction must keep, each once.
async fn all_rows(lake: &Lake) -> Vec<(String, Option<String>, Option<String>)> {
    let ctx = SessionContext::new();
    register(&ctx, lake).await;
    let mut rows = Vec::new();
    for table in Table::LOGS.map(Table::name) {
        if !ctx.table_exist(table).unwrap() {
            continue;
        }
        for b in query(
            &ctx,
            &format!("SELECT CAST(event_time AS VARCHAR), raw FROM {table}"),
        )
        .await
        {
            rows.extend(
                text(&b, 0)
                    .into_iter()
                    .zip(text(&b, 1))
                    .map(|(t, raw)| (table.to_string(), t, raw)),
            );
        }
    }
    rows.sort();
    rows
}

/// The lake files (not `_state/`) by hour folder.
fn files_by_hour(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, usize> {
    let mut hours = std::collections::BTreeMap::new();
    for f in vigil_test_support::files_under(dir) {
        if !f.starts_with(dir.join("_state")) {
            *hours.entry(f.parent().unwrap().to_path_buf()).or_default() += 1;
        }
    }
    hours
}

#[tokio::test]
async fn compaction_merges_small_files_keeping_every_row_once_and_retries_add_none() {
    let (dir, lake) = local_lake();
    let first = ingest_into(&lake, &[sample("")], IngestOptions::default());
    let rows = all_rows(&lake).await;
    assert_eq!(rows.len() as u64, first.parsed_total());
    let before = files_by_hour(dir.path());
    assert!(before.values().any(|&n| n > 1), "{before:?}");

    let report = compact(&lake, &compact_all()).await.unwrap();
    let merged: u64 = report.tables.values().map(|t| t.files_merged).sum();
    let written: u64 = report.tables.values().map(|t| t.files_written).sum();
    assert!(merged > written && written > 0, "{report:?}");
    let after = files_by_hour(dir.path());
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    assert!(after.values().all(|&n| n == 1), "{after:?}");
    assert_eq!(all_rows(&lake).await, rows);

    // The same deliveries again: their batches were merged, so they are not
    // stored a second time.
    let again = ingest_into(&lake, &[sample("")], IngestOptions::default());
    assert_eq!(again.parsed, first.parsed);
    assert_eq!(
        again.files_already_merged.values().sum::<u64>(),
        merged,
        "{again:?}"
    );
    assert_eq!(files_by_hour(dir.path()), after);
    assert_eq!(all_rows(&lake).await, rows);
    // Nothing left to do.
    let idle = compact(&lake, &compact_all()).await.unwrap();
    assert!(idle.tables.values().all(|t| t.hours == 0), "{idle:?}");
}

#[tokio::test]
async fn a_compaction_stopped_before_deleting_is_finished_by_the_next() {
    let (dir, lake) = local_lake();
    ingest_into(&lake, &[sample("apigateway")], IngestOptions::default());
    let rows = all_rows(&lake).await;
    let small: Vec<_> = vigil_test_support::files_under(&dir.path().join("apigateway"));
    let kept = std::fs::read(&small[0]).unwrap();
    let report = compact(&lake, &compact_all()).await.unwrap();
    assert!(report.tables[&Table::ApiGateway].files_merged >= 2);

    // As if the run had stopped after storing the merged file: one small
    // file still there, its rows seen twice.
    std::fs::write(&small[0], &kept).unwrap();
    assert!(all_rows(&lake).await.len() > rows.len());
    let next = compact(&lake, &compact_all()).await.unwrap();
    assert_eq!(
        next.tables[&Table::ApiGateway].leftovers_deleted,
        1,
        "{next:?}"
    );
    assert_eq!(next.tables[&Table::ApiGateway].hours, 0, "{next:?}");
    assert_eq!(all_rows(&lake).await, rows);
}

#[tokio::test]
async fn a_compaction_stopped_while_storing_merged_files_leaves_no_copy_of_them() {
    let (dir, lake) = local_lake();
    ingest_into(&lake, &[sample("apigateway")], IngestOptions::default());
    let rows = all_rows(&lake).await;
    let table_dir = dir.path().join("apigateway");
    let (hour, files) = files_by_hour(&table_dir)
        .into_iter()
        .find(|(_, n)| *n > 1)
        .map(|(hour, _)| (hour.clone(), vigil_test_support::files_under(&hour)))
        .expect("an hour of several small files");

    // As if a run had written its markers and the first of two merged files,
    // then stopped: the merged file holds rows the small files still hold.
    let rel = hour.strip_prefix(dir.path()).unwrap();
    let markers = dir.path().join("_state/merged").join(rel);
    std::fs::create_dir_all(&markers).unwrap();
    for f in &files {
        let batch = f.file_stem().unwrap();
        std::fs::write(markers.join(batch), "compact-00000000deadbeef-001.parquet").unwrap();
    }
    std::fs::copy(&files[0], hour.join("compact-00000000deadbeef-000.parquet")).unwrap();
    assert!(all_rows(&lake).await.len() > rows.len());

    let next = compact(&lake, &compact_all()).await.unwrap();
    let api = &next.tables[&Table::ApiGateway];
    assert_eq!(api.leftovers_deleted, 1, "{next:?}");
    assert!(api.files_merged >= 2, "{next:?}");
    assert_eq!(all_rows(&lake).await, rows);
    assert!(!hour.join("compact-00000000deadbeef-000.parquet").exists());
}

#[tokio::test]
async fn an_hour_is_merged_into_files_of_at_most_file_rows() {
    use datafusion::arrow::array::{ArrayRef, TimestampMillisecondArray};
    use std::sync::Arc;
    let (dir, lake) = local_lake();
    let schema = vigil_ingest::schema::schema(Table::Lambda);
    let hour_ms = 1_795_510_800_000i64; // 2026-11-24T09:00:00Z
    let rows_each = vigil_ingest::lake::FILE_ROWS * 3 / 5;
    for delivery in 0..2i64 {
        let columns: Vec<ArrayRef> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| match i {
                0 => Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        (0..rows_each as i64).map(|r| hour_ms + delivery * 1_000 + r % 3_000_000),
                    )
                    .with_timezone("UTC"),
                ) as ArrayRef,
                _ => datafusion::arrow::array::new_null_array(f.data_type(), rows_each),
            })
            .collect();
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        lake.write_batch(&vigil_ingest::TableBatch {
            table: Table::Lambda,
            batch_id: format!("delivery-{delivery}"),
            batch,
        })
        .await
        .unwrap();
    }
    // The hour is over by the first option, not by the second.
    let mut options = compact_all();
    options.ended_before_ms = hour_ms + 3_599_999;
    let early = compact(&lake, &options).await.unwrap();
    assert_eq!(early.tables[&Table::Lambda].hours, 0);

    let report = compact(&lake, &compact_all()).await.unwrap();
    let lambda = &report.tables[&Table::Lambda];
    assert_eq!((lambda.files_merged, lambda.files_written), (2, 2));
    assert_eq!(lambda.rows, 2 * rows_each as u64);
    let ctx = SessionContext::new();
    register(&ctx, &lake).await;
    assert_eq!(
        count(&ctx, "SELECT count(*) FROM lambda").await,
        2 * rows_each as i64
    );
    let mut per_file: Vec<usize> = vigil_test_support::files_under(&dir.path().join("lambda"))
        .iter()
        .map(|f| {
            let bytes = bytes::Bytes::from(std::fs::read(f).unwrap());
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes)
                .unwrap()
                .metadata()
                .file_metadata()
                .num_rows() as usize
        })
        .collect();
    per_file.sort();
    assert_eq!(
        per_file,
        vec![
            2 * rows_each - vigil_ingest::lake::FILE_ROWS,
            vigil_ingest::lake::FILE_ROWS
        ]
    );
    // A full file is never merged again: one small file left, nothing to do.
    let again = compact(&lake, &compact_all()).await.unwrap();
    assert_eq!(again.tables[&Table::Lambda].hours, 0, "{again:?}");
}

#[tokio::test]
async fn compaction_sweeps_the_staging_files_of_writes_that_never_finished() {
    // A local write stages `<name>#<n>` and renames it; a process killed in
    // between leaves it behind for good.
    let (dir, lake) = local_lake();
    let hour = dir.path().join("apigateway/date=2026-11-24/hour=09");
    std::fs::create_dir_all(&hour).unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    let file = |name: &str, old: bool| {
        let path = hour.join(name);
        let f = std::fs::File::create(&path).unwrap();
        if old {
            f.set_modified(two_hours_ago).unwrap();
        }
        path
    };
    let dead = file("0123abcd.parquet#1", true);
    let dead_state = {
        let state = dir.path().join("_state/outbox");
        std::fs::create_dir_all(&state).unwrap();
        let path = state.join("ab12.json#3");
        std::fs::File::create(&path)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        path
    };
    let in_flight = file("4567ef01.parquet#1", false);
    let not_staging = [file("weird#name.parquet", true), file("x.parquet#", true)];

    let dry = compact(
        &lake,
        &CompactOptions {
            dry_run: true,
            ..compact_all()
        },
    )
    .await
    .unwrap();
    assert_eq!(dry.staging_files_deleted, 2);
    assert!(
        dead.exists() && dead_state.exists(),
        "a dry run deletes nothing"
    );

    let report = compact(&lake, &compact_all()).await.unwrap();
    assert_eq!(report.staging_files_deleted, 2);
    assert!(!dead.exists() && !dead_state.exists());
    assert!(
        in_flight.exists(),
        "a write in flight keeps its staging file"
    );
    for path in &not_staging {
        assert!(path.exists(), "{} is no staging file", path.display());
    }
}
