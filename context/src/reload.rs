//! Swapping in a new context when its files change, checked at most once per interval.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::config::{ContextConfig, Loaded};
use crate::error::ContextError;
use crate::source::{self, Fingerprint};

/// Loads the context once, installs it, and reloads it when a file changes.
pub struct Reloader {
    config: ContextConfig,
    fingerprints: BTreeMap<String, Fingerprint>,
    checked: Instant,
}

impl Reloader {
    /// Loads and installs the context `config` names.
    pub async fn start(config: ContextConfig) -> Result<(Reloader, Loaded), ContextError> {
        let loaded = config.load().await?;
        crate::install(loaded.context.clone());
        let reloader = Reloader {
            config,
            fingerprints: loaded.fingerprints.clone(),
            checked: Instant::now(),
        };
        Ok((reloader, loaded))
    }

    /// A reloader for a context already loaded and installed from `config`
    /// (`fingerprints`: the versions of its files that were read).
    pub fn resume(config: ContextConfig, fingerprints: BTreeMap<String, Fingerprint>) -> Reloader {
        Reloader {
            config,
            fingerprints,
            checked: Instant::now(),
        }
    }

    /// How often [`Reloader::check`] looks at the files.
    pub fn every(&self) -> Duration {
        self.config.reload_every
    }

    /// When `reload_every` has passed since the last check, compares the
    /// files' fingerprints (a stat, or a HEAD on S3) and, if one changed,
    /// loads and installs the new context. The old one stays in force when
    /// the new files do not load. Returns the new context's report, if any.
    pub async fn check(&mut self) -> Result<Option<Loaded>, ContextError> {
        self.check_every(self.config.reload_every).await
    }

    /// [`Reloader::check`] for a long-running process: logs the sets
    /// reloaded, or why the files did not load (the context in force stays).
    pub async fn refresh(&mut self) {
        match self.check().await {
            Ok(Some(loaded)) => loaded.report.log("reloaded"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "[context] did not reload: the loaded one stays"),
        }
    }

    /// As [`Reloader::check`], with a given interval (tests use zero).
    pub async fn check_every(&mut self, every: Duration) -> Result<Option<Loaded>, ContextError> {
        if self.config.is_empty() || self.checked.elapsed() < every {
            return Ok(None);
        }
        self.checked = Instant::now();
        let mut changed = false;
        for location in self.config.locations() {
            let now = source::fingerprint(&location).await?;
            if self.fingerprints.get(&location) != Some(&now) {
                changed = true;
                break;
            }
        }
        if !changed {
            return Ok(None);
        }
        let loaded = self.config.load().await?;
        crate::install(loaded.context.clone());
        self.fingerprints = loaded.fingerprints.clone();
        Ok(Some(loaded))
    }
}

/// Loads `config` from synchronous code (the command line), on a thread of
/// its own so that it works inside or outside an async runtime.
pub fn load_blocking(config: &ContextConfig) -> Result<Loaded, ContextError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| ContextError::Read {
                        location: "the context".into(),
                        reason: e.to_string(),
                    })?;
                runtime.block_on(config.load())
            })
            .join()
            .unwrap_or_else(|_| {
                Err(ContextError::Read {
                    location: "the context".into(),
                    reason: "the loading thread panicked".into(),
                })
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_changed_file_is_reloaded_and_an_unchanged_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("bad.txt");
        std::fs::write(&list, "203.0.113.66\n").unwrap();
        let config =
            ContextConfig::from_config_text("[context]\nintel = [\"bad.txt\"]\n", dir.path())
                .unwrap();
        let (mut reloader, first) = Reloader::start(config).await.unwrap();
        let version = first.context.intel.version().to_string();
        assert_eq!(crate::current().intel.version(), version);
        assert!(reloader
            .check_every(Duration::ZERO)
            .await
            .unwrap()
            .is_none());
        // A different size: the fingerprint changes whatever the clock's resolution.
        std::fs::write(&list, "203.0.113.66\n198.51.100.7\n").unwrap();
        let second = reloader.check_every(Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(second.context.intel.len(), 2);
        assert_ne!(second.context.intel.version(), version);
        assert_eq!(crate::current().intel.len(), 2);
        // Not yet due: nothing is looked at.
        std::fs::write(&list, "203.0.113.66\n").unwrap();
        assert!(reloader
            .check_every(Duration::from_secs(3600))
            .await
            .unwrap()
            .is_none());
    }
}
