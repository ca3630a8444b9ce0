//! A blocking `Read` over an object store download, chunk by chunk, so that
//! a large object is parsed as it arrives and never held whole in memory.

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use std::io::{self, Read};
use std::sync::Arc;
use tokio::runtime::Handle;

use crate::error::PipelineError;

/// Reads an object from a blocking thread by driving its download on `handle`.
pub struct ObjectReader {
    handle: Handle,
    stream: BoxStream<'static, object_store::Result<Bytes>>,
    chunk: Bytes,
}

impl ObjectReader {
    /// Starts the download (from a blocking thread: never from async code).
    pub fn open(
        handle: Handle,
        store: Arc<dyn ObjectStore>,
        bucket: &str,
        key: &str,
    ) -> Result<ObjectReader, PipelineError> {
        let path = ObjectPath::parse(key).unwrap_or_else(|_| ObjectPath::from(key));
        let result = handle
            .block_on(store.get(&path))
            .map_err(|source| PipelineError::Object {
                bucket: bucket.into(),
                key: key.into(),
                source,
            })?;
        Ok(ObjectReader {
            handle,
            stream: result.into_stream(),
            chunk: Bytes::new(),
        })
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.handle.block_on(self.stream.next()) {
                None => return Ok(0),
                Some(Ok(chunk)) => self.chunk = chunk,
                Some(Err(e)) => return Err(io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}
