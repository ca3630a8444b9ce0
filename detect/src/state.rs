//! Small JSON state (checkpoints, suppression) under `<lake>/_state/`, or in memory.

use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload, UpdateVersion};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use vigil_ingest::Lake;

use crate::error::DetectError;

/// Where state lives.
#[derive(Debug, Clone)]
pub enum State {
    /// `<lake>/_state/<name>`.
    Lake(Lake),
    /// For rule tests and dry runs.
    Memory(Arc<Mutex<BTreeMap<String, Vec<u8>>>>),
}

/// The version of a state document as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Version {
    /// It did not exist.
    Absent,
    /// Its object's ETag (and version, on a versioned bucket).
    Lake(UpdateVersion),
    /// Its bytes, in memory.
    Memory(Vec<u8>),
}

impl State {
    pub fn memory() -> State {
        State::Memory(Arc::default())
    }

    /// Reads a state document; `None` when it does not exist yet.
    pub async fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, DetectError> {
        Ok(self.get_versioned(name).await?.0)
    }

    /// Reads a state document with the version read, for [`State::put_if`].
    pub async fn get_versioned<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<(Option<T>, Version), DetectError> {
        let (bytes, version) = match self {
            State::Lake(lake) => {
                let path = lake.state_path(name);
                match lake.store().get(&path).await {
                    Ok(r) => {
                        let version = Version::Lake(UpdateVersion {
                            e_tag: r.meta.e_tag.clone(),
                            version: r.meta.version.clone(),
                        });
                        let bytes = r.bytes().await.map_err(|e| state_error(name, e))?;
                        (bytes.to_vec(), version)
                    }
                    Err(object_store::Error::NotFound { .. }) => {
                        return Ok((None, Version::Absent))
                    }
                    Err(e) => return Err(state_error(name, e)),
                }
            }
            State::Memory(map) => match map
                .lock()
                .map_err(|_| state_error(name, "poisoned"))?
                .get(name)
            {
                Some(b) => (b.clone(), Version::Memory(b.clone())),
                None => return Ok((None, Version::Absent)),
            },
        };
        let value = serde_json::from_slice(&bytes).map_err(|e| state_error(name, e))?;
        Ok((Some(value), version))
    }

