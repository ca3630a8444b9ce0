//! Parse + build throughput per family, single thread, on data of realistic
//! shape: real corpus and sample records repeated (with fresh ids) to ~32 MB
//! (WAF: the sample story's records, every verdict and nesting it has).
//! Also the `serde_json::IgnoredAny` ceiling and NDJSON → Parquet end to end.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use vigil_ingest::{
    BatchSink, IngestError, IngestOptions, Ingester, Lake, SinkStats, SourceId, TableBatch,
};
use vigil_test_support::{corpus, sample_logs};

// The allocator the `vigil` binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET_BYTES: usize = 32 << 20;

/// Counts rows and drops batches: measures parsing, not storage.
struct NullSink(u64);

impl BatchSink for NullSink {
    fn accept(&mut self, batch: TableBatch) -> Result<(), IngestError> {
        self.0 += batch.batch.num_rows() as u64;
        Ok(())
    }
    fn finish(&mut self) -> Result<SinkStats, IngestError> {
        Ok(SinkStats::default())
    }
}

/// Repeats template lines up to the target size, making each record unique.
fn repeat_lines(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(TARGET_BYTES + (1 << 20));
    let mut i = 0usize;
    while out.len() < TARGET_BYTES {
        let line = &lines[i % lines.len()];
        match line.strip_prefix('{') {
            Some(rest) => out.extend_from_slice(format!("{{\"bench_seq\":{i},{rest}").as_bytes()),
            None => out.extend_from_slice(line.as_bytes()),
        }
        out.push(b'\n');
        i += 1;
    }
    out
}

/// `VIGIL_BENCH_CLOUDTRAIL`: an NDJSON file of CloudTrail records (e.g. from
/// `vigil generate`, as `bench/run.sh` passes it) whose first 32 MiB of whole
/// lines replace the corpus-derived input.
fn cloudtrail_ndjson() -> Vec<u8> {
    if let Ok(path) = std::env::var("VIGIL_BENCH_CLOUDTRAIL") {
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        if bytes.len() > 32 << 20 {
            let cut = bytes[..32 << 20]
                .iter()
                .rposition(|b| *b == b'\n')
                .unwrap_or(0);
            bytes.truncate(cut + 1);
        }
        return bytes;
    }
    let dir = corpus("invictus-ir-aws-dataset/CloudTrail");
    let mut lines = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for r in doc["Records"].as_array().unwrap() {
            lines.push(r.to_string());
        }
    }
    repeat_lines(&lines)
}

fn sample_lines(rel: &str) -> Vec<String> {
    std::fs::read_to_string(sample_logs(rel))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn lambda_text() -> Vec<u8> {
    // The Lambda platform and application lines of the sample subscription payload.
    let payload: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sample_logs(
            "lambda/cloudwatch-subscription-orders-search.json",
        ))
        .unwrap(),
    )
    .unwrap();
    use base64::Engine;
    let gz = base64::engine::general_purpose::STANDARD
        .decode(payload["awslogs"]["data"].as_str().unwrap())
        .unwrap();
    let mut json = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut json).unwrap();
    let data: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let lines: Vec<String> = data["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .replace('\n', " ")
                .trim()
                .to_string()
        })
        .filter(|l| !l.starts_with("[ERROR]"))
        .collect();
    let mut out = Vec::new();
    while out.len() < TARGET_BYTES {
        for l in &lines {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

/// The WAF records of the sample S3 objects (every verdict: allowed, blocked
/// by managed rule groups and by the rate-based rule, with labels and match
/// details).
fn waf_json() -> Vec<u8> {
    let mut lines = Vec::new();
    let mut dirs = vec![sample_logs("waf/AWSLogs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&std::fs::read(&path).unwrap()[..]),
                    &mut text,
                )
                .unwrap();
                lines.extend(text.lines().map(String::from));
            }
        }
    }
    lines.sort();
    repeat_lines(&lines)
}

/// Parses `data` as one more input of a running ingester, as `vigil ingest
/// DIR` does file after file (its builders sized by the batches before).
fn parse_only(ingester: &mut Ingester, data: &[u8]) -> u64 {
    let before = ingester.report().parsed_total();
    ingester
        .ingest_bytes(data, SourceId::new("bench", "bench"))
        .unwrap();
    let report = ingester.report();
    assert_eq!(
        report.dead_lettered_total(),
        0,
        "{:?}",
        report.dead_lettered
    );
    report.parsed_total() - before
}

fn benches(c: &mut Criterion) {
    let inputs = [
        ("cloudtrail_ndjson", cloudtrail_ndjson()),
        (
            "apigateway_json",
            repeat_lines(&sample_lines("apigateway/rest-api-access-prod.ndjson")),
        ),
        ("lambda_text", lambda_text()),
        ("waf_json", waf_json()),
    ];
    let mut group = c.benchmark_group("parse_and_build");
    group.sample_size(10);
    for (name, data) in &inputs {
        group.throughput(Throughput::Bytes(data.len() as u64));
        let mut ingester = Ingester::new(IngestOptions::default(), NullSink(0));
        group.bench_with_input(BenchmarkId::from_parameter(name), data, |b, d| {
            b.iter(|| parse_only(&mut ingester, d))
        });
    }
    group.finish();

    let (_, ct) = &inputs[0];
    let mut group = c.benchmark_group("ceiling");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(ct.len() as u64));
    group.bench_function("cloudtrail_serde_ignored_any", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for line in ct.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
                let _: serde::de::IgnoredAny = serde_json::from_slice(line).unwrap();
                n += 1;
            }
            n
        })
    });
    group.finish();

    let mut group = c.benchmark_group("ndjson_to_parquet");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(ct.len() as u64));
    group.bench_function("cloudtrail", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let lake = Lake::open(dir.path().to_str().unwrap()).unwrap();
            let mut ingester = Ingester::new(IngestOptions::default(), lake.writer().unwrap());
            ingester
                .ingest_bytes(ct, SourceId::new("bench", "bench"))
                .unwrap();
            ingester.finish().unwrap().parsed_total()
        })
    });
    group.finish();
}

criterion_group!(ingest_benches, benches);
criterion_main!(ingest_benches);
