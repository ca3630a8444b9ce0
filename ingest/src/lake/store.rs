//! The object store of an `s3://` lake, or of a bucket inputs are read from.

use object_store::aws::AmazonS3Builder;
use object_store::ObjectStore;

use super::requests::CountingStore;
use std::sync::Arc;

/// Environment variable naming an S3-compatible endpoint (tests point it at moto).
pub const S3_ENDPOINT_ENV: &str = "VIGIL_S3_ENDPOINT";

/// An object store for one S3 bucket: credentials and region from the
/// standard AWS environment, the endpoint from `VIGIL_S3_ENDPOINT` or
/// `AWS_ENDPOINT_URL` when set (path-style, plain HTTP allowed only there).
/// Its requests are counted ([`super::s3_requests`]).
pub fn s3_store(bucket: &str) -> Result<Arc<dyn ObjectStore>, object_store::Error> {
    let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Some(endpoint) = std::env::var(S3_ENDPOINT_ENV)
        .ok()
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|e| !e.is_empty())
    {
        builder = builder
            .with_allow_http(endpoint.starts_with("http://"))
            .with_endpoint(endpoint)
            .with_virtual_hosted_style_request(false);
    }
    if std::env::var("AWS_REGION").is_err() && std::env::var("AWS_DEFAULT_REGION").is_err() {
        builder = builder.with_region("us-east-1");
    }
    Ok(Arc::new(CountingStore::new(Arc::new(builder.build()?))))
}
