//! `docs/SCHEMA.md` is generated from the schema definitions, with one example
//! row of each table ingested from `sample-logs/`; this test keeps it current.

mod common;
use common::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use vigil_ingest::schema::{schema_markdown, Examples};
use vigil_ingest::Table;

#[test]
fn schema_doc_is_up_to_date() {
    let (_, mut batches) = ingest(&[
        sample("cloudtrail/111122223333_CloudTrail_us-east-1_20261124T0900Z_e5f6a7b8.json.gz"),
        sample("apigateway/rest-api-access-prod.ndjson"),
        sample("lambda/cloudwatch-subscription-orders-search.json"),
        sample("waf/AWSLogs/111122223333/WAFLogs/us-east-1/orders-api/2026/11/24/09/00/111122223333_waflogs_us-east-1_orders-api_20261124T0900Z_095c2b8e.log.gz"),
    ]);
    // A dead letter, for its example row.
    let (_, dead) = ingest_bytes(b"{\"eventVersion\":\"1.08\",\"eventName\":\n");
    batches.extend(dead);
    let mut examples = Examples::new();
    let options = FormatOptions::default();
    for table in Table::INGESTED {
        // The row whose columns are most often filled makes the best example.
        let Some(batch) = batches.iter().find(|b| b.table == table).map(|b| &b.batch) else {
            continue;
        };
        let row = (0..batch.num_rows().min(500))
            .max_by_key(|&r| batch.columns().iter().filter(|c| c.is_valid(r)).count())
            .unwrap();
        for (i, field) in batch.schema().fields().iter().enumerate() {
            let col = batch.column(i);
            if col.is_valid(row) && field.name() != "raw" && field.name() != "raw_bytes" {
                let f = ArrayFormatter::try_new(col.as_ref(), &options).unwrap();
                let mut value = f.value(row).to_string();
                // Paths differ between checkouts: keep them relative.
                if let Some(at) = value.find("sample-logs/") {
                    value = value[at..].to_string();
                }
                examples.insert((table, field.name().clone()), value);
            }
        }
    }
    let doc = schema_markdown(&examples);
    let path = vigil_test_support::in_checkout("docs/SCHEMA.md");
    if std::env::var("VIGIL_UPDATE_DOCS").is_ok() {
        std::fs::write(&path, &doc).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == doc,
        "docs/SCHEMA.md is stale: run VIGIL_UPDATE_DOCS=1 cargo test -p vigil-ingest --test schema_doc"
    );
    assert!(doc.contains("| `event_name` | string |"));
}
