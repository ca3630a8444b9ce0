//! A Sigma file: refused with a reason or compiled, and every rule compiled
//! from it loads as a Vigil rule whose SQL the guard accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_detect::sigma::{parse_sigma_files, SigmaSource};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SigmaSource {
        path: "fuzz.yml".into(),
        text: text.to_string(),
        tests: None,
    };
    for result in parse_sigma_files(&[source], &Default::default()) {
        let Ok(rules) = result else { continue };
        for rule in rules {
            let sql = rule.sql(vigil_queries::TimeRange::ALL);
            vigil_detect::guard::check(&sql).unwrap_or_else(|e| {
                panic!("a compiled Sigma rule's SQL is refused by the guard: {e:?}\n{sql}")
            });
        }
    }
});
