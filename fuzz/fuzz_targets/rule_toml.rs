//! A rule file's text: refused with a reason or loaded, and a loaded rule's
//! SQL is one read-only query of known tables.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rule) = vigil_detect::rule::Rule::parse(Path::new("fuzz.toml"), text) {
        let sql = rule.sql(vigil_queries::TimeRange::ALL);
        vigil_detect::guard::check(&sql).unwrap_or_else(|e| {
            panic!("a loaded rule's SQL is refused by the guard: {e:?}\n{sql}")
        });
    }
});
