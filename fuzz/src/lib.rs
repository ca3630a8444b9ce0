//! What the fuzz targets share: the ingest invariants and the counting
//! allocator, from the file the normal test suite replays found inputs with.

#[path = "../../ingest/tests/invariants/mod.rs"]
mod invariants;

pub use invariants::*;
