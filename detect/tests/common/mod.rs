//! What the detection tests share: the public corpus's labels.

use std::collections::BTreeSet;
use vigil_test_support::corpus;

/// The Stratus Red Team technique ids the corpus documents.
pub fn stratus_techniques() -> BTreeSet<String> {
    std::fs::read_to_string(corpus(
        "stratus-red-team-detonation-logs/labels_from_technique_docs.ndjson",
    ))
    .unwrap()
    .lines()
    .map(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["technique_id"]
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect()
}
