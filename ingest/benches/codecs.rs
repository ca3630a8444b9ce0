//! The lake's codec for its unique-per-row text (raw records, ids, nested
//! JSON), measured rather than assumed. For each codec, on one thread: the
//! time to encode a family's batches as the lake does (the other columns as
//! in the lake), the bytes stored, and the time to read back the `raw`
//! column alone (what a hunt over raw records decodes). Prints a markdown
//! table; `bench/codecs.sh` runs it and BENCHMARKS.md keeps the figures and
//! the cost model.
//!
//! Input: `VIGIL_BENCH_CODEC_DATA`, a folder written by `vigil generate`
//! (realistic multi-hour records with unique ids; repeated sample lines
//! compress unrealistically well), of which up to `VIGIL_BENCH_CODEC_MB`
//! (default 64) MB of each family's NDJSON are read.

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::basic::{Compression, ZstdLevel};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vigil_ingest::lake::encode_parquet_with;
use vigil_ingest::{Family, IngestOptions, Ingester, MemorySink, SourceId, TableBatch};

// The allocator the `vigil` binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A codec under test, as the table names it. zstd's fast negative levels
/// are not among them: parquet-rs (59) accepts levels 1 to 22 only
/// (`ZstdLevel::try_new`); LZ4_RAW and Snappy stand for the fast end.
struct Codec {
    name: &'static str,
    compression: Compression,
}

fn codecs() -> Vec<Codec> {
    let zstd = |level: i32| Compression::ZSTD(ZstdLevel::try_new(level).expect("a zstd level"));
    vec![
        Codec {
            name: "zstd 1 (the lake's)",
            compression: zstd(1),
        },
        Codec {
            name: "zstd 3",
            compression: zstd(3),
        },
        Codec {
            name: "zstd 6",
            compression: zstd(6),
        },
        Codec {
            name: "lz4_raw",
            compression: Compression::LZ4_RAW,
        },
        Codec {
            name: "snappy",
            compression: Compression::SNAPPY,
        },
        Codec {
            name: "none",
            compression: Compression::UNCOMPRESSED,
        },
    ]
}

/// A family's NDJSON files under the data folder, up to `limit` bytes of
/// whole files (at least one).
fn input(dir: &Path, family: Family, limit: u64) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(family.name()))
        .map(|entries| entries.map(|e| e.expect("a folder entry").path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == "ndjson"));
    files.sort();
    let mut total = 0;
    files
        .into_iter()
        .take_while(|f| {
            let fits = total < limit;
            total += std::fs::metadata(f).map(|m| m.len()).unwrap_or(0);
            fits
        })
        .collect()
}

/// The family's batches as the ingester builds them.
fn batches(files: &[PathBuf], family: Family) -> Vec<TableBatch> {
    let sink = MemorySink::default();
    let options = IngestOptions {
        format: Some(family),
        ..IngestOptions::default()
    };
    let mut ingester = Ingester::new(options, sink.clone());
    for f in files {
        let bytes = std::fs::read(f).expect("a readable input");
        ingester
            .ingest_bytes(&bytes, SourceId::new(f.display().to_string(), "bench"))
            .expect("ingested");
    }
    ingester.finish().expect("finished");
    sink.batches()
        .into_iter()
        .filter(|b| b.table == family.table())
        .collect()
}

/// The compressed bytes of the `raw` column in an encoded file: what a
/// query engine that bills by bytes scanned (Athena) reads for a hunt over
/// raw records.
fn raw_column_bytes(file: &bytes::Bytes) -> i64 {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(file.clone()).expect("a file");
    reader
        .metadata()
        .row_groups()
        .iter()
        .flat_map(|rg| rg.columns())
        .filter(|c| c.column_path().string() == "raw")
        .map(|c| c.compressed_size())
        .sum()
}

