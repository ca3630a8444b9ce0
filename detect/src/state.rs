//! Small JSON state (checkpoints, suppression) under `<lake>/_state/`, or in memory.

use object_store::{ObjectStoreExt, PutPayload};
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

impl State {
    pub fn memory() -> State {
        State::Memory(Arc::default())
    }

    /// Reads a state document; `None` when it does not exist yet.
    pub async fn get<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, DetectError> {
        let bytes = match self {
            State::Lake(lake) => {
                let path = lake.state_path(name);
                match lake.store().get(&path).await {
                    Ok(r) => r.bytes().await.map_err(|e| state_error(name, e))?.to_vec(),
                    Err(object_store::Error::NotFound { .. }) => return Ok(None),
                    Err(e) => return Err(state_error(name, e)),
                }
            }
            State::Memory(map) => match map
                .lock()
                .map_err(|_| state_error(name, "poisoned"))?
                .get(name)
            {
                Some(b) => b.clone(),
                None => return Ok(None),
            },
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| state_error(name, e))
    }

    /// Writes a state document whole (a single PUT; a rename locally).
    pub async fn put<T: Serialize>(&self, name: &str, value: &T) -> Result<(), DetectError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|e| state_error(name, e))?;
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
}

fn state_error(name: &str, e: impl std::fmt::Display) -> DetectError {
    DetectError::State {
        path: format!("_state/{name}"),
        reason: e.to_string(),
    }
}