    /// Writes a state document only if it is still the version `read`
    /// (absent, or unchanged since): `false` when another writer changed it
    /// meanwhile, and the caller should read it again. On S3 this is a
    /// conditional PUT (`If-None-Match` / `If-Match`); a local folder has no
    /// such PUT, so a local lake is written unconditionally (one writer at a
    /// time: the CLI).
    pub async fn put_if<T: Serialize>(
        &self,
        name: &str,
        value: &T,
        read: &Version,
    ) -> Result<bool, DetectError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| state_error(name, e))?;
        match self {
            State::Lake(lake) => {
                let path = lake.state_path(name);
                let mode = match read {
                    Version::Lake(v) => PutMode::Update(v.clone()),
                    _ => PutMode::Create,
                };
                let payload = PutPayload::from(bytes.clone());
                match lake.store().put_opts(&path, payload, mode.into()).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::Precondition { .. })
                    | Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
                    Err(object_store::Error::NotImplemented { .. }) => {
                        self.put_bytes(name, bytes).await?;
                        Ok(true)
                    }
                    Err(e) => Err(state_error(name, e)),
                }
            }
            State::Memory(map) => {
                let mut map = map.lock().map_err(|_| state_error(name, "poisoned"))?;
                let current = map.get(name);
                let unchanged = match read {
                    Version::Memory(b) => current == Some(b),
                    _ => current.is_none(),
                };
                if unchanged {
                    map.insert(name.to_string(), bytes);
                }
                Ok(unchanged)
            }
        }
    }

    /// Writes a state document whole (a single PUT; a rename locally).
    pub async fn put<T: Serialize>(&self, name: &str, value: &T) -> Result<(), DetectError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| state_error(name, e))?;
        self.put_bytes(name, bytes).await
    }

    /// Writes a state object's bytes whole (not JSON).
    pub async fn put_bytes(&self, name: &str, bytes: Vec<u8>) -> Result<(), DetectError> {
        match self {
            State::Lake(lake) => {
                lake.store()
                    .put(&lake.state_path(name), PutPayload::from(bytes))
                    .await
                    .map_err(|e| state_error(name, e))?;
            }
            State::Memory(map) => {
                map.lock()
                    .map_err(|_| state_error(name, "poisoned"))?
                    .insert(name.to_string(), bytes);
            }
        }
        Ok(())
    }

    /// The names of the state documents under `folder` (as given to
    /// [`State::get`]: `folder/<name>`), in order; in a lake, only those
    /// last written before `written_before` (Unix ms) when it is given.
    pub async fn names(
        &self,
        folder: &str,
        written_before: Option<i64>,
    ) -> Result<Vec<String>, DetectError> {
        Ok(self
            .documents(folder, written_before)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect())
    }

    /// The state documents under `folder`, as [`State::names`] selects them,
    /// with when each was last written (in a lake).
    pub async fn documents(
        &self,
        folder: &str,
        written_before: Option<i64>,
    ) -> Result<Vec<StateDocument>, DetectError> {
        let mut documents: Vec<StateDocument> = match self {
            State::Lake(lake) => {
                use futures::TryStreamExt;
                let root = lake.state_path("");
                let listed: Vec<object_store::ObjectMeta> = lake
                    .store()
                    .list(Some(&lake.state_path(folder)))
                    .try_collect()
                    .await
                    .map_err(|e| state_error(folder, e))?;
                listed
                    .into_iter()
                    .filter(|m| {
                        written_before.is_none_or(|t| m.last_modified.timestamp_millis() < t)
                    })
                    .filter_map(|m| {
                        m.location.prefix_match(&root).map(|parts| StateDocument {
                            name: parts
                                .map(|p| p.as_ref().to_string())
                                .collect::<Vec<_>>()
                                .join("/"),
                            written_ms: Some(m.last_modified.timestamp_millis()),
                        })
                    })
                    .collect()
            }
            State::Memory(map) => map
                .lock()
                .map_err(|_| state_error(folder, "poisoned"))?
                .keys()
                .filter(|k| k.starts_with(&format!("{folder}/")))
                .map(|name| StateDocument {
                    name: name.clone(),
                    written_ms: None,
                })
                .collect(),
        };
        documents.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(documents)
    }

    /// Deletes a state document (one already gone is not an error).
    pub async fn delete(&self, name: &str) -> Result<(), DetectError> {
        match self {
            State::Lake(lake) => match lake.store().delete(&lake.state_path(name)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(state_error(name, e)),
            },
            State::Memory(map) => {
                map.lock()
                    .map_err(|_| state_error(name, "poisoned"))?
                    .remove(name);
                Ok(())
            }
        }
    }
}

/// A state document listed by [`State::documents`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDocument {
    pub name: String,
    /// When it was last written (Unix ms); unknown in memory.
    pub written_ms: Option<i64>,
}

fn state_error(name: &str, e: impl std::fmt::Display) -> DetectError {
    DetectError::State {
        path: format!("_state/{name}"),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_is_refused_when_the_document_changed_since_it_was_read() {
        let state = State::memory();
        let (none, absent) = state.get_versioned::<u32>("n").await.unwrap();
        assert_eq!((none, absent.clone()), (None, Version::Absent));
        assert!(state.put_if("n", &1u32, &absent).await.unwrap());
        // Someone else created it first.
        assert!(!state.put_if("n", &2u32, &absent).await.unwrap());
        let (one, v1) = state.get_versioned::<u32>("n").await.unwrap();
        assert_eq!(one, Some(1));
        assert!(state.put_if("n", &3u32, &v1).await.unwrap());
        // v1 is stale now: the write is refused and the value kept.
        assert!(!state.put_if("n", &4u32, &v1).await.unwrap());
        assert_eq!(state.get::<u32>("n").await.unwrap(), Some(3));
    }
}