/// The best of three runs of `f`.
fn best_of_3(mut f: impl FnMut()) -> Duration {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// zstd levels on the `raw` column's text alone, outside Parquet, in chunks
/// of a data page (1 MB): what zstd's fast negative levels, which
/// parquet-rs does not accept, would give against the levels it does.
fn raw_zstd_levels(family: Family, batches: &[TableBatch]) {
    use arrow::array::AsArray;
    const PAGE: usize = 1 << 20;
    let mut text = Vec::new();
    for b in batches {
        if let Some(raw) = b.batch.column_by_name("raw") {
            for value in raw.as_string::<i32>().iter().flatten() {
                text.extend_from_slice(value.as_bytes());
            }
        }
    }
    if text.is_empty() {
        return;
    }
    let mb = text.len() as f64 / 1e6;
    for level in [-7, -3, -1, 1, 3] {
        let mut compressed = 0;
        let took = best_of_3(|| {
            compressed = text
                .chunks(PAGE)
                .map(|chunk| {
                    zstd::bulk::compress(chunk, level)
                        .expect("compressed")
                        .len()
                })
                .sum();
        });
        println!(
            "| {} | zstd {level} | {mb:.1} | {:.0} | {:.2} |",
            family.name(),
            mb / took.as_secs_f64(),
            text.len() as f64 / compressed as f64,
        );
    }
}

fn main() {
    let Ok(dir) = std::env::var("VIGIL_BENCH_CODEC_DATA") else {
        eprintln!(
            "set VIGIL_BENCH_CODEC_DATA to a folder from `vigil generate` (bench/codecs.sh does)"
        );
        return;
    };
    let limit_mb: u64 = std::env::var("VIGIL_BENCH_CODEC_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut families = Vec::new();
    println!("| family | codec | input (MB) | encode (MB/s of input) | stored (MB) | input / stored | `raw` stored (MB) | read `raw` (MB/s of input) |");
    println!("|---|---|---|---|---|---|---|---|");
    for family in [Family::ApiGateway, Family::CloudTrail, Family::Waf] {
        let files = input(Path::new(&dir), family, limit_mb << 20);
        let input_bytes: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum();
        let batches = batches(&files, family);
        if batches.is_empty() {
            continue;
        }
        let mb = input_bytes as f64 / 1e6;
        families.push((family, batches.clone()));
        for codec in codecs() {
            let mut files: Vec<bytes::Bytes> = Vec::new();
            let encode = best_of_3(|| {
                files = batches
                    .iter()
                    .map(|b| {
                        bytes::Bytes::from(
                            encode_parquet_with(&b.batch, codec.compression).expect("encoded"),
                        )
                    })
                    .collect();
            });
            let stored: usize = files.iter().map(bytes::Bytes::len).sum();
            let raw_stored: i64 = files.iter().map(raw_column_bytes).sum();
            let read = best_of_3(|| {
                for file in &files {
                    let builder =
                        ParquetRecordBatchReaderBuilder::try_new(file.clone()).expect("a file");
                    let mask = ProjectionMask::columns(builder.parquet_schema(), ["raw"]);
                    let reader = builder.with_projection(mask).build().expect("a reader");
                    for batch in reader {
                        std::hint::black_box(batch.expect("a batch").num_rows());
                    }
                }
            });
            println!(
                "| {} | {} | {:.1} | {:.0} | {:.1} | {:.2} | {:.1} | {:.0} |",
                family.name(),
                codec.name,
                mb,
                mb / encode.as_secs_f64(),
                stored as f64 / 1e6,
                input_bytes as f64 / stored as f64,
                raw_stored as f64 / 1e6,
                mb / read.as_secs_f64(),
            );
        }
    }
    println!();
    println!("| family | zstd level, `raw` text alone | `raw` (MB) | compress (MB/s) | ratio |");
    println!("|---|---|---|---|---|");
    for (family, batches) in &families {
        raw_zstd_levels(*family, batches);
    }
}
