//! Differential test of the Sigma compiler against the reference, pySigma's
//! SQLite backend: for every SigmaHQ CloudTrail rule in the corpus and every
//! rule of `sigma/tests/rules/` (each modifier and condition form), the
//! records Vigil's SQL selects over every CloudTrail record of the corpus are
//! exactly those pySigma's SQL selects from the same records.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use vigil_detect::Tables;
use vigil_ingest::{IngestOptions, Ingester, MemorySink};
use vigil_test_support::{corpus, in_checkout};

/// The venv Python with pySigma, as `scripts/test.sh` sets it.
const PYTHON_ENV: &str = "VIGIL_TEST_PYTHON";

fn corpus_cloudtrail() -> Tables {
    let sink = MemorySink::default();
    let mut ingester =
        Ingester::new(IngestOptions::default(), sink.clone()).with_ingest_time(1_764_000_000_000);
    ingester.ingest_path(&corpus("")).unwrap();
    let report = ingester.finish().unwrap();
    assert!(report.reconciles());
    Tables::from_batches(sink.batches()).unwrap()
}

fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    out.sort();
    out
}

async fn texts(ctx: &datafusion::prelude::SessionContext, sql: &str) -> Vec<Vec<Option<String>>> {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut rows = Vec::new();
    for b in batches {
        let cols: Vec<_> = b
            .columns()
            .iter()
            .map(|c| arrow::compute::cast(c, &arrow::datatypes::DataType::Utf8).unwrap())
            .collect();
        for i in 0..b.num_rows() {
            rows.push(
                cols.iter()
                    .map(|c| {
                        let c = c.as_string::<i32>();
                        (!c.is_null(i)).then(|| c.value(i).to_string())
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// SigmaHQ rules naming a field no CloudTrail record has, and that field.
const REFUSED: &[(&str, &str)] = &[("aws_delete_saml_provider.yml", "status")];

#[tokio::test]
#[ignore = "needs pySigma in a venv (VIGIL_TEST_PYTHON): run scripts/test.sh"]
async fn sigma_rules_select_the_same_records_as_pysigma() {
    let python = std::env::var(PYTHON_ENV)
        .unwrap_or_else(|_| panic!("{PYTHON_ENV} is set by scripts/test.sh"));
    let tables = corpus_cloudtrail();
    let ctx = tables.context(None).unwrap();
    // The oracle sees each record with the values of Vigil's typed and JSON
    // columns under their CloudTrail names: records wrapped by a forwarder
    // (a Datadog export's `http.useragent`, a `jsonPayload` envelope) are
    // compared as the CloudTrail records Vigil reads them as; the ingest
    // tests check that reading.
    let typed: Vec<(&str, &str)> = vigil_sigma::Source::CloudTrail
        .typed_fields()
        .iter()
        .filter(|(field, _, _)| !field.is_empty())
        .map(|(field, column, _)| (*field, *column))
        .collect();
    let objects = vigil_sigma::Source::CloudTrail.json_fields();
    let columns: Vec<String> = typed
        .iter()
        .map(|(_, c)| *c)
        .chain(objects.iter().map(|(_, c)| *c))
        .enumerate()
        .map(|(i, c)| format!("CAST({c} AS VARCHAR) AS column_{i}"))
        .collect();
    let records = texts(
        &ctx,
        &format!(
            // Records are told apart by their eventID (the few without one
            // are left out of the comparison on both sides).
            "SELECT event_id, raw, CAST(CAST(event_time AS BIGINT) AS VARCHAR) AS ms, {} FROM cloudtrail WHERE event_id IS NOT NULL",
            columns.join(", ")
        ),
    )
    .await;
    assert!(records.len() > 3000, "{} CloudTrail records", records.len());
    let dir = tempfile::tempdir().unwrap();
    let records_path = dir.path().join("records.ndjson");
    let mut f = std::fs::File::create(&records_path).unwrap();
    for r in &records {
        let mut fields: serde_json::Map<String, serde_json::Value> = typed
            .iter()
            .zip(&r[3..])
            .map(|((field, _), v)| {
                let v = v
                    .clone()
                    .map_or(serde_json::Value::Null, serde_json::Value::String);
                (field.to_string(), v)
            })
            .collect();
        for ((field, _), v) in objects.iter().zip(&r[3 + typed.len()..]) {
            let v = v.as_deref().map_or(serde_json::Value::Null, |t| {
                serde_json::from_str(t).unwrap()
            });
            fields.insert(field.to_string(), v);
        }
        writeln!(
            f,
            "{}",
            serde_json::json!({
                "id": r[0].clone().unwrap(),
                "raw": r[1].clone().unwrap(),
                "ms": r[2].as_deref().unwrap_or("0").parse::<i64>().unwrap(),
                "fields": fields
            })
        )
        .unwrap();
    }
    drop(f);

    let mut rules = yml_files(&corpus("sigma-aws-rules/rules/cloud/aws/cloudtrail"));
    let sigmahq = rules.len();
    rules.extend(yml_files(&in_checkout("sigma/tests/rules")));
    let output = std::process::Command::new(&python)
        .arg(in_checkout("sigma/tests/oracle.py"))
        .arg(&records_path)
        .args(&rules)
        .output()
        .expect("the oracle runs");
    assert!(
        output.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: BTreeMap<String, BTreeSet<String>> =
        serde_json::from_slice(&output.stdout).unwrap();

    let mut differences = Vec::new();
    let mut matched_rules = 0;
    let mut refused: Vec<(String, String)> = Vec::new();
    for path in &rules {
        let key = path.display().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let compiled = match vigil_sigma::compile(&text, &key, &Default::default()) {
            Ok(c) => c,
            Err(e) => {
                // Refused: a field no CloudTrail record has. pySigma's query
                // then reads a column that is always NULL and selects nothing.
                if !expected[&key].is_empty() {
                    differences.push(format!("{name}: refused ({e}) but pySigma selects records"));
                }
                refused.push((name, e.to_string()));
                continue;
            }
        };
        let mut got = BTreeSet::new();
        if compiled.iter().any(|c| c.correlation.is_some()) {
            // The windows that fire: group keys and window end, as pySigma
            // reports them.
            for c in compiled
                .iter()
                .filter(|c| c.correlation.is_some() && c.reports)
            {
                let groups = &c.correlation.as_ref().unwrap().group_by;
                let sql = format!(
                    "SELECT {}CAST(CAST(window_end AS BIGINT) AS VARCHAR) FROM ({})",
                    groups
                        .iter()
                        .map(|g| format!("\"{g}\", "))
                        .collect::<String>(),
                    c.sql
                );
                for row in texts(&ctx, &sql).await {
                    let keys: BTreeMap<&str, &str> = groups
                        .iter()
                        .map(String::as_str)
                        .zip(row.iter().map(|v| v.as_deref().unwrap_or("")))
                        .collect();
                    let end_ms: i64 = row.last().unwrap().as_deref().unwrap().parse().unwrap();
                    got.insert(format!(
                        "{}|{}",
                        serde_json::to_string(&keys).unwrap(),
                        (end_ms as f64 / 1000.0).round() as i64
                    ));
                }
            }
        }
        // A file with a correlation is compared by its windows alone.
        let has_correlation = compiled.iter().any(|c| c.correlation.is_some());
        for c in compiled.iter().filter(|c| !has_correlation && c.reports) {
            let sql = format!(
                "SELECT DISTINCT event_id FROM {} WHERE {}",
                c.rule.source.table(),
                c.predicate
            );
            got.extend(
                texts(&ctx, &sql)
                    .await
                    .into_iter()
                    .filter_map(|r| r[0].clone()),
            );
        }
        let want = &expected[&key];
        if has_correlation {
            // Each correlation test rule is written to fire on the corpus.
            assert!(!want.is_empty(), "{name}: no window fires in pySigma");
        }
        if !want.is_empty() {
            matched_rules += 1;
        }
        if &got != want {
            differences.push(format!(
                "{name}: Vigil only {:?}; pySigma only {:?}",
                got.difference(want).take(5).collect::<Vec<_>>(),
                want.difference(&got).take(5).collect::<Vec<_>>()
            ));
        }
    }
    assert!(sigmahq >= 50, "{sigmahq} SigmaHQ rules");
    // The SigmaHQ rules Vigil refuses, each for a field CloudTrail does not have.
    let refused_names: Vec<&str> = refused.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        refused_names,
        REFUSED.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "{refused:#?}"
    );
    for ((_, error), (_, field)) in refused.iter().zip(REFUSED) {
        assert!(error.contains(&format!("field {field:?}")), "{error}");
    }
    assert!(
        matched_rules >= 10,
        "only {matched_rules} rules match any record"
    );
    assert!(
        differences.is_empty(),
        "{} of {} rules differ:\n{}",
        differences.len(),
        rules.len(),
        differences.join("\n")
    );
}
