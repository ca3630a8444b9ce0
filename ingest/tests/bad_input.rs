//! Bad input never panics: each case gives a dead-letter row with a reason, or
//! a clear error, and the counts still reconcile.

mod common;
use common::*;
use vigil_ingest::{IngestOptions, Ingester, Limits, MemorySink, SourceId, Table};
use vigil_test_support::gzip;

/// `data` gzipped at deflate's best level: the expansion ratio of a bomb.
fn gzip_best(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

fn reasons(batches: &[vigil_ingest::TableBatch]) -> Vec<String> {
    non_null(batches, Table::DeadLetter, "reason")
}

const RECORD: &str = r#"{"eventVersion":"1.08","eventTime":"2024-01-01T00:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","eventID":"e1"}"#;

#[test]
fn truncated_gzip_keeps_what_was_read_and_dead_letters_the_rest() {
    let lines: String = (0..5000)
        .map(|i| RECORD.replace("e1", &format!("e{i}")) + "\n")
        .collect();
    let gz = gzip(lines.as_bytes());
    let cut = &gz[..gz.len() / 2];
    let sink = MemorySink::default();
    let mut ingester = Ingester::new(IngestOptions::default(), sink.clone());
    ingester
        .ingest_bytes(cut, SourceId::new("cut.gz", "cut.gz"))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert!(report.reconciles());
    assert_eq!(report.input_errors.len(), 1, "{report:#?}");
    assert!(report.parsed[&Table::CloudTrail] > 0 && report.parsed[&Table::CloudTrail] < 5000);
    let batches = sink.batches();
    let r = reasons(&batches);
    assert!(
        r.iter()
            .any(|x| x == "read_error" || x == "decompression" || x == "truncated_input"),
        "{r:?}"
    );
}

#[test]
fn bad_base64_in_a_subscription_event() {
    let (report, batches) = ingest_bytes(br#"{"awslogs":{"data":"not*base64!!"}}"#);
    assert_eq!(report.records_read, 1);
    assert_eq!(reasons(&batches), vec!["bad_base64"]);
}

#[test]
fn subscription_data_that_is_not_gzip_json() {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(gzip(b"this is not json"));
    let (report, batches) =
        ingest_bytes(format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).as_bytes());
    assert_eq!(report.dead_lettered_total(), 1);
    let errors = non_null(&batches, Table::DeadLetter, "error");
    assert_eq!(reasons(&batches), vec!["unrecognized_format"], "{errors:?}");
}

#[test]
fn invalid_json_lines_cost_only_themselves() {
    let input = format!("{RECORD}\n{{\"eventVersion\":\"1.08\", \"eventName\": \n{RECORD}\n{{\"eventVersion\":1,]}}\n");
    let (report, batches) = ingest_bytes(input.as_bytes());
    assert_eq!(report.parsed[&Table::CloudTrail], 2);
    assert_eq!(report.dead_lettered_total(), 2);
    let r = reasons(&batches);
    assert!(
        r.iter()
            .all(|x| x == "invalid_json" || x == "truncated_json"),
        "{r:?}"
    );
    // The raw bytes of each bad line are kept.
    let raws = non_null(&batches, Table::DeadLetter, "raw");
    assert!(raws.iter().any(|r| r.ends_with("\"eventName\": ")));
}

#[test]
fn invalid_utf8_is_dead_lettered_with_its_exact_bytes() {
    let mut input = RECORD.as_bytes().to_vec();
    input.push(b'\n');
    input.extend_from_slice(b"{\"eventVersion\":\"1.0\",\"eventName\":\"\xff\xfe\"}\n");
    let (report, batches) = ingest_bytes(&input);
    assert_eq!(report.parsed[&Table::CloudTrail], 1);
    assert_eq!(reasons(&batches), vec!["invalid_utf8"]);
    let dl = &batches
        .iter()
        .find(|b| b.table == Table::DeadLetter)
        .unwrap()
        .batch;
    let bytes =
        arrow::array::AsArray::as_binary::<i32>(dl.column_by_name("raw_bytes").unwrap().as_ref())
            .value(0)
            .to_vec();
    assert!(bytes.windows(2).any(|w| w == b"\xff\xfe"));
}

#[test]
fn a_10_mb_record_is_dead_lettered_not_held() {
    let big = format!(
        r#"{{"eventVersion":"1.08","eventName":"PutObject","requestParameters":{{"blob":"{}"}}}}"#,
        "A".repeat(10 << 20)
    );
    for input in [
        format!("{RECORD}\n{big}\n{RECORD}\n"),
        format!(r#"{{"Records":[{RECORD},{big},{RECORD}]}}"#),
    ] {
        let (report, batches) = ingest_bytes(input.as_bytes());
        assert_eq!(report.parsed[&Table::CloudTrail], 2);
        assert_eq!(reasons(&batches), vec!["record_too_large"]);
        let lengths = i64s(&batches, Table::DeadLetter, "raw_length");
        assert_eq!(lengths, vec![Some(big.len() as i64)]);
        let kept = non_null(&batches, Table::DeadLetter, "raw")[0].len();
        assert_eq!(kept, Limits::default().max_record_bytes);
    }
}

#[test]
fn an_oversized_first_record_is_dead_lettered_like_any_other() {
    // The first value of an input is read under the larger document limit
    // (it may be an envelope); as a record it must still meet the record limit.
    let big = |id: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventName":"PutObject","eventID":"{id}","requestParameters":{{"blob":"{}"}}}}"#,
            "A".repeat(2 << 20)
        )
    };
    for input in [
        format!("{}\n{RECORD}\n", big("b1")),
        format!("{}\n{}\n", big("b1"), big("b2")),
        big("b1"),
    ] {
        let (report, batches) = ingest_bytes(input.as_bytes());
        assert!(report.reconciles());
        let too_large = reasons(&batches)
            .iter()
            .filter(|r| *r == "record_too_large")
            .count();
        let records = input.lines().count();
        let oversized = input.lines().filter(|l| l.len() > 1 << 20).count();
        assert_eq!(too_large, oversized, "{report:#?}");
        assert_eq!(
            report.parsed.get(&Table::CloudTrail).copied().unwrap_or(0),
            (records - oversized) as u64
        );
        let kept = non_null(&batches, Table::DeadLetter, "raw")[0].len();
        assert_eq!(kept, Limits::default().max_record_bytes);
    }
}

