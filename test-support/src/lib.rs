//! Helpers every crate's tests share: where the checkout, its sample logs and
//! the corpus of real public logs (`testdata/corpus/`) are, and moto's endpoint and buckets.
//!
//! Paths are found at run time from `CARGO_MANIFEST_DIR`, which cargo sets
//! for every test and bench it runs. `env!("CARGO_MANIFEST_DIR")` would bake
//! in the path of the checkout that compiled the test, and cargo reuses a test
//! binary across checkouts that share a target folder (a CI clone beside a
//! working copy): the test would then read the other checkout's files, or
//! none once that clone is gone.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

/// The variable `scripts/test.sh` sets to moto's address.
pub const MOTO_ENDPOINT_ENV: &str = "VIGIL_TEST_MOTO_ENDPOINT";

/// The root of the checkout the tests run in: the nearest folder above the
/// running package's manifest that holds the workspace's `Cargo.lock`.
pub fn checkout() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .expect("CARGO_MANIFEST_DIR is unset: run the tests through cargo");
    manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or_else(|| panic!("no Cargo.lock above {}", manifest.display()))
        .to_path_buf()
}

/// A path inside the checkout.
pub fn in_checkout(rel: impl AsRef<Path>) -> PathBuf {
    checkout().join(rel)
}

/// Every file under `dir`, at any depth, sorted (none if `dir` does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten() {
            let path = entry.expect("a readable folder entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file or folder under `sample-logs/`.
pub fn sample_logs(rel: impl AsRef<Path>) -> PathBuf {
    checkout().join("sample-logs").join(rel)
}

/// A file or folder of the corpus of real public logs and rules
/// (`testdata/corpus/`, see its MANIFEST); fails the test at once if it is
/// missing.
pub fn corpus(rel: impl AsRef<Path>) -> PathBuf {
    let path = checkout().join("testdata/corpus").join(rel);
    assert!(path.exists(), "corpus file missing: {}", path.display());
    path
}

/// moto's address, as `scripts/test.sh` started it.
pub fn moto_endpoint() -> String {
    std::env::var(MOTO_ENDPOINT_ENV)
        .unwrap_or_else(|_| panic!("{MOTO_ENDPOINT_ENV} is set by scripts/test.sh"))
}

/// An AWS SDK configuration pointed at moto (region us-east-1; credentials
/// from the environment `scripts/test.sh` sets).
pub async fn moto_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(moto_endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await
}

/// Creates a bucket in moto through its S3 REST API (`PUT /bucket`) and
/// returns moto's address.
pub async fn create_moto_bucket(bucket: &str) -> String {
    let endpoint = moto_endpoint();
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("moto reachable");
    assert!(
        created.status().is_success(),
        "create bucket {bucket}: {}",
        created.status()
    );
    endpoint
}

/// An SNS topic subscribed by an SQS queue (raw message delivery), in moto:
/// what the topic publishes is read back from the queue.
pub struct TopicQueue {
    pub topic_arn: String,
    pub queue_url: String,
}

impl TopicQueue {
    /// Creates the topic and the queue, both named `name`, and subscribes
    /// the queue to the topic.
    pub async fn create(config: &aws_config::SdkConfig, name: &str) -> TopicQueue {
        let sns = aws_sdk_sns::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let topic_arn = sns
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("a topic ARN");
        let queue_url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("a queue URL");
        let arn_attribute = aws_sdk_sqs::types::QueueAttributeName::QueueArn;
        let queue_arn = sqs
            .get_queue_attributes()
            .queue_url(&queue_url)
            .attribute_names(arn_attribute.clone())
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut a| a.remove(&arn_attribute))
            .expect("a queue ARN");
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .expect("subscribe the queue");
        TopicQueue {
            topic_arn,
            queue_url,
        }
    }
}

/// `bytes` gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// A CloudWatch Logs subscription event as Lambda receives it: the
/// `(timestamp ms, message)` events of `group`/`stream`, gzipped and
/// base64-encoded under `awslogs.data`.
pub fn subscription_event(group: &str, stream: &str, events: &[(i64, String)]) -> String {
    use base64::Engine;
    let data = serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": "111122223333",
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["vigil"],
        "logEvents": events.iter().enumerate().map(|(i, (ts, message))| serde_json::json!({
            "id": format!("{i:056}"), "timestamp": ts, "message": message,
        })).collect::<Vec<_>>(),
    });
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(gzip(data.to_string().as_bytes()));
    serde_json::json!({"awslogs": {"data": encoded}}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_is_found_from_the_running_package() {
        let root = checkout();
        assert!(root.join("Cargo.lock").is_file());
        assert!(root.join("test-support/Cargo.toml").is_file());
        assert!(sample_logs("").is_dir());
    }
}
