//! `vigil.toml`: its `[alerting]`, `[rules]` and `[context]` sections are
//! each read or refused with a reason, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = vigil_alerting::config::parse(text, Path::new("vigil.toml"));
    let _ = vigil_detect::rule::RulesConfig::from_config_text(text);
    if let Ok(config) = vigil_context::ContextConfig::from_config_text(text, Path::new("/base")) {
        // Every location named is resolved: an s3:// URL or an absolute path.
        for location in config.locations() {
            assert!(
                location.starts_with("s3://") || Path::new(&location).is_absolute(),
                "{location}"
            );
        }
    }
});
