//! JSON Lines file: one alert body per line, appended.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::config::DestinationConfig;
use crate::error::AlertError;
use crate::retry::SendError;

#[derive(Debug)]
pub struct File {
    path: PathBuf,
    lock: Mutex<()>,
}

impl File {
    pub fn new(config: &DestinationConfig) -> Result<File, AlertError> {
        let path = config.path.clone().ok_or_else(|| AlertError::Destination {
            destination: config.name.clone(),
            message: "needs path".into(),
        })?;
        Ok(File {
            path,
            lock: Mutex::new(()),
        })
    }

    pub fn send(&self, body: &[u8]) -> Result<(), SendError> {
        let _guard = self.lock.lock().map_err(|_| SendError::Permanent {
            message: "file lock poisoned".into(),
        })?;
        let mut line = Vec::with_capacity(body.len() + 1);
        line.extend_from_slice(body);
        line.push(b'\n');
        // One write of the whole line: concurrent appenders never interleave it.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut f| f.write_all(&line))
            .map_err(|e| SendError::Retryable {
                message: format!("{}: {e}", self.path.display()),
                retry_after: None,
            })
    }
}
