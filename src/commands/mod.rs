//! One module per command.

pub mod alerts;
pub mod backfill;
pub mod compact;
pub mod console;
pub mod context;
pub mod detect;
pub mod export;
pub mod generate;
pub mod ingest;
pub mod pipeline;
pub mod query;
pub mod rules;
pub mod run;
pub mod sigma;
pub mod subscribe;
pub mod tail;

/// Opens the lake the command line names (`--lake`), with the location in
/// the error.
pub fn open_lake(location: &str) -> anyhow::Result<vigil_ingest::Lake> {
    use anyhow::Context;
    vigil_ingest::Lake::open(location).with_context(|| format!("opening the lake at {location}"))
}

/// The configuration file in force: the one given (`--config`,
/// `VIGIL_CONFIG`), else `./vigil.toml` if present.
pub fn config_path(config: Option<&std::path::Path>) -> Option<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    config.map(Path::to_path_buf).or_else(|| {
        Path::new("vigil.toml")
            .exists()
            .then(|| PathBuf::from("vigil.toml"))
    })
}
