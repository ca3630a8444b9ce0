//! The rules compiled into Vigil: every `detect/rules/**/*.toml`, embedded by `build.rs`.

/// `(path under detect/rules, file text)` of each built-in rule.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
