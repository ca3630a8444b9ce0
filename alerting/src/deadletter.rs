//! The delivery dead-letter: deliveries that still failed, as JSON Lines, until redriven.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use vigil_detect::Finding;

use crate::error::AlertError;

/// One failed delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadDelivery {
    pub destination: String,
    pub error: String,
    pub attempts: u32,
    pub dead_lettered_at: String,
    pub finding: Finding,
}

/// A JSON Lines dead-letter file.
#[derive(Debug)]
pub struct DeadLetterFile {
    path: PathBuf,
    lock: Mutex<()>,
}

impl DeadLetterFile {
    pub fn new(path: &Path) -> Self {
        DeadLetterFile {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> AlertError {
        AlertError::DeadLetter {
            path: self.path.clone(),
            source,
        }
    }

    /// Appends one failed delivery (one write per line).
    pub fn append(&self, entry: &DeadDelivery) -> Result<(), AlertError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| self.io(std::io::Error::other("lock poisoned")))?;
        let mut line = serde_json::to_vec(entry).map_err(|e| self.io(e.into()))?;
        line.push(b'\n');
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&line).and_then(|_| f.sync_data()))
            .map_err(|e| self.io(e))
    }

    /// Every entry (none when the file does not exist).
    pub fn read(&self) -> Result<Vec<DeadDelivery>, AlertError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io(e)),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| self.io(e.into())))
            .collect()
    }

    /// Replaces the file's entries (a temporary file renamed over it).
    pub fn replace(&self, entries: &[DeadDelivery]) -> Result<(), AlertError> {
        let _guard = self
            .lock
            .lock()
            .map_err(|_| self.io(std::io::Error::other("lock poisoned")))?;
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut out = Vec::new();
        for e in entries {
            out.extend(serde_json::to_vec(e).map_err(|e| self.io(e.into()))?);
            out.push(b'\n');
        }
        std::fs::write(&tmp, out)
            .and_then(|_| std::fs::rename(&tmp, &self.path))
            .map_err(|e| self.io(e))
    }
}
