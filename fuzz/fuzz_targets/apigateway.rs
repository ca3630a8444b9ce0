//! Any input read as the ApiGateway family (`--format`): parsed, dead-lettered or skipped, counts reconciled, memory bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
#[allow(unused_imports)]
use vigil_ingest::Family;

#[global_allocator]
static ALLOCATOR: vigil_fuzz::CountingAllocator = vigil_fuzz::CountingAllocator;

fuzz_target!(|data: &[u8]| {
    vigil_fuzz::ingest_and_check(data, Some(Family::ApiGateway));
});
