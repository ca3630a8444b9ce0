//! Lakes as a reader sees them, for the crash tests of the binary
//! (`tests/crash.rs`, `tests/lambda.rs`): every visible Parquet file read
//! whole, each table's rows by key.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use datafusion::arrow::array::{Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::reader::ChunkReader;
use futures::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::common::vigil;

/// Where a test's lakes live.
#[derive(Clone, Copy, Debug)]
pub enum Store {
    Local,
    /// A bucket on moto (`VIGIL_TEST_MOTO_ENDPOINT`).
    Moto,
}

/// One lake: a folder, or a prefix of a bucket on moto.
pub struct TestLake {
    pub location: String,
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
    _dir: Option<tempfile::TempDir>,
}

impl TestLake {
    pub async fn new(store: Store, name: &str) -> TestLake {
        match store {
            Store::Local => {
                let dir = tempfile::tempdir().unwrap();
                let location = dir.path().display().to_string();
                let lake = vigil_ingest::Lake::open(&location).unwrap();
                TestLake {
                    location,
                    store: lake.store(),
                    prefix: ObjectPath::default(),
                    _dir: Some(dir),
                }
            }
            Store::Moto => {
                let bucket = format!("vigil-crash-{}-{name}", std::process::id());
                let endpoint = vigil_test_support::create_moto_bucket(&bucket).await;
                std::env::set_var(vigil_ingest::lake::S3_ENDPOINT_ENV, &endpoint);
                let location = format!("s3://{bucket}/lake");
                let lake = vigil_ingest::Lake::open(&location).unwrap();
                TestLake {
                    location,
                    store: lake.store(),
                    prefix: ObjectPath::from("lake"),
                    _dir: None,
                }
            }
        }
    }

    /// `vigil --lake <this lake>`.
    pub fn vigil(&self) -> Command {
        let mut cmd = vigil(Path::new(&self.location));
        if let Ok(endpoint) = std::env::var(vigil_ingest::lake::S3_ENDPOINT_ENV) {
            cmd.env(vigil_ingest::lake::S3_ENDPOINT_ENV, endpoint);
        }
        cmd
    }

    /// Every object of the lake, relative to its root.
    pub async fn objects(&self) -> Vec<String> {
        let listed: Vec<_> = self
            .store
            .list(Some(&self.prefix))
            .try_collect()
            .await
            .unwrap();
        let mut names: Vec<String> = listed
            .iter()
            .map(|meta| relative(&self.prefix, &meta.location))
            .collect();
        if let Some(dir) = &self._dir {
            // A folder may hold files the store does not list (its staging
            // files): a reader that globs `*.parquet` sees those too.
            for file in files_under(dir.path()) {
                let rel = file.strip_prefix(dir.path()).unwrap().display().to_string();
                if !names.contains(&rel) {
                    names.push(rel);
                }
            }
        }
        names.sort();
        names
    }

    /// Copies every object of `self` into `to` (a fresh copy of a prepared lake).
    pub async fn copy_into(&self, to: &TestLake) {
        for name in self.objects().await {
            let bytes = self
                .store
                .get(&self.prefix.clone().join_path(&name))
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            to.store
                .put(&to.prefix.clone().join_path(&name), bytes.into())
                .await
                .unwrap();
        }
    }

    /// What a reader sees: each table's rows by key. Every visible Parquet
    /// file must read whole (the test fails naming it otherwise).
    pub async fn rows(&self) -> LakeRows {
        let mut rows = LakeRows::default();
        for name in self.objects().await {
            let table = name.split('/').next().unwrap_or_default().to_string();
            if table == "_state" || !name.ends_with(".parquet") {
                continue;
            }
            let bytes = self
                .store
                .get(&self.prefix.clone().join_path(&name))
                .await
                .unwrap_or_else(|e| panic!("{name}: listed but unreadable: {e}"))
                .bytes()
                .await
                .unwrap();
            let keys = rows.0.entry(table.clone()).or_default();
            read_keys(&table, &name, bytes, keys);
        }
        for keys in rows.0.values_mut() {
            keys.sort();
        }
        rows
    }
}

trait JoinPath {
    fn join_path(self, rel: &str) -> ObjectPath;
}

impl JoinPath for ObjectPath {
    fn join_path(self, rel: &str) -> ObjectPath {
        rel.split('/').fold(self, |path, part| path.join(part))
    }
}

fn relative(prefix: &ObjectPath, location: &ObjectPath) -> String {
    let parts: Vec<String> = match location.prefix_match(prefix) {
        Some(parts) => parts.map(|p| p.as_ref().to_string()).collect(),
        None => location.parts().map(|p| p.as_ref().to_string()).collect(),
    };
    parts.join("/")
}

pub use vigil_test_support::files_under;

/// Each table's row keys, sorted, repeats kept: a row's event id; for the
/// dead-letter its source and position; for findings the finding id with
/// its status, event count and last event.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LakeRows(pub BTreeMap<String, Vec<String>>);

