//! Every input a fuzz target (`fuzz/`) found a fault with, replayed under the
//! target's invariants: each record parsed, dead-lettered or skipped, the
//! counts reconciled, every parsed row reaching the sink, and the memory held
//! within the limits. A file's name starts with the target that found it.

mod invariants;

use vigil_ingest::Family;

#[global_allocator]
static ALLOCATOR: invariants::CountingAllocator = invariants::CountingAllocator;

/// One test, so that no other test allocates while memory is measured.
#[test]
fn inputs_the_fuzzers_found_meet_the_ingest_invariants() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut replayed = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let format = match name.split('-').next().unwrap() {
            "envelope" => None,
            "cloudtrail" => Some(Family::CloudTrail),
            "apigateway" => Some(Family::ApiGateway),
            "lambda" => Some(Family::Lambda),
            "waf" => Some(Family::Waf),
            other => panic!("{name}: no fuzz target {other}"),
        };
        let data = std::fs::read(&path).unwrap();
        // The first run initialises what is built once per process.
        invariants::ingest_and_check(&data, format);
        invariants::ingest_and_check(&data, format);
        replayed += 1;
    }
    assert!(replayed >= 2, "the found inputs are in {}", dir.display());
}