#[test]
fn a_gzip_bomb_is_refused_with_a_clear_error() {
    // Compressed as tightly as deflate can: beyond the expansion ratio.
    let bomb = gzip_best(&vec![b'{'; 64 << 20]);
    assert!(bomb.len() < 1 << 20);
    let sink = MemorySink::default();
    let mut ingester = Ingester::new(IngestOptions::default(), sink.clone());
    ingester
        .ingest_bytes(&bomb, SourceId::new("bomb.gz", "bomb.gz"))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert!(report.reconciles());
    assert_eq!(report.input_errors.len(), 1);
    assert!(
        report.input_errors[0].contains("gzip bomb"),
        "{:?}",
        report.input_errors
    );
    assert_eq!(reasons(&sink.batches()), vec!["decompression"]);

    // The same inside a subscription payload.
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(gzip_best(&vec![b' '; 64 << 20]));
    let (_, batches) = ingest_bytes(format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#).as_bytes());
    let errors = non_null(&batches, Table::DeadLetter, "error");
    assert_eq!(reasons(&batches), vec!["decompression"]);
    assert!(
        errors[0].contains("gzip bomb") || errors[0].contains("limit"),
        "{errors:?}"
    );
}

#[test]
fn empty_input_is_reported_not_silent() {
    let sink = MemorySink::default();
    let mut ingester = Ingester::new(IngestOptions::default(), sink.clone());
    ingester
        .ingest_bytes(b"", SourceId::new("empty.json", "empty"))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert_eq!(report.records_read, 0);
    assert_eq!(report.empty_inputs, vec!["empty.json".to_string()]);
    assert!(sink.batches().is_empty());

    // Whitespace only, and an empty gzip member, are empty too.
    let (report, _) = ingest_bytes(b"\n\n   \n");
    assert_eq!(report.records_read, 0);
    let (report, _) = ingest_bytes(&gzip(b""));
    assert_eq!(report.records_read, 0);
}

#[test]
fn wrong_envelopes_are_dead_lettered() {
    // An awslogs event without data, a payload whose logEvents is not a list,
    // a Kinesis record without data, and a truncated Records object.
    let cases: [(&[u8], &str); 4] = [
        (br#"{"awslogs":{"nodata":1}}"#, "bad_envelope"),
        (
            br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":{"x":1}}"#,
            "bad_envelope",
        ),
        (
            br#"{"Records":[{"kinesis":{"partitionKey":"k"}}]}"#,
            "bad_envelope",
        ),
        (
            br#"{"Records":[{"eventVersion":"1.0","eventName":"A"},{"eventVer"#,
            "truncated_input",
        ),
    ];
    for (input, reason) in cases {
        let (report, batches) = ingest_bytes(input);
        assert!(
            reasons(&batches).contains(&reason.to_string()),
            "{}: {:?}",
            String::from_utf8_lossy(input),
            report
        );
    }
}

#[test]
fn records_of_no_known_family_are_dead_lettered() {
    let (report, batches) =
        ingest_bytes(b"hello world\n{\"a\":1}\n2024-01-01 something happened\n");
    assert_eq!(report.records_read, 3);
    assert_eq!(reasons(&batches), vec!["unrecognized_format"; 3]);
}

#[test]
fn forcing_a_format_dead_letters_what_is_not_that_format() {
    let sink = MemorySink::default();
    let options = IngestOptions {
        format: Some(vigil_ingest::Family::ApiGateway),
        ..IngestOptions::default()
    };
    let mut ingester = Ingester::new(options, sink.clone());
    ingester
        .ingest_bytes(format!("{RECORD}\n").as_bytes(), SourceId::new("x", "x"))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert_eq!(report.dead_lettered.get("unrecognized_format"), Some(&1));
    assert_eq!(
        non_null(&sink.batches(), Table::DeadLetter, "family"),
        vec!["apigateway"]
    );
}

#[test]
fn random_bytes_never_panic() {
    // A cheap fuzz: mutated copies of every kind of input.
    let seeds: Vec<Vec<u8>> = vec![
        format!("{RECORD}\n{RECORD}\n").into_bytes(),
        format!(r#"{{"Records":[{RECORD},{RECORD}]}}"#).into_bytes(),
        std::fs::read(sample("lambda/cloudwatch-subscription-orders-search.json")).unwrap(),
        std::fs::read(sample("lambda/firehose-orders-search-2026-11-24-09.gz")).unwrap(),
        std::fs::read(sample("apigateway/http-api-access-clf.log")).unwrap(),
    ];
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for seed in &seeds {
        for _ in 0..60 {
            let mut input = seed.clone();
            for _ in 0..(1 + next() % 8) {
                let i = (next() as usize) % input.len();
                match next() % 3 {
                    0 => input[i] = next() as u8,
                    1 => input.truncate(i.max(1)),
                    _ => input.insert(i, b"{}[]\",:\\\n"[(next() % 9) as usize]),
                }
            }
            let sink = MemorySink::default();
            let mut ingester = Ingester::new(IngestOptions::default(), sink);
            ingester
                .ingest_bytes(&input, SourceId::new("fuzz", "fuzz"))
                .unwrap();
            let report = ingester.finish().unwrap();
            assert!(report.reconciles(), "{report:#?}");
        }
    }
}

#[test]
fn an_outsized_dead_letter_does_not_size_the_next_batch_beyond_reason() {
    // 64 MiB of `{`, gzipped at the fast level (under the expansion ratio):
    // one document up to the document limit, dead-lettered whole. The
    // dead-letter builders were then sized for a thousand such rows (tens
    // of gigabytes) and the process aborted.
    let outsized = gzip(&vec![b'{'; 64 << 20]);
    let sink = MemorySink::default();
    let mut ingester = Ingester::new(IngestOptions::default(), sink.clone());
    ingester
        .ingest_bytes(&outsized, SourceId::new("outsized.gz", "outsized.gz"))
        .unwrap();
    ingester
        .ingest_bytes(b"not json\n", SourceId::new("after.ndjson", "after.ndjson"))
        .unwrap();
    let report = ingester.finish().unwrap();
    assert!(report.reconciles(), "{report:?}");
    assert_eq!(report.dead_lettered_total(), 2, "{report:?}");
}