fn key_columns(table: &str) -> &'static [&'static str] {
    match table {
        "deadletter" => &["source_ref", "record_index", "reason"],
        "findings" => &["finding_id", "status", "event_count", "last_seen"],
        _ => &["event_id"],
    }
}

fn read_keys<R: ChunkReader + 'static>(table: &str, name: &str, file: R, keys: &mut Vec<String>) {
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .unwrap_or_else(|e| panic!("{name}: a visible file that does not read: {e}"));
    for batch in reader {
        let batch = batch.unwrap_or_else(|e| panic!("{name}: a visible file cut short: {e}"));
        let columns: Vec<StringArray> = key_columns(table)
            .iter()
            .map(|c| {
                let column = batch
                    .column_by_name(c)
                    .unwrap_or_else(|| panic!("{name}: no column {c}"));
                let text = cast(column, &DataType::Utf8).unwrap();
                text.as_any().downcast_ref::<StringArray>().unwrap().clone()
            })
            .collect();
        for row in 0..batch.num_rows() {
            let key: Vec<&str> = columns
                .iter()
                .map(|c| if c.is_null(row) { "" } else { c.value(row) })
                .collect();
            keys.push(key.join("|"));
        }
    }
}

impl LakeRows {
    pub fn total(&self) -> usize {
        self.0.values().map(Vec::len).sum()
    }

    /// How the counts of each key differ from `expected`: (table, key,
    /// expected count, count here), a few of them.
    fn differences(&self, expected: &LakeRows) -> Vec<(String, String, usize, usize)> {
        let mut out = Vec::new();
        let tables: std::collections::BTreeSet<&String> =
            self.0.keys().chain(expected.0.keys()).collect();
        for table in tables {
            let count = |rows: &LakeRows| {
                let mut counts: BTreeMap<String, usize> = BTreeMap::new();
                for key in rows.0.get(table).into_iter().flatten() {
                    *counts.entry(key.clone()).or_default() += 1;
                }
                counts
            };
            let (want, got) = (count(expected), count(self));
            let keys: std::collections::BTreeSet<&String> = want.keys().chain(got.keys()).collect();
            for key in keys {
                let (w, g) = (
                    want.get(key).copied().unwrap_or(0),
                    got.get(key).copied().unwrap_or(0),
                );
                if w != g {
                    out.push((table.clone(), key.clone(), w, g));
                }
            }
        }
        out
    }

    pub fn assert_same(&self, expected: &LakeRows, when: &str) {
        let diff = self.differences(expected);
        assert!(
            diff.is_empty(),
            "{when}: {} keys differ from an uninterrupted run (table, key, expected, found), e.g. {:?}",
            diff.len(),
            &diff[..diff.len().min(8)]
        );
    }

    /// No key more often than `expected` has it: nothing twice.
    pub fn assert_no_more_than(&self, expected: &LakeRows, when: &str) {
        let extra: Vec<_> = self
            .differences(expected)
            .into_iter()
            .filter(|(_, _, want, got)| got > want)
            .collect();
        assert!(
            extra.is_empty(),
            "{when}: rows seen twice: {:?}",
            &extra[..extra.len().min(8)]
        );
    }

    /// Every key of `expected` at least as often: nothing lost.
    pub fn assert_no_fewer_than(&self, expected: &LakeRows, when: &str) {
        let missing: Vec<_> = self
            .differences(expected)
            .into_iter()
            .filter(|(_, _, want, got)| got < want)
            .collect();
        assert!(
            missing.is_empty(),
            "{when}: rows missing: {:?}",
            &missing[..missing.len().min(8)]
        );
    }
}

/// The alerts a file destination holds: (finding id, status) per line, and
/// the lines themselves.
fn alert_lines(path: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|line| {
            let alert: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("an alert line cut short: {e}: {line}"));
            let field = |name: &str| {
                alert["finding"][name]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            };
            (field("finding_id"), field("status"), line.to_string())
        })
        .collect()
}

/// Each alert once, as (finding id, status), after dropping repeats of a
/// whole line (a repeated delivery, same idempotency key); fails if one
/// finding was alerted twice with different bodies.
pub fn alerts_once(path: &Path, when: &str) -> (Vec<(String, String)>, usize) {
    let all = alert_lines(path);
    let mut bodies: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut repeats = 0;
    for (id, status, line) in all {
        match bodies.get(&(id.clone(), status.clone())) {
            Some(first) => {
                assert_eq!(
                    first, &line,
                    "{when}: finding {id} alerted twice, differently"
                );
                repeats += 1;
            }
            None => {
                bodies.insert((id, status), line);
            }
        }
    }
    (bodies.into_keys().collect(), repeats)
}

/// A `vigil.toml` that sends alerts to the file `alerts`.
pub fn file_alerts_config(dir: &Path, alerts: &Path) -> std::path::PathBuf {
    let path = dir.join(format!(
        "{}.toml",
        alerts.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(
        &path,
        format!(
            "[[alerting.destinations]]\nname = \"archive\"\ntype = \"file\"\npath = {:?}\n",
            alerts.display().to_string()
        ),
    )
    .unwrap();
    path
}
