//! Counts the requests Vigil makes to S3, by the class S3 bills them in.
//!
//! Every S3 store Vigil opens ([`super::store::s3_store`]) is wrapped in a
//! [`CountingStore`] that adds to one process-wide [`S3Requests`]; a Lambda
//! invocation reports the difference across it (its EMF line), and the
//! benchmarks turn it into dollars per gigabyte.

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result, UploadPart,
};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// S3 lists a thousand keys a request.
const KEYS_PER_LIST_PAGE: u64 = 1000;

/// Requests made, by billing class: S3 bills PUT, COPY, POST and LIST at one
/// price and GET, HEAD and the rest at another (about a twelfth of it);
/// DELETE is free.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct S3Requests {
    /// Whole-object PUTs, and each create, part and completion of a
    /// multipart upload.
    pub put: u64,
    pub copy: u64,
    /// One per page of up to 1,000 keys.
    pub list: u64,
    pub get: u64,
    pub head: u64,
    /// Keys deleted (S3 deletes up to 1,000 in one request).
    pub delete: u64,
}

impl S3Requests {
    /// The requests billed at the PUT price (PUT, COPY, POST, LIST).
    pub fn put_class(&self) -> u64 {
        self.put.saturating_add(self.copy).saturating_add(self.list)
    }

    /// The requests billed at the GET price (GET, HEAD).
    pub fn get_class(&self) -> u64 {
        self.get.saturating_add(self.head)
    }

    /// What was made since `before`.
    pub fn since(&self, before: &S3Requests) -> S3Requests {
        S3Requests {
            put: self.put.saturating_sub(before.put),
            copy: self.copy.saturating_sub(before.copy),
            list: self.list.saturating_sub(before.list),
            get: self.get.saturating_sub(before.get),
            head: self.head.saturating_sub(before.head),
            delete: self.delete.saturating_sub(before.delete),
        }
    }
}

/// The process's running counts.
#[derive(Debug, Default)]
struct Counters {
    put: AtomicU64,
    copy: AtomicU64,
    list: AtomicU64,
    get: AtomicU64,
    head: AtomicU64,
    delete: AtomicU64,
}

static COUNTERS: Counters = Counters {
    put: AtomicU64::new(0),
    copy: AtomicU64::new(0),
    list: AtomicU64::new(0),
    get: AtomicU64::new(0),
    head: AtomicU64::new(0),
    delete: AtomicU64::new(0),
};

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

/// The requests this process has made to S3 so far.
pub fn s3_requests() -> S3Requests {
    let c = &COUNTERS;
    S3Requests {
        put: c.put.load(Ordering::Relaxed),
        copy: c.copy.load(Ordering::Relaxed),
        list: c.list.load(Ordering::Relaxed),
        get: c.get.load(Ordering::Relaxed),
        head: c.head.load(Ordering::Relaxed),
        delete: c.delete.load(Ordering::Relaxed),
    }
}

/// An object store that counts the requests it passes on.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> CountingStore {
        CountingStore { inner }
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

/// Counts a listing's pages as its keys go by.
fn count_pages(
    keys: BoxStream<'static, Result<ObjectMeta>>,
) -> BoxStream<'static, Result<ObjectMeta>> {
    // The first page is a request even when it is empty.
    add(&COUNTERS.list, 1);
    keys.enumerate()
        .map(|(i, key)| {
            let i = i as u64;
            if i > 0 && i % KEYS_PER_LIST_PAGE == 0 {
                add(&COUNTERS.list, 1);
            }
            key
        })
        .boxed()
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        add(&COUNTERS.put, 1);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        add(&COUNTERS.put, 1);
        let upload = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(CountingUpload { inner: upload }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        add(
            if options.head {
                &COUNTERS.head
            } else {
                &COUNTERS.get
            },
            1,
        );
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let counted = locations
            .map(|location| {
                add(&COUNTERS.delete, 1);
                location
            })
            .boxed();
        self.inner.delete_stream(counted)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        count_pages(self.inner.list(prefix))
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        count_pages(self.inner.list_with_offset(prefix, offset))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        add(&COUNTERS.list, 1);
        let listed = self.inner.list_with_delimiter(prefix).await?;
        let entries =
            (listed.objects.len() as u64).saturating_add(listed.common_prefixes.len() as u64);
        add(
            &COUNTERS.list,
            entries.saturating_sub(1) / KEYS_PER_LIST_PAGE,
        );
        Ok(listed)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        add(&COUNTERS.copy, 1);
        self.inner.copy_opts(from, to, options).await
    }
}

/// A multipart upload whose parts and completion are counted as PUTs.
#[derive(Debug)]
struct CountingUpload {
    inner: Box<dyn MultipartUpload>,
}

#[async_trait]
impl MultipartUpload for CountingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        add(&COUNTERS.put, 1);
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> Result<PutResult> {
        add(&COUNTERS.put, 1);
        self.inner.complete().await
    }

    async fn abort(&mut self) -> Result<()> {
        self.inner.abort().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;
    use object_store::ObjectStoreExt;

    #[tokio::test]
    async fn each_call_counts_as_the_requests_s3_bills() {
        let store = CountingStore::new(Arc::new(InMemory::new()));
        let before = s3_requests();
        for i in 0..2500 {
            store
                .put(
                    &Path::from(format!("t/{i:05}")),
                    PutPayload::from_static(b"x"),
                )
                .await
                .unwrap();
        }
        let listed: Vec<_> = store.list(Some(&Path::from("t"))).collect().await;
        assert_eq!(listed.len(), 2500);
        store.head(&Path::from("t/00001")).await.unwrap();
        store.get(&Path::from("t/00002")).await.unwrap();
        store
            .copy(&Path::from("t/00001"), &Path::from("u/1"))
            .await
            .unwrap();
        store.delete(&Path::from("u/1")).await.unwrap();
        let mut upload = store.put_multipart(&Path::from("m")).await.unwrap();
        upload
            .put_part(PutPayload::from_static(b"a"))
            .await
            .unwrap();
        upload
            .put_part(PutPayload::from_static(b"b"))
            .await
            .unwrap();
        upload.complete().await.unwrap();
        // Other tests of this process may count too: compare at least.
        let made = s3_requests().since(&before);
        assert!(made.put >= 2500 + 4, "{made:?}");
        assert!(made.list >= 3, "{made:?}");
        assert!(made.head >= 1 && made.get >= 1, "{made:?}");
        assert!(made.copy >= 1 && made.delete >= 1, "{made:?}");
        assert_eq!(made.put_class(), made.put + made.copy + made.list);
    }
}
