//! A context read from `s3://` objects on moto: the same answers as from
//! local files, a reload when an object changes (its ETag), and a clear
//! error naming an object that is missing.

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::Arc;
use std::time::Duration;
use vigil_context::reload::Reloader;
use vigil_context::{ContextConfig, LookupKind};
use vigil_test_support::{create_moto_bucket, in_checkout};

async fn put(store: &Arc<dyn ObjectStore>, key: &str, bytes: Vec<u8>) {
    store
        .put(&ObjectPath::from(key), PutPayload::from(bytes))
        .await
        .unwrap();
}

#[tokio::test]
#[ignore = "needs moto_server on 127.0.0.1 (VIGIL_TEST_MOTO_ENDPOINT): run scripts/test.sh"]
async fn a_context_on_s3_loads_and_reloads_when_an_object_changes() {
    let bucket = format!("vigil-context-{}", std::process::id());
    let endpoint = create_moto_bucket(&bucket).await;
    std::env::set_var(vigil_ingest::lake::S3_ENDPOINT_ENV, &endpoint);
    let store = vigil_ingest::s3_store(&bucket).unwrap();
    put(
        &store,
        "context/abuse.txt",
        std::fs::read(in_checkout("sample-context/intel/abuse-ips.txt")).unwrap(),
    )
    .await;
    put(
        &store,
        "context/geoip.mmdb",
        std::fs::read(in_checkout("sample-context/geoip-sample.mmdb")).unwrap(),
    )
    .await;
    put(
        &store,
        "context/accounts.csv",
        std::fs::read(in_checkout("sample-context/accounts.csv")).unwrap(),
    )
    .await;

    let text = format!(
        "[context]\nintel = [\"s3://{bucket}/context/abuse.txt\"]\n\
         geoip = [\"s3://{bucket}/context/geoip.mmdb\"]\n\
         directory = [\"s3://{bucket}/context/accounts.csv\"]\n"
    );
    let config = ContextConfig::from_config_text(&text, std::path::Path::new("/unused")).unwrap();
    assert_eq!(
        config.locations()[0],
        format!("s3://{bucket}/context/abuse.txt"),
        "an s3:// URL is not taken as a path relative to the file"
    );
    let (mut reloader, loaded) = Reloader::start(config.clone()).await.unwrap();
    let context = loaded.context;
    let hit = context
        .intel
        .lookup(LookupKind::Ip, "203.0.113.66")
        .expect("the sample abuse list's address");
    assert_eq!(hit.value, "203.0.113.66");
    assert!(context
        .intel
        .lookup(LookupKind::Ip, "198.51.100.7")
        .is_none());
    assert_eq!(context.geo.country("203.0.113.66").as_deref(), Some("NL"));
    assert_eq!(context.geo.asn("203.0.113.66"), Some(64500));
    assert_eq!(
        context
            .directory
            .account("111122223333")
            .and_then(|a| a.name.as_deref()),
        Some("acme-prod")
    );
    // The same files read locally give the same set version.
    let local = ContextConfig::from_config_text(
        "[context]\nintel = [\"sample-context/intel/abuse-ips.txt\"]\n",
        &in_checkout(""),
    )
    .unwrap()
    .load()
    .await
    .unwrap();
    assert_eq!(context.intel.version(), local.context.intel.version());

    // Unchanged objects: a check (HEAD requests) loads nothing.
    assert!(reloader
        .check_every(Duration::ZERO)
        .await
        .unwrap()
        .is_none());
    // A new version of the list: the next check loads and installs it.
    put(
        &store,
        "context/abuse.txt",
        b"198.51.100.7 # a new entry\n".to_vec(),
    )
    .await;
    let reloaded = reloader
        .check_every(Duration::ZERO)
        .await
        .unwrap()
        .expect("the changed object is read again");
    assert_ne!(
        reloaded.context.intel.version(),
        context.intel.version(),
        "the set's version follows its contents"
    );
    let installed = vigil_context::current();
    assert!(installed
        .intel
        .lookup(LookupKind::Ip, "198.51.100.7")
        .is_some());
    assert!(installed
        .intel
        .lookup(LookupKind::Ip, "203.0.113.66")
        .is_none());

    // An object that is not there: an error naming it, never an empty set.
    let missing = ContextConfig::from_config_text(
        &format!("[context]\nintel = [\"s3://{bucket}/context/nope.txt\"]\n"),
        std::path::Path::new("/unused"),
    )
    .unwrap();
    let error = missing.load().await.err().expect("a missing object fails");
    assert!(
        error.to_string().contains("nope.txt"),
        "the error names the object: {error}"
    );
}
