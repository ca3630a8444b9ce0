//! Any input, its envelope (subscription payload, base64, gzip, zlib, JSON documents or lines) and family detected: parsed, dead-lettered or skipped, counts reconciled, memory bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: vigil_fuzz::CountingAllocator = vigil_fuzz::CountingAllocator;

fuzz_target!(|data: &[u8]| {
    vigil_fuzz::ingest_and_check(data, None);
});
