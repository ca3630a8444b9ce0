//! Reading a context file from a local path or an `s3://` URL, and telling whether it changed.

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::path::Path;

use crate::error::ContextError;

/// The largest context file read (a GeoLite2 City database is about 60 MB).
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// What identifies one version of a file: its size and modification time
/// (local), or its ETag (S3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn read_error(location: &str, reason: impl ToString) -> ContextError {
    ContextError::Read {
        location: location.to_string(),
        reason: reason.to_string(),
    }
}

/// An `s3://bucket/key` URL's bucket and key.
fn s3_parts(location: &str) -> Option<(&str, &str)> {
    let rest = location.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

fn s3_target(
    location: &str,
) -> Result<(std::sync::Arc<dyn ObjectStore>, ObjectPath), ContextError> {
    let (bucket, key) =
        s3_parts(location).ok_or_else(|| read_error(location, "expected s3://bucket/key"))?;
    let store = vigil_ingest::s3_store(bucket).map_err(|e| read_error(location, e))?;
    Ok((store, ObjectPath::from(key)))
}

/// The file's bytes and the fingerprint of the version read.
pub async fn read(location: &str) -> Result<(Vec<u8>, Fingerprint), ContextError> {
    if location.starts_with("s3://") {
        let (store, path) = s3_target(location)?;
        let got = store
            .get(&path)
            .await
            .map_err(|e| read_error(location, e))?;
        if got.meta.size > MAX_FILE_BYTES {
            return Err(read_error(location, too_large(got.meta.size)));
        }
        let fingerprint = s3_fingerprint(&got.meta);
        let bytes = got.bytes().await.map_err(|e| read_error(location, e))?;
        return Ok((bytes.to_vec(), fingerprint));
    }
    let fingerprint = local_fingerprint(location)?;
    let size = std::fs::metadata(location)
        .map_err(|e| read_error(location, e))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(read_error(location, too_large(size)));
    }
    let bytes = std::fs::read(location).map_err(|e| read_error(location, e))?;
    Ok((bytes, fingerprint))
}

/// The fingerprint of the file as it is now (a HEAD request on S3).
pub async fn fingerprint(location: &str) -> Result<Fingerprint, ContextError> {
    if location.starts_with("s3://") {
        let (store, path) = s3_target(location)?;
        let meta = store
            .head(&path)
            .await
            .map_err(|e| read_error(location, e))?;
        return Ok(s3_fingerprint(&meta));
    }
    local_fingerprint(location)
}

fn too_large(size: u64) -> String {
    format!("{size} bytes, more than the {MAX_FILE_BYTES} a context file may have")
}

fn s3_fingerprint(meta: &object_store::ObjectMeta) -> Fingerprint {
    Fingerprint(format!(
        "{}:{}:{}",
        meta.size,
        meta.e_tag.as_deref().unwrap_or(""),
        meta.last_modified.timestamp_millis()
    ))
}

fn local_fingerprint(location: &str) -> Result<Fingerprint, ContextError> {
    let meta = std::fs::metadata(Path::new(location)).map_err(|e| read_error(location, e))?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    Ok(Fingerprint(format!("{}:{modified}", meta.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_need_a_bucket_and_a_key() {
        assert_eq!(s3_parts("s3://b/k/x.txt"), Some(("b", "k/x.txt")));
        assert_eq!(s3_parts("s3://b/"), None);
        assert_eq!(s3_parts("s3://b"), None);
    }
}
