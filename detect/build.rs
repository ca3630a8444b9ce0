//! Embeds every rule file under `rules/` into the crate, so that the `vigil`
//! binary carries its built-in rules wherever it runs.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    // A new file changes its own folder's mtime, not the root's.
    println!("cargo:rerun-if-changed={}", dir.display());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
}

fn main() {
    let root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("rules");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut code = String::from("&[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let rel = f
            .strip_prefix(&root)
            .expect("under rules/")
            .display()
            .to_string();
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    code.push_str("]\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    std::fs::write(out_dir.join("builtin_rules.rs"), code).expect("OUT_DIR is writable");

    // Rule packs: `packs/<name>/*.yml` (Sigma rules), off unless asked for.
    let packs_root =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("packs");
    println!("cargo:rerun-if-changed={}", packs_root.display());
    let mut packs: Vec<PathBuf> = std::fs::read_dir(&packs_root)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    packs.sort();
    let mut code = String::from("&[\n");
    for pack in &packs {
        println!("cargo:rerun-if-changed={}", pack.display());
        let name = pack
            .file_name()
            .expect("a folder name")
            .to_string_lossy()
            .to_string();
        let mut files: Vec<PathBuf> = std::fs::read_dir(pack)
            .expect("a pack folder is readable")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml"))
            .collect();
        files.sort();
        for f in files {
            println!("cargo:rerun-if-changed={}", f.display());
            let file = f
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .to_string();
            code.push_str(&format!(
                "    ({name:?}, {file:?}, include_str!({:?})),\n",
                f.display().to_string()
            ));
        }
    }
    code.push_str("]\n");
    std::fs::write(out_dir.join("pack_rules.rs"), code).expect("OUT_DIR is writable");
}
