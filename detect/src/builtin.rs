//! The rules compiled into Vigil: every `detect/rules/**/*.toml`, and the
//! rule packs of `detect/packs/<pack>/*.yml` (Sigma), embedded by `build.rs`.

/// `(path under detect/rules, file text)` of each built-in rule.
pub const FILES: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// `(pack, file name, file text)` of each rule of the built-in packs.
pub const PACK_FILES: &[(&str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/pack_rules.rs"));

/// The names of the built-in packs.
pub fn pack_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = PACK_FILES.iter().map(|(p, _, _)| *p).collect();
    names.dedup();
    names
}
