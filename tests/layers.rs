//! The layers point one way: faces (the JS API, the CLI) → Session → the engine layer → the
//! WGSL engine and the CPU engine side by side → the run layer and the leaves. Read from the
//! source (every `crate::x` / `vae_webgpu::x` path outside comments), this checks who may name
//! whom; a new path across a layer fails here with the file and line.

use std::path::{Path, PathBuf};

/// The modules of the WGSL engine and the CPU engine.
const WGSL: [&str; 5] = ["gpu", "kernels", "model", "train", "bench"];
const CPU: [&str; 1] = ["cpu"];

/// Every `.rs` file under `dir` (or `dir` itself when it is a file).
fn files(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_path_buf()];
    }
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
    out
}

/// The crate's top-level modules that `line` names (`crate::x`, `vae_webgpu::x`, and each
/// name in `crate::{x, y}`); comments are skipped.
fn named(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    for root in ["crate::", "vae_webgpu::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            // `vae_webgpu::` inside a longer identifier (`my_vae_webgpu::`) is not the crate.
            let before = rest[..at].chars().last();
            rest = &rest[at + root.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for part in group[..end].split(',') {
                    let name: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    out.push(name);
                }
            } else {
                out.push(
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect(),
                );
            }
        }
    }
    out
}

/// Every place in `paths` (under src/) that names one of `forbidden`: "file:line: module".
fn crossings(paths: &[&str], forbidden: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for p in paths {
        for file in files(&root.join(p)) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (i, line) in text.lines().enumerate() {
                for m in named(line) {
                    if forbidden.contains(&m.as_str()) {
                        let rel = file.strip_prefix(&root).unwrap().display();
                        out.push(format!("src/{rel}:{}: {m}", i + 1));
                    }
                }
            }
        }
    }
    out
}

fn all<'a>(groups: &[&[&'a str]]) -> Vec<&'a str> {
    groups.iter().flat_map(|g| g.iter().copied()).collect()
}

#[test]
fn the_parser_sees_paths_and_groups_and_skips_comments() {
    assert_eq!(named("use crate::gpu::Gpu;"), ["gpu"]);
    assert_eq!(
        named("use vae_webgpu::{mnist, VaeConfig};"),
        ["mnist", "VaeConfig"]
    );
    assert_eq!(
        named("    let x = crate::cpu::pool::threads(); // crate::train"),
        ["cpu"]
    );
    assert!(named("//! see [`crate::train::Trainer`]").is_empty());
    assert!(named("let a = my_vae_webgpu::x;").is_empty());
}

#[test]
fn the_faces_reach_the_engines_only_through_the_session() {
    let faces = ["web.rs", "web", "cli.rs", "bin/vae-train.rs"];
    let found = crossings(&faces, &all(&[&WGSL, &CPU, &["engine"]]));
    assert!(
        found.is_empty(),
        "a face names an engine's insides:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_session_reaches_the_engines_only_through_the_engine_layer() {
    let found = crossings(&["session.rs"], &all(&[&WGSL, &CPU]));
    assert!(
        found.is_empty(),
        "the Session names an engine:\n{}",
        found.join("\n")
    );
}

#[test]
fn neither_engine_imports_the_other() {
    let found = crossings(&["cpu"], &WGSL);
    assert!(
        found.is_empty(),
        "the CPU engine names the WGSL engine:\n{}",
        found.join("\n")
    );
    let wgsl = ["gpu.rs", "kernels", "model", "train", "bench.rs"];
    let found = crossings(&wgsl, &CPU);
    assert!(
        found.is_empty(),
        "the WGSL engine names the CPU engine:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_run_layer_and_the_leaves_name_no_layer_above_them() {
    let below = [
        "run",
        "config.rs",
        "rng.rs",
        "layout.rs",
        "mnist.rs",
        "checkpoint.rs",
        "render.rs",
        "draw.rs",
        "pca.rs",
        "reference.rs",
        "error.rs",
        "fields.rs",
    ];
    let above = all(&[&WGSL, &CPU, &["engine", "session", "web", "cli"]]);
    let found = crossings(&below, &above);
    assert!(
        found.is_empty(),
        "a leaf names a layer above it:\n{}",
        found.join("\n")
    );
}
