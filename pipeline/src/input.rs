//! What a pipeline run reads, and how each input is fed to an ingester.

use object_store::ObjectStore;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::runtime::Handle;
use vigil_ingest::{IngestReport, Ingester, SourceId};

use crate::error::PipelineError;
use crate::object_reader::ObjectReader;

/// One input of a run.
pub enum PipelineInput {
    /// A file, or every file under a folder.
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// A payload already in memory (a subscription event).
    Bytes { bytes: Vec<u8>, source: SourceId },
    /// An S3 object, streamed.
    Object {
        store: Arc<dyn ObjectStore>,
        bucket: String,
        key: String,
        source: SourceId,
    },
}

impl PipelineInput {
    /// How the input is named in messages.
    pub fn name(&self) -> String {
        match self {
            PipelineInput::Path(path) => path.display().to_string(),
            PipelineInput::Stdin => "stdin".into(),
            PipelineInput::Bytes { source, .. } => source.source_ref.clone(),
            PipelineInput::Object { bucket, key, .. } => format!("s3://{bucket}/{key}"),
        }
    }
}

/// An input that could not be read at all (a retry may help); what other
/// inputs held was ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedInput {
    /// Its position among the run's inputs.
    pub index: usize,
    /// Its name ([`PipelineInput::name`]).
    pub name: String,
    /// The error with its causes.
    pub error: String,
}

/// Where ingest stands, for progress displays.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// The input being read (from 0), of `inputs`.
    pub input: usize,
    pub inputs: usize,
    pub records: u64,
    /// Raw bytes read from every input so far.
    pub bytes: u64,
}

/// Called as ingest goes, from the thread that ingests.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// Feeds `inputs` to `ingester` in order. An input that cannot be read is
/// logged and listed, and the next one goes on; `handle` drives the
/// downloads of object inputs (call from a blocking thread).
pub fn feed(
    ingester: &mut Ingester,
    inputs: Vec<PipelineInput>,
    handle: &Handle,
    progress: Option<&ProgressFn>,
) -> Vec<FailedInput> {
    let count = inputs.len();
    let mut failed = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        if let Some(progress) = progress {
            let progress = progress.clone();
            let bytes_before = ingester.report().bytes_read;
            ingester.on_progress(Box::new(move |report: &IngestReport, bytes| {
                progress(Progress {
                    input: index,
                    inputs: count,
                    records: report.records_read,
                    bytes: bytes_before + bytes,
                })
            }));
        }
        let name = input.name();
        if let Err(e) = feed_one(ingester, input, handle) {
            tracing::warn!(input = %name, error = %e, "input not ingested");
            failed.push(FailedInput {
                index,
                name,
                error: with_causes(&e),
            });
        }
    }
    failed
}

fn feed_one(
    ingester: &mut Ingester,
    input: PipelineInput,
    handle: &Handle,
) -> Result<(), PipelineError> {
    match input {
        PipelineInput::Path(path) => ingester.ingest_path(&path)?,
        PipelineInput::Stdin => ingester.ingest_stdin()?,
        PipelineInput::Bytes { bytes, source } => ingester.ingest_bytes(&bytes, source)?,
        PipelineInput::Object {
            store,
            bucket,
            key,
            source,
        } => {
            let reader = ObjectReader::open(handle.clone(), store, &bucket, &key)?;
            ingester.ingest_reader(Box::new(reader), source)?
        }
    }
    Ok(())
}

/// An error's message followed by its causes' (`cannot read x: No such
/// file or directory`), as one line.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
